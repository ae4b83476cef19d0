"""printctl's languages: English (the source strings) and Bahasa Indonesia.

The translations are gettext `.po` files under `printd/locale/LANG/LC_MESSAGES/`. They are
compiled in memory with the logic of CPython's `msgfmt.py` and served by gettext's own
`GNUTranslations`, so the `.po` file is the only thing translators edit and no build step
can leave a stale `.mo` behind.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
import struct
from collections.abc import Mapping
from pathlib import Path

from printd.errors import ConfigError

DOMAIN = "printctl"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("en", "id")
# "in" is the withdrawn ISO 639 code for Indonesian that some older systems still use.
ALIASES = {"id": "id", "in": "id", "en": "en"}
MO_MAGIC = 0x950412DE


def choose_language(flag: str | None, environ: Mapping[str, str]) -> str:
    """`--lang` wins; else the locale, like gettext: LC_ALL, LC_MESSAGES, LANG, with GNU's
    LANGUAGE list first unless the locale is C/POSIX. Anything unknown falls back to English."""
    if flag:
        return flag
    locale = next((environ[v] for v in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(v)), "")
    candidates = [locale]
    if locale and _code(locale) not in ("c", "posix"):
        candidates = environ.get("LANGUAGE", "").split(":") + candidates
    for candidate in candidates:
        language = ALIASES.get(_code(candidate))
        if language:
            return language
    return "en"


def _code(locale: str) -> str:
    language = locale.split(".", maxsplit=1)[0].split("@", maxsplit=1)[0]
    return language.split("_", maxsplit=1)[0].strip().lower()


def translations(language: str, locale_dir: Path = LOCALE_DIR) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()  # the source strings are English
    if language not in LANGUAGES:
        raise ConfigError(f"--lang {language!r}: choose one of {', '.join(LANGUAGES)}")
    po = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        text = po.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the {language} messages at {po}: {error}") from None
    return gettext.GNUTranslations(io.BytesIO(compile_po(text, str(po))))


class _Entry:
    # A plain class: dataclasses would cost printctl's start-up the import of inspect.
    def __init__(self) -> None:
        self.context: str | None = None
        self.msgid: str | None = None
        self.plural: str | None = None
        self.strings: dict[int, str] = {}
        self.fuzzy = False


def parse_po(text: str, name: str = "<po>") -> dict[str, str]:
    """Catalog keys as gettext stores them (context + EOT + id, plural ids joined by NUL)."""
    import ast  # only when a catalog is read: English output never needs it

    catalog: dict[str, str] = {}
    entry = _Entry()
    section: tuple[str, int] = ("", 0)

    def finish() -> None:
        nonlocal entry
        if entry.msgid is not None and not entry.fuzzy:  # msgfmt leaves fuzzy entries out
            key = entry.msgid if entry.plural is None else f"{entry.msgid}\0{entry.plural}"
            if entry.context is not None:
                key = f"{entry.context}\x04{key}"
            values = [entry.strings[i] for i in sorted(entry.strings)]
            if any(values):
                catalog[key] = "\0".join(values)
        entry = _Entry()

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,"):
            if entry.strings:
                finish()
            entry.fuzzy = "fuzzy" in line
            continue
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        elif keyword in ("msgctxt", "msgid") and entry.strings:
            finish()
        try:
            value = ast.literal_eval(rest.strip())
        except (ValueError, SyntaxError):
            raise ConfigError(f"{name}:{number}: not a quoted string: {raw!r}") from None
        if not isinstance(value, str):
            raise ConfigError(f"{name}:{number}: not a quoted string: {raw!r}")
        if keyword == "msgctxt":
            entry.context, section = value, ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, section = value, ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.plural, section = value, ("msgid_plural", 0)
        elif keyword == "msgstr":
            entry.strings[0], section = value, ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[7:-1])
            entry.strings[index], section = value, ("msgstr", index)
        elif keyword == "":
            _append(entry, section, value)
        else:
            raise ConfigError(f"{name}:{number}: unknown keyword {keyword!r}")
    finish()
    return catalog


def _append(entry: _Entry, section: tuple[str, int], value: str) -> None:
    kind, index = section
    if kind == "msgctxt":
        entry.context = (entry.context or "") + value
    elif kind == "msgid":
        entry.msgid = (entry.msgid or "") + value
    elif kind == "msgid_plural":
        entry.plural = (entry.plural or "") + value
    elif kind == "msgstr":
        entry.strings[index] = entry.strings.get(index, "") + value


def compile_po(text: str, name: str = "<po>") -> bytes:
    """The `.mo` bytes for a `.po` text (the layout CPython's msgfmt.py writes)."""
    catalog = parse_po(text, name)
    keys = sorted(catalog)
    ids = b""
    strs = b""
    offsets: list[tuple[int, int, int, int]] = []
    for key in keys:
        encoded_id, encoded_str = key.encode(), catalog[key].encode()
        offsets.append((len(ids), len(encoded_id), len(strs), len(encoded_str)))
        ids += encoded_id + b"\0"
        strs += encoded_str + b"\0"
    count = len(keys)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + len(ids)
    key_table: list[int] = []
    value_table: list[int] = []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_table += [id_length, id_offset + key_start]
        value_table += [str_length, str_offset + value_start]
    header = struct.pack("Iiiiiii", MO_MAGIC, 0, count, 7 * 4, 7 * 4 + count * 8, 0, 0)
    tables = struct.pack(f"{len(key_table)}i", *key_table) + struct.pack(
        f"{len(value_table)}i", *value_table
    )
    return header + tables + ids + strs


# The daemon speaks English. Its most common refusals are matched here and translated;
# anything else is shown as the daemon wrote it. The templates are the daemon's messages
# with `{name}` where a value goes; they are msgids in the catalog.
DAEMON_MESSAGES = (
    "no job {job}; `printctl jobs` lists the jobs",
    (
        "office stock has {stock} blanks, fewer than {count}; record deliveries with "
        "`printctl stock receive --blanks N`"
    ),
    (
        "office stock has no ribbon; record the delivery first with "
        "`printctl stock receive --ribbons N`"
    ),
    "the hopper of {printer} holds {capacity}; it has {hopper}, so at most {free} more fit",
    "the hopper of {printer} holds {hopper} blanks by our count, not {count}",
    "job {job} is in the printer now; let the card finish, then reprint or reconcile as needed",
    "job {job} is {state}; only a printed card is reprinted",
    (
        "job {job} is {state}: its spoiled card prints again by itself on a new blank; do not "
        "reprint it"
    ),
    (
        "job {job} was spoiled at {spoiled} and printd printed it again on a new blank at "
        "{printed}: the holder has that card. A reprint makes a second card; only if that card "
        "is lost or damaged, repeat with --yes"
    ),
    (
        "job {job} was reprinted already as {reprint}, which is {state}; another reprint makes "
        "one more card for the same holder; only if that is needed, repeat with --yes"
    ),
    "job {job} is {state}; only an interrupted job is reconciled",
    "job {job} is {state}; it cannot become {target} (from {current}: {allowed})",
    (
        "job {job} already exists with different content; use a new id for a different card "
        "(or `printctl reprint`)"
    ),
    "no printer {printer} (printers: {printers})",
    (
        'the console is off; set [console] listen = "127.0.0.1:PORT" in printd.toml '
        "and restart printd"
    ),
    "printer: more than one printer here; name one with --printer ({printers})",
    # An operator's action on a job in a state where it does not apply (printd/service.py).
    "job {job} is {state}; only a waiting or held job is cancelled",
    "job {job} is {state}; only a waiting job is held",
    "job {job} is {state}; only a held job is released",
    "say what arrived: --blanks N and/or --ribbons N",
    "type: a ribbon code, one of {codes}",
    "{what}: a whole number from 1 to 100000",
    "day: {day} is not a date like 2026-11-27, today or yesterday",
    "reason: say why the card is printed again (it goes in the audit)",
    "reason: required, text of 1–{limit} characters",
    "printer: text of 1–{limit} characters",
    (
        "the images of job {job} are gone (kept [queue] spool_retention_days = {days} after "
        "printing); submit it again"
    ),
    "outcome: must be 'printed' or 'spoiled'",
    "state: unknown job state {state} (known: {known})",
    # A ribbon change to confirm (one line each, then what to do).
    (
        "the {type} ribbon in {printer} still has {left} prints by our count; a new ribbon "
        "throws them away"
    ),
    "{printer} is set up for {expected} ribbons (ribbon_type in printd.toml), not {type}",
    "only if that is right, repeat with --yes",
)

# The job file's refusals (printd/jobfile.py): printctl's own check before sending and the
# daemon's after. Field names ("front", "holder.nik") are the job file's keys, kept as written.
JOBFILE_MESSAGES = (
    (
        "{field}: image is {size} MB; a card side is never more than {limit} MB, so this file "
        "holds something else"
    ),
    (
        "{field}: {path} is {size} MB; a card side is never more than {limit} MB, so this file "
        "holds something else"
    ),
    "{field}: not a PNG image",
    (
        "{field}: image is {width}×{height} pixels; a card side must be {card_width}×"
        "{card_height} (CR-80 at 300 dpi, landscape)"
    ),
    "{field}: must be a PNG file path or a '{prefix}…' string",
    "{field}: the inline base64 image is not valid base64",
    "{field}: send the image inline (the daemon does not read paths)",
    "{field}: image file {path} not found",
    "{field}: {path} is a folder, not an image",
    "{field}: cannot read {path}: {error}",
    "a job must be a JSON object",
    "{field}: unknown field (known: {known})",
    "id: required; 1–64 letters, digits, '.', '_', ':' or '-' (your own unique key)",
    "document: required, e.g. 'ktp-el'",
    "holder: required object with 'nik' and 'name'",
    "holder.nik: must be 16 digits",
    "holder.name: required, at most 120 characters",
    "holder.{field}: unknown field (only nik and name)",
    "priority: a whole number from -100 to 100 (higher prints first)",
    "batch: a name of 1–64 characters",
    "ribbon_type: a ribbon code such as 'ymcko'",
    "printer_ready: give either card images (front/back) or a printer-ready file",
    "sides: 1 or 2, the sides the printer-ready file prints (ribbon use)",
    "sides: only with printer_ready (card images say how many sides)",
    "front: required (PNG path or inline base64)",
    "{field}: a file path or a '{prefix}…' string",
    "{field}: the inline file is not valid base64",
    "{field}: send the file inline (the daemon does not read paths)",
    "{field}: {path} is over the 50 MB limit",
    "{field}: file {path} not found",
    "{field}: the file is empty",
    "{field}: the file is over the 50 MB limit",
    # load_job_file's own, after the file's path and ": ".
    "file not found",
    "not UTF-8 text",
    "cannot read: {error}",
    "not valid JSON (line {line}, column {column})",
)

# What a job's ledger events say (printd/queue/store.py `_book`: "{item} {kind} {quantity}"),
# for the ledger lines of `printctl show`.
LEDGER_LINES = (
    "blanks printed {count}",
    "blanks spoiled {count} ({reason})",
    "blanks spoiled {count}",
    "ribbon_prints used {count}",
)


@functools.cache  # built once per template, not once per job row a listing translates
def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    seen: set[str] = set()
    regex = ""
    for index, part in enumerate(parts):
        if not index % 2:
            regex += re.escape(part)
        elif part in seen:  # a value said twice is the same value
            regex += f"(?P={part})"
        else:
            seen.add(part)
            regex += f"(?P<{part}>.+?)"
    return re.compile(regex, re.DOTALL)


# Why a job is where it is: the reasons the daemon writes on jobs and their events, matched
# and translated the same way (the more specific template first).
JOB_REASONS = (
    "submitted",
    "card left the printer",
    "printing on {printer}",
    "card spoiled: {reason}",
    "retrying on a new blank (attempt {attempt})",
    "gave up after {count} spoiled cards",
    "reconciled: operator found the card printed",
    "reconciled: operator found the card spoiled",
    "printing again on a new blank",
    (
        "printd stopped while this card was in the printer; check the output and reject trays, "
        "then `printctl reconcile`"
    ),
    "{reason}; check the output and reject trays, then `printctl reconcile`",
    "printer unreachable before the blank was fed: {error}",
    "reprint of {job}: {reason}",
    # The dispatcher's supplies guards: why a printer waits before feeding a blank.
    (
        "no blanks in the hopper by our count; load them and record it with "
        "`printctl blanks load N --printer {printer}`"
    ),
    "the printer reports an empty hopper; load blanks",
    (
        "no ribbon recorded for {printer}; install one and record it with "
        "`printctl ribbon install --type TYPE --printer {printer}`"
    ),
    (
        "the ribbon has {left} prints left by our count and this card needs {sides}; change "
        "the ribbon (`printctl ribbon install`)"
    ),
    (
        "job {job} needs a colour ribbon and {printer} has {type}; install a colour ribbon "
        "(`printctl ribbon install --type ymcko`)"
    ),
    "cancelled by operator",
    "held by operator",
    "released by operator",
)


# Placeholders that carry a job state or a spoil reason: said in words, never as the code.
_WORDS = {"state": "job state", "target": "job state", "current": "job state"}


def _translate(
    t: gettext.NullTranslations,
    message: str,
    templates: tuple[str, ...],
    words: Mapping[str, str] = _WORDS,
) -> str:
    for template in templates:
        match = _template_pattern(template).fullmatch(message)
        if match:
            translated = t.gettext(template)
            if translated is template:
                return message
            values = match.groupdict()
            for name, context in words.items():
                if name in values:
                    values[name] = t.pgettext(context, values[name])
            return translated.format(**values)
    return message


def translate_daemon_error(t: gettext.NullTranslations, message: str) -> str:
    """One refusal, or several on their own lines (each matched by itself)."""
    return "\n".join(
        _translate(t, line, DAEMON_MESSAGES + JOBFILE_MESSAGES) for line in message.split("\n")
    )


def translate_job_file(t: gettext.NullTranslations, message: str, path: object) -> str:
    """A job file's refusal; the file's path leads the message and stays as written."""
    prefix = f"{path}: "
    if message.startswith(prefix):
        return prefix + _translate(t, message[len(prefix) :], JOBFILE_MESSAGES)
    return _translate(t, message, JOBFILE_MESSAGES)


def translate_ledger_line(t: gettext.NullTranslations, line: str) -> str:
    return _translate(t, line, LEDGER_LINES, {"reason": "spoil reason"})


def translate_job_reason(t: gettext.NullTranslations, reason: str) -> str:
    return _translate(t, reason, JOB_REASONS)


# argparse's own words, as its source spells them: usage, help headings and the errors an
# operator meets when a command is mistyped. They are msgids in the catalog too.
ARGPARSE_MESSAGES = (
    "usage: ",
    "positional arguments",
    "options",
    "show this help message and exit",
    "%(prog)s: error: %(message)s\n",
    "argument %(argument_name)s: %(message)s",
    "unrecognized arguments: %s",
    "the following arguments are required: %s",
    "one of the arguments %s is required",
    "not allowed with argument %s",
    "expected one argument",
    "expected at most one argument",
    "expected at least one argument",
    "ambiguous option: %(option)s could match %(matches)s",
    "invalid choice: %(value)r (choose from %(choices)s)",
    "invalid %(type)s value: %(value)r",
    "ignored explicit argument %r",
    "can't open '%(filename)s': %(error)s",
)


def translate_argparse(t: gettext.NullTranslations) -> None:
    """Let argparse speak the operator's language. argparse looks its words up through the
    `gettext` function it imported as `_`, against gettext's global domain; printctl's
    catalog is compiled in memory, so argparse is pointed at it directly."""
    import argparse

    argparse._ = t.gettext  # type: ignore[attr-defined]
