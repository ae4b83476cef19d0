"""The console's pages as HTML text: server-rendered, in the operator's language.

Words come from printctl's catalog (`printd/locale/*/LC_MESSAGES/printctl.po`), and the
state, condition and report wording is printctl's own (`printd.cli.render`), so the page and
the terminal say the same thing. Every value from the daemon is escaped on its way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from gettext import NullTranslations
from html import escape
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from printd.cli import render
from printd.cli.i18n import translate_daemon_error, translate_job_reason
from printd.drivers.status import OPERATOR_HINTS, Condition

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
QUEUE_HEAD = 5  # jobs shown as "next" on *Now*
JOBS_SHOWN = 200  # rows on *Jobs*: a screenful or two to scroll, never the whole history


@dataclass(frozen=True)
class View:
    """What every page needs to know about the person looking at it."""

    t: NullTranslations
    lang: str
    csrf: str
    path: str
    tz: ZoneInfo

    def when(self, at: float | None) -> str:
        """A moment in the station's zone, to the minute, as the audit trail is read."""
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self.tz).strftime("%Y-%m-%d %H:%M")

    def _(self, message: str) -> str:
        return self.t.gettext(message)


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def job_href(job_id: str, action: str = "") -> str:
    return f"/jobs/{quote(job_id, safe='')}" + (f"/{action}" if action else "")


def form(view: View, action: str, inner: str, *, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return (
        f'<form method="post" action="{e(action)}"{klass}>'
        f'<input type="hidden" name="csrf" value="{e(view.csrf)}">{inner}</form>'
    )


def button(label: str, *, name: str = "", value: str = "", css: str = "") -> str:
    named = f' name="{e(name)}" value="{e(value)}"' if name else ""
    klass = f' class="{css}"' if css else ""
    return f'<button type="submit"{named}{klass}>{e(label)}</button>'


def meter(value: int | None, maximum: int | None, low: int, label: str) -> str:
    if value is None or not maximum:
        return f'<span class="unknown">{e(label)}</span>'
    return (
        f'<meter min="0" max="{maximum}" low="{min(low, maximum)}" optimum="{maximum}" '
        f'value="{max(0, min(value, maximum))}" aria-label="{e(label)}"></meter>'
    )


# ---- the frame of every page -----------------------------------------------------------------


def layout(view: View, title: str, body: str, *, flash: tuple[str, str] | None = None) -> str:
    _ = view.t.gettext
    nav = [
        ("/", _("Now")),
        ("/jobs", _("Jobs")),
        ("/settle", _("Settle a card")),
        ("/supplies", _("Supplies")),
        ("/report", _("Report")),
    ]
    links = "".join(
        f'<a href="{href}"'
        + (' aria-current="page"' if _current(view.path, href) else "")
        + f">{e(label)}</a>"
        for href, label in nav
    )
    other = "en" if view.lang == "id" else "id"
    switch = (
        f'<a class="lang" lang="{other}" href="/lang/{other}?next={quote(view.path)}">'
        f"{e(LANGUAGE_NAMES[other])}</a>"
    )
    message = ""
    if flash is not None:
        kind, text = flash
        role = "alert" if kind == "error" else "status"
        message = f'<p class="flash {e(kind)}" role="{role}">{e(text)}</p>'
    return (
        f'<!doctype html><html lang="{e(view.lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · printd</title>"
        '<link rel="stylesheet" href="/static/console.css">'
        '<script src="/static/console.js" defer></script></head><body>'
        f'<a class="skip" href="#main">{e(_("Skip to the content"))}</a>'
        f'<header><nav aria-label="{e(_("Pages"))}">{links}</nav>{switch}</header>'
        f'<main id="main" tabindex="-1"><h1>{e(title)}</h1>{message}{body}</main>'
        "</body></html>"
    )


def _current(path: str, href: str) -> bool:
    return path == href if href == "/" else path.startswith(href)


def refusal(view: View, status: int, why: str) -> str:
    _ = view.t.gettext
    if why == "session":
        text = _(
            "This page needs a login. Run `printctl console` on this computer and open the "
            "address it prints; the address works once, for a minute."
        )
    elif why == "token":
        text = _(
            "This login address was used already or has expired. Run `printctl console` again "
            "for a new one."
        )
    elif why == "cross_site":
        text = _("Refused: the request did not come from a page of this console.")
    else:
        text = _("Refused: the console answers only at its own address on this computer.")
    return layout(
        view, _("Not allowed"), f'<p class="refusal" data-status="{status}">{e(text)}</p>'
    )


def crashed(view: View) -> str:
    _ = view.t.gettext
    text = _(
        "printd hit an internal error on this page; a technician finds the details in its log. "
        "Printing goes on."
    )
    return layout(view, _("Something went wrong"), f'<p class="flash error">{e(text)}</p>')


# ---- Now ------------------------------------------------------------------------------------


def now_section(
    view: View,
    status: dict[str, Any],
    queue_head: Sequence[dict[str, Any]],
    interrupted: Sequence[dict[str, Any]],
) -> str:
    """The live part of *Now*: sent again, whole, whenever something changes."""
    _ = view.t.gettext
    todo = to_do_items(view, status, interrupted)
    parts = ['<div class="printers">']
    parts += [_printer(view, p) for p in status["printers"]]
    parts.append("</div>")
    parts.append(
        f'<section class="todo" aria-labelledby="todo-h"><h2 id="todo-h">{e(_("To do"))}</h2>'
    )
    if todo:
        parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in todo) + "</ul>")
    else:
        parts.append(f'<p class="calm">{e(_("Nothing to do: printing goes on by itself."))}</p>')
    parts.append("</section>")
    parts.append(_queue(view, status, queue_head))
    parts.append(_today_and_stock(view, status))
    return "".join(parts)


