"""The local HTTP API, served on a Unix socket only (mode 0660, group from config).

JSON in and out; the caller's uid from SO_PEERCRED is the actor of every change. Errors carry
a message an operator can act on and a `kind` the CLI maps to its exit code.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from printd.errors import (
    ConflictError,
    JobError,
    NotFoundError,
    PrintdError,
    StoreError,
)
from printd.service import Service

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 120 * 1024 * 1024  # two 50 MB images, base64-encoded, plus the job
STATUS_BY_ERROR: list[tuple[type[PrintdError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (JobError, 422),
    (StoreError, 503),
]


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


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"error": message, "kind": kind}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    log = structlog.get_logger("printd.api")
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except PrintdError as error:
        status = next((code for cls, code in STATUS_BY_ERROR if isinstance(error, cls)), 500)
        log.info("api_refused", path=request.path, kind=type(error).__name__, status=status)
        return _error(status, type(error).__name__, str(error))
    except Exception:
        log.exception("api_crashed", path=request.path)
        return _error(500, "InternalError", "printd hit an internal error; see its log")


async def _body(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise JobError("the request body is not valid JSON") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise JobError("the request body must be a JSON object")
    return body


def build_app(
    service: Service, status_forecast: Callable[[], dict[str, float | None]]
) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/v1/status")
    async def status(_: web.Request) -> web.Response:
        return web.json_response(service.status(status_forecast()))

    @routes.post("/v1/jobs")
    async def submit(request: web.Request) -> web.Response:
        job, created = service.submit(await _body(request), peer_actor(request))
        return web.json_response({"job": job, "created": created}, status=201 if created else 200)

    @routes.get("/v1/jobs")
    async def jobs(request: web.Request) -> web.Response:
        return web.json_response({"jobs": service.jobs(request.query.get("state"))})

    @routes.get("/v1/jobs/{job_id}")
    async def show(request: web.Request) -> web.Response:
        return web.json_response({"job": service.job(request.match_info["job_id"])})

    @routes.post("/v1/jobs/{job_id}/{action}")
    async def act(request: web.Request) -> web.Response:
        job_id, action = request.match_info["job_id"], request.match_info["action"]
        actor = peer_actor(request)
        body = _object(await _body(request)) if request.can_read_body else {}
        if action == "cancel":
            job = service.cancel(job_id, actor)
        elif action == "hold":
            job = service.hold(job_id, actor)
        elif action == "release":
            job = service.release(job_id, actor)
        elif action == "reprint":
            job = service.reprint(job_id, str(body.get("reason", "")), actor)
        elif action == "reconcile":
            job = service.reconcile(job_id, str(body.get("outcome", "")), actor)
        else:
            raise NotFoundError(f"unknown action {action!r}")
        return web.json_response({"job": job})

    @routes.post("/v1/blanks/{action}")
    async def blanks(request: web.Request) -> web.Response:
        body = _object(await _body(request))
        action = request.match_info["action"]
        actor = peer_actor(request)
        if action == "load":
            out = service.blanks_load(body.get("count"), body.get("printer"), actor)
        elif action == "unload":
            out = service.blanks_unload(body.get("count"), body.get("printer"), actor)
        else:
            raise NotFoundError(f"unknown action {action!r}")
        return web.json_response(out)

    @routes.post("/v1/ribbon/install")
    async def ribbon(request: web.Request) -> web.Response:
        body = _object(await _body(request))
        out = service.ribbon_install(
            body.get("type"), body.get("capacity"), body.get("printer"), peer_actor(request)
        )
        return web.json_response(out)

    @routes.post("/v1/stock/receive")
    async def stock(request: web.Request) -> web.Response:
        body = _object(await _body(request))
        out = service.stock_receive(body.get("blanks"), body.get("ribbons"), peer_actor(request))
        return web.json_response(out)

    @routes.get("/v1/report")
    async def report(request: web.Request) -> web.Response:
        return web.json_response(service.report(request.query.get("day")))

    @routes.get("/v1/audit/verify")
    async def audit(_: web.Request) -> web.Response:
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
