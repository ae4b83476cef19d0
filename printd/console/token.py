"""`POST /v1/console/token` on the daemon's Unix socket: the way into the console.

Only those who may talk to the socket (its owner and the operators' group) get a login
address, and the address names them. Kept apart from the console's pages so a daemon with the
console off loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from aiohttp import web

from printd.api import peer_actor
from printd.errors import ConflictError

LoginUrl = Callable[[str], dict[str, Any]]


def add_token_route(app: web.Application, login_url: LoginUrl | None) -> None:
    async def token(request: web.Request) -> web.Response:
        if login_url is None:
            raise ConflictError(
                'the console is off; set [console] listen = "127.0.0.1:PORT" in printd.toml '
                "and restart printd"
            )
        actor = peer_actor(request)
        structlog.get_logger("printd.console").info("console_token_issued", actor=actor)
        return web.json_response(login_url(actor), status=201)

    app.router.add_post("/v1/console/token", token)
