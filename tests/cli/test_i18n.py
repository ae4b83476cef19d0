"""The catalogs: complete, compiled the way msgfmt does, served by GNUTranslations."""

from __future__ import annotations

import argparse
import ast
import gettext
import io
import re
from pathlib import Path

import pytest

from printd.cli.i18n import (
    ARGPARSE_MESSAGES,
    DAEMON_MESSAGES,
    JOBFILE_MESSAGES,
    LOCALE_DIR,
    choose_language,
    compile_po,
    parse_po,
    translate_daemon_error,
    translations,
)
from printd.errors import ConfigError
from tests.cli.msgids import expected_keys
from tests.conftest import REPO

PO = LOCALE_DIR / "id" / "LC_MESSAGES" / "printctl.po"


def test_every_message_printctl_uses_has_an_indonesian_translation() -> None:
    catalog = parse_po(PO.read_text(encoding="utf-8"))
    missing = sorted(expected_keys() - set(catalog))
    assert missing == [], f"add these to {PO}: {missing}"
    stale = sorted(set(catalog) - expected_keys() - {""})
    assert stale == [], f"no longer used, remove from {PO}: {stale}"


def test_placeholders_survive_translation() -> None:
    import re

    for key, value in parse_po(PO.read_text(encoding="utf-8")).items():
        msgid = key.split("\x04")[-1]
        assert set(re.findall(r"\{(\w+)\}", msgid)) == set(re.findall(r"\{(\w+)\}", value)), key


def test_argparse_placeholders_survive_translation() -> None:
    import re

    catalog = parse_po(PO.read_text(encoding="utf-8"))
    for msgid in ARGPARSE_MESSAGES:
        placeholders = re.compile(r"%(?:\(\w+\))?[sr]")
        assert sorted(placeholders.findall(msgid)) == sorted(
            placeholders.findall(catalog[msgid])
        ), msgid
        assert msgid.endswith("\n") == catalog[msgid].endswith("\n"), msgid


def test_compiled_catalog_is_what_gnutranslations_reads() -> None:
    po = (
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "a"\nmsgstr "satu"\n\n'
        '#, fuzzy\nmsgid "b"\nmsgstr "dua"\n\n'
        'msgctxt "job state"\nmsgid "held"\nmsgstr "ditahan"\n\n'
        'msgid "long "\n"text"\nmsgstr ""\n"teks "\n"panjang"\n\n'
        'msgid "untranslated"\nmsgstr ""\n'
    )
    t = gettext.GNUTranslations(io.BytesIO(compile_po(po)))
    assert t.gettext("a") == "satu"
    assert t.gettext("b") == "b"  # fuzzy entries are left out, as msgfmt does
    assert t.pgettext("job state", "held") == "ditahan"
    assert t.gettext("long text") == "teks panjang"
    assert t.gettext("untranslated") == "untranslated"


def test_a_broken_po_names_file_and_line() -> None:
    with pytest.raises(ConfigError, match=r"x\.po:2: not a quoted string"):
        parse_po('msgid "a"\nmsgstr oops\n', "x.po")


@pytest.mark.parametrize(
    ("flag", "environ", "expected"),
    [
        (None, {}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {"LANG": "id_ID.UTF-8"}, "id"),
        (None, {"LANG": "in_ID"}, "id"),
        (None, {"LANG": "en_US.UTF-8", "LC_MESSAGES": "id_ID.UTF-8"}, "id"),
        (None, {"LC_ALL": "en_GB.UTF-8", "LC_MESSAGES": "id_ID.UTF-8"}, "en"),
        (None, {"LANG": "en_US.UTF-8", "LANGUAGE": "id:en"}, "id"),
        (None, {"LANG": "C", "LANGUAGE": "id"}, "en"),  # GNU: LANGUAGE is ignored under C
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),
        ("en", {"LANG": "id_ID.UTF-8"}, "en"),
        ("id", {"LANG": "C"}, "id"),
    ],
)
def test_language_choice(flag: str | None, environ: dict[str, str], expected: str) -> None:
    assert choose_language(flag, environ) == expected


def test_daemon_refusals_are_translated_when_known() -> None:
    t = translations("id")
    message = (
        "office stock has 5 blanks, fewer than 10; record deliveries with "
        "`printctl stock receive --blanks N`"
    )
    assert translate_daemon_error(t, message).startswith("stok kantor hanya 5 blangko")
    assert translate_daemon_error(t, "something new") == "something new"
    assert translate_daemon_error(translations("en"), message) == message


