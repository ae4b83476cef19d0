"""What a ribbon can print, for the checks before a card is fed and when a ribbon goes in.

A ribbon's code names its panels (ISO/IEC 7810 card printers' usage): Y, M and C are the
colour panels, K black resin, O the overlay. Only a ribbon with Y, M and C prints colour.
"""

from __future__ import annotations

COLOUR_RIBBONS = frozenset({"ymcko", "ymckos", "ymckok"})

# Documents whose card carries a colour photograph: a KTP-el's photo is printed in colour
# (the blank's security print is pre-printed; the holder's photo and signature are not).
COLOUR_DOCUMENTS = frozenset({"ktp-el"})


def prints_on(document: str, ribbon_type: str) -> bool:
    """Whether a ribbon of this type can print this document's card as it must look."""
    return document.lower() not in COLOUR_DOCUMENTS or ribbon_type.lower() in COLOUR_RIBBONS
