"""Every name a document gives exists: metrics (a real /metrics scrape), alerts
(config/prometheus/alerts.yml), config sections and keys (the config dataclasses and what the
parser reads), printctl verbs and flags (its argparse parser), exit codes (what printctl can
exit with) and the repository's files. A rename in the code then fails here, naming the
document and the stale name.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from printd import config as config_module
from printd.cli.client import EXIT_BY_KIND, EXIT_UNREACHABLE
from printd.cli.ctl import build_parser
from printd.cli.i18n import translations
from tests.conftest import REPO, free_port
from tests.docs.docblocks import code_spans, documents, prose, shell_blocks
from tests.docs.test_doc_commands import demo_daemon

DOCS = documents()
# A path from the checkout's top, not the tail of an absolute one (/etc/printd/printd.toml).
REPO_PATH = re.compile(
    r"(?<![\w/.~-])(?:printd|docs|tests|config|scripts|systemd|hil|bench|examples)/[\w./*-]*"
)
# Series a scrape of the simulator cannot show, each with what makes it appear; the name must
# still be one the code exports.
CONDITIONAL_METRICS = {"printd_intake_office_pending_messages": "the office's stream answers"}
CAMEL = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+")
# An [intake] whose office is not there: the daemon starts, link down, and exports the
# office-queue series the documents name.
DEAD_INTAKE = """
[intake]
servers = ["nats://127.0.0.1:{port}"]
stream = "KTP"
subject = "ktp.jobs.>"
durable = "station"
result_subject = "ktp.results.station"
dead_letter_subject = "ktp.dead.station"
"""


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def spans() -> list[tuple[str, str]]:
    """(document, code span) for every span, plus each line of the shell blocks."""
    found = [(rel(path), span) for path in DOCS for span in code_spans(prose(path))]
    found += [(b.where, line.split(" #")[0].strip()) for b in shell_blocks() for line in b.lines]
    return found


# ---- metrics ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    daemon, _ = demo_daemon(tmp_path_factory.mktemp("scrape"))
    daemon.config.write_text(daemon.config.read_text() + DEAD_INTAKE.format(port=free_port()))
    daemon.start()
    try:
        exposition = daemon.metrics()
    finally:
        daemon.stop()
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "counter":
                names.add(name + "_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_every_metric_a_document_names_is_exported(scraped: set[str]) -> None:
    named = {
        (rel(path), name)
        for path in DOCS
        for name in re.findall(r"\bprintd_[a-z0-9_]+\b", prose(path))
    }
    assert len(named) > 10
    source = "\n".join(p.read_text() for p in (REPO / "printd").rglob("*.py"))
    conditional = {name for name in CONDITIONAL_METRICS if f'"{name}"' in source}
    stale = sorted((doc, name) for doc, name in named if name not in scraped | conditional)
    assert stale == [], f"metrics named in the documents that /metrics does not export: {stale}"


# ---- alerts -----------------------------------------------------------------------------------


def test_every_alert_a_document_names_exists() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load((REPO / "config/prometheus/alerts.yml").read_text())["groups"]
        for rule in group["rules"]
    }
    # Error kinds are the other CamelCase words the documents use (`ConflictError`…).
    kinds = set(EXIT_BY_KIND) | {
        name for name in dir(__import__("printd.errors").errors) if CAMEL.fullmatch(name)
    }
    named = {(doc, span) for doc, span in spans() if CAMEL.fullmatch(span)}
    named |= {
        (rel(path), heading)
        for path in DOCS
        for heading in re.findall(r"^#+ (\w+)\s*$", prose(path), re.MULTILINE)
        if CAMEL.fullmatch(heading)
    }
    assert {name for _, name in named} & alerts, "no alert names found: the reader is broken"
    stale = sorted((doc, name) for doc, name in named if name not in alerts | kinds)
    assert stale == [], f"alerts (or error kinds) that do not exist: {stale}"


# ---- config -----------------------------------------------------------------------------------

SECTIONS = {
    "daemon": config_module.DaemonConfig,
    "metrics": config_module.MetricsConfig,
    "console": config_module.ConsoleConfig,
    "printer": config_module.PrinterConfig,
    "queue": config_module.QueueConfig,
    "supplies": config_module.SuppliesConfig,
    "logging": config_module.LoggingConfig,
    "intake": config_module.IntakeConfig,
}


def read_keys() -> set[str]:
    """The keys the parser reads from printd.toml (`section.text("key")` and the like)."""
    source = Path(config_module.__file__).read_text()
    return set(
        re.findall(r"\.(?:text|number|integer|texts|flag|path|boolean)\(\s*\"(\w+)\"", source)
    )


def test_every_config_key_a_document_names_exists() -> None:
    parsed = read_keys()
    named = [
        (doc, found.group(1), found.group(2))
        for doc, span in spans()
        # lower case: printd.toml's sections; `[Service]` is the systemd unit's
        if (found := re.match(r"\[\[?([a-z_]+)\]?\]\s*(\w+)?", span))
    ]
    assert len(named) > 10
    problems = []
    for doc, section, key in named:
        if section not in SECTIONS:
            problems.append((doc, f"[{section}]"))
        elif key and key not in {f.name for f in dataclasses.fields(SECTIONS[section])} | parsed:
            problems.append((doc, f"[{section}] {key}"))
    assert problems == [], f"config sections or keys that do not exist: {problems}"


# ---- printctl ---------------------------------------------------------------------------------


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def flags(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def check_printctl(words: list[str], root: argparse.ArgumentParser) -> str | None:
    """What is wrong with `printctl WORDS…` (a verb, action or flag that does not exist)."""
    known, parser = flags(root), root
    for word in words:
        if word.startswith("--"):
            if word.split("=")[0].strip("[]") not in known:
                return f"no flag {word}"
            continue
        children = subparsers(parser)
        if children:
            if word not in children:
                return f"no verb {word!r}"
            parser = children[word]
            known |= flags(parser)
    return None


def test_every_printctl_verb_and_flag_a_document_names_exists() -> None:
    root = build_parser(translations("en"))
    commands = [
        (doc, span.split()[1:])
        for doc, span in spans()
        if re.match(r"(?:sudo )?printctl( |$)", span)
    ]
    assert len(commands) > 20
    wrong = [
        (doc, " ".join(words), why)
        for doc, words in commands
        if (
            why := check_printctl(
                [w.strip("[]") for w in words if re.fullmatch(r"\[?--?[\w-]+(=\S*)?\]?|[a-z]+", w)],
                root,
            )
        )
    ]
    assert wrong == [], f"printctl commands in the documents that printctl refuses: {wrong}"


# ---- exit codes -------------------------------------------------------------------------------


def test_the_exit_code_table_lists_codes_printctl_uses() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("### printctl exit codes", 1)[1].split("\n#", 1)[0]
    codes = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    possible = {0, 1, 2, EXIT_UNREACHABLE, *EXIT_BY_KIND.values()}
    assert codes, "README: no exit-code table"
    assert codes <= possible, f"README lists exit codes printctl never uses: {codes - possible}"


# ---- files ------------------------------------------------------------------------------------


def in_repository(path: str) -> bool:
    """The path exists; or it is made by a run (a report `hil/reports/hil-*.md`, a name's
    prefix `hil/reports/survey-`) in a folder that exists; or it lies in a folder the project
    makes and ignores (.gitignore: `hil/reports/`, `bench/.station-venv/`), which a fresh
    checkout does not have."""
    if list(REPO.glob(path.rstrip("/"))):
        return True
    ignored = [
        line.strip().rstrip("/")
        for line in (REPO / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    bare = path.rstrip("/")
    if any(bare == folder or bare.startswith(folder + "/") for folder in ignored):
        return True
    if "*" in path or path.endswith("-"):
        return (REPO / path).parent.is_dir()
    return False


def test_every_repository_path_a_document_names_exists() -> None:
    named = {
        (doc, found.group(0).rstrip("."))
        for doc, span in spans()
        for found in REPO_PATH.finditer(span)
        if not span.startswith(("/", "http"))
    }
    assert len(named) > 20
    missing = sorted((doc, path) for doc, path in named if not in_repository(path))
    assert missing == [], f"paths the documents name that are not in the repository: {missing}"