def _printer(view: View, p: dict[str, Any]) -> str:
    _ = view.t.gettext
    state = render.printer_state(view.t, p["state"])
    conditions = ", ".join(render.condition(view.t, c) for c in p["conditions"])
    rows = [
        f"<h2>{e(_('Printer {name}: {state}').format(name=p['name'], state=state))}</h2>",
    ]
    if conditions:  # what stops the printer, in words; nothing at all when nothing does
        rows.append(f'<p class="state state-{e(p["state"])}">{e(conditions)}</p>')
    hopper, capacity = p.get("hopper"), p.get("hopper_capacity")
    hopper_text = _("{count}/{capacity} blanks").format(count=hopper, capacity=capacity)
    if p.get("printer_hopper") is not None:
        hopper_text += " " + _("(printer counts {count})").format(count=p["printer_hopper"])
    rows.append(
        f'<div class="supply"><span class="label">{e(_("Hopper"))}</span>'
        f"{meter(hopper, capacity, (capacity or 0) // 5, _('Hopper'))}"
        f'<span class="figure hopper-figure">{e(hopper_text)}</span></div>'
    )
    ribbon = p.get("ribbon")
    if ribbon:
        ribbon_text = _("{left}/{capacity} prints left, {type}").format(
            left=ribbon["remaining"], capacity=ribbon["capacity"], type=ribbon["type"].upper()
        )
        if p.get("printer_ribbon_remaining") is not None:
            ribbon_text += " " + _("(printer counts {count})").format(
                count=p["printer_ribbon_remaining"]
            )
        bar = meter(ribbon["remaining"], ribbon["capacity"], ribbon["capacity"] // 9, _("Ribbon"))
    else:
        ribbon_text, bar = _("none recorded"), meter(None, None, 0, "—")
    rows.append(
        f'<div class="supply"><span class="label">{e(_("Ribbon"))}</span>{bar}'
        f'<span class="figure ribbon-figure">{e(ribbon_text)}</span></div>'
    )
    reject = _("full: empty it") if "reject_box_full" in p["conditions"] else _("not full")
    rows.append(
        f'<div class="supply"><span class="label">{e(_("Reject box"))}</span>'
        f'<span class="figure">{e(reject)}</span></div>'
    )
    if p.get("current_job"):
        rows.append(
            f'<p class="printing">{e(_("Printing"))}: '
            f'<a href="{job_href(p["current_job"])}">{e(p["current_job"])}</a></p>'
        )
    return f'<section class="printer" data-printer="{e(p["name"])}">{"".join(rows)}</section>'


def condition_hint(view: View, code: str) -> tuple[str, str] | None:
    """What the person at the printer does about a condition, and the part of the console
    where it is recorded (none when there is nothing to record). printctl's hints that name
    printctl's commands are said for the page instead."""
    _ = view.t.gettext
    load, ribbon = "/supplies#load", "/supplies#ribbon"
    if code == "hopper_empty":
        return _("put blanks in the hopper, then record them on the Supplies page"), load
    if code == "ribbon_out":
        return _("change the ribbon, then record the new one on the Supplies page"), ribbon
    if code == "ribbon_missing":
        return _("put a ribbon in, then record it on the Supplies page"), ribbon
    try:
        hint = OPERATOR_HINTS[Condition(code)]
    except ValueError:
        return None
    return _(hint), ribbon if code == "ribbon_wrong" else ""


def to_do_items(
    view: View, status: dict[str, Any], interrupted: Sequence[dict[str, Any]]
) -> list[str]:
    """Each thing a person has to do, in words, with a link to where it is done."""
    _ = view.t.gettext
    items = []
    for job in interrupted:
        text = _("Settle card {job}: it was in the printer when printing stopped").format(
            job=job["id"]
        )
        items.append(f'<a href="/settle/{quote(job["id"], safe="")}">{e(text)}</a>')
    for p in status["printers"]:
        conditions = p["conditions"]
        said = [(code, found) for code in conditions if (found := condition_hint(view, code))]
        if said and len(said) == len(conditions):
            for code, (hint, link) in said:
                advice = f"{render.condition(view.t, code)}: {hint}"
                text = e(_("Printer {name}: {advice}").format(name=p["name"], advice=advice))
                items.append(f'<a href="{link}">{text}</a>' if link else text)
        elif p.get("reason"):  # the daemon's own words, for what the page has none of its own
            advice = render.to_do(view.t, p["reason"])
            items.append(e(_("Printer {name}: {advice}").format(name=p["name"], advice=advice)))
        low = p.get("low", ())
        if "hopper" in low and "hopper_empty" not in p["conditions"]:
            text = _("Load blanks into {name}").format(name=p["name"])
            items.append(f'<a href="/supplies#load">{e(text)}</a>')
        if "ribbon" in low:
            text = _("Have a new ribbon ready for {name}").format(name=p["name"])
            items.append(f'<a href="/supplies#ribbon">{e(text)}</a>')
    if status["stock"].get("low"):
        items.append(e(_("Stock runs low: request a delivery")))
    return items


def _queue(view: View, status: dict[str, Any], head: Sequence[dict[str, Any]]) -> str:
    _ = view.t.gettext
    queue = status["queue"]
    counts = " · ".join(
        f"{e(render.job_state(view.t, s))} <strong>{queue.get(s, 0)}</strong>"
        for s in render.WAITING_STATES
    )
    parts = [
        f'<section class="queue" aria-labelledby="queue-h"><h2 id="queue-h">{e(_("Queue"))}</h2>',
        f'<p class="counts">{counts}</p>',
    ]
    if head:
        parts.append(f'<h3>{e(_("Next to print"))}</h3><ol class="head">')
        parts += [
            f'<li><a href="{job_href(j["id"])}">{e(j["id"])}</a>'
            + (f' <span class="batch">{e(j["batch"])}</span>' if j.get("batch") else "")
            + "</li>"
            for j in head
        ]
        parts.append("</ol>")
    parts.append("</section>")
    return "".join(parts)


def _today_and_stock(view: View, status: dict[str, Any]) -> str:
    _ = view.t.gettext
    stock, today = status["stock"], status["today"]
    counts = _("blanks {blanks}   ribbons {ribbons}").format(
        blanks=stock["blanks"], ribbons=stock["ribbons"]
    )
    forecasts = stock.get("forecast", {})
    outlook = "".join(
        f"<li>{e(render.outlook(view.t, item, forecasts.get(item)))}</li>"
        for item in ("blanks", "ribbon_prints")
    )
    return (
        f'<section class="today" aria-labelledby="today-h"><h2 id="today-h">{e(_("Today"))}</h2>'
        f'<p class="totals">{e(_("printed {printed}   spoiled {spoiled}").format(**today))}</p>'
        f'</section><section class="stock" aria-labelledby="stock-h">'
        f'<h2 id="stock-h">{e(_("Stock"))}</h2>'
        f"<p>{e(counts)}</p>"
        f"<ul>{outlook}</ul></section>"
    )


def now_page(view: View, section: str, version: int, flash: tuple[str, str] | None) -> str:
    _ = view.t.gettext
    live = _("Live: this page follows the printer by itself.")
    body = (
        f'<p class="live" id="live-note" role="status">{e(live)}</p>'
        f'<div id="now" data-live="/events?since={version}" data-version="{version}">'
        f"{section}</div>"
    )
    return layout(view, _("Now"), body, flash=flash)


# ---- Jobs -----------------------------------------------------------------------------------


def jobs_page(
    view: View, query: str, jobs: Sequence[dict[str, Any]], flash: tuple[str, str] | None
) -> str:
    _ = view.t.gettext
    search = (
        '<form method="get" action="/jobs" class="search" role="search">'
        f'<label for="q">{e(_("Job id or batch"))}</label>'
        f'<input id="q" name="q" value="{e(query)}" autocomplete="off">'
        f'<button type="submit">{e(_("Search"))}</button></form>'
    )
    if not jobs:
        table = f"<p>{e(_('no jobs'))}</p>"
    else:
        head = "".join(
            f'<th scope="col">{e(h)}</th>'
            for h in (_("JOB"), _("STATE"), _("PRINTER"), _("UPDATED"), _("REASON"))
        )
        rows = "".join(
            f'<tr data-job="{e(j["id"])}"><td><a href="{job_href(j["id"])}">{e(j["id"])}</a>'
            + (f' <span class="batch">{e(j["batch"])}</span>' if j.get("batch") else "")
            + f'</td><td class="job-state">{e(render.job_state(view.t, j["state"]))}</td>'
            f"<td>{e(j['printer'] or '-')}</td><td>{e(view.when(j['updated_at']))}</td>"
            f"<td>{e(translate_job_reason(view.t, j['reason'] or ''))}</td></tr>"
            for j in jobs[:JOBS_SHOWN]
        )
        table = f'<table class="jobs"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        if len(jobs) > JOBS_SHOWN:
            more = _("The newest {count} are shown; search by job id or batch for the others.")
            table += f'<p class="more">{e(more.format(count=JOBS_SHOWN))}</p>'
    return layout(view, _("Jobs"), search + table, flash=flash)


def job_actions(view: View, job: dict[str, Any]) -> str:
    _ = view.t.gettext
    state = job["state"]
    forms = []
    if state == "queued":
        forms.append(form(view, job_href(job["id"], "hold"), button(_("Hold"))))
    if state == "held":
        forms.append(form(view, job_href(job["id"], "release"), button(_("Release"))))
    if state in ("queued", "held"):
        forms.append(form(view, job_href(job["id"], "cancel"), button(_("Cancel"), css="danger")))
    if state == "interrupted":
        forms.append(
            f'<a class="action" href="/settle/{quote(job["id"], safe="")}">'
            f"{e(_('Settle this card'))}</a>"
        )
    if state == "printed":
        forms.append(
            form(
                view,
                job_href(job["id"], "reprint"),
                f'<label for="reason">{e(_("Why is a new card needed?"))}</label>'
                '<input id="reason" name="reason" required maxlength="500">' + button(_("Reprint")),
                css="reprint",
            )
        )
    return f'<div class="actions">{"".join(forms)}</div>' if forms else ""


def job_page(
    view: View, job: dict[str, Any], holder: dict[str, str], flash: tuple[str, str] | None
) -> str:
    _ = view.t.gettext
    facts = [
        (_("STATE"), render.job_state(view.t, job["state"])),
        (_("PRINTER"), job["printer"] or "-"),
        (_("SPOILED"), job["attempts"]),
    ]
    if job.get("batch"):
        facts.append((_("Batch"), job["batch"]))
    if job.get("reprint_of"):
        facts.append((_("Reprint of"), job["reprint_of"]))
    # Opened on purpose for this one job: the holder is who the card is for.
    facts.append((_("Holder"), f"{holder.get('name', '')} · NIK {holder.get('nik', '')}"))
    listing = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts)
    events = "".join(
        f"<tr><td>{e(view.when(ev['at']))}</td><td>"
        + (
            e(
                f"{render.job_state(view.t, ev['from']) if ev['from'] else ''}→"
                f"{render.job_state(view.t, ev['to'])}"
            )
            if ev["to"]
            else e(ev["kind"])
        )
        + f"</td><td>{e(ev['actor'])}</td>"
        f"<td>{e(translate_job_reason(view.t, ev['reason'] or ''))}</td></tr>"
        for ev in job.get("events", [])
    )
    head = "".join(
        f'<th scope="col">{e(h)}</th>' for h in (_("WHEN"), _("CHANGE"), _("BY"), _("WHY"))
    )
    body = (
        f'<dl class="facts">{listing}</dl>{job_actions(view, job)}'
        f"<h2>{e(_('Audit trail'))}</h2>"
        f'<table class="events"><thead><tr>{head}</tr></thead><tbody>{events}</tbody></table>'
    )
    title = _("Job {id}: {state}").format(
        id=job["id"], state=render.job_state(view.t, job["state"])
    )
    return layout(view, title, body, flash=flash)


