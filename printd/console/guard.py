"""Who may use the console: the holder of a session opened with a socket-issued token, from a
page of the console itself.

- Host must name the console's own loopback address: a web page elsewhere cannot reach it by
  pointing a DNS name at 127.0.0.1 (DNS rebinding).
- Every page but the login and the static files needs the session cookie (401 without).
- A POST must come from the console's own origin (Origin, else Referer) and carry the session's
  CSRF token: a page on another site cannot make the browser act for the operator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from printd.console.passes import Passes, Session

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COOKIE = "printd_console"
SESSION_KEY = "printd.console.session"
OPEN_PATHS = ("/login", "/static/")
HEADERS = {
    # Scripts and styles only from the console's own files: no inline code to inject into.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Refusal = Callable[[web.Request, int, str], web.Response]


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


def same_origin(request: web.Request) -> bool:
    """The request was sent by a page of the console (its Origin, or failing that its Referer,
    is the console's own address)."""
    own = f"http://{request.host}"
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("Referer")
    if referer is None:
        return False
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" == own


def build_guard(
    passes: Passes, port: int, refuse: Refusal
) -> Callable[..., Awaitable[web.StreamResponse]]:
    hosts = allowed_hosts(port)
    log = structlog.get_logger("printd.console")

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in hosts:
            log.info("console_refused", why="host", path=request.path)
            response: web.StreamResponse = refuse(request, 421, "host")
        elif request.path.startswith(OPEN_PATHS):
            response = await handler(request)
        else:
            session = passes.session(request.cookies.get(COOKIE))
            if session is None:
                log.info("console_refused", why="no_session", path=request.path)
                response = refuse(request, 401, "session")
            elif request.method not in ("GET", "HEAD") and not await _csrf_ok(request, session):
                log.info("console_refused", why="cross_site", path=request.path)
                response = refuse(request, 403, "cross_site")
            else:
                request[SESSION_KEY] = session
                response = await handler(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return guard


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    if not same_origin(request):
        return False
    form = await request.post()
    token = form.get("csrf")
    return Passes.csrf_matches(session, token if isinstance(token, str) else None)
