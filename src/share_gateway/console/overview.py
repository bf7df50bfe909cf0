"""The officer's overview of one region: its log and witnesses, its growth and inquiries per day by purpose and
outcome, refusals, quota refusals and harvesting alerts, what its outbox still owes each peer, and the repair
applications and listing steps overdue; all from four calls to its node, made at once."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from share_gateway.console.nodes import NodeLink, NodeRefused
from share_gateway.console.proofs import WitnessRow, region_of, witness_rows
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.federation.manifest import Manifest
from share_gateway.ledger.checkpoint import unverified_checkpoint
from share_gateway.v1 import compliance_pb2

DEFAULT_DAYS = 14
LONGEST_DAYS = 366


@dataclass(frozen=True)
class Series:
    """One bar series of the chart: a purpose and an outcome, a count per day."""

    purpose: str
    outcome: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class PeerBacklog:
    region: str
    pending: int
    dead_letters: int


@dataclass
class RegionOverview:
    address: str
    region: str = ""
    refused: NodeRefused | None = None
    log_size: int = 0
    checkpoint_size: int = 0
    # The signed note of the checkpoint these figures rest on, as the node gave it (printed with the report).
    checkpoint_note: str = ""
    witnesses: list[WitnessRow] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    inquiries: int = 0
    denied: int = 0
    quota_refusals: int = 0
    harvesting_alerts: int = 0
    # Every event logged per day (the log's growth), and the repair applications and listing steps now overdue.
    logged: list[int] = field(default_factory=list)
    overdue_repairs: int = 0
    overdue_listings: int = 0
    backlog: list[PeerBacklog] = field(default_factory=list)

    @property
    def refusal_rate(self) -> float:
        return self.denied / self.inquiries if self.inquiries else 0.0

    def chart(self) -> dict[str, object]:
        """What the page's chart script draws (and its table shows): days and one series per purpose and outcome."""
        return chart_data(self.days, self.series)


def chart_data(days: list[str], series: Iterable[Series]) -> dict[str, object]:
    """What ``static/charts.js`` draws: the days, and each series' counts per day."""
    return {
        "days": days,
        "series": [{"purpose": s.purpose, "outcome": s.outcome, "counts": list(s.counts)} for s in series],
    }


def charts_json(charts: Iterable[dict[str, object]]) -> str:
    """The page's charts as the JSON its ``<script type="application/json">`` holds: no ``<`` to end the
    script early, whatever a purpose's name holds."""
    return json.dumps(list(charts), ensure_ascii=False).replace("<", "\\u003c")


def day_series(
    days: list[str],
    counts: Iterable[compliance_pb2.ActivityCount],
    series_of: Callable[[compliance_pb2.ActivityCount], tuple[str, str] | None],
) -> list[Series]:
    """The counts of ``days`` as bar series, one per (purpose, outcome) ``series_of`` files a count under (None:
    not drawn), in that order."""
    position = {day: i for i, day in enumerate(days)}
    per_series: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(days))
    for c in counts:
        key = series_of(c) if c.day in position else None
        if key is not None:
            per_series[key][position[c.day]] += c.count
    return [Series(p, o, tuple(v)) for (p, o), v in sorted(per_series.items())]


def day_range(days: int, today: date) -> tuple[datetime, datetime, list[str]]:
    """The last ``days`` UTC days up to and including ``today``: the instants bounding them, and their names."""
    start = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=days - 1)
    names = [(start + timedelta(days=i)).date().isoformat() for i in range(days)]
    return start, start + timedelta(days=days), names


async def region_overview(link: NodeLink, days: int, manifest: Manifest | None, today: date) -> RegionOverview:
    since, until, names = day_range(days, today)
    view = RegionOverview(link.address, days=names)
    try:
        summary, backlog, (repairs, listings) = await asyncio.gather(
            link.activity(since, until), link.backlog(), link.oversight(overdue_only=True)
        )
    except NodeRefused as refused:
        view.refused = refused
        return view
    view.overdue_repairs, view.overdue_listings = len(repairs), len(listings)
    view.region = region_of(summary.checkpoint) if summary.checkpoint else ""
    view.log_size = summary.log_size
    if summary.checkpoint:
        view.checkpoint_size = unverified_checkpoint(summary.checkpoint).size
        view.checkpoint_note = summary.checkpoint.decode("utf-8", errors="replace")
    view.witnesses = witness_rows(view.region, view.checkpoint_size, list(summary.witnessed), manifest)
    _count(view, summary.counts)
    view.backlog = [PeerBacklog(p.region, p.pending, p.dead_letters) for p in backlog.peers]
    return view


def _count(view: RegionOverview, counts: Iterable[compliance_pb2.ActivityCount]) -> None:
    counts = list(counts)
    position = {day: i for i, day in enumerate(view.days)}
    view.logged = [0] * len(view.days)
    for c in counts:
        if c.day in position:
            view.logged[position[c.day]] += c.count
        if c.kind == EventKind.INQUIRY:
            view.inquiries += c.count
            view.denied += c.count if c.outcome == Outcome.DENIED else 0
        elif c.kind == EventKind.QUOTA_REFUSED:
            view.quota_refusals += c.count
        elif c.kind == EventKind.HARVESTING_SUSPECTED:
            view.harvesting_alerts += c.count
    view.series = day_series(
        view.days, counts, lambda c: (c.purpose, c.outcome) if c.kind == EventKind.INQUIRY else None
    )
