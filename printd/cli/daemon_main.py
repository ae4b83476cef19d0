"""`printd run --config FILE`, `printd check-config FILE`, `printd probe URI`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from printd import __version__
from printd.errors import ConfigError, PrintdError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printd", description="Print-station daemon.")
    parser.add_argument("--version", action="version", version=f"printd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon in the foreground")
    run.add_argument("--config", required=True, type=Path, help="printd.toml")
    check = sub.add_parser("check-config", help="check a config file and report every problem")
    check.add_argument("config", type=Path)
    check.add_argument("--json", action="store_true", help="print the parsed config as JSON")
    probe = sub.add_parser("probe", help="read a printer's status (snmp://…)")
    probe.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "probe":
        from printd.cli.probe import main as probe_main

        return probe_main(args.args)
    from printd.config import describe, load_config

    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"printd: {error}", file=sys.stderr)
        return error.exit_code
    if args.command == "check-config":
        if args.json:
            print(json.dumps(describe(config), indent=2))
        else:
            names = ", ".join(p.name for p in config.printers)
            print(f"{args.config}: OK ({len(config.printers)} printer(s): {names})")
        return 0
    from printd.daemon import Daemon
    from printd.memory import keep_large_buffers_mapped
    from printd.telemetry.logging import configure_logging

    keep_large_buffers_mapped()  # before any worker thread allocates
    configure_logging(config.logging.format, config.logging.level)
    try:
        return asyncio.run(Daemon(config).run())
    except PrintdError as error:
        print(f"printd: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a path or port the system refused: say which, no traceback
        where = f" ({error.filename})" if error.filename else ""
        print(
            f"printd: cannot start: {error.strerror or error}{where}; check the paths and ports "
            f"in {args.config}",
            file=sys.stderr,
        )
        return 74
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
