"""SimPrinter: replies, conditions, supplies accounting and the operator's hands."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from _sim_streams import (
    CAPTURES,
    card,
    db,
    dbc,
    esc,
    ko_compress,
    ko_raw,
    random_k,
    read_replies,
    ymc_compress,
    ymc_levels,
    ymc_raw,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from printd.sim.evolis_model import CONDITIONS, REPLY_TABLE, SimPrinter


def ask(printer: SimPrinter, *commands: str) -> list[str]:
    printer.write(b"".join(esc(c) for c in commands))
    return read_replies(printer.read, len(commands))


def k_front(seed: int = 0) -> list[bytes]:
    return [dbc("k", ko_compress(random_k(seed)))]


def print_card(printer: SimPrinter, front: list[bytes], back: list[bytes] | None = None) -> str:
    printer.write(card(front, back))
    commands = 5 + len(front) + (0 if back is None else 1 + len(back))  # Pr Pmi Ss Sr … Se
    return read_replies(printer.read, commands)[-1]


def colour_side(seed: int) -> list[bytes]:
    levels = np.random.default_rng(seed).integers(0, 32, (1016, 648), dtype=np.uint8)
    payload = ymc_raw(levels)
    return [db(p, payload, 32) for p in "ymc"] + k_front(seed) + [db("o", ko_raw(random_k(9)))]


def test_identity_and_reads() -> None:
    printer = SimPrinter(model="Primacy", serial="SN42", firmware="9.9", hopper=5)
    assert ask(printer, "Rtp", "Rsn", "Rfv", "Rr", "Rco;c", "Rco;p", "Rco;l") == [
        "Primacy",
        "SN42",
        "9.9",
        "ymcko",
        "0",
        "0",
        "450",
    ]
    assert ask(printer, "Rlr;p", "Rse;f", "Rse;o", "Rst") == [
        "OK",
        "5,00 Volts",
        "5,00 Volts",
        "ERROR CDE",  # Rst is in no source: the firmware does not know it
    ]
    assert printer.snapshot().minors == ("PRINTER_READY", "INF_FEEDER_NEAR_EMPTY")


def test_reply_families() -> None:
    printer = SimPrinter()
    replies = ask(printer, "Pem;2", "Pem;7", "Pdt;DU", "Ppws;123", "Pxyz", "Pr;bogus", "Mr;s")
    assert replies == ["OK", "ERROR PARAMETRES", "OK", "OK", "ERROR CDE", "ERROR PARAMETRES", "OK"]
    assert ask(printer, "Zz", "Rxx", "Rco;q", "Rlr;x", "Rse;q", "Se", "Sr", "Scs") == [
        "ERROR CDE",
        "ERROR CDE",
        "ERROR PARAMETRES",
        "ERROR PARAMETRES",
        "ERROR PARAMETRES",
        "ERR NO SEQUENCE",
        "ERR NO SEQUENCE",
        "OK",
    ]
    assert printer.snapshot().error_management == 2


def test_download_outside_a_sequence_is_refused_and_consumed() -> None:
    printer = SimPrinter()
    printer.write(dbc("k", ko_compress(random_k(1))) + esc("Rtp"))
    assert read_replies(printer.read, 2) == ["ERR NO SEQUENCE", "Primacy"]


def test_reply_table_covers_the_documented_commands() -> None:
    documented = {"Rtp", "Rsn", "Rfv", "Rr", "Rco", "Rlr", "Rse", "Pem", "Pr", "Pmi", "Pcim"}
    documented |= {"Pc", "Mr", "Ss", "Sr", "Sv", "Se", "Db", "Dbc", "Srs", "Scs"}
    assert documented <= set(REPLY_TABLE)
    assert all(row.assumption for row in REPLY_TABLE.values())
    assert "Rst" not in REPLY_TABLE  # in no source (docs/evolis-protocol.md)


def test_one_card_uses_one_blank_and_one_print() -> None:
    printer = SimPrinter(hopper=10, ribbon_capacity=100)
    assert print_card(printer, k_front()) == "OK"
    snap = printer.snapshot()
    assert (snap.hopper, snap.cards_inserted, snap.cards_ejected) == (9, 1, 1)
    assert (snap.ribbon_remaining, snap.ribbon_prints_used, snap.panels_printed) == (99, 1, 1)
    assert snap.card_position == "none"


@pytest.mark.parametrize(
    ("ribbon", "back", "cost"),
    [
        ("ymcko", None, 1),
        ("ymcko", "colour", 2),
        ("ymcko", "k", 2),
        ("ymckok", "k", 1),
        ("ymckok", "colour", 2),
        ("kb", "k", 2),
        ("kb", None, 1),
    ],
)
def test_ribbon_prints_per_card(ribbon: str, back: str | None, cost: int) -> None:
    printer = SimPrinter(ribbon_type=ribbon, ribbon_capacity=50)
    front = k_front() if ribbon == "kb" else colour_side(1)
    back_panels = None if back is None else k_front(3) if back == "k" else colour_side(2)
    assert print_card(printer, front, back_panels) == "OK"
    assert printer.snapshot().ribbon_remaining == 50 - cost
    sides = printer.last_card()
    assert sides is not None
    assert sides.prints_used == cost
    assert set(sides.sides) == ({"front"} if back is None else {"front", "back"})


def test_colour_panels_are_decoded() -> None:
    printer = SimPrinter()
    levels = np.random.default_rng(5).integers(0, 32, (1016, 648), dtype=np.uint8)
    levels[10] = 0
    levels[11, :300] = 7
    front = [
        db("y", ymc_raw(levels), 32),
        dbc("m", ymc_compress(levels), 32),
        f"\x1bDbc;c;32;0;{len(ymc_compress(levels))};".encode() + ymc_compress(levels) + b"\r",
    ]
    assert print_card(printer, front) == "OK"
    result = printer.last_card()
    assert result is not None
    for panel in "ymc":
        assert np.array_equal(ymc_levels(result["front"][panel]), levels), panel


def test_bad_payloads_answer_param_and_do_not_print() -> None:
    printer = SimPrinter()
    short_raw = db("k", b"\x00" * 100)  # implied length is 82,296: swallows what follows
    bad_lines = dbc("k", b"\x00" * 1015 + b"\x52")  # lead byte 82 is not a line length
    too_few = dbc("k", b"\x00" * 1017)[:-1] + b"X"  # payload not ended by CR
    printer.write(esc("Ss") + bad_lines + too_few + esc("Se"))
    assert read_replies(printer.read, 4) == ["OK", "ERROR PARAMETRES", "ERROR PARAMETRES", "OK"]
    snap = printer.snapshot()
    assert (snap.cards_ejected, snap.panels_printed) == (1, 0)
    printer.write(esc("Ss") + db("k", b"\x1b\r" * 41148) + esc("Se"))
    assert read_replies(printer.read, 3) == ["OK", "OK", "OK"]
    printer.write(esc("Ss") + short_raw)
    assert read_replies(printer.read, 1) == ["OK"]
    assert printer.read(16, 0.05) == b""  # still inside the Db payload


@pytest.mark.parametrize(
    ("act", "error", "minor"),
    [
        (lambda p: p.open_cover(), "ERR COVER OPEN", "DEF_COVER_OPEN"),
        (lambda p: p.unload_blanks(100), "ERR FEEDER EMPTY", "FEEDER_EMPTY"),
        (lambda p: p.remove_ribbon(), "ERR RIB DETECTION", "DEF_NO_RIBBON"),
        (lambda p: p.install_ribbon("zz", 10), "ERR BAD RIBBON", "DEF_UNSUPPORTED_RIBBON"),
        (lambda p: p.install_ribbon("ymcko", 450, 0), "ERR RIBBON ENDED", "RIBBON_ENDED"),
    ],
)
def test_ss_refuses_and_moves_nothing(act, error: str, minor: str) -> None:  # type: ignore[no-untyped-def]
    printer = SimPrinter()
    act(printer)
    before = printer.snapshot()
    assert ask(printer, "Ss") == [error]
    after = printer.snapshot()
    assert (after.hopper, after.cards_inserted) == (before.hopper, before.cards_inserted)
    assert after.card_position == "none"
    assert minor in after.minors
    assert after.state == next(c.major for c in CONDITIONS.values() if c.minor == minor)
    assert printer.port_status() & 0x08 == 0  # 1284 not-error line low


def test_reject_box_full_stops_feeding() -> None:
    printer = SimPrinter(reject_box_capacity=1)
    printer.inject("reject")
    assert print_card(printer, k_front()) == "ERR REJECTED"
    assert ask(printer, "Ss") == ["ERR REJECT BOX FULL"]
    assert (printer.snapshot().state, printer.snapshot().minors) == (
        "ERROR",
        ("ERR_REJECT_BOX_FULL",),
    )
    printer.empty_reject_box()
    assert print_card(printer, k_front()) == "OK"


def test_status_minors() -> None:
    printer = SimPrinter(hopper=50, ribbon_capacity=100, ribbon_remaining=10)
    assert printer.snapshot().minors == ("PRINTER_READY", "INF_RIBBON_LOW")
    assert ask(printer, "Ss", "Rlr;p") == ["OK", "CARD"]
    assert printer.snapshot().minors == ("INF_PRINTING_RUNNING", "INF_RIBBON_LOW")
    printer.open_cover()
    printer.unload_blanks(49)
    snap = printer.snapshot()
    assert (snap.state, *snap.minors[:2]) == ("ERROR", "DEF_COVER_OPEN", "FEEDER_EMPTY")


def test_port_status_and_device_id() -> None:
    printer = SimPrinter(model="Primacy", serial="AB12", hopper=1)
    assert printer.port_status() == 0x18
    assert print_card(printer, k_front()) == "OK"
    assert printer.port_status() == 0x30  # paper empty, selected, error
    device_id = printer.device_id()
    assert int.from_bytes(device_id[:2], "big") == len(device_id)
    assert (
        device_id[2:]
        == b"MFG:Evolis;MDL:Primacy;CMD:EVOLIS;CLS:PRINTER;DES:Evolis Primacy;SN:AB12;"
    )


def test_ribbon_runs_out_on_a_duplex_card() -> None:
    printer = SimPrinter(ribbon_capacity=450, ribbon_remaining=1)
    assert print_card(printer, colour_side(1), colour_side(2)) == "ERR RIBBON ENDED"
    snap = printer.snapshot()
    assert (snap.ribbon_remaining, snap.cards_rejected, snap.reject_box, snap.hopper) == (
        0,
        1,
        1,
        99,
    )
    assert ask(printer, "Ss") == ["ERR RIBBON ENDED"]
    printer.install_ribbon("ymcko", 450)
    assert print_card(printer, k_front()) == "OK"


def test_operator_hands_validate() -> None:
    printer = SimPrinter(hopper=95, hopper_capacity=100)
    with pytest.raises(ValueError, match="at most 5 more"):
        printer.load_blanks(6)
    printer.load_blanks(5)
    with pytest.raises(ValueError, match="holds 100"):
        printer.unload_blanks(101)
    with pytest.raises(ValueError, match="no jam"):
        printer.clear_jam()
    with pytest.raises(ValueError, match="remaining"):
        printer.install_ribbon("kb", 10, 11)
    with pytest.raises(ValueError, match="hopper=5"):
        SimPrinter(hopper=5, hopper_capacity=4)


# ---------------------------------------------------------------- faults
def test_jam_on_second_card() -> None:
    printer = SimPrinter()
    printer.inject("jam", on_card=2)
    assert printer.snapshot().pending_faults == ("jam",)
    assert print_card(printer, k_front()) == "OK"
    assert print_card(printer, k_front()) == "ERR MECHANICAL"
    snap = printer.snapshot()
    assert (snap.jammed, snap.card_position, snap.state, snap.cards_jammed) == (
        True,
        "jammed",
        "ERROR",
        1,
    )
    assert ask(printer, "Rlr;p", "Ss") == ["CARD", "ERR MECHANICAL"]
    printer.clear_jam()
    assert ask(printer, "Rlr;p") == ["OK"]
    assert (printer.snapshot().state, printer.snapshot().minors) == ("READY", ("PRINTER_READY",))
    assert printer.snapshot().hopper == 98


def test_ribbon_ends_fault() -> None:
    printer = SimPrinter()
    printer.inject("ribbon_ends")
    assert print_card(printer, k_front()) == "ERR RIBBON ENDED"
    snap = printer.snapshot()
    assert (snap.ribbon_remaining, snap.cards_rejected, snap.state) == (0, 1, "ERROR")


def test_reject_fault_uses_the_ribbon() -> None:
    printer = SimPrinter()
    printer.inject("reject")
    assert print_card(printer, k_front()) == "ERR REJECTED"
    snap = printer.snapshot()
    assert (snap.cards_rejected, snap.reject_box, snap.ribbon_remaining, snap.cards_ejected) == (
        1,
        1,
        449,
        0,
    )
    assert printer.snapshot().pending_faults == ()
    assert print_card(printer, k_front()) == "OK"


def test_vanish_mid_card_drops_the_link_but_the_card_prints() -> None:
    from printd.sim.evolis_model import PrinterUnpluggedError

    printer = SimPrinter()
    printer.inject("vanish_mid_card")
    printer.write(card(k_front()))
    assert not printer.plugged
    with pytest.raises(PrinterUnpluggedError):
        printer.read(64, 0.1)
    with pytest.raises(PrinterUnpluggedError):
        printer.write(esc("Rst"))
    snap = printer.snapshot()
    assert (snap.plugged, snap.cards_ejected, snap.cards_inserted) == (False, 1, 1)
    printer.replug()
    assert ask(printer, "Rco;c") == ["1"]


def test_garbage_then_silent() -> None:
    printer = SimPrinter()
    printer.inject("garbage")
    printer.write(esc("Rtp") + esc("Rsn"))
    time.sleep(0.01)
    data = printer.read(100, 0.5)
    assert data.endswith(b"SIM000001\r")
    assert not data.startswith(b"Primacy")
    printer.inject("silent")
    printer.write(esc("Ss") + esc("Rco;c"))
    assert read_replies(printer.read, 1) == ["1"]  # Ss was carried out, unanswered


def test_slow_and_print_seconds_delay_se_and_later_replies() -> None:
    printer = SimPrinter(print_seconds=0.2)
    printer.inject("slow", seconds=0.3)
    start = time.monotonic()
    printer.write(card(k_front()) + esc("Rco;c"))
    assert read_replies(printer.read, 5) == ["OK"] * 5
    assert printer.read(64, 0.3) == b""  # Se still printing: Rco;c waits behind it
    assert printer.snapshot().printing
    assert read_replies(printer.read, 2, timeout=3) == ["OK", "1"]
    assert time.monotonic() - start >= 0.5


def test_unknown_fault_and_parameters() -> None:
    printer = SimPrinter()
    with pytest.raises(ValueError, match="unknown fault 'fire'"):
        printer.inject("fire")
    with pytest.raises(ValueError, match="on_card"):
        printer.inject("jam", on_card=0)
    with pytest.raises(ValueError, match="takes"):
        printer.inject("reject", soon=True)
    with pytest.raises(ValueError, match="seconds"):
        printer.inject("slow")


def test_power_cycle_rejects_the_card_inside() -> None:
    printer = SimPrinter(print_seconds=5)
    printer.write(card(k_front()))
    assert read_replies(printer.read, 5) == ["OK"] * 5
    epoch = printer.link_epoch
    printer.power_cycle()
    snap = printer.snapshot()
    assert (snap.cards_rejected, snap.reject_box, snap.card_position, snap.plugged) == (
        1,
        1,
        "none",
        True,
    )
    assert printer.link_epoch == epoch + 1
    assert printer.read(64, 0.05) == b""
    assert ask(printer, "Rtp") == ["Primacy"]


def test_unplug_wakes_a_blocked_reader() -> None:
    from printd.sim.evolis_model import PrinterUnpluggedError

    printer = SimPrinter()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            printer.read(64, 5)
        except PrinterUnpluggedError as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.05)
    printer.unplug()
    thread.join(2)
    assert len(errors) == 1


def test_concurrent_writers_and_snapshots() -> None:
    printer = SimPrinter(hopper=100)
    job = card(k_front())
    stop = threading.Event()
    seen: list[int] = []

    def watch() -> None:
        while not stop.is_set():
            seen.append(printer.snapshot().cards_inserted)

    watcher = threading.Thread(target=watch)
    watcher.start()
    for _ in range(20):
        printer.write(job)
        read_replies(printer.read, 6)
    stop.set()
    watcher.join()
    assert printer.snapshot().cards_ejected == 20
    assert seen == sorted(seen)


def test_links_keep_their_own_commands_and_replies() -> None:
    printer = SimPrinter()
    printer.write(b"\x1bRt", link="usb")  # a partial command on one link …
    printer.write(esc("Rsn"), link="tcp")  # … does not swallow another link's command
    printer.write(b"p\r", link="usb")
    assert printer.read(64, 0.5, link="tcp") == b"SIM000001\r"
    assert printer.read(64, 0.5, link="usb") == b"Primacy\r"
    printer.write(esc("Rfv"), link="usb")
    printer.soft_reset("usb")
    assert printer.read(64, 0.05, link="usb") == b""


def test_srs_rejects_the_card_and_power_cycle_keeps_the_cable_state() -> None:
    printer = SimPrinter()
    assert ask(printer, "Ss", "Srs", "Rlr;p") == ["OK", "OK", "OK"]
    assert printer.snapshot().cards_rejected == 1
    printer.unplug()
    printer.power_cycle()
    assert not printer.plugged
    printer.replug()
    printer.remove_ribbon()
    assert ask(printer, "Rr", "Rco;l") == ["NO RIBBON", "-1"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=20000), min_size=1, max_size=30))
def test_capture_in_any_chunks_prints_once(sizes: list[int]) -> None:
    stream = (CAPTURES / "evolis-card-text").read_bytes()
    printer = SimPrinter()
    start = 0
    for size in sizes:
        printer.write(stream[start : start + size])
        start += size
    printer.write(stream[start:])
    assert read_replies(printer.read, 10) == ["OK"] * 10
    assert printer.snapshot().cards_ejected == 1
