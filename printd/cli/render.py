"""printctl's human output: aligned tables, bars for hopper and ribbon, the berita acara.

Every function takes the translations to speak in; the words come from the `.po` catalog.
Data comes as the API returns it (see docs/api/openapi.yaml).
"""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from gettext import NullTranslations
from typing import Any

from printd.cli.i18n import translate_job_reason, translate_ledger_line

BAR_WIDTH = 20
WAITING_STATES = ("queued", "held", "printing", "interrupted")
FINISHED_STATES = ("printed", "failed", "cancelled")


def width(text: str) -> int:
    """Columns on a terminal: combining marks take none (names with diacritics stay aligned)."""
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(rows: list[list[str]], headers: list[str], right: frozenset[int] = frozenset()) -> str:
    widths = [max(width(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        out = []
        for index, (cell, columns) in enumerate(zip(cells, widths, strict=True)):
            text = str(cell)
            out.append(
                " " * (columns - width(text)) + text if index in right else pad(text, columns)
            )
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def bar(value: int | None, total: int | None) -> str:
    if value is None or not total:
        return "[" + "?" * BAR_WIDTH + "]"
    filled = max(0, min(BAR_WIDTH, round(BAR_WIDTH * value / total)))
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def when(iso: str | None) -> str:
    """A moment as the daemon dated it, in the station's zone (its offset is in the text):
    never in the zone of the machine printctl runs on, so `jobs`, `show` and `report` agree."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")


def _word(t: NullTranslations, context: str, code: str) -> str:
    """A state or condition code in words; untranslated codes read as English words."""
    text = t.pgettext(context, code)
    return code.replace("_", " ") if text == code else text


def job_state(t: NullTranslations, state: str) -> str:
    return _word(t, "job state", state)


def printer_state(t: NullTranslations, state: str) -> str:
    return _word(t, "printer state", state)


def condition(t: NullTranslations, name: str) -> str:
    return _word(t, "condition", name)


def spoil_reason(t: NullTranslations, reason: str) -> str:
    return _word(t, "spoil reason", reason)


# ---- status ---------------------------------------------------------------------------------


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(t: NullTranslations, day: date, *, year: bool = True) -> str:
    """A date as people at the counter write it: 22 March 2027 / 22 Maret 2027."""
    month = t.gettext(MONTHS[day.month - 1])
    return f"{day.day} {month} {day.year}" if year else f"{day.day} {month}"


def _span(t: NullTranslations, first: date, last: date) -> str:
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{long_date(t, last, year=False)}"
    return f"{long_date(t, first, year=False)} – {long_date(t, last, year=False)}"


def outlook(t: NullTranslations, item: str, forecast: dict[str, Any] | None) -> str:
    """One line on when an item runs out: a date with its range, or why there is none."""
    _ = t.gettext
    what = _("Blanks") if item == "blanks" else _("Ribbon prints")
    if not forecast or not forecast["enough_history"]:
        return _("{what}: not enough history yet for a date").format(what=what)
    if forecast["runs_out"] is None:
        return _("{what}: not running down").format(what=what)
    runs_out = date.fromisoformat(forecast["runs_out"])
    text = _("{what} last until about {date}").format(what=what, date=long_date(t, runs_out))
    if forecast["earliest"] and forecast["latest"]:
        first, last = (
            date.fromisoformat(forecast["earliest"]),
            date.fromisoformat(forecast["latest"]),
        )
        if first != last:
            text += " " + _("(between {span})").format(span=_span(t, first, last))
    elif forecast["earliest"]:
        text += " " + _("(at the earliest {date})").format(
            date=long_date(t, date.fromisoformat(forecast["earliest"]))
        )
    return text


def _unknown(t: NullTranslations, value: Any) -> str:
    return t.gettext("unknown") if value is None else str(value)


def to_do(t: NullTranslations, reason: str) -> str:
    """The daemon says what to do in English, "<condition>: <advice>" per condition, joined by
    "; ". Each piece whose advice is in the catalog is said in the operator's language; the
    rest (an error's own words) is shown as the daemon wrote it. A reason of the dispatcher's
    own (a supplies guard) is translated whole."""
    whole = translate_job_reason(t, reason)
    if whole != reason:
        return whole
    pieces = []
    for piece in reason.split("; "):
        name, colon, advice = piece.partition(": ")
        translated = t.gettext(advice) if colon else advice
        if translated is advice:  # not in the catalog (or English): as written
            pieces.append(piece)
        else:
            pieces.append(f"{condition(t, name.replace(' ', '_'))}: {translated}")
    return "; ".join(pieces)


def _hopper_drift(t: NullTranslations, p: dict[str, Any]) -> str:
    """printd's count and the printer's disagree: blanks went in or out unrecorded."""
    ours, theirs = p["hopper"], p["printer_hopper_count"]
    advice = (
        t.gettext("record the blanks taken out with `printctl blanks unload {n}`")
        if ours > theirs
        else t.gettext("record the blanks put in with `printctl blanks load {n}`")
    ).format(n=abs(ours - theirs))
    return t.gettext(
        "the printer holds {theirs}, printd counts {ours}: count the blanks, then {advice}"
    ).format(theirs=theirs, ours=ours, advice=advice)


def _printer_block(t: NullTranslations, p: dict[str, Any]) -> list[str]:
    _ = t.gettext
    conditions = ", ".join(condition(t, c) for c in p["conditions"]) or _("none")
    out = [
        _("Printer {name}: {state}").format(name=p["name"], state=printer_state(t, p["state"])),
        f"  {pad(_('Conditions'), 12)}{conditions}",
    ]
    if p.get("reason"):
        out.append(f"  {pad(_('To do'), 12)}{to_do(t, p['reason'])}")
    reported = p.get("printer_hopper")
    out.append(
        f"  {pad(_('Hopper'), 12)}{bar(p['hopper'], p['hopper_capacity'])} "
        + _("{count}/{capacity} blanks").format(count=p["hopper"], capacity=p["hopper_capacity"])
        + (
            "  " + _("(printer counts {count})").format(count=reported)
            if reported is not None
            else ""
        )
        + ("  " + _("low: load blanks") if "hopper" in p.get("low", ()) else "")
    )
    if p.get("hopper_drift"):
        out.append(f"  {pad('', 12)}{_hopper_drift(t, p)}")
    ribbon = p.get("ribbon")
    if ribbon:
        reported = p.get("printer_ribbon_remaining")
        out.append(
            f"  {pad(_('Ribbon'), 12)}{bar(ribbon['remaining'], ribbon['capacity'])} "
            + _("{left}/{capacity} prints left, {type}").format(
                left=ribbon["remaining"], capacity=ribbon["capacity"], type=ribbon["type"].upper()
            )
            + (
                "  " + _("(printer counts {count})").format(count=reported)
                if reported is not None
                else ""
            )
            + ("  " + _("low: have a new ribbon ready") if "ribbon" in p.get("low", ()) else "")
        )
    else:
        out.append(f"  {pad(_('Ribbon'), 12)}{bar(None, None)} " + _("none recorded"))
    snmp = p.get("snmp")
    if snmp:
        if snmp["up"]:
            line = _("answering; hopper {hopper}, ribbon prints left {ribbon}").format(
                hopper=_unknown(t, snmp.get("hopper")),
                ribbon=_unknown(t, snmp.get("ribbon_remaining")),
            )
            if snmp.get("read_seconds_ago") is not None:
                line += "; " + _("read {seconds} s ago").format(
                    seconds=round(snmp["read_seconds_ago"])
                )
            if snmp.get("disagreements"):
                line += "; " + _("disagrees with the printer on: {fields}").format(
                    fields=", ".join(snmp["disagreements"])
                )
            if snmp.get("hopper_unknown_because"):
                line += "; " + _("cannot tell which input is the hopper: {reason}").format(
                    reason=snmp["hopper_unknown_because"]
                )
            if snmp.get("serial"):
                line += "; " + _("serial number {serial}").format(serial=snmp["serial"])
            if snmp.get("problems"):
                line += "; " + _("agent problems: {problems}").format(
                    problems="; ".join(snmp["problems"])
                )
        else:
            line = _("not answering: {error}").format(error=snmp.get("error") or "?")
        out.append(f"  {pad('SNMP', 12)}{line}")
    if p.get("current_job"):
        out.append(f"  {pad(_('Printing'), 12)}{p['current_job']}")
    if p.get("model"):
        out.append(
            f"  {pad(_('Model'), 12)}"
            + _("{model}, serial {serial}, firmware {firmware}").format(
                model=p["model"], serial=p["serial"], firmware=p["firmware"]
            )
        )
    answered, refused = _probed_commands(p.get("firmware_commands"))
    if answered or refused:
        line = _("answers {commands}").format(commands=", ".join(answered) or "-")
        if refused:
            line += "; " + _("refuses {commands}").format(commands=", ".join(refused))
        out.append(f"  {pad(_('Commands'), 12)}{line}")
    return out


def _probed_commands(summary: str | None) -> tuple[list[str], list[str]]:
    """The driver's connect probe ("commands: Rse;f yes, Pmi;F;s refused"), split into the
    commands this printer's firmware answers and those it refuses."""
    answered: list[str] = []
    refused: list[str] = []
    for item in (summary or "").removeprefix("commands:").split(","):
        command, _, verdict = item.strip().rpartition(" ")
        if command:
            (answered if verdict == "yes" else refused).append(command)
    return answered, refused


def interrupted_to_do(t: NullTranslations, data: dict[str, Any]) -> list[str]:
    """One line per interrupted card, with the exact command that settles it."""
    return [
        f"{pad(t.gettext('To do'), 12)}"
        + t.gettext(
            "job {id} was interrupted on {printer}: look in the output tray and the reject box, "
            "then `printctl reconcile {id}`"
        ).format(id=j["id"], printer=j["printer"] or "-")
        for j in data.get("interrupted", ())
    ]


def _intake_lines(t: NullTranslations, intake: dict[str, Any], indent: str) -> list[str]:
    """The office's queue ([intake]): the link, what this station holds, the outbox."""
    _ = t.gettext
    # The daemon dates it in the station's zone: shown as it was written, to the minute.
    since = (intake.get("since_iso") or "")[:16].replace("T", " ")
    link = _("link up since {since}") if intake["up"] else _("link down since {since}")
    held = _("holding {held} of {limit} jobs").format(
        held=intake["held"], limit=intake["max_held_jobs"]
    )
    if intake.get("holding"):
        held += "  " + _("full: taking no more until cards are printed")
    lines = [link.format(since=since), held]
    if intake.get("office_pending") is not None:
        lines.append(
            _("{pending} jobs waiting at the office").format(pending=intake["office_pending"])
        )
    lines.append(
        _("outbox: {depth} results waiting to be sent").format(depth=intake["outbox"]["depth"])
    )
    return [indent + line for line in lines]


def status(t: NullTranslations, data: dict[str, Any]) -> str:
    _ = t.gettext
    out = [_("Station {station}").format(station=data["station"])]
    if data.get("restart_needed"):
        # A reload refused these keys: the daemon still runs on the old values.
        out.append(
            _("restart needed (sudo systemctl restart printd) to apply: {keys}").format(
                keys=", ".join(data["restart_needed"])
            )
        )
    to_do_lines = interrupted_to_do(t, data)
    if to_do_lines:
        out += ["", *to_do_lines]
    for p in data["printers"]:
        out += ["", *_printer_block(t, p)]
    queue = data["queue"]

    def counts(states: tuple[str, ...]) -> str:
        return "   ".join(f"{job_state(t, s)} {queue.get(s, 0)}" for s in states)

    stock, forecasts = data["stock"], data["stock"].get("forecast", {})
    labels = [_("Queue"), "", _("Today"), _("Stock")]
    label_width = max(width(x) for x in labels) + 2
    out += [
        "",
        pad(_("Queue"), label_width) + counts(WAITING_STATES),
        pad("", label_width) + counts(FINISHED_STATES),
        pad(_("Today"), label_width)
        + _("printed {printed}   spoiled {spoiled}").format(**data["today"]),
        pad(_("Stock"), label_width)
        + _("blanks {blanks}   ribbons {ribbons}").format(
            blanks=stock["blanks"], ribbons=stock["ribbons"]
        )
        + ("  " + _("low: request a delivery") if stock.get("low") else ""),
    ]
    out += [
        pad("", label_width) + outlook(t, item, forecasts.get(item))
        for item in ("blanks", "ribbon_prints")
    ]
    if data.get("intake"):
        lines = _intake_lines(t, data["intake"], pad("", label_width))
        out += ["", pad(_("Office queue"), label_width) + lines[0].lstrip(), *lines[1:]]
    return "\n".join(out)


# ---- jobs -----------------------------------------------------------------------------------


def jobs(t: NullTranslations, items: list[dict[str, Any]]) -> str:
    _ = t.gettext
    if not items:
        return _("no jobs")
    rows = [
        [
            j["id"],
            job_state(t, j["state"]),
            j["printer"] or "-",
            str(j["attempts"]),
            when(j.get("updated_at_iso")),
            # A queued job's reason is why it waits now, when the printers wait for a person.
            to_do(t, j["waiting_for"])
            if j.get("waiting_for")
            else translate_job_reason(t, j["reason"] or ""),
        ]
        for j in items
    ]
    headers = [_("JOB"), _("STATE"), _("PRINTER"), _("SPOILED"), _("UPDATED"), _("REASON")]
    return table(rows, headers, right=frozenset({3}))


def job(t: NullTranslations, j: dict[str, Any]) -> str:
    _ = t.gettext
    sides = t.ngettext("{n} side", "{n} sides", j["sides"]).format(n=j["sides"])
    out = [
        _("Job {id}: {state}").format(id=j["id"], state=job_state(t, j["state"])),
        "  "
        + _("document {document}, {sides}, printer {printer}, {spoiled} spoiled").format(
            document=j["document"],
            sides=sides,
            printer=j["printer"] or "-",
            spoiled=j["attempts"],
        ),
    ]
    if j.get("batch"):
        out.append("  " + _("batch {batch}").format(batch=j["batch"]))
    if j.get("reprint_of"):
        out.append("  " + _("reprint of {job}").format(job=j["reprint_of"]))
    rows = [
        [
            when(e.get("at_iso")),
            f"{job_state(t, e['from']) if e['from'] else ''}→{job_state(t, e['to'])}"
            if e["to"]
            else _word(t, "event kind", e["kind"]),
            e["actor"],
            translate_ledger_line(t, e["reason"] or "")
            if e["kind"] == "ledger"
            else translate_job_reason(t, e["reason"] or ""),
        ]
        for e in j.get("events", [])
    ]
    out += ["", table(rows, [_("WHEN"), _("CHANGE"), _("BY"), _("WHY")])]
    return "\n".join(out)


def job_changed(t: NullTranslations, j: dict[str, Any]) -> str:
    return t.gettext("Job {id}: {state}").format(id=j["id"], state=job_state(t, j["state"]))


def reconciled(t: NullTranslations, j: dict[str, Any], outcome: str) -> str:
    """What reconcile did, in the words of the counter, not a bare state."""
    if outcome == "printed":
        text = t.gettext("Job {id}: booked as printed; the card counts as made.")
    else:
        text = t.gettext(
            "Job {id}: booked as spoiled; it prints again on a new blank, ahead of jobs "
            "submitted after it."
        )
    return text.format(id=j["id"])


# ---- supplies -------------------------------------------------------------------------------


def ribbon_installed(t: NullTranslations, printer: str | None, data: dict[str, Any]) -> str:
    """What `ribbon install` recorded, before the figures it left."""
    name = printer or next(iter(data["printers"]), "-")
    ribbon = data["printers"].get(name, {}).get("ribbon") or {}
    return t.gettext("Recorded a new {type} ribbon with {capacity} prints in {printer}.").format(
        type=str(ribbon.get("type", "?")).upper(), capacity=ribbon.get("capacity"), printer=name
    )


def blanks_moved(
    t: NullTranslations, action: str, count: int, printer: str | None, data: dict[str, Any]
) -> str:
    """What `blanks load/unload` did, before the figures it left."""
    name = printer or next(iter(data["printers"]), "-")
    if action == "load":
        text = t.ngettext(
            "Loaded {count} blank from office stock into the hopper of {printer}.",
            "Loaded {count} blanks from office stock into the hopper of {printer}.",
            count,
        )
    else:
        text = t.ngettext(
            "Took {count} blank out of the hopper of {printer}, back to office stock.",
            "Took {count} blanks out of the hopper of {printer}, back to office stock.",
            count,
        )
    return text.format(count=count, printer=name)


def supplies(t: NullTranslations, data: dict[str, Any]) -> str:
    _ = t.gettext
    blanks, ribbons = data["stock_blanks"], data["stock_ribbons"]
    out = [
        _("Office stock: {blanks}, {ribbons}").format(
            blanks=t.ngettext("{n} blank", "{n} blanks", blanks).format(n=blanks),
            ribbons=t.ngettext("{n} ribbon", "{n} ribbons", ribbons).format(n=ribbons),
        )
    ]
    rows = []
    for name, p in data["printers"].items():
        ribbon = p["ribbon"]
        rows.append(
            [
                name,
                f"{bar(p['hopper'], p['hopper_capacity'])} {p['hopper']}/{p['hopper_capacity']}",
                f"{bar(ribbon['remaining'], ribbon['capacity'])} {ribbon['remaining']}/"
                f"{ribbon['capacity']} {ribbon['type'].upper()}"
                if ribbon
                else _("none recorded"),
            ]
        )
    out.append(table(rows, [_("PRINTER"), _("HOPPER"), _("RIBBON")]))
    return "\n".join(out)


# ---- the daily reconciliation (berita acara) ------------------------------------------------


def report_lines(t: NullTranslations, r: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(code, label, blanks) rows: codes are stable for spreadsheets, labels are translated."""
    _ = t.gettext
    rows = [
        ("opening", _("1. Opening balance"), r["opening"]["total"]),
        ("opening.store", "   " + _("in the store room"), r["opening"]["stock"]),
        ("opening.hoppers", "   " + _("in printer hoppers"), r["opening"]["hoppers"]),
        ("received", _("2. Received"), r["received"]),
        ("printed", _("3. Printed"), r["printed"]),
        ("spoiled", _("4. Spoiled"), r["spoiled_total"]),
    ]
    rows += [
        (f"spoiled.{reason}", "   " + spoil_reason(t, reason), count)
        for reason, count in sorted(r["spoiled"].items())
    ]
    rows += [
        ("closing", _("5. Closing balance"), r["closing"]["total"]),
        ("closing.store", "   " + _("in the store room"), r["closing"]["stock"]),
        ("closing.hoppers", "   " + _("in printer hoppers"), r["closing"]["hoppers"]),
        ("loaded", _("Moved from the store room into hoppers"), r["loaded"]),
        ("unloaded", _("Moved from hoppers back to the store room"), r["unloaded"]),
        ("balance", _("Difference (1 + 2 − 3 − 4 − 5)"), r["balance"]),
    ]
    return rows


def _verdict(t: NullTranslations, r: dict[str, Any]) -> str:
    if r["balance"] == 0:
        return t.gettext("Difference: 0, balanced: every blank is accounted for.")
    return t.gettext(
        "Difference: {n}, NOT balanced: count the blanks in the store room, the hoppers "
        "and the reject boxes before signing."
    ).format(n=r["balance"])


def _card_note(t: NullTranslations, card: dict[str, Any]) -> str:
    """Why a card is on the list: a spoil's reason, or what became of an interrupted card."""
    if card["outcome"] == "spoiled":
        return spoil_reason(t, card["reason"])
    if card["reason"] == "interrupted":
        return t.gettext("not settled yet: `printctl reconcile {job}`").format(job=card["job"])
    return t.gettext("settled, now {state}").format(state=job_state(t, card["reason"]))


def report_form(t: NullTranslations, r: dict[str, Any], station: str) -> dict[str, Any]:
    """The berita acara as headings, tables and lines in the operator's language: one model
    for the terminal's text and the printable page."""
    _ = t.gettext
    lines = report_lines(t, r)
    blanks = [[label, str(n)] for code, label, n in lines if code not in ("loaded", "unloaded")]
    printers = [
        [
            p["name"],
            p.get("model") or "-",
            p.get("serial") or "-",
            (p.get("ribbon_type") or "-").upper(),
            str(p.get("ribbons_installed", 0)),
            str(p.get("ribbon_prints_used", 0)),
            "-" if p.get("ribbon_left") is None else str(p["ribbon_left"]),
            f"{p.get('hopper', '-')} / "
            + ("-" if p.get("printer_hopper_count") is None else str(p["printer_hopper_count"])),
        ]
        for p in r.get("printers", ())
    ]
    drifts = [
        f"{p['name']}: " + _hopper_drift(t, p)
        for p in r.get("printers", ())
        if p.get("hopper_drift")
    ]
    cards = [
        [
            when(c["at_iso"])[11:],
            c["job"] or "-",
            c["printer"] or "-",
            job_state(t, c["outcome"]),
            _card_note(t, c),
        ]
        for c in r.get("cards", ())
    ]
    generated = when(r.get("generated_at"))
    return {
        "title": _("Reconciliation of KTP-el blank cards"),
        "meta": [
            _("Station: {station}").format(station=r.get("station", station)),
            _("Day: {day} ({timezone})").format(day=r["day"], timezone=r["timezone"]),
            _("Generated: {when} ({timezone})").format(when=generated, timezone=r["timezone"]),
        ],
        "printers_title": _("Printers and ribbons"),
        "printers_headers": [
            _("PRINTER"),
            _("MODEL"),
            _("SERIAL"),
            _("RIBBON"),
            _("RIBBONS INSTALLED"),
            _("PRINTS USED"),
            _("PRINTS LEFT NOW"),
            _("HOPPER NOW (PRINTD / PRINTER)"),
        ],
        "printers": printers,
        "hopper_drifts": drifts,
        "blanks_title": _("Blank cards"),
        "blanks_headers": [_("ITEM"), _("BLANKS")],
        "blanks": blanks[:-1],  # the difference gets its own verdict line
        "moves": _(
            "Internal moves (no change to the balance): {loaded} into hoppers, {unloaded} back "
            "to the store room."
        ).format(loaded=r["loaded"], unloaded=r["unloaded"]),
        "verdict": _verdict(t, r),
        "balanced": r["balance"] == 0,
        "cards_title": _("Spoiled and interrupted cards"),
        "cards_headers": [_("TIME"), _("JOB"), _("PRINTER"), _("WHAT"), _("REASON")],
        "cards": cards,
        "no_cards": _("none"),
        "outlook_title": _("Outlook for ordering (as of today):"),
        "outlook": [
            outlook(t, item, r["forecast"].get(item)) for item in ("blanks", "ribbon_prints")
        ]
        if r.get("forecast")
        else [],
        "signatures": [_("Printer operator,"), _("Acknowledged by,")],
        "name": _("Name"),
        "nip": _("NIP"),
    }


def report(t: NullTranslations, r: dict[str, Any], station: str) -> str:
    f = report_form(t, r, station)
    out = [f["title"], "=" * width(f["title"]), *f["meta"], ""]
    out += [
        f["printers_title"],
        table(f["printers"], f["printers_headers"]),
        *f["hopper_drifts"],
        "",
    ]
    out += [table(f["blanks"], f["blanks_headers"], right=frozenset({1})), ""]
    out += [f["moves"], f["verdict"], "", f["cards_title"]]
    out.append(table(f["cards"], f["cards_headers"]) if f["cards"] else "   " + f["no_cards"])
    if f["outlook"]:
        out += ["", f["outlook_title"], *("   " + line for line in f["outlook"])]
    left, right = f["signatures"]
    dots = "(" + "." * 30 + ")"
    out += [
        "",
        pad(left, 40) + right,
        "",
        "",
        pad(dots, 40) + dots,
        pad(f"{f['name']}: " + "." * 24, 40) + f"{f['name']}: " + "." * 24,
        pad(f"{f['nip']}: " + "." * 25, 40) + f"{f['nip']}: " + "." * 25,
    ]
    return "\n".join(out)


def report_html(t: NullTranslations, r: dict[str, Any], station: str) -> str:
    """The berita acara as a page to print and sign (A4, one page for a day's figures)."""
    # Imported here: only this verb needs a template engine, printctl's start-up does not.
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("printd.cli", "templates"),
        autoescape=True,  # job ids, printer names and reasons are data, never markup
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    form = report_form(t, r, station)
    language = t.info().get("language", "en")  # the catalog's "Language:" header
    return environment.get_template("report.html").render(form=form, language=language)


def report_csv(t: NullTranslations, r: dict[str, Any], station: str) -> str:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["station", "day", "code", t.gettext("item"), t.gettext("blanks")])
    for code, label, count in report_lines(t, r):
        writer.writerow([station, r["day"], code, label.strip(), count])
    return buffer.getvalue().rstrip("\n")
