"""The local HTTP API, served on a Unix socket only (mode 0660, group from config).

JSON in and out, described by `docs/api/openapi.yaml`; the caller's uid from SO_PEERCRED is
the actor of every change. Every refusal is a 4xx with `{"error": message, "kind": class}`:
the message is written for the operator, the kind is what printctl maps to its exit code.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from printd.errors import (
    ConfirmationNeeded,
    ConflictError,
    JobError,
    NotFoundError,
    PrintdError,
    StoreError,
)
from printd.service import Service
from printd.telemetry.forecast import Forecast

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 120 * 1024 * 1024  # two 50 MB images, base64-encoded, plus the job
STATUS_BY_ERROR: list[tuple[type[PrintdError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (JobError, 422),
    (StoreError, 503),
]
# aiohttp's own refusals (no route, wrong method, body too large) get the same JSON shape.
KIND_BY_HTTP_STATUS = {
    404: "NotFoundError",
    405: "MethodNotAllowed",
    413: "JobError",
    415: "JobError",
}
MESSAGE_BY_HTTP_STATUS = {
    404: "no such API path; see docs/api/openapi.yaml",
    405: "this API path does not take that HTTP method",
    413: f"the request is larger than {MAX_BODY // 2**20} MB",
}
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Day boundaries are computed as timestamps; outside these years they overflow.
FIRST_YEAR, LAST_YEAR = 1970, 9998
# Jobs in one batch request, stored in one commit: printctl sends a big folder in a few.
MAX_BATCH_JOBS = 1000
JOB_ACTIONS = ("cancel", "hold", "release", "reprint", "reconcile")
MAX_REASON = 500


def peer_actor(request: web.Request) -> str:
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is None or sock.family != socket.AF_UNIX:
        return "local"
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    try:
        return f"{pwd.getpwuid(uid).pw_name}({uid})"
    except KeyError:
        return f"uid {uid}"


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": message, "kind": kind}, status=status, headers=headers)


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    kind = KIND_BY_HTTP_STATUS.get(exc.status, "BadRequest")
    message = MESSAGE_BY_HTTP_STATUS.get(exc.status) or exc.text or exc.reason
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    return _error(exc.status, kind, message, headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    log = structlog.get_logger("printd.api")
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        log.info("api_refused", path=request.path, kind="http", status=exc.status)
        return _from_http_exception(exc)
    except PrintdError as error:
        status = next((code for cls, code in STATUS_BY_ERROR if isinstance(error, cls)), 500)
        log.info("api_refused", path=request.path, kind=type(error).__name__, status=status)
        return _error(status, type(error).__name__, str(error))
    except Exception:
        log.exception("api_crashed", path=request.path)
        return _error(500, "InternalError", "printd hit an internal error; see its log")


async def _body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=f"send JSON with 'Content-Type: application/json', not {request.content_type!r}"
        )
    # Bytes, not request.text(): a bogus charset in Content-Type must not decide the decoding.
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise JobError("the request body is not valid JSON") from None
    try:
        # Lone surrogates ("\ud800") are valid JSON but not text: the store could not save them.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JobError("the request body has text that is not valid Unicode") from None
    return body


def _object(body: Any, allowed: Iterable[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise JobError("the request body must be a JSON object")
    known = set(allowed)
    unknown = sorted(set(body) - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise JobError(f"{unknown[0]}: unknown field (known: {listed})")
    return body


async def _optional_object(request: web.Request, allowed: Iterable[str]) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    return _object(await _body(request), allowed)


def _query(request: web.Request, allowed: Iterable[str] = ()) -> dict[str, str]:
    """The query parameters, refusing unknown ones: a misspelt filter must not list everything."""
    known = set(allowed)
    for name in request.query:
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise JobError(f"{name or '(empty)'}: unknown query parameter (known: {listed})")
    return dict(request.query)


def _text(body: dict[str, Any], field: str, *, required: bool, limit: int = 64) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise JobError(f"{field}: {'required, ' if required else ''}text of 1–{limit} characters")
    return value


def _day(value: str | None) -> str | None:
    if value is None or value in ("today", "yesterday"):
        return value  # in the station's zone: the service knows it
    when = None
    if DAY_PATTERN.fullmatch(value):
        try:
            when = date.fromisoformat(value)
        except ValueError:
            when = None
    if when is None or not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise JobError(f"day: {value!r} is not a date like 2026-11-27, today or yesterday")
    return value


def build_app(
    service: Service, status_forecast: Callable[[], Mapping[str, Forecast]]
) -> web.Application:
    """The API as an aiohttp app. The daemon serves it on its Unix socket; tests may serve it
    on loopback TCP (the actor is then "local": there are no peer credentials)."""
    routes = web.RouteTableDef()

    @routes.get("/v1/status")
    async def status(request: web.Request) -> web.Response:
        _query(request)
        return web.json_response(service.status(status_forecast()))

    @routes.post("/v1/jobs")
    async def submit(request: web.Request) -> web.Response:
        job, created = service.submit(await _body(request), peer_actor(request))
        return web.json_response({"job": job, "created": created}, status=201 if created else 200)

    @routes.post("/v1/jobs/batch")
    async def submit_batch(request: web.Request) -> web.Response:
        jobs = _object(await _body(request), ["jobs"]).get("jobs")
        # Each job is checked on its own and answered in `results`; only the shape of the
        # request as a whole refuses all of it (printctl never sends such a request).
        if not isinstance(jobs, list) or not 1 <= len(jobs) <= MAX_BATCH_JOBS:
            raise JobError(f"jobs: a list of 1 to {MAX_BATCH_JOBS} jobs")
        if not all(isinstance(job, dict) for job in jobs):
            raise JobError("jobs: every job is a JSON object")
        results = service.submit_batch(jobs, peer_actor(request))
        return web.json_response({"results": results})

    @routes.get("/v1/jobs")
    async def jobs(request: web.Request) -> web.Response:
        state = _query(request, ["state"]).get("state")
        if state == "":
            raise JobError("state: empty; leave it out to list every job")
        return web.json_response({"jobs": service.jobs(state)})

    @routes.get("/v1/jobs/{job_id}")
    async def show(request: web.Request) -> web.Response:
        _query(request)
        return web.json_response({"job": service.job(request.match_info["job_id"])})

    @routes.post("/v1/jobs/{job_id}/{action}")
    async def act(request: web.Request) -> web.Response:
        job_id, action = request.match_info["job_id"], request.match_info["action"]
        if action not in JOB_ACTIONS:
            raise NotFoundError(f"unknown action {action!r} (known: {', '.join(JOB_ACTIONS)})")
        actor = peer_actor(request)
        if action == "reprint":
            body = _object(await _body(request), ["reason", "confirm"])
            reason = _text(body, "reason", required=True, limit=MAX_REASON)
            confirm = body.get("confirm", False)
            if not isinstance(confirm, bool):
                raise JobError("confirm: true or false")
            job = service.reprint(job_id, str(reason), actor, confirm=confirm)
        elif action == "reconcile":
            body = _object(await _body(request), ["outcome"])
            outcome = body.get("outcome")
            if outcome not in ("printed", "spoiled"):
                raise JobError("outcome: required, 'printed' or 'spoiled'")
            job = service.reconcile(job_id, outcome, actor)
        else:
            await _optional_object(request, [])
            job = {
                "cancel": service.cancel,
                "hold": service.hold,
                "release": service.release,
            }[action](job_id, actor)
        return web.json_response({"job": job})

    @routes.post("/v1/blanks/{action}")
    async def blanks(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ("load", "unload"):
            raise NotFoundError(f"unknown action {action!r} (known: load, unload)")
        body = _object(await _body(request), ["count", "printer"])
        printer = _text(body, "printer", required=False)
        actor = peer_actor(request)
        if action == "load":
            out = service.blanks_load(body.get("count"), printer, actor)
        else:
            out = service.blanks_unload(body.get("count"), printer, actor)
        return web.json_response(out)

    @routes.post("/v1/ribbon/install")
    async def ribbon(request: web.Request) -> web.Response:
        body = _object(await _body(request), ["type", "capacity", "printer", "confirm"])
        printer = _text(body, "printer", required=False)
        confirm = body.get("confirm", False)
        if not isinstance(confirm, bool):
            raise JobError("confirm: true or false")
        warnings = [] if confirm else service.ribbon_warnings(body.get("type"), printer)
        if warnings:
            raise ConfirmationNeeded("\n".join(warnings))
        out = service.ribbon_install(
            body.get("type"), body.get("capacity"), printer, peer_actor(request)
        )
        return web.json_response(out)

    @routes.post("/v1/stock/receive")
    async def stock(request: web.Request) -> web.Response:
        body = _object(await _body(request), ["blanks", "ribbons"])
        out = service.stock_receive(body.get("blanks"), body.get("ribbons"), peer_actor(request))
        return web.json_response(out)

    @routes.get("/v1/report")
    async def report(request: web.Request) -> web.Response:
        day = _query(request, ["day"]).get("day")
        out = service.report(_day(day))
        # The outlook as of now, whatever day the report is for: it is what an order is
        # planned on when the report is signed.
        out["forecast"] = {item: f.public() for item, f in status_forecast().items()}
        return web.json_response(out)

    @routes.get("/v1/audit/verify")
    async def audit(request: web.Request) -> web.Response:
        _query(request)
        return web.json_response(service.audit_verify())

    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY)
    app.add_routes(routes)
    return app


def secure_socket(path: Path, group: str | None) -> None:
    """Only the owner and the operators' group may talk to printd."""
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise PrintdError(
                f"[daemon] socket_group = {group!r}: no such group on this machine"
            ) from None
        os.chown(path, -1, gid)
    path.chmod(0o660)
