"""alerts.yml: promtool accepts it, its unit tests pass and can fail, every alert is explained."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    ADDED_METRICS,
    PROMETHEUS_DIR,
    REPO,
    RUNBOOK,
    is_design_metric,
    markdown_anchors,
    printd_metric_names,
    run,
)

ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts_test.yml"
REQUIRED_ALERTS = {
    "PrinterDown",
    "PrinterNeedsOperator",
    "HopperLow",
    "RibbonLow",
    "StockRunsOutSoon",
    "StockCritical",
    "QueueStuck",
    "JobsInterrupted",
    "SpoilageHigh",
    "RibbonCountDrift",
    "SnmpDown",
}
ANNOTATIONS = ("summary", "summary_id", "description", "runbook_url")
SEVERITIES = {"critical", "warning"}


def load_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def alert_rules() -> list[dict[str, Any]]:
    return [rule for rule in load_rules() if "alert" in rule]


def test_promtool_check_rules_accepts_alerts(promtool: str) -> None:
    result = run([promtool, "check", "rules", str(ALERTS)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass(promtool: str) -> None:
    result = run([promtool, "test", "rules", ALERTS_TEST.name], cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("alert", "original", "broken"),
    [
        (
            "HopperLow",
            "< (printd_hopper_low_threshold_blanks",
            "<= (printd_hopper_low_threshold_blanks",
        ),
        (
            "HopperLow",
            "(printd_hopper_low_threshold_blanks or",
            "(0 * printd_hopper_blanks + 20 or",
        ),
        ("HopperLow", "0 * printd_hopper_blanks + 20)", "0 * printd_hopper_blanks + 21)"),
        (
            "RibbonLow",
            "0 * printd_ribbon_prints_remaining + 50)",
            "0 * printd_ribbon_prints_remaining + 51)",
        ),
        (
            "RibbonLow",
            "(printd_ribbon_low_threshold_prints or",
            "(0 * printd_ribbon_prints_remaining + 50 or",
        ),
        (
            "StockRunsOutSoon",
            "printd_stock_low_threshold_seconds / 86400",
            "printd_stock_low_threshold_seconds / 3600",
        ),
        ("SpoilageHigh", ") > 0.05", ") > 0.5"),
        ("PrinterNeedsOperator", 'condition!="offline"', 'condition!="none"'),
        (
            "IntakeLinkDown",
            "printd_intake_office_pending_messages > 0",
            "printd_intake_office_pending_messages >= 0",
        ),
        ("OutboxGrowing", "> 4 * 3600", "> 5 * 3600"),
        ("IntakeDeadLetters", "total[1h])) > 0", "total[1h])) > 1"),
    ],
)
def test_unit_tests_catch_a_broken_rule(
    promtool: str, tmp_path: Path, alert: str, original: str, broken: str
) -> None:
    """The unit tests are worth something only if a wrong rule makes them fail."""
    rules = ALERTS.read_text(encoding="utf-8")
    assert original in rules, f"{alert}: expected {original!r} in alerts.yml"
    (tmp_path / "alerts.yml").write_text(rules.replace(original, broken), encoding="utf-8")
    shutil.copy(ALERTS_TEST, tmp_path / "alerts_test.yml")
    result = run([promtool, "test", "rules", "alerts_test.yml"], cwd=tmp_path)
    assert result.returncode != 0, f"{alert} broken as {broken!r} but the unit tests passed"


def test_required_alerts_exist() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert names >= REQUIRED_ALERTS, f"missing: {sorted(REQUIRED_ALERTS - names)}"


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    doc = yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))
    firing: set[str] = set()
    silent: set[str] = set()
    for case in doc["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert not names - firing, f"no test where it fires: {sorted(names - firing)}"
    assert not names - silent, f"no test where it stays silent: {sorted(names - silent)}"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_speaks_to_operators(rule: dict[str, Any]) -> None:
    annotations = rule.get("annotations", {})
    missing = [key for key in ANNOTATIONS if not str(annotations.get(key, "")).strip()]
    assert not missing, f"{rule['alert']}: missing annotations {missing}"
    assert rule.get("labels", {}).get("severity") in SEVERITIES, rule["alert"]


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_runbook_url_points_at_an_existing_section(rule: dict[str, Any]) -> None:
    url = rule["annotations"]["runbook_url"]
    path, _, anchor = url.partition("#")
    assert path == "docs/runbook.md", url
    assert anchor in markdown_anchors(RUNBOOK), f"{rule['alert']}: no section #{anchor}"


@pytest.mark.parametrize(
    ("alert", "threshold"),
    [("HopperLow", "20"), ("RibbonLow", "50"), ("StockRunsOutSoon", "30"), ("StockCritical", "7")],
)
def test_runbook_states_thresholds(alert: str, threshold: str) -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    section = text.split(f"## {alert}\n", 1)[1].split("\n## ", 1)[0]
    assert threshold in section, f"runbook section {alert} does not state {threshold}"


def test_alerts_use_only_design_metrics() -> None:
    unknown = set()
    for rule in load_rules():
        unknown |= {
            name for name in printd_metric_names(rule["expr"]) if not is_design_metric(name)
        }
    assert not unknown, f"metrics not in DESIGN §6: {sorted(unknown)}"


def test_metrics_added_to_the_contract_are_listed_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in ADDED_METRICS if f"`{name}" not in readme)
    assert not missing, f"README's contract notes do not list {missing}"
