"""An officer's export from the console: the events a search matches, with their proofs, as a bundle download.

The node builds the bundle (``ComplianceService.StreamExportBundle``) and the
console passes its pieces on as they come, so an export of any size never sits
in the console's memory. The file is the one ``audit export`` writes:
``audit verify-bundle`` checks it offline, and an export for one subject or one
requester alone proves it is complete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from share_gateway.console.nodes import NodeRefused
from share_gateway.console.rendering import Console, render
from share_gateway.console.search import Query


async def export(request: Request, console: Console) -> Response:
    query = Query.from_form(dict(request.query_params), len(console.nodes))
    if query.errors or not query.asked:
        return render(request, "error.html", {"message": "search first: the export holds what a search matches"}, 400)
    pieces = console.nodes[query.node].export(query.wire())
    try:
        first = await anext(pieces, b"")
    except NodeRefused as refused:
        if refused.denied:
            raise
        return render(request, "error.html", {"message": str(refused)}, 502)

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for piece in pieces:
            yield piece

    name = f"bundle-node{query.node}-{console.clock():%Y%m%dT%H%M%SZ}.json"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body(), media_type="application/json", headers=headers)