def confirm_reprint(view: View, job_id: str, reason: str, message: str) -> str:
    _ = view.t.gettext
    inner = (
        f'<input type="hidden" name="reason" value="{e(reason)}">'
        '<input type="hidden" name="confirm" value="yes">'
        + button(_("Yes, print a second card"), css="danger")
    )
    body = (
        f'<p class="flash warning" role="alert">{e(translate_daemon_error(view.t, message))}</p>'
        + form(view, job_href(job_id, "reprint"), inner)
        + f'<p><a class="action" href="{job_href(job_id)}">{e(_("No, print nothing"))}</a></p>'
    )
    return layout(view, _("Print a second card for this holder?"), body)


# ---- Settle an interrupted card --------------------------------------------------------------


def settle_list(view: View, jobs: Sequence[dict[str, Any]], flash: tuple[str, str] | None) -> str:
    _ = view.t.gettext
    if not jobs:
        body = f'<p class="calm">{e(_("No card is waiting to be settled."))}</p>'
    else:
        body = (
            "<ul class='settle'>"
            + "".join(
                f'<li><a href="/settle/{quote(j["id"], safe="")}">'
                f"{e(_('Settle card {job}').format(job=j['id']))}</a></li>"
                for j in jobs
            )
            + "</ul>"
        )
    return layout(view, _("Settle an interrupted card"), body, flash=flash)