@pytest.mark.parametrize("language", ["en", "id"])
def test_what_to_do_about_a_printer_is_said_in_the_operators_language(language: str) -> None:
    from printd.cli.render import to_do
    from printd.drivers.status import Condition, describe_conditions

    reason = describe_conditions({Condition.HOPPER_EMPTY, Condition.RIBBON_MISSING})
    said = to_do(translations(language), reason)
    if language == "en":
        assert said == reason
    else:
        assert said == (
            "hopper kosong: isi blangko lalu catat dengan `printctl blanks load N`; "
            "ribbon tidak terpasang: pasang ribbon lalu catat dengan `printctl ribbon install`"
        )
    # An error's own words are passed on as they are, beside advice that is translated.
    spoiled = f"card spoiled (jam); {describe_conditions({Condition.JAM})}"
    assert to_do(translations(language), spoiled).startswith("card spoiled (jam); ")
    unreachable = "not reachable: [Errno 19] No such device"
    assert to_do(translations(language), unreachable) == unreachable


def test_job_reasons_are_translated_most_specific_first() -> None:
    from printd.cli.i18n import translate_job_reason

    t = translations("id")
    stopped = (
        "printd stopped while this card was in the printer; check the output and reject trays,"
        " then `printctl reconcile`"
    )
    assert translate_job_reason(t, stopped).startswith("printd berhenti saat kartu ini")
    lost = "printer vanished; check the output and reject trays, then `printctl reconcile`"
    assert translate_job_reason(t, lost) == (
        "printer vanished; periksa baki keluaran dan kotak kartu tolak, lalu jalankan"
        " `printctl reconcile`"
    )
    assert translate_job_reason(t, "retrying on a new blank (attempt 2)") == (
        "dicoba lagi dengan blangko baru (percobaan ke-2)"
    )
    assert translate_job_reason(t, "held for the photo") == "held for the photo"
    assert translate_job_reason(translations("en"), stopped) == stopped


def _shape(node: ast.expr) -> str | None:
    """A message as a template's shape: the literal text, `{}` where a value goes."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _shape(node.left), _shape(node.right)
        return None if left is None or right is None else left + right
    return None


def _refusals(path: Path) -> set[str]:
    """Every message a refusal in `path` can carry, as a shape."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            shape = _shape(node.exc.args[0])
            if shape is not None:
                found.add(shape)
        # service.py's refusal of an action in the wrong state: "job {} is {}; <rule>".
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "_refuse_unless"
            and len(node.args) == 3
        ):
            found.add("job {} is {}; " + str(_shape(node.args[2])))
    return found


def test_every_refusal_the_daemon_or_a_job_file_gives_is_a_translated_template() -> None:
    """A new refusal in the service or the job file check fails here until it is a template
    in printd/cli/i18n.py (and, by the test above, in the catalog)."""
    import re

    templates = {re.sub(r"\{\w+\}", "{}", m) for m in DAEMON_MESSAGES + JOBFILE_MESSAGES}
    untranslated = []
    for name in ("service.py", "jobfile.py"):
        for shape in _refusals(REPO / "printd" / name):
            if shape in templates or shape.removeprefix("{}: ") in templates:
                continue
            if shape in ("{}: {}", "job {} is {}; {}"):
                continue  # wrappers of a message checked at its own raise or call
            untranslated.append(f"{name}: {shape}")
    assert sorted(untranslated) == []


def test_an_operator_never_reads_a_state_code_in_indonesian() -> None:
    t = translations("id")
    for template in DAEMON_MESSAGES:
        if "{state}" not in template:
            continue
        message = re.sub(r"\{(\w+)\}", lambda m: "printed" if m[1] == "state" else "x-1", template)
        said = translate_daemon_error(t, message)
        assert "tercetak" in said and "printed" not in said.replace("'printed'", ""), said
    refused = translate_daemon_error(t, "job a-1 is printed; only a held job is released")
    assert refused == (
        "pekerjaan a-1 berstatus tercetak; hanya pekerjaan yang ditahan yang dapat dilepas"
    )


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_option_of_every_verb_says_what_it_is(language: str) -> None:
    from printd.cli.ctl import build_parser

    t = translations(language)
    silent = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{path} {name}")
            elif not action.help:
                silent.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(t), "printctl")
    assert silent == []


def test_ledger_lines_and_job_file_refusals_in_indonesian() -> None:
    from printd.cli.i18n import translate_job_file, translate_ledger_line

    t = translations("id")
    assert translate_ledger_line(t, "ribbon_prints used 2") == "cetakan ribbon terpakai 2"
    assert translate_ledger_line(t, "blanks spoiled 1 (interrupted)") == (
        "blangko rusak 1 (cetak terputus (diperiksa operator))"
    )
    assert translate_job_file(
        t, "jobs/a.json: holder.nik: must be 16 digits", Path("jobs/a.json")
    ) == ("jobs/a.json: holder.nik: harus 16 digit")
