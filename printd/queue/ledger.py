"""Consumables ledger rules (DESIGN §3): what each entry does to each balance.

Entries are append-only rows in the store; balances are running totals kept in the same
transaction, so for every printer at every moment
    loaded − unloaded − printed − spoiled = hopper
and received − loaded + unloaded = office stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Item(StrEnum):
    BLANKS = "blanks"
    RIBBONS = "ribbons"
    RIBBON_PRINTS = "ribbon_prints"


class Kind(StrEnum):
    RECEIVED = "received"  # office stock delivery
    LOADED = "loaded"  # office stock → hopper
    UNLOADED = "unloaded"  # hopper → office stock
    PRINTED = "printed"  # hopper → a good card
    SPOILED = "spoiled"  # hopper → the reject box or the bin
    INSTALLED = "installed"  # office stock ribbon → printer
    USED = "used"  # ribbon prints consumed by a card


@dataclass(frozen=True, slots=True)
class Entry:
    item: Item
    kind: Kind
    quantity: int
    printer: str = ""
    reason: str = ""
    job_id: str | None = None
    ribbon_id: int | None = None


# (total name, sign, keyed by printer?) for every balance an entry moves.
EFFECTS: dict[tuple[Item, Kind], tuple[tuple[str, int, bool], ...]] = {
    (Item.BLANKS, Kind.RECEIVED): (("stock_blanks", +1, False), ("blanks_received", +1, False)),
    (Item.BLANKS, Kind.LOADED): (
        ("stock_blanks", -1, False),
        ("hopper", +1, True),
        ("blanks_loaded", +1, True),
    ),
    (Item.BLANKS, Kind.UNLOADED): (
        ("stock_blanks", +1, False),
        ("hopper", -1, True),
        ("blanks_unloaded", +1, True),
    ),
    (Item.BLANKS, Kind.PRINTED): (("hopper", -1, True), ("cards_printed", +1, True)),
    (Item.BLANKS, Kind.SPOILED): (("hopper", -1, True), ("cards_spoiled", +1, True)),
    (Item.RIBBONS, Kind.RECEIVED): (("stock_ribbons", +1, False),),
    (Item.RIBBONS, Kind.INSTALLED): (("stock_ribbons", -1, False), ("ribbons_installed", +1, True)),
    (Item.RIBBON_PRINTS, Kind.USED): (("ribbon_prints_used", +1, True),),
}