def settle_page(view: View, job: dict[str, Any]) -> str:
    _ = view.t.gettext
    intro = _(
        "Printing stopped while card {job} was in printer {printer}. Look in the printer's "
        "output tray and reject box, then say what you found."
    ).format(job=job["id"], printer=job["printer"] or "-")
    choices = [
        (
            "printed",
            _("It came out good"),
            _(
                "The card is recorded as printed: one blank and its ribbon prints are used. "
                "The job is finished."
            ),
        ),
        (
            "spoiled",
            _("It came out spoiled"),
            _(
                "The card is recorded as spoiled: one blank is written off, and printd prints "
                "the card again by itself on a new blank."
            ),
        ),
        (
            "nothing",
            _("Nothing came out"),
            _(
                "Nothing is recorded: the ledger stays as it is and the job stays interrupted. "
                "Call a technician to look inside the printer."
            ),
        ),
    ]
    inner = "".join(
        f'<div class="choice">{button(label, name="outcome", value=value, css="big")}'
        f'<p class="explain">{e(explain)}</p></div>'
        for value, label, explain in choices
    )
    body = f'<p class="intro">{e(intro)}</p>' + form(
        view, f"/settle/{quote(job['id'], safe='')}", inner, css="choices"
    )
    return layout(view, _("Settle card {job}").format(job=job["id"]), body)


