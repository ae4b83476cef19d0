"""The console's web app: routes, and its place in the daemon's lifecycle.

Handlers read through the `Service` and change things only through it, with the actor of the
session (the uid that obtained the login token), exactly as the API does for printctl.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import structlog
from aiohttp import web

from printd.api import FIRST_YEAR, LAST_YEAR
from printd.cli import render
from printd.cli.i18n import LANGUAGES, translate_daemon_error, translations
from printd.config import Config
from printd.console import pages
from printd.console.guard import COOKIE, SESSION_KEY, Handler, build_guard
from printd.console.live import Watcher
from printd.console.passes import Passes, Session
from printd.drivers.uri import RIBBON_TYPES
from printd.errors import ConfirmationNeeded, JobError, PrintdError
from printd.queue.dispatcher import PrinterRuntime
from printd.service import Service
from printd.telemetry.forecast import Forecast

STATIC = Path(__file__).resolve().parent / "static"
LANG_COOKIE = "printd_lang"
DEFAULT_LANGUAGE = "id"  # the counter's language; English is one click away
KEEPALIVE_SECONDS = 15.0  # an idle event stream says something before proxies or tabs give up
JOB_ACTIONS = ("hold", "release", "cancel", "reprint")


@cache
def _translations(language: str) -> NullTranslations:
    return translations(language)


def console_actor(socket_actor: str) -> str:
    """The audit trail's name for a change made in the console: the uid that asked for the
    login token, and where the change came from."""
    return f"{socket_actor} via console"


class Console:
    def __init__(
        self,
        config: Config,
        service: Service,
        forecast: Callable[[], Mapping[str, Forecast]],
        runtimes: Callable[[], Sequence[PrinterRuntime]],
        passes: Passes | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.forecast = forecast
        self.passes = passes or Passes(token_seconds=config.console.token_seconds)
        self.watcher = Watcher(service.store, runtimes)
        self._sections: dict[str, tuple[int, str]] = {}  # language: (version, *Now* section)
        self.host, self.port = config.console.host_port
        self.tz = ZoneInfo(config.daemon.timezone)
        self.log = structlog.get_logger("printd.console")

    # ---- the login address, handed out over the Unix socket --------------------------------

    def login_url(self, socket_actor: str) -> dict[str, Any]:
        token = self.passes.issue(console_actor(socket_actor))
        host = f"[{self.host}]" if ":" in self.host else self.host
        return {
            "url": f"http://{host}:{self.port}/login?token={token}",
            "expires_in": round(self.passes.token_seconds),
        }

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> web.AppRunner:
        app = self.build_app()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as error:
            await runner.cleanup()
            from printd.errors import ConfigError

            raise ConfigError(
                f"[console] listen = {self.config.console.listen!r}: cannot listen there "
                f"({error.strerror}); is another program using the port?"
            ) from None
        self.watcher.start()
        self.log.info("console_ready", listen=self.config.console.listen)
        return runner

    def build_app(self) -> web.Application:
        guard = build_guard(self.passes, self.port, self._refuse)
        app = web.Application(middlewares=[guard, self._errors])
        app.router.add_get("/login", self.login)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/lang/{code}", self.language)
        app.router.add_get("/", self.now)
        app.router.add_get("/events", self.events)
        app.router.add_get("/jobs", self.jobs)
        app.router.add_get("/jobs/{job_id}", self.job)
        app.router.add_post("/jobs/{job_id}/{action}", self.job_action)
        app.router.add_get("/settle", self.settle_list)
        app.router.add_get("/settle/{job_id}", self.settle)
        app.router.add_post("/settle/{job_id}", self.settle_done)
        app.router.add_get("/supplies", self.supplies)
        app.router.add_post("/supplies/{action}", self.supplies_action)
        app.router.add_get("/report", self.report)

        async def closing(_: web.Application) -> None:
            await self.watcher.close()

        app.on_shutdown.append(closing)
        return app

    # ---- helpers -----------------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A bug on one page is logged (never the form's contents) and said in words; the
        daemon and its printing go on."""
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            self.log.exception("console_crashed", path=request.path)
            page = pages.crashed(self._view(request))
            return web.Response(text=page, status=500, content_type="text/html")

    def _view(self, request: web.Request, session: Session | None = None) -> pages.View:
        language = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
        if language not in LANGUAGES:
            language = DEFAULT_LANGUAGE
        csrf = session.csrf if session else ""
        return pages.View(_translations(language), language, csrf, request.path, self.tz)

    def _refuse(self, request: web.Request, status: int, why: str) -> web.Response:
        return web.Response(
            text=pages.refusal(self._view(request), status, why),
            status=status,
            content_type="text/html",
        )

    @staticmethod
    def _session(request: web.Request) -> Session:
        session: Session = request[SESSION_KEY]
        return session

    @staticmethod
    def _html(text: str) -> web.Response:
        return web.Response(text=text, content_type="text/html")

    @staticmethod
    def _flash(session: Session) -> tuple[str, str] | None:
        flash, session.flash = session.flash, None
        return flash

    def _said(self, request: web.Request, error: PrintdError) -> str:
        return translate_daemon_error(self._view(request).t, str(error))

    @staticmethod
    def _back(location: str) -> web.HTTPSeeOther:
        return web.HTTPSeeOther(location)

    # ---- login, static files, language -----------------------------------------------------

    async def login(self, request: web.Request) -> web.StreamResponse:
        redeemed = self.passes.redeem(request.query.get("token", ""))
        if redeemed is None:
            self.log.info("console_refused", why="token", path=request.path)
            return self._refuse(request, 401, "token")
        sid, session = redeemed
        self.log.info("console_login", actor=session.actor)
        response = web.HTTPSeeOther("/")
        # HttpOnly: page scripts never see it. Strict: no other site's page can send it along.
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", path="/", max_age=None)
        return response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        files = {"console.css": "text/css", "console.js": "text/javascript"}
        if name not in files:
            raise web.HTTPNotFound()
        return web.Response(
            body=(STATIC / name).read_bytes(),
            content_type=files[name],
            headers={"Cache-Control": "no-cache"},
        )

    async def language(self, request: web.Request) -> web.StreamResponse:
        code = request.match_info["code"]
        target = request.query.get("next", "/")
        # Only a path of this console: never a way to send the browser elsewhere.
        if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
            target = "/"
        response = web.HTTPSeeOther(target)
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, samesite="Strict", path="/", max_age=400 * 86400)
        return response

    # ---- Now ---------------------------------------------------------------------------------

    def now_section(self, view: pages.View) -> str:
        status = self.service.status(self.forecast())
        queued = list(reversed(self.service.jobs("queued")))
        queued.sort(key=lambda j: -int(j["priority"]))
        interrupted = self.service.jobs("interrupted")
        return pages.now_section(view, status, queued[: pages.QUEUE_HEAD], interrupted)

    def shared_section(self, view: pages.View) -> str:
        """The live section as of the watcher's version, rendered once per language for every
        open page (a station may have a page open on each counter, and old tabs linger)."""
        version = self.watcher.version
        cached = self._sections.get(view.lang)
        if cached is None or cached[0] != version:
            cached = (version, self.now_section(view))
            self._sections[view.lang] = cached
        return cached[1]

    async def now(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        view = self._view(request, session)
        # Read before the section is rendered: a change in between is sent on the stream.
        version = self.watcher.version
        section = self.now_section(view)
        return self._html(pages.now_page(view, section, version, self._flash(session)))

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the whole *Now* section again after each change."""
        view = self._view(request, self._session(request))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        # The version the page was rendered at: whatever changed since is sent at once, also
        # when the browser reconnects after a break.
        since = request.query.get("since", "")
        seen = int(since) if since.isdigit() else self.watcher.version
        try:
            while not self.watcher.closing:
                version = await self.watcher.wait(seen, KEEPALIVE_SECONDS)
                if self.watcher.closing:
                    break
                if version == seen:
                    await response.write(b": still here\n\n")
                    continue
                seen = version
                if request.transport is None or request.transport.is_closing():
                    break  # the page went away; found out before any work is done for it
                data = json.dumps({"version": version, "html": self.shared_section(view)})
                await response.write(f"event: now\ndata: {data}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away mid-write
        return response

    # ---- Jobs --------------------------------------------------------------------------------

    async def jobs(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        query = request.query.get("q", "").strip()
        found = self.service.jobs(None)
        if query:
            wanted = query.lower()
            found = [
                j
                for j in found
                if wanted in j["id"].lower() or (j["batch"] or "").lower() == wanted
            ]
            if not found:
                try:  # older than the listing: an exact id still finds it
                    found = [self.service.job(query)]
                    found[0].pop("events", None)
                except PrintdError:
                    found = []
        view = self._view(request, session)
        return self._html(pages.jobs_page(view, query, found, self._flash(session)))

    async def job(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        job_id = request.match_info["job_id"]
        view = self._view(request, session)
        try:
            job = self.service.job(job_id)
        except PrintdError as error:
            session.flash = ("error", self._said(request, error))
            raise self._back("/jobs") from None
        # The operator opened this one job: the only place the console shows a holder.
        holder = self.service.store.holder(job_id)
        return self._html(pages.job_page(view, job, holder, self._flash(session)))

    async def job_action(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        job_id, action = request.match_info["job_id"], request.match_info["action"]
        if action not in JOB_ACTIONS:
            raise web.HTTPNotFound()
        form = await request.post()
        view = self._view(request, session)
        _ = view.t.gettext
        try:
            if action == "reprint":
                reason = str(form.get("reason", "")).strip()[:500]
                confirm = form.get("confirm") == "yes"
                try:
                    job = self.service.reprint(job_id, reason, session.actor, confirm=confirm)
                except ConfirmationNeeded as question:
                    return self._html(pages.confirm_reprint(view, job_id, reason, str(question)))
                session.flash = (
                    "ok",
                    _("Job {id} queued (reprint of {original})").format(
                        id=job["id"], original=job_id
                    ),
                )
                raise self._back(pages.job_href(job["id"]))
            do = {
                "hold": self.service.hold,
                "release": self.service.release,
                "cancel": self.service.cancel,
            }[action]
            job = do(job_id, session.actor)
            session.flash = (
                "ok",
                _("Job {id}: {state}").format(
                    id=job["id"], state=render.job_state(view.t, job["state"])
                ),
            )
        except PrintdError as error:
            session.flash = ("error", self._said(request, error))
        raise self._back(pages.job_href(job_id))

    # ---- Settle ------------------------------------------------------------------------------

    async def settle_list(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        view = self._view(request, session)
        waiting = self.service.jobs("interrupted")
        return self._html(pages.settle_list(view, waiting, self._flash(session)))

    async def settle(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        try:
            job = self.service.job(request.match_info["job_id"])
        except PrintdError as error:
            session.flash = ("error", self._said(request, error))
            raise self._back("/settle") from None
        if job["state"] != "interrupted":
            view = self._view(request, session)
            session.flash = (
                "error",
                translate_daemon_error(
                    view.t,
                    f"job {job['id']} is {job['state']}; only an interrupted job is reconciled",
                ),
            )
            raise self._back("/settle")
        return self._html(pages.settle_page(self._view(request, session), job))

    async def settle_done(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        job_id = request.match_info["job_id"]
        outcome = (await request.post()).get("outcome")
        _ = self._view(request, session).t.gettext
        try:
            if outcome == "printed":
                self.service.reconcile(job_id, "printed", session.actor)
                text = _("Card {job} is recorded as printed.")
            elif outcome == "spoiled":
                self.service.reconcile(job_id, "spoiled", session.actor)
                text = _("Card {job} is recorded as spoiled; it prints again on a new blank.")
            elif outcome == "nothing":
                self.service.job(job_id)  # it exists; nothing else is touched
                text = _(
                    "Nothing was recorded for card {job}: it stays interrupted until a "
                    "technician has looked inside the printer."
                )
            else:
                raise JobError("outcome: required, 'printed' or 'spoiled'")
            session.flash = ("ok", text.format(job=job_id))
        except PrintdError as error:
            session.flash = ("error", self._said(request, error))
        raise self._back("/settle")

    # ---- Supplies ----------------------------------------------------------------------------

    async def supplies(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        view = self._view(request, session)
        configured = {p.name: p.ribbon_type for p in self.config.printers}
        return self._html(
            pages.supplies_page(
                view, self.service.supplies(), RIBBON_TYPES, configured, self._flash(session)
            )
        )

    @staticmethod
    def _whole(form: Mapping[str, Any], name: str) -> int | None:
        text = str(form.get(name, "")).strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise JobError(f"{name}: a whole number from 1 to 100000") from None

    async def supplies_action(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        action = request.match_info["action"]
        form = await request.post()
        view = self._view(request, session)
        _ = view.t.gettext
        printer = str(form.get("printer", "")) or None
        try:
            if action == "delivery":
                self.service.stock_receive(
                    self._whole(form, "blanks"), self._whole(form, "ribbons"), session.actor
                )
                text = _("Delivery recorded.")
            elif action == "load":
                self.service.blanks_load(self._whole(form, "count"), printer, session.actor)
                text = _("Blanks loaded recorded.")
            elif action == "unload":
                self.service.blanks_unload(self._whole(form, "count"), printer, session.actor)
                text = _("Blanks taken out recorded.")
            elif action == "ribbon":
                ribbon_type = str(form.get("type", ""))
                capacity = self._whole(form, "capacity")
                if form.get("confirm") != "yes":
                    # printctl's own guards, asked of the same service: the same warnings.
                    warnings = [
                        translate_daemon_error(view.t, warning)
                        for warning in self.service.ribbon_warnings(ribbon_type, printer)
                    ]
                    if warnings:
                        fields = {
                            "type": ribbon_type,
                            "capacity": str(capacity or ""),
                            "printer": printer or "",
                        }
                        return self._html(pages.confirm_ribbon(view, fields, warnings))
                self.service.ribbon_install(ribbon_type, capacity, printer, session.actor)
                text = _("New ribbon recorded.")
            else:
                raise web.HTTPNotFound()
            session.flash = ("ok", text)
        except PrintdError as error:
            session.flash = ("error", self._said(request, error))
        raise self._back("/supplies")

    # ---- Report ------------------------------------------------------------------------------

    async def report(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        view = self._view(request, session)
        tz = ZoneInfo(self.config.daemon.timezone)
        text = request.query.get("day", "").strip()
        try:
            day: date | None = date.fromisoformat(text) if text else datetime.now(tz).date()
        except ValueError:
            day = None
        # The day's bounds are timestamps: the API's range of years, or they overflow.
        if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
            session.flash = ("error", view.t.gettext("day: not a date like 2026-11-27"))
            raise self._back("/report")
        report = self.service.report(day.isoformat())
        report["forecast"] = {item: f.public() for item, f in self.forecast().items()}
        page = pages.report_page(
            view, report, self.config.daemon.station, day, self._flash(session)
        )
        return self._html(page)


__all__ = ["Console", "console_actor"]
