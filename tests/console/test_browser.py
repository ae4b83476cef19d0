"""The README tour done in the console, in a real headless Chromium, against the real daemon
printing on the simulator: a delivery, blanks, a ribbon, jobs printing live, a crash mid-card
and its settlement, the day's report. Once in each language, and once by keyboard alone.

Screenshots of each step are kept in the test's tmp dir (`shots/`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DaemonProcess, missing
from tests.console.chromium import PACKAGES, chromium_paths, start_chromium
from tests.console.conftest import base_url, login_url
from tests.integration.test_faults import hands, submit_copies

# Generous bounds that only catch a hang; every wait below is for a condition.
HANG = 90
TEXT = {
    "id": {
        "needs_operator": "perlu tindakan operator",
        "now": "Sekarang",
        "supplies": "Persediaan",
        "delivery": "Kiriman dicatat.",
        "loaded": "Blangko yang diisi dicatat.",
        "ribbon": "Ribbon baru dicatat.",
        "held": "ditahan",
        "queued": "antre",
        "printed": "dicetak {n}",
        "settle": "Selesaikan kartu",
        "spoiled_done": "dicatat rusak",
        "balanced": "Selisih: 0",
    },
    "en": {
        "needs_operator": "needs operator",
        "now": "Now",
        "supplies": "Supplies",
        "delivery": "Delivery recorded.",
        "loaded": "Blanks loaded recorded.",
        "ribbon": "New ribbon recorded.",
        "held": "held",
        "queued": "queued",
        "printed": "printed {n}",
        "settle": "Settle card",
        "spoiled_done": "recorded as spoiled",
        "balanced": "Difference: 0",
    },
}


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    paths = chromium_paths()
    if paths is None:
        missing(
            "Chromium and its WebDriver (chromium, chromedriver)",
            f"install the Debian packages {PACKAGES} (`make test` does, as root)",
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing("the Python package selenium", "install the dev group (`make test` does)")
    driver = start_chromium(*paths, tmp_path / "chromium-profile", "--lang=id")
    try:
        yield driver
    finally:
        driver.quit()


class Tour:
    """The browser, the daemon and where the screenshots go, with the waits the steps need."""

    def __init__(self, driver: Any, daemon: DaemonProcess, shots: Path) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.daemon, self.shots = driver, daemon, shots
        # A live update or a page load may replace an element between finding and reading it:
        # the wait then looks again.
        self.wait = WebDriverWait(driver, HANG, ignored_exceptions=[StaleElementReferenceException])
        shots.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def until(self, condition: Callable[[], Any], what: str) -> Any:
        from selenium.common.exceptions import WebDriverException

        def attempt(_: Any) -> Any:
            try:
                return condition()
            except WebDriverException as error:
                # An element of the page being replaced (a load, a live update): look again.
                if "does not belong to the document" in str(error):
                    return None
                raise

        return self.wait.until(attempt, message=f"waiting for {what}")

    def text(self) -> str:
        """The page's words; empty while the browser is between two pages (its old body is
        gone before the new one is there), so the wait reads them again."""
        from selenium.common.exceptions import WebDriverException

        try:
            return str(self.driver.find_element("tag name", "body").text)
        except WebDriverException:
            return ""

    def shows(self, words: str) -> Any:
        return self.until(lambda: words in self.text(), repr(words))

    def totals(self) -> str:
        """Today's figures on *Now*: found again each time, the live update replaces them."""
        found = self.driver.find_elements("css selector", "#now .totals")
        return str(found[0].text) if found else ""

    def css(self, selector: str) -> Any:
        return self.driver.find_element("css selector", selector)

    def click(self, selector: str) -> None:
        self.until(lambda: self.css(selector).click() or True, f"a click on {selector}")

    def open(self, path: str) -> None:
        self.driver.get(base_url(self.daemon) + path)

    def fill(self, selector: str, value: str) -> None:
        field = self.css(selector)
        field.clear()
        field.send_keys(value)

    def submit(self, form_action: str) -> None:
        self.click(f'form[action="{form_action}"] button[type="submit"]')

    def job_state(self, job_id: str) -> str:
        return str(self.daemon.ctl_json("show", job_id)["job"]["state"])


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_readme_tour_in_the_console(
    browser: Any, console_daemon: Any, tmp_path: Path, lang: str
) -> None:
    words = TEXT[lang]
    daemon = console_daemon()
    tour = Tour(browser, daemon, tmp_path / "shots" / lang)
    browser.get(login_url(daemon))
    tour.until(lambda: browser.current_url.rstrip("/") == base_url(daemon), "the Now page")
    if lang == "en":
        tour.click("header a.lang")
    tour.shows(words["needs_operator"])
    tour.shot("01-now-empty")

    # A delivery reaches the store room.
    tour.open("/supplies")
    tour.fill("#delivery-blanks", "20")
    tour.fill("#delivery-ribbons", "2")
    tour.submit("/supplies/delivery")
    tour.shows(words["delivery"])
    tour.shot("02-delivery")

    # A job arrives while the printer has no blanks: it waits; the operator holds and releases it.
    [waiting] = submit_copies(daemon, tmp_path, 1, f"tour-{lang}-a")
    tour.open("/jobs")
    tour.fill("#q", waiting)
    tour.click('form[action="/jobs"] button')
    tour.until(lambda: "q=" in browser.current_url, "the search's answer")
    tour.click(f'tr[data-job="{waiting}"] a')
    tour.until(lambda: browser.current_url.endswith(f"/jobs/{waiting}"), "the job's page")
    tour.submit(f"/jobs/{waiting}/hold")
    tour.until(lambda: tour.job_state(waiting) == "held", "held")
    tour.shows(words["held"])
    tour.shot("03-job-held")
    tour.submit(f"/jobs/{waiting}/release")
    tour.until(lambda: tour.job_state(waiting) == "queued", "released")

    # Blanks and a ribbon go in; the Now page, left open, follows the printing by itself.
    tour.open("/supplies")
    tour.fill("#load-count", "10")
    tour.submit("/supplies/load")
    tour.shows(words["loaded"])
    tour.submit("/supplies/ribbon")
    tour.shows(words["ribbon"])
    tour.shot("04-supplies")
    tour.open("/")
    browser.execute_script("window.stillTheSamePage = true")
    more = submit_copies(daemon, tmp_path, 2, f"tour-{lang}-b")
    for job_id in [waiting, *more]:
        tour.until(lambda j=job_id: tour.job_state(j) == "printed", f"{job_id} printed")
    tour.until(lambda: tour.totals().startswith(words["printed"].format(n=3)), "3 printed, live")
    assert browser.execute_script("return window.stillTheSamePage") is True  # no reload
    tour.shot("05-now-printed-live")

    # The printer vanishes mid-card: the page asks, live, for the card to be settled.
    sim = hands(daemon)
    sim.inject("vanish_mid_card")
    [lost] = submit_copies(daemon, tmp_path, 1, f"tour-{lang}-c")
    tour.until(lambda: tour.job_state(lost) == "interrupted", "interrupted")
    todo = f'#now a[href="/settle/{lost}"]'
    tour.until(lambda: words["settle"] in tour.css(todo).text, "the to-do link to settle the card")
    assert browser.execute_script("return window.stillTheSamePage") is True
    tour.shot("06-now-settle-todo")
    sim.replug()
    tour.click(todo)
    tour.shows(words["settle"])
    tour.shot("07-settle-choices")
    tour.click('button[name="outcome"][value="spoiled"]')
    tour.shows(words["spoiled_done"])
    tour.until(lambda: tour.job_state(lost) == "printed", "printed again on a new blank")
    tour.shot("08-settled")

    # The day's report balances to the card.
    tour.open("/report")
    tour.shows(words["balanced"])
    assert tour.css('tr[data-code="printed"] td').text == "4"
    assert tour.css('tr[data-code="spoiled"] td').text == "1"
    tour.shot("09-report")
    if lang == "id" and os.environ.get("PRINTD_CONSOLE_SHOT"):
        # `make`-free way to refresh the README's picture: PRINTD_CONSOLE_SHOT=docs/x.png
        tour.open("/")
        tour.until(lambda: tour.totals().startswith(words["printed"].format(n=4)), "4 printed")
        tour.shot("10-now")
        shutil.copy(tour.shots / "10-now.png", os.environ["PRINTD_CONSOLE_SHOT"])


