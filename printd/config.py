"""printd.toml → frozen dataclasses. Strict: unknown keys, wrong types, out-of-range values and
bad device URIs are errors that name section, key and value; all of them are reported at once.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from printd.drivers.uri import DeviceUri, check_status_uri, parse_device_uri
from printd.errors import ConfigError, PrintdError
from printd.telemetry.forecast import closed_days

# Outside Prometheus's exporter port list (9100-9999 is full); see docs/operations.md.
DEFAULT_METRICS_PORT = 10631
DEFAULT_METRICS_LISTEN = f"127.0.0.1:{DEFAULT_METRICS_PORT}"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    state_dir: Path
    socket: Path
    socket_group: str | None = None
    station: str = "station"
    timezone: str = "Asia/Jakarta"


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    listen: str = DEFAULT_METRICS_LISTEN

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The counter console: off unless `[console] listen` names a loopback port."""

    listen: str | None = None
    # How long the address `printctl console` prints stays good (it is good once).
    token_seconds: float = 60.0

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = (self.listen or "").rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    name: str
    device: DeviceUri
    device_uri: str
    status: str | None = None
    driver: str = "evolis"
    ribbon_type: str = "ymcko"
    ribbon_capacity: int = 450
    hopper_capacity: int = 100
    status_interval_seconds: float = 10.0
    # The SDK's own limits: a command may take 30 s (first command after standby, head
    # pre-heat) and a card 5 minutes (`Se` waits through head cooling).
    command_timeout_seconds: float = 30.0
    card_timeout_seconds: float = 300.0
    # "printd" sends `Pem;2` at connect; "printer" leaves the mode another supervisor (Evolis
    # Premium Suite sets 38) chose.
    error_management: str = "printd"


@dataclass(frozen=True, slots=True)
class QueueConfig:
    max_attempts: int = 3
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    # Capped low so a printer plugged back in is found within about a second.
    reconnect_max_seconds: float = 1.0
    poll_seconds: float = 1.0
    drain_timeout_seconds: float = 120.0
    spool_retention_days: int = 1  # printed cards' images, kept for `printctl reprint`


@dataclass(frozen=True, slots=True)
class SuppliesConfig:
    hopper_low: int = 20
    ribbon_low: int = 50
    stock_days_low: int = 30
    # Days the office is closed beyond weekends and national holidays: the forecast skips them.
    closed_days: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    format: str = "auto"  # auto: console on a terminal, JSON otherwise
    level: str = "info"


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """[intake]: take jobs from the office's NATS JetStream stream, report outcomes back."""

    servers: tuple[str, ...]
    stream: str
    subject: str
    durable: str
    result_subject: str
    dead_letter_subject: str
    creds_file: Path | None = None
    nkey_file: Path | None = None
    tls_ca_file: Path | None = None
    # A station takes no more than this: counters that are free take the rest.
    max_held_jobs: int = 20
    max_message_bytes: int = 8 * 1024 * 1024
    # How long the server waits for our ack before another counter may take the message.
    ack_wait_seconds: float = 300.0
    results_carry_nik: bool = False


INTAKE_URL_SCHEMES = ("nats://", "tls://", "ws://", "wss://")
SUBJECT_PATTERN = re.compile(r"[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+|\.\*)*(\.>)?")
STREAM_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    daemon: DaemonConfig
    metrics: MetricsConfig
    printers: tuple[PrinterConfig, ...]
    queue: QueueConfig = field(default_factory=QueueConfig)
    supplies: SuppliesConfig = field(default_factory=SuppliesConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)  # off unless configured
    intake: IntakeConfig | None = None  # None: jobs come only from `printctl submit`

    def printer(self, name: str) -> PrinterConfig | None:
        return next((p for p in self.printers if p.name == name), None)


