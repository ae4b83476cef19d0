"""The udev rule for card printers, checked by a small parser of the rules syntax.

`udevadm verify` only exists from systemd 254 (Debian 12 ships 252), and `udevadm test` needs
the device in /sys; so this test parses the file itself with the rules grammar of udev(7):
comma-separated KEY[{attr}]OP"value" pairs, match keys with ==/!=, assignment keys with
=/+=/-=/:=, GOTO targets that exist as LABELs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "systemd" / "70-printd-card-printers.rules"

MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "NAME", "SYMLINK", "SUBSYSTEM", "DRIVER", "ATTR",
              "SYSCTL", "KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS", "TAGS", "ENV", "TAG",
              "CONST", "TEST", "PROGRAM", "RESULT"}  # fmt: skip
ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV",
               "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}  # fmt: skip
KEYS_WITH_ATTRIBUTE = {"ATTR", "ATTRS", "ENV", "SYSCTL", "TEST", "CONST", "SECLABEL", "RUN",
                       "IMPORT"}  # fmt: skip
PAIR = re.compile(r'\s*([A-Z]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')

EXPECTED_VENDORS = {
    "0f49": "evolis",
    "0c1f": "magicard",
    "0a5f": "zebra",
    "09b0": "fargo",
    "0a27": "datacard",
}


@dataclass(frozen=True)
class Pair:
    key: str
    attribute: str | None
    op: str
    value: str


class RuleSyntaxError(ValueError):
    pass


def parse_rules(text: str) -> list[list[Pair]]:
    """One list of pairs per rule line; raises RuleSyntaxError naming the line."""
    rules = []
    for number, line in enumerate(text.replace("\\\n", "").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pairs, position = [], 0
        while position < len(stripped):
            found = PAIR.match(stripped, position)
            if not found:
                raise RuleSyntaxError(f"line {number}: cannot parse at {stripped[position:]!r}")
            pair = Pair(*found.groups())
            check_pair(pair, number)
            pairs.append(pair)
            position = found.end()
        rules.append(pairs)
    labels = {p.value for rule in rules for p in rule if p.key == "LABEL"}
    for rule in rules:
        for p in rule:
            if p.key == "GOTO" and p.value not in labels:
                raise RuleSyntaxError(f"GOTO {p.value!r} has no LABEL")
    return rules


def check_pair(pair: Pair, number: int) -> None:
    is_match = pair.op in {"==", "!="}
    allowed = MATCH_KEYS if is_match else ASSIGN_KEYS
    if pair.key not in allowed:
        kind = "match" if is_match else "assignment"
        raise RuleSyntaxError(f"line {number}: {pair.key} is not a {kind} key")
    if (pair.attribute is not None) != (pair.key in KEYS_WITH_ATTRIBUTE):
        raise RuleSyntaxError(f"line {number}: {pair.key} attribute braces are wrong")


def device_rules() -> list[dict[str, Pair]]:
    rules = parse_rules(RULES.read_text())
    return [
        {f"{p.key}{{{p.attribute}}}" if p.attribute else p.key: p for p in rule}
        for rule in rules
        if any(p.key == "ATTR" and p.attribute == "idVendor" for p in rule)
    ]


def test_rules_file_parses() -> None:
    assert parse_rules(RULES.read_text())


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('SUBSYSTEM=="usb", GROUP=="printd"', "GROUP is not a match key"),
        ('SUBSYSTEM=="usb" GROUP="printd"', "cannot parse"),
        ('SUBSYSTEM=="usb", ATTR{idVendor="0f49"', "cannot parse"),
        ("SUBSYSTEM==usb", "cannot parse"),
        ('ATTR=="0f49"', "attribute braces"),
        ('ACTION=="remove", GOTO="nowhere"', "has no LABEL"),
    ],
)
def test_parser_rejects_broken_lines(line: str, problem: str) -> None:
    with pytest.raises(RuleSyntaxError, match=problem):
        parse_rules(line)


def test_every_card_printer_vendor_is_covered_once() -> None:
    vendors = [rule["ATTR{idVendor}"].value for rule in device_rules()]
    assert sorted(vendors) == sorted(EXPECTED_VENDORS)


def test_each_vendor_rule_gives_the_printd_group_rw_on_the_usb_device() -> None:
    for rule in device_rules():
        vendor = rule["ATTR{idVendor}"].value
        assert re.fullmatch(r"[0-9a-f]{4}", vendor), f"{vendor}: sysfs ids are lowercase hex"
        assert (rule["SUBSYSTEM"].op, rule["SUBSYSTEM"].value) == ("==", "usb")
        assert (rule["ENV{DEVTYPE}"].op, rule["ENV{DEVTYPE}"].value) == ("==", "usb_device")
        assert (rule["GROUP"].op, rule["GROUP"].value) == ("=", "printd")
        assert (rule["MODE"].op, rule["MODE"].value) == ("=", "0660")
        assert rule["ENV{PRINTD_CARD_PRINTER}"].value == EXPECTED_VENDORS[vendor]


def test_no_desktop_seat_access() -> None:
    pairs = [p for rule in parse_rules(RULES.read_text()) for p in rule]
    assert not [p for p in pairs if p.key == "TAG" and p.value == "uaccess"]
    assert not [p for p in pairs if p.key == "MODE" and p.value[-1] != "0"], "world access"


def test_removal_events_skip_the_rule() -> None:
    first = parse_rules(RULES.read_text())[0]
    assert [(p.key, p.op, p.value) for p in first] == [
        ("ACTION", "==", "remove"),
        ("GOTO", "=", "printd_card_printers_end"),
    ]
