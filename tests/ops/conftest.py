"""Shared fixtures for the operations files: promtool/amtool lookup and the DESIGN §6 metrics."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "config" / "prometheus"
GRAFANA_DIR = REPO / "config" / "grafana"
RUNBOOK = REPO / "docs" / "runbook.md"
OPERATIONS = REPO / "docs" / "operations.md"

# The printd metrics port (docs/operations.md "Metrics port").
METRICS_PORT = 10631

# DESIGN.md §6 "Metrics": the contract. Names are written without the `printd_` prefix there.
DESIGN_METRICS = frozenset(
    "printd_" + name
    for name in (
        "printer_up",
        "printer_state",
        "printer_condition",
        "hopper_blanks",
        "blanks_loaded_total",
        "cards_printed_total",
        "cards_spoiled_total",
        "ribbon_prints_remaining",
        "ribbon_capacity_prints",
        "ribbon_prints_used_total",
        "ribbon_count_drift_prints",
        "stock_blanks",
        "stock_ribbons",
        "stock_days_remaining",
        "queue_jobs",
        "queue_oldest_job_age_seconds",
        "jobs_submitted_total",
        "jobs_completed_total",
        "job_retries_total",
        "job_duration_seconds",
        "snmp_up",
        "snmp_poll_duration_seconds",
        "build_info",
    )
)
# Additions to the contract, each listed in the README's "Contract notes".
ADDED_METRICS = frozenset(
    {
        "printd_hopper_low_threshold_blanks",
        "printd_ribbon_low_threshold_prints",
        "printd_stock_low_threshold_seconds",
        "printd_stock_runout_timestamp_seconds",
        # [intake] (README "The office's central queue")
        "printd_intake_up",
        "printd_intake_office_pending_messages",
        "printd_intake_dead_letters_total",
        "printd_outbox_oldest_age_seconds",
        "printd_outbox_results",
        "printd_outbox_published_total",
        "printd_intake_jobs_stored_total",
    }
)
# Histograms expose these series instead of (or next to) the bare name.
DESIGN_HISTOGRAMS = frozenset({"printd_job_duration_seconds"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Series Prometheus itself makes that the rules may use.
PROMETHEUS_METRICS = frozenset({"up"})

_PRINTD_NAME = re.compile(r"\bprintd_[a-z0-9_]+\b")


def printd_metric_names(text: str) -> set[str]:
    """Every `printd_*` identifier in a PromQL expression."""
    return set(_PRINTD_NAME.findall(text))


def is_design_metric(name: str) -> bool:
    if name in DESIGN_METRICS or name in ADDED_METRICS:
        return True
    return any(
        name == histogram + suffix
        for histogram in DESIGN_HISTOGRAMS
        for suffix in HISTOGRAM_SUFFIXES
    )


def _tool(name: str, package: str) -> str:
    return require_tool(name, package)


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    return _tool("amtool", "prometheus-alertmanager")


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool; the caller asserts on returncode and gets stdout+stderr for the message."""
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def markdown_anchors(path: Path) -> set[str]:
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            anchors.add(github_anchor(match.group(1)))
    return anchors
