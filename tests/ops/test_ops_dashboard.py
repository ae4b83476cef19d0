"""config/grafana/printd.json: importable, unique ids, PromQL that parses, DESIGN metric names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GRAFANA_DIR, is_design_metric, printd_metric_names, run

DASHBOARD = GRAFANA_DIR / "printd.json"
DATASOURCE_UID = "${datasource}"
# Grafana's built-in range variables, replaced by something promtool accepts.
GRAFANA_BUILTINS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}
TOPICS = {
    "hopper": "printd_hopper_blanks",
    "ribbon": "printd_ribbon_prints_remaining",
    "stock forecast": "printd_stock_days_remaining",
    "printed": "printd_cards_printed_total",
    "spoiled": "printd_cards_spoiled_total",
    "queue depth": "printd_queue_jobs",
    "queue age": "printd_queue_oldest_job_age_seconds",
    "printer state": "printd_printer_state",
    "retries": "printd_job_retries_total",
}


def load_dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for panel in panels:
        found.append(panel)
        found.extend(all_panels(panel.get("panels", [])))
    return found


def exprs() -> list[str]:
    return [
        target["expr"]
        for panel in all_panels(load_dashboard()["panels"])
        for target in panel.get("targets", [])
    ]


def without_grafana_variables(expr: str) -> str:
    for name, value in GRAFANA_BUILTINS.items():
        expr = expr.replace(name, value)
    return re.sub(r"\$\{?\w+\}?", "x", expr)


def test_dashboard_is_importable_json() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"]
    assert dashboard["title"]
    assert dashboard["schemaVersion"] >= 39
    assert "id" not in dashboard or dashboard["id"] is None, "an exported id breaks import"


def test_panel_ids_are_unique() -> None:
    ids = [panel["id"] for panel in all_panels(load_dashboard()["panels"])]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids)), f"duplicate ids: {sorted(i for i in ids if ids.count(i) > 1)}"


def test_variables_datasource_station_printer() -> None:
    variables = {v["name"]: v for v in load_dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "station" in variables["station"]["definition"]
    assert "printer" in variables["printer"]["definition"]


def test_every_query_uses_the_datasource_variable() -> None:
    for panel in all_panels(load_dashboard()["panels"]):
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]


def test_a_row_repeats_per_printer() -> None:
    rows = [p for p in load_dashboard()["panels"] if p["type"] == "row"]
    assert any(row.get("repeat") == "printer" for row in rows)


def test_queries_filter_by_station() -> None:
    for expr in exprs():
        assert 'station=~"$station"' in expr, expr


@pytest.mark.parametrize(("topic", "metric"), sorted(TOPICS.items()))
def test_dashboard_covers(topic: str, metric: str) -> None:
    assert any(metric in expr for expr in exprs()), f"no panel shows {topic} ({metric})"


def test_every_expr_parses(promtool: str, tmp_path: Path) -> None:
    rules = [
        {"record": f"dashboard:expr_{n}", "expr": without_grafana_variables(expr)}
        for n, expr in enumerate(exprs())
    ]
    rule_file = tmp_path / "dashboard_rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run([promtool, "check", "rules", str(rule_file)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_parse_check_catches_broken_promql(promtool: str, tmp_path: Path) -> None:
    rule_file = tmp_path / "broken.yml"
    rule = {"record": "dashboard:broken", "expr": "sum(rate(printd_cards_printed_total[5m])"}
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": [rule]}]}))
    assert run([promtool, "check", "rules", str(rule_file)]).returncode != 0


def test_dashboard_uses_only_design_metrics() -> None:
    unknown = {name for expr in exprs() for name in printd_metric_names(expr)}
    unknown = {name for name in unknown if not is_design_metric(name)}
    assert not unknown, f"metrics not in DESIGN §6: {sorted(unknown)}"
