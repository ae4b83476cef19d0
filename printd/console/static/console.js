// The counter console's only script: live updates of *Now* and the report's print button.
// Everything works without it; it only saves a reload.
"use strict";

(function () {
  var now = document.getElementById("now");
  if (now && window.EventSource) {
    var note = document.getElementById("live-note");
    var source = new EventSource(now.getAttribute("data-live"));
    source.addEventListener("now", function (event) {
      var update = JSON.parse(event.data);
      now.innerHTML = update.html;
      now.setAttribute("data-version", String(update.version));
    });
    source.addEventListener("open", function () {
      if (note) note.classList.remove("offline");
      now.setAttribute("data-live-state", "open");
    });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself; the note tells the operator the page may be stale.
      if (note) note.classList.add("offline");
      now.setAttribute("data-live-state", "closed");
    });
  }
  var print = document.getElementById("print");
  if (print) {
    print.addEventListener("click", function () { window.print(); });
  }
})();
