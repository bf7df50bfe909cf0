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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from share_gateway.console.nodes import NodeLink, NodeRefused
from share_gateway.console.overview import (
    DEFAULT_DAYS,
    LONGEST_DAYS,
    chart_data,
    charts_json,
    day_range,
    day_series,
)
from share_gateway.console.rendering import Console, render
from share_gateway.console.search import Query, Row, rows
from share_gateway.console.session import forbidden
from share_gateway.domain.events import EventKind
from share_gateway.v1 import compliance_pb2

# The chart's series of the quota refusal events logged for a requester.
QUOTA_SERIES = "quota refusal events"
# The instants bounding the days drawn, and the days' names.
Span = tuple[datetime, datetime, list[str]]


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
    # For a requester: its inquiries (by purpose and outcome) and quota refusal events per day, to draw.
    usage: dict[str, object] | None = None


def usage_chart(days: list[str], counts: Iterable[compliance_pb2.ActivityCount]) -> dict[str, object]:
    """One requester's days as the overview's chart draws them: a bar series per purpose and outcome of its
    inquiries, and one of the quota refusal events logged for it (each counts a window's refusals)."""

    def series_of(c: compliance_pb2.ActivityCount) -> tuple[str, str] | None:
        if c.kind == EventKind.INQUIRY:
            return c.purpose, c.outcome
        return (QUOTA_SERIES, "denied") if c.kind == EventKind.QUOTA_REFUSED else None

    return chart_data(days, day_series(days, counts, series_of))


async def _findings(link: NodeLink, node: int, query: Query, requester: str, span: Span) -> RegionFindings:
    found = RegionFindings(link.address, node, link=urlencode({**query.values, "node": node}))
    try:
        events, token, found.matching = await link.search(query.wire(), query.page_size, "", count=True)
        if requester:
            refused = EventKind.QUOTA_REFUSED.value
            refusals = Query({**dict.fromkeys(query.values, ""), "actor": requester, "kind": refused})
            _, _, found.quota_refusals = await link.search(refusals.wire(), 1, "", count=True)
            since, until, days = span
            found.usage = usage_chart(days, (await link.activity(since, until, requester)).counts)
    except NodeRefused as refused:
        found.refused = refused  # one region refusing the identity hides only that region
        return found
    found.rows, found.more = rows(events), bool(token)
    return found


async def investigate(request: Request, console: Console) -> Response:
    params = dict(request.query_params)
    asked = any(params.get(name) for name in ("subject", "actor", "since", "until"))
    params.setdefault("kind", EventKind.INQUIRY.value)
    query = Query.from_form(params, len(console.nodes))
    query.errors.pop("node", None)  # every node is asked
    one = bool(query.values["subject"]) != bool(query.values["actor"])
    if asked and not one:
        query.errors["subject"] = "name one subject or one requester"
    span = _span(query, console.clock().astimezone(UTC).date()) if one and not query.errors else None
    regions: list[RegionFindings] = []
    if span is not None:
        requester = query.values["actor"]
        regions = list(
            await asyncio.gather(*(_findings(link, n, query, requester, span) for n, link in enumerate(console.nodes)))
        )
        if all(r.refused is not None and r.refused.denied for r in regions):
            return forbidden()
    values = {
        "query": query,
        "regions": regions,
        "total": sum(r.matching or 0 for r in regions),
        "charts": charts_json(r.usage or chart_data([], []) for r in regions),
    }
    return render(request, "investigate.html", values)


def _span(query: Query, today: date) -> Span | None:
    """The days a requester's usage is drawn over: the form's range, else the overview's last days; None (and a
    form error) for dates at the calendar's ends, which no range can be drawn around."""
    since, until = query.values["since"], query.values["until"]
    try:
        if not since and not until:
            return day_range(DEFAULT_DAYS, today)
        last = date.fromisoformat(until) - timedelta(days=1) if until else today
        first = date.fromisoformat(since) if since else last - timedelta(days=DEFAULT_DAYS - 1)
        days = max(min((last - first).days + 1, LONGEST_DAYS), 1)
        return day_range(days, first + timedelta(days=days - 1))
    except OverflowError:
        query.errors["since" if since else "until"] = "outside the dates a range can cover"
        return None
