"""Firmware profiles: the words and commands a simulated printer's firmware uses.

Each profile is one firmware generation the research describes (docs/evolis-protocol.md,
"Error words"), so the driver is tested against the printers it will meet rather than against
its own assumptions. `sim://primacy?firmware=NAME` picks one; `sdk` is the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

UNKNOWN_COMMAND: Final = "ERROR CDE"  # S1 S9: the answer to an escape command it does not know
BAD_PARAMETER: Final = "ERROR PARAMETRES"  # S9
BAD_RIBBON: Final = "ERR BAD RIBBON"  # S1 ERR_BAD_RIBBON: not the ribbon the job expects
NEED_CLEANING: Final = "ERR NEED CLEANING"  # G (Rlr;r), S9 "NEED CLEANING"


@dataclass(frozen=True, slots=True)
class Firmware:
    """What one firmware answers where firmwares differ."""

    name: str
    description: str
    # The word `Ss` answers for each blocking condition (the model's CONDITIONS keys), and
    # the words `Se` answers for a jammed card and an ended ribbon.
    words: Mapping[str, str]
    refused: frozenset[str] = field(default_factory=frozenset)  # commands it does not know
    # Head cooling: every `cooling_every`-th card pauses `cooling_seconds` before `Se` answers.
    cooling_every: int = 0
    cooling_seconds: float = 0.0
    # Cleaning mandatory: `Ss` answers `ERR NEED CLEANING` until the operator cleans (S1 S9 G).
    cleaning_mandatory: bool = False
    # Slow wake: after `sleep_after_seconds` without a command (and at power-on) the printer
    # is in standby, and its first answer comes `wake_seconds` late while the head heats.
    wake_seconds: float = 0.0
    # Output hopper full: after this many printed cards (0: unbounded) it holds the next card
    # until the operator empties the output hopper (S1 ERR_HOPPER_FULL, S9 HOPPER FULL).
    output_capacity: int = 0
    # A small reject box (0: the printer's own capacity): `Rlr;h` answers CARD once it is
    # almost full (S7; WAR_REJECT_BOX_ALMOST_FULL, S3), `Ss` refuses once it is full (S1).
    reject_capacity: int = 0
    # Ribbon checked: a card whose `Pr` names another ribbon than the one installed is refused
    # with ERR BAD RIBBON ("job interrupted because the installed ribbon is not the one
    # expected", S1 ERR_BAD_RIBBON). Modelled at `Ss`, before a blank moves: the survey settles
    # whether a real printer feeds the blank first.
    ribbon_checked: bool = False
    # Card left on eject: a printed card waits in the eject slot (WAR_CARD_ON_EJECT, S1) and
    # the next `Ss` is refused until the operator takes it. No source gives the reply word:
    # the generic ERROR (S9) stands in until a printer answers the survey.
    eject_holds: bool = False
    sleep_after_seconds: float = 0.0


_SDK_WORDS: Final = {
    "cover_open": "ERR COVER OPEN",
    "jammed": "ERR MECHANICAL",
    "no_ribbon": "ERR RIB DETECTION",
    "unsupported_ribbon": "ERR BAD RIBBON",
    "ribbon_ended": "ERR RIBBON ENDED",
    "feeder_empty": "ERR FEEDER EMPTY",
    "reject_box_full": "ERR REJECT BOX FULL",
    "output_full": "ERR HOPPER FULL",
    "card_on_eject": "ERROR",
}
_BARE_WORDS: Final = {
    "cover_open": "COVER OPEN",
    "jammed": "CARD JAM",
    "no_ribbon": "ERROR RIBBON",
    "unsupported_ribbon": "ERROR RIBBON",
    "ribbon_ended": "ERROR RIBBON",
    "feeder_empty": "FEEDER EMPTY",
    "reject_box_full": "ERROR",
    "output_full": "HOPPER FULL",
    "card_on_eject": "ERROR",
}

FIRMWARES: Final[Mapping[str, Firmware]] = {
    f.name: f
    for f in (
        Firmware("sdk", "current SDK vocabulary (ERR …, S1 S7)", _SDK_WORDS),
        Firmware(
            "bare-words", "older firmware: bare words (FEEDER EMPTY, CARD JAM; S9)", _BARE_WORDS
        ),
        Firmware(
            "no-pmi",
            "refuses Pmi; the feeder is chosen with Pcim;F (S7 S10)",
            _SDK_WORDS,
            frozenset({"Pmi"}),
        ),
        Firmware(
            "pmi-only",
            "older firmware that knows Pmi;F;s but not Pcim (S6 captures)",
            _BARE_WORDS,
            frozenset({"Pcim"}),
        ),
        Firmware(
            "head-cooling",
            "pauses mid-job to cool the head: Se answers late on every third card (S1 S5)",
            _SDK_WORDS,
            cooling_every=3,
            cooling_seconds=0.3,
        ),
        Firmware(
            "cleaning-mandatory",
            "refuses every card until the operator cleans it (INF_CLEANING_MANDATORY; S1 S9 G)",
            _SDK_WORDS,
            cleaning_mandatory=True,
        ),
        Firmware(
            "slow-wake",
            "the first command after standby answers late while the head heats, within the"
            " SDK's 30 s command timeout (INF_SLEEP_MODE, INF_HEATING; S1 S2 S3)",
            _SDK_WORDS,
            wake_seconds=0.5,
            sleep_after_seconds=0.4,
        ),
        Firmware(
            "output-hopper-full",
            "holds the next card once its output hopper is full, until the operator empties it"
            " (ERR_HOPPER_FULL; S1 S9)",
            _SDK_WORDS,
            output_capacity=3,
        ),
        Firmware(
            "reject-box-small",
            "a reject box of 2 cards: almost full after one (Rlr;h CARD; S7, S3"
            " WAR_REJECT_BOX_ALMOST_FULL), then refuses cards until emptied"
            " (S1 ERR_REJECT_BOX_FULL)",
            _SDK_WORDS,
            reject_capacity=2,
        ),
        Firmware(
            "ribbon-mismatch",
            "refuses every card whose Pr is not the installed ribbon (S1 ERR_BAD_RIBBON)",
            _SDK_WORDS,
            ribbon_checked=True,
        ),
        Firmware(
            "card-on-eject",
            "holds each printed card in the eject slot and refuses the next until the operator"
            " takes it (S1 WAR_CARD_ON_EJECT; reply word assumed: ERROR, S9)",
            _SDK_WORDS,
            eject_holds=True,
        ),
    )
}
DEFAULT_FIRMWARE: Final = "sdk"


def firmware_named(name: str) -> Firmware:
    try:
        return FIRMWARES[name]
    except KeyError:
        raise ValueError(
            f"unknown simulated firmware {name!r}; one of {', '.join(sorted(FIRMWARES))}"
        ) from None
