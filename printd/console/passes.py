"""One-time login tokens and the sessions they open.

A token is handed out over the Unix socket to a caller whose uid the kernel vouched for; it is
good once, for a short time. Redeeming it opens a session that carries that caller's name into
the audit trail of every change made through the console.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Long enough to paste the address into a browser, short enough that one found in a terminal's
# scroll-back later is useless.
TOKEN_SECONDS = 60.0
# A counter's working day; after it the operator asks printctl for a new address.
SESSION_SECONDS = 12 * 3600.0


@dataclass
class Session:
    actor: str
    csrf: str
    expires: float
    # One message for the next page shown (Post/Redirect/Get): (kind, text).
    flash: tuple[str, str] | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Passes:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        token_seconds: float = TOKEN_SECONDS,
        session_seconds: float = SESSION_SECONDS,
    ) -> None:
        self.clock = clock
        self.token_seconds = token_seconds
        self.session_seconds = session_seconds
        self._tokens: dict[str, tuple[str, float]] = {}
        self._sessions: dict[str, Session] = {}

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, (_, end) in self._tokens.items() if end <= now]:
            del self._tokens[token]
        for sid in [s for s, session in self._sessions.items() if session.expires <= now]:
            del self._sessions[sid]

    def issue(self, actor: str) -> str:
        self._forget_expired()
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (actor, self.clock() + self.token_seconds)
        return token

    def redeem(self, token: str) -> tuple[str, Session] | None:
        """A new session for a valid token, which is spent whatever happens next."""
        entry = self._tokens.pop(token, None)
        if entry is None or entry[1] <= self.clock():
            return None
        self._forget_expired()
        sid = secrets.token_urlsafe(32)
        session = Session(entry[0], secrets.token_urlsafe(32), self.clock() + self.session_seconds)
        self._sessions[sid] = session
        return sid, session

    def session(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        session = self._sessions.get(sid)
        if session is None or session.expires <= self.clock():
            self._sessions.pop(sid, None)
            return None
        return session

    @staticmethod
    def csrf_matches(session: Session, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(session.csrf, given)