class _Section:
    """Reads one TOML table, collecting every problem instead of stopping at the first."""

    def __init__(self, where: str, table: Any, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        if not isinstance(table, dict):
            problems.append(f"[{where}]: must be a table, got {type(table).__name__}")
            table = {}
        self.table: dict[str, Any] = table
        self.seen: set[str] = set()

    def _get(self, key: str, kinds: tuple[type, ...], what: str, default: Any) -> Any:
        self.seen.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        # bool is an int in Python; a boolean where a number belongs is a typo, not a number.
        if isinstance(value, bool) and bool not in kinds:
            value = None
        if value is None or not isinstance(value, kinds):
            self.problems.append(f"[{self.where}] {key} = {self.table[key]!r}: must be {what}")
            return default
        return value

    def text(self, key: str, default: str | None = None, *, choices: tuple[str, ...] = ()) -> Any:
        value = self._get(key, (str,), "a string", default)
        if choices and value not in choices and key in self.table:
            self.problems.append(
                f"[{self.where}] {key} = {value!r}: must be one of {', '.join(choices)}"
            )
            return default
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self._get(key, (int, float), "a number", default)
        if not low <= value <= high:
            self.problems.append(
                f"[{self.where}] {key} = {value!r}: must be between {low} and {high}"
            )
            return default
        return float(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self._get(key, (int,), "a whole number", default)
        if not low <= value <= high:
            self.problems.append(
                f"[{self.where}] {key} = {value!r}: must be between {low} and {high}"
            )
            return default
        return int(value)

    def texts(self, key: str) -> list[str]:
        value = self._get(key, (list,), "a list of strings", [])
        if not all(isinstance(item, str) for item in value):
            self.problems.append(f"[{self.where}] {key} = {value!r}: must be a list of strings")
            return []
        return list(value)

    def finish(self) -> None:
        for key in sorted(set(self.table) - self.seen):
            hint = ", ".join(sorted(self.seen))
            self.problems.append(f"[{self.where}] {key}: unknown key (known keys: {hint})")


def _closed_days(section: _Section) -> frozenset[date]:
    try:
        return closed_days(section.texts("closed_days"))
    except ValueError as error:
        section.problems.append(f"[{section.where}] closed_days: {error}")
        return frozenset()


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _daemon(section: _Section, base: Path) -> DaemonConfig:
    state_dir = _resolve(base, section.text("state_dir", "/var/lib/printd"))
    socket_value = section.text("socket", None)
    socket = _resolve(base, socket_value) if socket_value else state_dir / "printd.sock"
    station = section.text("station", "station")
    if not NAME_PATTERN.fullmatch(station):
        section.problems.append(
            f"[daemon] station = {station!r}: use lower-case letters, digits, '-' or '_' (max 32)"
        )
    timezone = section.text("timezone", "Asia/Jakarta")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        section.problems.append(f"[daemon] timezone = {timezone!r}: not a known time zone")
        timezone = "UTC"
    if len(str(socket)) > 100:
        section.problems.append(f"[daemon] socket = {str(socket)!r}: path too long for a socket")
    group = section.text("socket_group", None)
    section.finish()
    return DaemonConfig(state_dir, socket, group or None, station, timezone)


def _metrics(section: _Section) -> MetricsConfig:
    listen = section.text("listen", DEFAULT_METRICS_LISTEN)
    section.finish()
    config = MetricsConfig(listen)
    try:
        port: int | None = config.host_port[1]
    except ValueError:
        port = None
    if port is None or not 0 <= port <= 65535:
        section.problems.append(f"[metrics] listen = {listen!r}: expected HOST:PORT")
        return MetricsConfig()
    return config


# The console's only gate is the one-time token from the socket: it must never be reachable
# from another machine, so only loopback addresses are accepted.
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _console(section: _Section) -> ConsoleConfig:
    listen = section.text("listen", None)
    token_seconds = section.number("token_seconds", 60.0, 1.0, 600.0)
    section.finish()
    if listen is None:
        return ConsoleConfig()
    config = ConsoleConfig(listen, token_seconds)
    try:
        host, port = config.host_port
    except ValueError:
        host, port = "", -1
    if not 1 <= port <= 65535:
        section.problems.append(f"[console] listen = {listen!r}: expected 127.0.0.1:PORT")
        return ConsoleConfig()
    if host not in LOOPBACK_HOSTS:
        section.problems.append(
            f"[console] listen = {listen!r}: the console listens on this machine only "
            "(127.0.0.1:PORT)"
        )
        return ConsoleConfig()
    return config


def _printer(section: _Section, index: int) -> PrinterConfig | None:
    problems_before = len(section.problems)
    name = section.text("name", f"printer-{index + 1}")
    if not NAME_PATTERN.fullmatch(name):
        section.problems.append(
            f"[{section.where}] name = {name!r}: use lower-case letters, digits, '-' or '_'"
        )
    uri = section.text("device", None)
    device: DeviceUri | None = None
    if uri is None:
        section.problems.append(f"[{section.where}] device: missing (e.g. 'usb://0f49:*')")
    else:
        try:
            device = parse_device_uri(uri)
        except ConfigError as error:
            section.problems.append(f"[{section.where}] device = {error}")
    status = section.text("status", None)
    if status is not None:
        try:
            check_status_uri(status)
            from printd.drivers.snmp.uri import parse_snmp_uri

            parse_snmp_uri(status)
        except ConfigError as error:
            section.problems.append(f"[{section.where}] status = {error}")
    status_interval = section.number("status_interval_seconds", 10.0, 1.0, 3600.0)
    driver = section.text("driver", "evolis", choices=("evolis", "raw"))
    ribbon_type = section.text("ribbon_type", "ymcko")
    ribbon_capacity = section.integer("ribbon_capacity", 450, 1, 100_000)
    hopper_capacity = section.integer("hopper_capacity", 100, 1, 10_000)
    command_timeout = section.number("command_timeout_seconds", 30.0, 1.0, 600.0)
    card_timeout = section.number("card_timeout_seconds", 300.0, 10.0, 3600.0)
    error_management = section.text("error_management", "printd", choices=("printd", "printer"))
    section.finish()
    if device is None or uri is None or len(section.problems) > problems_before:
        return None
    return PrinterConfig(
        name,
        device,
        uri,
        status,
        driver,
        ribbon_type.lower(),
        ribbon_capacity,
        hopper_capacity,
        status_interval,
        command_timeout,
        card_timeout,
        error_management,
    )


def _intake(section: _Section, base: Path) -> IntakeConfig | None:
    where = section.where
    problems_before = len(section.problems)
    servers = section.texts("servers")
    if not servers:
        section.problems.append(f"[{where}] servers: required, e.g. ['nats://office:4222']")
    for url in servers:
        if not url.startswith(INTAKE_URL_SCHEMES):
            section.problems.append(
                f"[{where}] servers: {url!r} must start with {', '.join(INTAKE_URL_SCHEMES)}"
            )
    names = {}
    for key in ("stream", "durable"):
        value = section.text(key, None)
        if value is None:
            section.problems.append(f"[{where}] {key}: required")
        elif not STREAM_NAME_PATTERN.fullmatch(value):
            section.problems.append(
                f"[{where}] {key} = {value!r}: letters, digits, '-' or '_' (max 64)"
            )
        names[key] = value or ""
    subjects = {}
    for key in ("subject", "result_subject", "dead_letter_subject"):
        value = section.text(key, None)
        if value is None:
            section.problems.append(f"[{where}] {key}: required, e.g. 'ktp.jobs.office-1'")
        elif not SUBJECT_PATTERN.fullmatch(value) or (
            key != "subject" and ("*" in value or ">" in value)
        ):
            section.problems.append(
                f"[{where}] {key} = {value!r}: not a NATS subject"
                + ("" if key == "subject" else " one can publish to (no wildcards)")
            )
        subjects[key] = value or ""
    files: dict[str, Path | None] = {}
    for key in ("creds_file", "nkey_file", "tls_ca_file"):
        value = section.text(key, None)
        files[key] = _resolve(base, value) if value else None
        if files[key] is not None and not files[key].is_file():  # type: ignore[union-attr]
            section.problems.append(f"[{where}] {key} = {value!r}: no such file")
    if files["creds_file"] is not None and files["nkey_file"] is not None:
        section.problems.append(f"[{where}] nkey_file: give creds_file or nkey_file, not both")
    max_held = section.integer("max_held_jobs", 20, 1, 10_000)
    max_bytes = section.integer("max_message_bytes", 8 * 1024 * 1024, 1024, 64 * 1024 * 1024)
    ack_wait = section.number("ack_wait_seconds", 300.0, 1.0, 86_400.0)
    nik = section._get("results_carry_nik", (bool,), "true or false", False)
    section.finish()
    if len(section.problems) > problems_before:
        return None
    return IntakeConfig(
        servers=tuple(servers),
        stream=names["stream"],
        subject=subjects["subject"],
        durable=names["durable"],
        result_subject=subjects["result_subject"],
        dead_letter_subject=subjects["dead_letter_subject"],
        creds_file=files["creds_file"],
        nkey_file=files["nkey_file"],
        tls_ca_file=files["tls_ca_file"],
        max_held_jobs=max_held,
        max_message_bytes=max_bytes,
        ack_wait_seconds=ack_wait,
        results_carry_nik=bool(nik),
    )


def parse_config(text: str, path: Path) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    problems: list[str] = []
    base = path.parent.resolve()
    known = {"console", "daemon", "metrics", "printer", "queue", "supplies", "logging", "intake"}
    problems.extend(
        f"[{key}]: unknown section (known: {', '.join(sorted(known))})"
        for key in sorted(set(raw) - known)
    )
    daemon = _daemon(_Section("daemon", raw.get("daemon", {}), problems), base)
    metrics = _metrics(_Section("metrics", raw.get("metrics", {}), problems))
    printer_tables = raw.get("printer", [])
    printers: list[PrinterConfig] = []
    if not isinstance(printer_tables, list) or not printer_tables:
        problems.append("[[printer]]: at least one printer is required")
        printer_tables = []
    for index, table in enumerate(printer_tables):
        printer = _printer(_Section(f"printer.{index}", table, problems), index)
        if printer is not None:
            printers.append(printer)
    names = [p.name for p in printers]
    problems.extend(
        f"[[printer]] name = {n!r}: used by more than one printer"
        for n in sorted({n for n in names if names.count(n) > 1})
    )
    q = _Section("queue", raw.get("queue", {}), problems)
    queue = QueueConfig(
        max_attempts=q.integer("max_attempts", 3, 1, 20),
        retry_initial_seconds=q.number("retry_initial_seconds", 0.5, 0.01, 60),
        retry_max_seconds=q.number("retry_max_seconds", 30.0, 0.1, 3600),
        reconnect_max_seconds=q.number("reconnect_max_seconds", 1.0, 0.05, 3600),
        poll_seconds=q.number("poll_seconds", 1.0, 0.05, 60),
        drain_timeout_seconds=q.number("drain_timeout_seconds", 120.0, 0, 3600),
        spool_retention_days=q.integer("spool_retention_days", 1, 0, 3650),
    )
    q.finish()
    s = _Section("supplies", raw.get("supplies", {}), problems)
    supplies = SuppliesConfig(
        hopper_low=s.integer("hopper_low", 20, 0, 10_000),
        ribbon_low=s.integer("ribbon_low", 50, 0, 100_000),
        stock_days_low=s.integer("stock_days_low", 30, 0, 3650),
        closed_days=_closed_days(s),
    )
    s.finish()
    lg = _Section("logging", raw.get("logging", {}), problems)
    logging = LoggingConfig(
        format=lg.text("format", "auto", choices=("auto", "json", "console")),
        level=lg.text("level", "info", choices=("debug", "info", "warning", "error")),
    )
    lg.finish()
    console = _console(_Section("console", raw.get("console", {}), problems))
    intake = None
    if "intake" in raw:
        intake = _intake(_Section("intake", raw["intake"], problems), base)
    if problems:
        raise ConfigError(
            f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return Config(
        path,
        daemon,
        metrics,
        tuple(printers),
        queue,
        supplies,
        logging,
        console=console,
        intake=intake,
    )


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read config: {error}") from None
    return parse_config(text, path)


def describe(config: Config) -> dict[str, Any]:
    """A JSON-safe summary for `printd check-config` (no secrets are ever in the config)."""
    out: dict[str, Any] = {"path": str(config.path)}
    for section in ("daemon", "metrics", "queue", "supplies", "logging", "console"):
        value = getattr(config, section)
        out[section] = {f.name: str(getattr(value, f.name)) for f in fields(value)}
    out["printers"] = [
        {"name": p.name, "device": p.device_uri, "driver": p.driver, "status": p.status}
        for p in config.printers
    ]
    if config.intake is not None:  # file paths only: the credentials stay in their files
        out["intake"] = {f.name: str(getattr(config.intake, f.name)) for f in fields(config.intake)}
    return out


__all__ = ["Config", "ConfigError", "PrintdError", "load_config", "parse_config"]
