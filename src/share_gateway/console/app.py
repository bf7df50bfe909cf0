"""The console's routes: the officer's overview, event search and an event's page with its proof verified here;
the subject's pages are in ``subject``.

Server-rendered with Jinja2 (autoescaped: every value came from a node or a form); htmx swaps the search results
in place. Officer pages answer 403, with no content, to an identity whose certificate carries no compliance
officer role, and to one its node refuses.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from share_gateway.console import export as export_
from share_gateway.console import investigate, oversight, records, subject
from share_gateway.console import overview as overview_
from share_gateway.console.i18n import chosen
from share_gateway.console.nodes import NodeRefused
from share_gateway.console.proofs import Verdict, check_entry, witnessed_size
from share_gateway.console.rendering import LANGUAGE_COOKIE, Console, Handler, Page, guarded, package_dir, render
from share_gateway.console.search import KINDS, OUTCOMES, Query, rows
from share_gateway.console.session import COOKIE, CSRF_FIELD, SessionGuard, Sessions, forbidden
from share_gateway.ledger.checkpoint import TlogProof

__all__ = ["Console", "create_app"]


def officer_page(page: Page, console: Console) -> Handler:
    """Only an officer's identity, and only while its node lets it: anything else is 403 with no content."""
    return guarded(page, console, lambda request: None if console.identity.is_officer else forbidden())


async def overview(request: Request, console: Console) -> Response:
    try:
        days = min(max(int(request.query_params.get("days", overview_.DEFAULT_DAYS)), 1), overview_.LONGEST_DAYS)
    except ValueError:
        days = overview_.DEFAULT_DAYS
    today = console.clock().astimezone(UTC).date()
    regions = await asyncio.gather(
        *(overview_.region_overview(node, days, console.manifest, today) for node in console.nodes)
    )
    if regions and all(r.refused is not None and r.refused.denied for r in regions):
        return forbidden()
    charts = overview_.charts_json(r.chart() for r in regions)
    values = {
        "regions": regions,
        "days": days,
        "charts": charts,
        "as_of": f"{console.clock().astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        "reviewer": ", ".join(console.identity.uris),
    }
    return render(request, "overview.html", values)


async def search(request: Request, console: Console) -> Response:
    query = Query.from_form(dict(request.query_params), len(console.nodes))
    found, next_token, refused = [], "", None
    if query.asked and not query.errors:
        try:
            # Counted on a search's first page; later pages carry the count in their address.
            first = not query.page_token
            events, next_token, matching = await console.nodes[query.node].search(
                query.wire(), query.page_size, query.page_token, count=first
            )
            found = rows(events)
            query.matching = matching if first else query.matching
        except NodeRefused as error:
            if error.denied:
                raise
            refused = error
    values: dict[str, object] = {
        "query": query,
        "rows": found,
        "next_token": next_token,
        "refused": refused,
        "nodes": console.nodes,
        "kinds": KINDS,
        "outcomes": OUTCOMES,
    }
    partial = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "results"
    return render(request, "results.html" if partial else "search.html", values)


async def event(request: Request, console: Console) -> Response:
    node, leaf = int(request.path_params["node"]), int(request.path_params["leaf"])
    if not 0 <= node < len(console.nodes):
        return render(request, "error.html", {"message": "no such node"}, 404)
    link = console.nodes[node]
    try:
        now = console.clock()
        summary = await link.activity(now - timedelta(seconds=1), now)
        answer = await link.inclusion(leaf, witnessed_size(leaf, list(summary.witnessed)))
    except NodeRefused as refused:
        if refused.denied:
            raise
        return render(request, "error.html", {"message": str(refused)}, 404)
    check = check_entry(answer, console.manifest)
    receipt = TlogProof.parse(answer.tlog_proof).encode().decode() if answer.tlog_proof else ""
    values = {
        "node": node,
        "address": link.address,
        "leaf": leaf,
        "canonical": answer.event.decode("utf-8", errors="replace"),
        "receipt": receipt,
        "check": check,
        "verdicts": Verdict,
    }
    return render(request, "event.html", values)


async def language(request: Request) -> Response:
    """Switch the language (a form with the session's CSRF token); back to the page it was asked from."""
    form = await request.form()
    sessions: Sessions = request.app.state.sessions
    if not sessions.form_is_genuine(request.cookies.get(COOKIE), str(form.get(CSRF_FIELD, ""))):
        return forbidden()
    back = str(form.get("back", "/"))
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, chosen(str(form.get("language", ""))), httponly=True, samesite="strict", path="/"
    )
    return response


def create_app(console: Console, sessions: Sessions, hosts: frozenset[str]) -> SessionGuard:
    routes = [
        Route("/", officer_page(overview, console)),
        Route("/search", officer_page(search, console)),
        Route("/export", officer_page(export_.export, console)),
        Route("/oversight", officer_page(oversight.oversight, console)),
        Route("/investigate", officer_page(investigate.investigate, console)),
        Route("/events/{node:int}/{leaf:int}", officer_page(event, console)),
        *subject.routes(console),
        *records.routes(console),
        Route("/language", language, methods=["POST"]),
        Mount("/static", StaticFiles(directory=package_dir("static")), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    app.state.console = console
    return SessionGuard(app, sessions, hosts)
