"""Who may use the console: only whoever holds the one-time token printed at start, as notebook servers do.

The token is exchanged, on first use, for a session cookie (HttpOnly, SameSite=Strict) and then forgotten; every
request without the cookie is 403 with no page content. Requests must name this server as their Host (a page on
another site cannot reach it through DNS rebinding), and every form that changes anything carries the session's
CSRF token, compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "sgw_console"
TOKEN_PARAMETER = "token"  # noqa: S105 - the name of the query parameter, not a secret
CSRF_FIELD = "csrf"
# How long a session lasts without a new token: a working day.
SESSION_SECONDS = 12 * 3600


@dataclass
class Sessions:
    """The one-time token not yet used, and the sessions it opened (each with its CSRF token)."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    _sessions: dict[str, str] = field(default_factory=dict)
    _used: bool = False

    def exchange(self, offered: str) -> str | None:
        """A new session id for the right token, once; None for a wrong or spent one."""
        if self._used or not hmac.compare_digest(offered.encode(), self.token.encode()):
            return None
        self._used = True
        session = secrets.token_urlsafe(32)
        self._sessions[session] = secrets.token_urlsafe(32)
        return session

    def csrf(self, session: str | None) -> str | None:
        """The CSRF token of a live session, or None when the cookie names none."""
        return None if session is None else self._sessions.get(session)

    def form_is_genuine(self, session: str | None, offered: str) -> bool:
        expected = self.csrf(session)
        return expected is not None and hmac.compare_digest(expected.encode(), offered.encode())


def forbidden() -> Response:
    return PlainTextResponse("403 Forbidden", status_code=403)


class SessionGuard:
    """ASGI middleware: Host check, token exchange, then nothing without a session cookie."""

    def __init__(self, app: ASGIApp, sessions: Sessions, hosts: frozenset[str]) -> None:
        self.app = app
        self.sessions = sessions
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._gate(request)
        if response is not None:
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["csrf"] = self.sessions.csrf(request.cookies.get(COOKIE))
        await self.app(scope, receive, send)

    def _gate(self, request: Request) -> Response | None:
        if request.headers.get("host", "") not in self.hosts:
            return forbidden()
        offered = request.query_params.get(TOKEN_PARAMETER)
        if offered is not None:
            session = self.sessions.exchange(offered)
            if session is None:
                return forbidden()
            redirect = RedirectResponse(_without_token(request.url), status_code=303)
            redirect.set_cookie(COOKIE, session, max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/")
            return redirect
        if self.sessions.csrf(request.cookies.get(COOKIE)) is None:
            return forbidden()
        return None


def _without_token(url: URL) -> str:
    kept = [(k, v) for k, v in QueryParams(url.query).multi_items() if k != TOKEN_PARAMETER]
    return url.path + (f"?{urlencode(kept)}" if kept else "")