# ---- Supplies --------------------------------------------------------------------------------


def _printer_field(view: View, names: Sequence[str], field_id: str) -> str:
    if len(names) == 1:
        return f'<input type="hidden" name="printer" value="{e(names[0])}">'
    options = "".join(f'<option value="{e(n)}">{e(n)}</option>' for n in names)
    return (
        f'<label for="{field_id}">{e(view._("PRINTER"))}</label>'
        f'<select id="{field_id}" name="printer">{options}</select>'
    )


def _number(field_id: str, name: str, label: str, required: bool = True) -> str:
    need = " required" if required else ""
    return (
        f'<label for="{field_id}">{e(label)}</label>'
        f'<input id="{field_id}" name="{name}" type="number" min="1" max="100000" '
        f'inputmode="numeric"{need}>'
    )


def _form_section(view: View, name: str, title: str, inner: str) -> str:
    """One act on the *Supplies* page: its heading and its form, posting to /supplies/NAME."""
    action = form(view, f"/supplies/{name}", inner)
    return f'<section id="{name}"><h2>{e(title)}</h2>{action}</section>'


def supplies_page(
    view: View,
    supplies: dict[str, Any],
    ribbon_types: Iterable[str],
    configured_types: dict[str, str],
    flash: tuple[str, str] | None,
) -> str:
    _ = view.t.gettext
    names = list(supplies["printers"])
    summary = _("In the store room: {blanks} blanks, {ribbons} ribbons").format(
        blanks=supplies["stock_blanks"], ribbons=supplies["stock_ribbons"]
    )
    rows = []
    for name, p in supplies["printers"].items():
        ribbon = p["ribbon"]
        ribbon_text = (
            _("{left}/{capacity} prints left, {type}").format(
                left=ribbon["remaining"], capacity=ribbon["capacity"], type=ribbon["type"].upper()
            )
            if ribbon
            else _("none recorded")
        )
        hopper_text = _("{count}/{capacity} blanks").format(
            count=p["hopper"], capacity=p["hopper_capacity"]
        )
        rows.append(
            f'<tr data-printer="{e(name)}"><td>{e(name)}</td>'
            f'<td class="hopper-figure">{e(hopper_text)}</td>'
            f'<td class="ribbon-figure">{e(ribbon_text)}</td></tr>'
        )
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in (_("PRINTER"), _("HOPPER"), _("RIBBON")))
    types = "".join(
        f'<option value="{e(code)}"'
        + (" selected" if code == next(iter(configured_types.values()), "") else "")
        + f">{e(code.upper())}</option>"
        for code in sorted(ribbon_types)
    )
    table = f'<table class="supplies"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
    sections = [
        f'<p class="stock-figure">{e(summary)}</p>',
        table + "</tbody></table>",
    ]
    ribbon_fields = (
        _printer_field(view, names, "ribbon-printer")
        + f'<label for="ribbon-type">{e(_("Ribbon type"))}</label>'
        f'<select id="ribbon-type" name="type">{types}</select>'
        + _number("ribbon-capacity", "capacity", _("Prints (leave empty for the usual)"), False)
    )
    acts = (
        (
            "delivery",
            _("A delivery arrived"),
            _number("delivery-blanks", "blanks", _("Blanks"), False)
            + _number("delivery-ribbons", "ribbons", _("Ribbons"), False),
            _("Record the delivery"),
        ),
        (
            "load",
            _("Blanks into a hopper"),
            _printer_field(view, names, "load-printer")
            + _number("load-count", "count", _("Blanks")),
            _("Record blanks loaded"),
        ),
        (
            "unload",
            _("Blanks out of a hopper"),
            _printer_field(view, names, "unload-printer")
            + _number("unload-count", "count", _("Blanks")),
            _("Record blanks taken out"),
        ),
        ("ribbon", _("A new ribbon"), ribbon_fields, _("Record the new ribbon")),
    )
    sections += [
        _form_section(view, name, title, fields + button(label))
        for name, title, fields, label in acts
    ]
    return layout(view, _("Supplies"), "".join(sections), flash=flash)


