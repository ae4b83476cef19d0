"""The catalogs: complete, compiled the way msgfmt does, served by GNUTranslations."""

from __future__ import annotations

import gettext
import io

import pytest

from printd.cli.i18n import (
    ARGPARSE_MESSAGES,
    LOCALE_DIR,
    choose_language,
    compile_po,
    parse_po,
    translate_daemon_error,
    translations,
)
from printd.errors import ConfigError
from tests.cli.msgids import expected_keys

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
