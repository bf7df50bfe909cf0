"""Investigations: everything every region logged about one subject, or by one requester, on one page.

One search per node given with ``--node`` (the same filter, counted), so an
officer sees at once how many inquiries each region logged, the first page of
each, where to page on (the region's search) and each region's bundle to take
away. For a requester it also counts, per region, the calls its quotas refused
(``quota_refused`` events, aggregated per window by the node). Every search is
a review step the node logs, as any search is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from share_gateway.console.nodes import NodeLink, NodeRefused
from share_gateway.console.rendering import Console, render
from share_gateway.console.search import Query, Row, rows
from share_gateway.domain.events import EventKind


@dataclass
class RegionFindings:
    address: str
    node: int
    rows: list[Row] = field(default_factory=list)
    matching: int | None = None
    more: bool = False
    quota_refusals: int | None = None
    refused: NodeRefused | None = None
    # The filter as the region's search page and its export take it.
    link: str = ""


async def _findings(link: NodeLink, node: int, query: Query, requester: str) -> RegionFindings:
    found = RegionFindings(link.address, node, link=urlencode({**query.values, "node": node}))
    try:
        events, token, found.matching = await link.search(query.wire(), query.page_size, "", count=True)
        if requester:
            refused = EventKind.QUOTA_REFUSED.value
            refusals = Query({**dict.fromkeys(query.values, ""), "actor": requester, "kind": refused})
            _, _, found.quota_refusals = await link.search(refusals.wire(), 1, "", count=True)
    except NodeRefused as refused:
        if refused.denied:
            raise
        found.refused = refused
        return found
    found.rows, found.more = rows(events), bool(token)
    return found


async def investigate(request: Request, console: Console) -> Response:
    params = dict(request.query_params)
    params.setdefault("kind", EventKind.INQUIRY.value)
    query = Query.from_form(params, len(console.nodes))
    query.errors.pop("node", None)  # every node is asked
    one = bool(query.values["subject"]) != bool(query.values["actor"])
    if query.asked and not one:
        query.errors["subject"] = "name one subject or one requester"
    regions: list[RegionFindings] = []
    if one and not query.errors:
        requester = query.values["actor"]
        regions = list(
            await asyncio.gather(*(_findings(link, n, query, requester) for n, link in enumerate(console.nodes)))
        )
    values = {"query": query, "regions": regions, "total": sum(r.matching or 0 for r in regions)}
    return render(request, "investigate.html", values)
