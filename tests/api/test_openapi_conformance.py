"""schemathesis drives the API from docs/api/openapi.yaml: positive and negative cases for
every operation. No 5xx, responses match the document, and every malformed request gets a
4xx with a message the operator can read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.meta import CONTENT_TYPE_PROBES, coverage_scenario

from tests.api.loopback import serve_api
from tests.conftest import REPO

OPENAPI = REPO / "docs" / "api" / "openapi.yaml"
# Loaded at collection: schemathesis's fixture-based loader does not work with pytest 9.
schema = schemathesis.openapi.from_path(OPENAPI)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_api(tmp_path_factory.mktemp("api")) as url:
        yield url


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case: Any, api_url: str) -> None:
    response = case.call(base_url=api_url, timeout=10)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    # A Content-Type header on a request without a body describes nothing; ignoring it is fine.
    header_only_probe = case.method == "GET" and coverage_scenario(case) in CONTENT_TYPE_PROBES
    # A query parameter whose value is [] or None is not sent at all: the request that went
    # out may be a valid one, so it proves nothing either way.
    unsent = any(v in (None, []) for v in (case.query or {}).values())
    negative = case.meta.generation.mode is GenerationMode.NEGATIVE
    if negative and not header_only_probe and not unsent:
        assert 400 <= response.status_code < 500, (
            f"a request outside the document was accepted: {case.as_curl_command()}"
        )
    if response.status_code >= 400:
        body = response.json()
        assert body["error"].strip() and body["kind"], body


def test_the_document_covers_every_route(api_url: str) -> None:
    """A route the document forgets is a route schemathesis never tests."""
    import yaml

    documented = set(yaml.safe_load(OPENAPI.read_text())["paths"])
    expected = {
        "/v1/status",
        "/v1/jobs",
        "/v1/jobs/batch",
        "/v1/jobs/{job_id}",
        *(
            f"/v1/jobs/{{job_id}}/{a}"
            for a in ("cancel", "hold", "release", "reprint", "reconcile")
        ),
        "/v1/blanks/load",
        "/v1/blanks/unload",
        "/v1/ribbon/install",
        "/v1/stock/receive",
        "/v1/report",
        "/v1/audit/verify",
    }
    assert documented == expected


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("POST", "/v1/jobs", b"{not json", 422, "not valid JSON"),
        ("POST", "/v1/jobs", b"[1, 2]", 422, "JSON object"),
        ("POST", "/v1/jobs", b'{"id": "a\\ud800", "document": "x"}', 422, "not valid Unicode"),
        ("POST", "/v1/stock/receive", b'{"blanks": 5, "bogus": 1}', 422, "bogus: unknown field"),
        ("POST", "/v1/stock/receive", b'{"blanks": "5"}', 422, "blanks: a whole number"),
        ("POST", "/v1/blanks/load", b'{"count": 1, "printer": 7}', 422, "printer:"),
        ("POST", "/v1/jobs/x/reprint", b'{"reason": 5}', 422, "reason:"),
        ("POST", "/v1/jobs/x/reconcile", b'{"outcome": "lost"}', 422, "outcome:"),
        ("POST", "/v1/jobs/x/explode", b"{}", 404, "unknown action"),
        ("GET", "/v1/report?day=9999-12-31", None, 422, "not a date"),
        ("GET", "/v1/report?day=20261127", None, 422, "not a date"),
        ("GET", "/v1/jobs?state=", None, 422, "state:"),
        ("GET", "/v1/jobs?state=lost", None, 422, "unknown job state"),
        ("GET", "/v1/nowhere", None, 404, "no such API path"),
        ("DELETE", "/v1/status", None, 405, "does not take"),
    ],
)
def test_malformed_requests_get_a_4xx_with_a_message(
    api_url: str, method: str, path: str, body: bytes | None, status: int, words: str
) -> None:
    response = requests.request(
        method,
        api_url + path,
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert words in response.json()["error"]
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_a_body_that_is_not_declared_json_is_refused(api_url: str) -> None:
    response = requests.post(
        api_url + "/v1/stock/receive",
        data=b'{"blanks": 3}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["error"]


def test_a_bogus_charset_does_not_change_how_the_body_is_read(api_url: str) -> None:
    response = requests.post(
        api_url + "/v1/stock/receive",
        data=b'{"blanks": 3}',
        headers={"Content-Type": "application/json; charset=no-such-charset"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["stock_blanks"] >= 3


def test_loopback_server_is_the_real_app(tmp_path: Path) -> None:
    """The loopback helper serves build_app with a real store: data survives in SQLite."""
    with serve_api(tmp_path) as url:
        requests.post(url + "/v1/stock/receive", json={"blanks": 7}, timeout=10)
        report = requests.get(url + "/v1/report", timeout=10).json()
    assert report["received"] == 7 and report["balance"] == 0
    assert (tmp_path / "state").is_dir()