def confirm_ribbon(view: View, fields: dict[str, str], warnings: Sequence[str]) -> str:
    _ = view.t.gettext
    hidden = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in fields.items()
    )
    body = (
        "".join(f'<p class="flash warning" role="alert">{e(w)}</p>' for w in warnings)
        + form(
            view,
            "/supplies/ribbon",
            hidden
            + '<input type="hidden" name="confirm" value="yes">'
            + button(_("Yes, record the new ribbon"), css="danger"),
        )
        + f'<p><a class="action" href="/supplies">{e(_("No, go back"))}</a></p>'
    )
    return layout(view, _("Install this ribbon?"), body)


# ---- Report ----------------------------------------------------------------------------------


def report_page(
    view: View,
    report: dict[str, Any],
    station: str,
    day: date,
    flash: tuple[str, str] | None = None,
) -> str:
    _ = view.t.gettext
    rows = "".join(
        f'<tr class="{"sub" if "." in code else "main"}" data-code="{e(code)}"><th scope="row">'
        f"{e(label.strip())}</th><td>{count}</td></tr>"
        for code, label, count in render.report_lines(view.t, report)
    )
    verdict = (
        _("Difference: 0, balanced: every blank is accounted for.")
        if report["balance"] == 0
        else _(
            "Difference: {n}, NOT balanced: count the blanks in the store room, the hoppers "
            "and the reject boxes before signing."
        ).format(n=report["balance"])
    )
    picker = (
        '<form method="get" action="/report" class="no-print">'
        f'<label for="day">{e(_("YYYY-MM-DD (default: today)"))}</label>'
        f'<input id="day" name="day" type="date" value="{e(day.isoformat())}">'
        f'<button type="submit">{e(_("Show"))}</button>'
        f'<button type="button" id="print">{e(_("Print"))}</button></form>'
    )
    when = _("Day: {day} ({timezone})").format(
        day=render.long_date(view.t, day), timezone=report["timezone"]
    )
    outlook = ""
    if report.get("forecast"):
        outlook = (
            f"<h2>{e(_('Outlook for ordering (as of today):'))}</h2><ul>"
            + "".join(
                f"<li>{e(render.outlook(view.t, item, report['forecast'].get(item)))}</li>"
                for item in ("blanks", "ribbon_prints")
            )
            + "</ul>"
        )
    body = (
        picker + f"<p>{e(_('Station: {station}').format(station=station))}<br>"
        f"{e(when)}</p>"
        f'<table class="report"><thead><tr><th scope="col">{e(_("ITEM"))}</th>'
        f'<th scope="col">{e(_("BLANKS"))}</th></tr></thead><tbody>{rows}</tbody></table>'
        f'<p class="verdict" data-balance="{report["balance"]}">{e(verdict)}</p>'
        + outlook
        + '<div class="signatures">'
        f'<div><p>{e(_("Printer operator,"))}</p><p class="line"></p></div>'
        f'<div><p>{e(_("Acknowledged by,"))}</p><p class="line"></p></div></div>'
    )
    return layout(view, _("Reconciliation of KTP-el blank cards"), body, flash=flash)
