"""Prometheus and Alertmanager configs: the tools accept them and they agree with each other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import METRICS_PORT, OPERATIONS, PROMETHEUS_DIR, run

ALERTMANAGER = PROMETHEUS_DIR / "alertmanager.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("config", "flags"),
    [("prometheus.yml", []), ("central.yml", []), ("agent.yml", ["--agent"])],
)
def test_promtool_check_config(promtool: str, config: str, flags: list[str]) -> None:
    result = run([promtool, "check", "config", *flags, config], cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_config(promtool: str, tmp_path: Path) -> None:
    """The check above means something: a misspelt key is refused."""
    broken = (PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8")
    (tmp_path / "prometheus.yml").write_text(
        broken.replace("scrape_interval:", "scrape_intervall:", 1), encoding="utf-8"
    )
    (tmp_path / "alerts.yml").write_text((PROMETHEUS_DIR / "alerts.yml").read_text())
    result = run([promtool, "check", "config", "prometheus.yml"], cwd=tmp_path)
    assert result.returncode != 0


@pytest.mark.parametrize("config", ["prometheus.yml", "agent.yml"])
def test_station_scrapes_printd_on_the_metrics_port(config: str) -> None:
    jobs = {job["job_name"]: job for job in load(PROMETHEUS_DIR / config)["scrape_configs"]}
    targets = [t for sc in jobs["printd"]["static_configs"] for t in sc["targets"]]
    assert targets == [f"127.0.0.1:{METRICS_PORT}"]
    # A `station` target label would push printd's own label to `exported_station`.
    assert all("station" not in sc.get("labels", {}) for sc in jobs["printd"]["static_configs"])
    assert "station" in load(PROMETHEUS_DIR / config)["global"]["external_labels"]


def test_agent_pushes_and_evaluates_nothing() -> None:
    agent = load(PROMETHEUS_DIR / "agent.yml")
    assert agent["remote_write"], "agent.yml must remote_write"
    assert "rule_files" not in agent
    assert "alerting" not in agent


def test_central_federates_printd_series_with_their_labels() -> None:
    central = load(PROMETHEUS_DIR / "central.yml")
    federate = next(j for j in central["scrape_configs"] if j.get("metrics_path") == "/federate")
    assert federate["honor_labels"] is True
    assert '{job="printd"}' in federate["params"]["match[]"]
    assert central["storage"]["tsdb"]["out_of_order_time_window"], "agents send old samples"
    assert "alerts.yml" in central["rule_files"]


def test_operations_doc_names_the_port() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    assert str(METRICS_PORT) in text
    assert "Default-port-allocations" in text, "the port choice must cite the allocation page"


# ----------------------------------------------------------------- Alertmanager


def test_amtool_check_config(amtool: str) -> None:
    result = run([amtool, "check-config", str(ALERTMANAGER)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["station=soreang-1", "alertname=PrinterDown", "severity=critical"], "office-soreang"),
        (
            ["station=soreang-keliling-1", "alertname=HopperLow", "severity=warning"],
            "office-soreang",
        ),
        (["station=cimahi-1", "alertname=QueueStuck", "severity=critical"], "office-cimahi"),
        (
            ["station=cimahi-1", "alertname=StockCritical", "severity=critical"],
            "stock-officer,office-cimahi",
        ),
        (["station=bogor-1", "alertname=PrinterDown", "severity=critical"], "ops-desk"),
    ],
)
def test_alertmanager_routes_by_office(amtool: str, labels: list[str], receivers: str) -> None:
    result = run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={ALERTMANAGER}",
            f"--verify.receivers={receivers}",
            *labels,
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_structure() -> None:
    """Without amtool too: every route's receiver exists, inhibitions name real alerts."""
    config = load(ALERTMANAGER)
    receivers = {receiver["name"] for receiver in config["receivers"]}

    def walk(route: dict[str, Any]) -> None:
        assert route.get("receiver", config["route"]["receiver"]) in receivers, route
        for child in route.get("routes", []):
            walk(child)

    walk(config["route"])
    alerts = {
        rule["alert"]
        for group in load(PROMETHEUS_DIR / "alerts.yml")["groups"]
        for rule in group["rules"]
    }
    for inhibit in config["inhibit_rules"]:
        for matcher in inhibit["source_matchers"] + inhibit["target_matchers"]:
            match = re.fullmatch(r'alertname(=~|=)"([^"]+)"', matcher)
            if match:
                named = set(match.group(2).split("|"))
                assert named <= alerts, f"unknown alerts in inhibit rule: {named - alerts}"
        assert "station" in inhibit["equal"], "inhibitions must stay inside one station"


def matches(matcher: str, labels: dict[str, str]) -> bool:
    """One Alertmanager matcher (`name=value`, `!=`, `=~`, `!~`; regexes anchored) on labels."""
    found = re.fullmatch(r'(\w+)(=~|!~|!=|=)"([^"]*)"', matcher)
    assert found, f"matcher not understood: {matcher}"
    name, op, value = found.groups()
    actual = labels.get(name, "")
    hit = re.fullmatch(value, actual) is not None if "~" in op else actual == value
    return hit if op in ("=", "=~") else not hit


def test_printd_down_silences_every_other_alert_of_the_station() -> None:
    # docs/operations.md: "`PrintdDown` silences every other alert of the station".
    # amtool has no offline inhibition test (only routing), so the matchers are read here.
    rules = [
        rule
        for rule in load(ALERTMANAGER)["inhibit_rules"]
        if rule["source_matchers"] == ['alertname="PrintdDown"']
    ]
    assert len(rules) == 1
    alerts = {
        rule["alert"]
        for group in load(PROMETHEUS_DIR / "alerts.yml")["groups"]
        for rule in group["rules"]
    }
    assert {"StockRunsOutSoon", "StockCritical", "JobsInterrupted"} <= alerts
    for alert in sorted(alerts - {"PrintdDown"}):
        labels = {"alertname": alert, "station": "soreang-1"}
        assert all(matches(m, labels) for m in rules[0]["target_matchers"]), alert
    assert not all(matches(m, {"alertname": "PrintdDown"}) for m in rules[0]["target_matchers"])
    assert "PrintdDown` silences every other alert of the" in OPERATIONS.read_text()