def test_a_keyboard_only_pass(browser: Any, console_daemon: Any, tmp_path: Path) -> None:
    """Tab and Enter only: every control is reachable and works without a mouse."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    words = TEXT["id"]
    daemon = console_daemon()
    tour = Tour(browser, daemon, tmp_path / "shots" / "keyboard")
    browser.get(login_url(daemon))
    tour.shows(words["needs_operator"])

    def focused() -> Any:
        return browser.switch_to.active_element

    def tab_to(describe: str, matches: Callable[[Any], bool]) -> None:
        for _ in range(80):  # the longest page has far fewer stops
            ActionChains(browser).send_keys(Keys.TAB).perform()
            if matches(focused()):
                return
        raise AssertionError(f"Tab never reached {describe}")

    def keys(*typed: str) -> None:
        ActionChains(browser).send_keys(*typed).perform()

    tab_to("the Supplies link", lambda el: el.text == words["supplies"])
    keys(Keys.ENTER)
    tour.shows("Ada kiriman datang")
    tab_to("the delivery's blanks", lambda el: el.get_attribute("id") == "delivery-blanks")
    keys("30", Keys.TAB, "1", Keys.ENTER)
    tour.shows(words["delivery"])
    tab_to("the blanks to load", lambda el: el.get_attribute("id") == "load-count")
    keys("5", Keys.ENTER)
    tour.shows(words["loaded"])
    tab_to("the ribbon's button", lambda el: el.text == "Catat ribbon baru")
    keys(Keys.ENTER)
    tour.shows(words["ribbon"])
    tour.shot("01-supplies")

    [job_id] = submit_copies(daemon, tmp_path, 1, "keys")
    tour.until(lambda: tour.job_state(job_id) == "printed", "printed")
    sim = hands(daemon)
    sim.inject("vanish_mid_card")
    [lost] = submit_copies(daemon, tmp_path, 1, "keys-lost")
    tour.until(lambda: tour.job_state(lost) == "interrupted", "interrupted")
    sim.replug()
    tab_to("the Now link", lambda el: el.text == words["now"])
    keys(Keys.ENTER)
    tour.until(lambda: browser.current_url.rstrip("/") == base_url(daemon), "the Now page")
    tab_to("the settle link", lambda el: (el.get_attribute("href") or "").endswith(lost))
    keys(Keys.ENTER)
    tab_to("came out good", lambda el: el.get_attribute("value") == "printed")
    keys(Keys.ENTER)
    tour.shows("dicatat tercetak")
    tour.until(lambda: tour.job_state(lost) == "printed", "settled as printed")
    tour.shot("02-settled")

    tab_to("the Report link", lambda el: el.text == "Laporan")
    keys(Keys.ENTER)
    tour.shows(words["balanced"])
    tour.shot("03-report")


SIZES = """
const controls = [...document.querySelectorAll('button, input:not([type=hidden]), select')];
return {
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  smallest: Math.min(...controls.map(c => c.getBoundingClientRect().height)),
  controls: controls.length,
};
"""


def test_readable_on_the_counters_screen(browser: Any, console_daemon: Any, tmp_path: Path) -> None:
    """At 1366×768 no page scrolls sideways, and every control is at least 44 px tall (a
    comfortable target for a hand on a mouse, and large enough to read)."""
    daemon = console_daemon()
    daemon.stock_up(10)
    [job_id] = submit_copies(daemon, tmp_path, 1, "sizes")
    daemon.wait_for(lambda: daemon.ctl_json("show", job_id)["job"]["state"] == "printed")
    tour = Tour(browser, daemon, tmp_path / "shots" / "sizes")
    browser.get(login_url(daemon))
    tour.until(lambda: browser.current_url.rstrip("/") == base_url(daemon), "the Now page")
    assert browser.execute_script("return window.innerWidth") <= 1366
    for page in ("/", "/jobs", f"/jobs/{job_id}", "/settle", "/supplies", "/report"):
        tour.open(page)
        tour.until(lambda: browser.execute_script("return document.readyState") == "complete", page)
        sizes = browser.execute_script(SIZES)
        assert sizes["overflow"] <= 0, (page, sizes)
        if sizes["controls"]:
            assert sizes["smallest"] >= 44, (page, sizes)
        tour.shot(page.strip("/").replace("/", "-") or "now")
