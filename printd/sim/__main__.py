"""``printd-sim``: run one simulated Evolis printer until SIGINT or SIGTERM.

    printd-sim --tcp 127.0.0.1:9100 --control /run/printd-sim.sock --hopper 50
    printd-sim --pty --ribbon ymcko:450 --print-seconds 2

Each endpoint it opens is printed on stdout as one line, ``<kind> <address>`` (``tcp``,
``pty``, ``control``), then ``ready``; scripts read those lines to connect.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from printd.sim.control import ControlServer, parse_address
from printd.sim.evolis_model import SimPrinter
from printd.sim.firmware import DEFAULT_FIRMWARE, FIRMWARES
from printd.sim.pty_endpoint import PtyEndpoint
from printd.sim.tcp_endpoint import TcpEndpoint


def _host_port(text: str) -> tuple[str, int]:
    target = parse_address(text)
    if not isinstance(target, tuple):
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:9100)")
    return target


def _ribbon(text: str) -> tuple[str | None, int, int | None]:
    if text.lower() == "none":
        return None, 450, None
    parts = text.split(":")
    try:
        if len(parts) == 2:
            return parts[0], int(parts[1]), None
        if len(parts) == 3:
            return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"{text!r} is not TYPE:CAPACITY[:REMAINING] (e.g. ymcko:450) or 'none'"
    )


def _non_negative(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="printd-sim", description="Run a simulated Evolis Primacy-class card printer."
    )
    parser.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="raw TCP endpoint")
    parser.add_argument("--pty", action="store_true", help="serial endpoint on a new pty")
    parser.add_argument("--control", metavar="PATH|HOST:PORT", help="control channel address")
    parser.add_argument("--hopper", type=_non_negative(int), default=100, help="blanks loaded")
    parser.add_argument("--hopper-capacity", type=_non_negative(int), default=None)
    parser.add_argument(
        "--ribbon",
        type=_ribbon,
        default=("ymcko", 450, None),
        metavar="TYPE:CAPACITY",
        help="installed ribbon, e.g. ymcko:450, kb:1000:20 (REMAINING optional), or none",
    )
    parser.add_argument("--print-seconds", type=_non_negative(float), default=0.0)
    parser.add_argument("--model", default="Primacy")
    parser.add_argument("--serial", default="SIM000001")
    parser.add_argument(
        "--firmware",
        choices=sorted(FIRMWARES),
        default=DEFAULT_FIRMWARE,
        help="what the firmware answers and refuses: "
        + "; ".join(f"{f.name}: {f.description}" for f in FIRMWARES.values()),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (args.tcp or args.pty or args.control):
        parser.error("nothing to serve: give --tcp, --pty and/or --control")
    if args.control:
        try:
            parse_address(args.control)
        except ValueError as exc:
            parser.error(str(exc))
    ribbon_type, capacity, remaining = args.ribbon
    hopper = int(args.hopper)
    try:
        printer = SimPrinter(
            model=args.model,
            serial=args.serial,
            hopper=hopper,
            hopper_capacity=int(args.hopper_capacity or max(100, hopper)),
            ribbon_type=ribbon_type,
            ribbon_capacity=capacity,
            ribbon_remaining=remaining,
            print_seconds=float(args.print_seconds),
            firmware_profile=args.firmware,
        )
    except ValueError as exc:
        parser.error(str(exc))

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    closers: list[Callable[[], None]] = []
    try:
        if args.tcp:
            tcp = TcpEndpoint(printer, *args.tcp)
            host, port = tcp.start()
            closers.append(tcp.close)
            print(f"tcp {host}:{port}", flush=True)
        if args.pty:
            pty = PtyEndpoint(printer)
            path = pty.start()
            closers.append(pty.close)
            print(f"pty {path}", flush=True)
        if args.control:
            control = ControlServer(printer, args.control)
            address = control.start()
            closers.append(control.close)
            print(f"control {address}", flush=True)
    except OSError as exc:
        print(f"printd-sim: cannot open an endpoint: {exc}", file=sys.stderr)
        for close in reversed(closers):
            close()
        return 1
    print("ready", flush=True)
    while not stop.wait(0.5):
        pass
    for close in reversed(closers):
        close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
