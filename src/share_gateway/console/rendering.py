"""What every page of the console shares: the console's state, its templates and how a page is rendered (with
the security headers every answer carries)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from share_gateway.console.i18n import LANGUAGES, chosen, translator
from share_gateway.console.nodes import IdentityFiles, NodeLink, NodeRefused
from share_gateway.console.session import CSRF_FIELD, forbidden
from share_gateway.federation.manifest import Manifest

LANGUAGE_COOKIE = "sgw_console_language"
Clock = Callable[[], datetime]
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class Console:
    """What every page reads: the identity, its nodes, the manifest that vouches for their keys."""

    identity: IdentityFiles
    nodes: list[NodeLink]
    manifest: Manifest | None
    clock: Clock

    async def close(self) -> None:
        await asyncio.gather(*(node.close() for node in self.nodes))


def package_dir(name: str) -> Path:
    return Path(str(resources.files("share_gateway.console").joinpath(name)))


TEMPLATES = Environment(
    loader=FileSystemLoader(package_dir("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, values: Mapping[str, object], status: int = 200) -> HTMLResponse:
    language = translator(chosen(request.cookies.get(LANGUAGE_COOKIE)))
    console: Console | None = getattr(request.app.state, "console", None)
    body = TEMPLATES.get_template(template).render(
        {
            "_": language.gettext,
            "t": language,
            "languages": LANGUAGES,
            "csrf": request.scope.get("state", {}).get("csrf", ""),
            "csrf_field": CSRF_FIELD,
            "officer": console is not None and console.identity.is_officer,
            "subject_pages": console is not None and console.identity.subject is not None,
            "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            **values,
        }
    )
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


Page = Callable[[Request, Console], Awaitable[Response]]
Handler = Callable[[Request], Awaitable[Response]]


def guarded(page: Page, console: Console, refuse: Callable[[Request], Response | None]) -> Handler:
    """``page``, unless ``refuse`` answers first (an identity the page is not for); a node that refuses the
    certificate outright makes it 403 with no content, like any page the identity may not see."""

    async def serve(request: Request) -> Response:
        refused = refuse(request)
        if refused is not None:
            return refused
        try:
            return await page(request, console)
        except NodeRefused as error:
            if error.denied:
                return forbidden()
            raise

    return serve
