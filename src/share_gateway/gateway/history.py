""" "Who looked at me": a subject reads, through a self-only purpose, every inquiry about it, newest first.

Complete: pages are cut by leaf index under a fixed log size, so a flood of lookups can push a bank's
inquiry to a later page but never off the history, and ``total`` says how many there are. Safe: the
search and the parsing run on the store's threads, never on the event loop; what a subject is shown of
who looked is decided in ``domain.history`` (persons masked, refusals by code). Across the federation:
each region reads its own log on the subject's behalf and signs its page (``gateway.history_peers``);
pages are merged newest first, each region's status reported as for inquiries.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from share_gateway.domain.errors import InvalidInput, Refused
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.history import HistoryEntry, HistoryPage, history_entry, institution_of, require_self_only
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Policy, Principal
from share_gateway.gateway.federation import FederationDesk, RegionStatus
from share_gateway.gateway.history_cursor import Position, issue, reader_of, redeem
from share_gateway.gateway.history_peers import HistoryPeers, PageOutcome
from share_gateway.gateway.inquiries import InquiryRequest, _denied_event
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.history import HistoryLog, HistoryQuery

# Entries per page when the caller names no size, and the most it may ask for.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    subject_kind: str
    subject_identifier: str
    purpose: str
    page_size: int = 0
    page_token: str = ""
    federated: bool = False
    # The client's deadline (time.monotonic()), which the fan-out passes on.
    deadline: float | None = None


@dataclass(frozen=True, slots=True)
class HistoryAnswer:
    entries: tuple[HistoryEntry, ...]
    total: int
    next_page_token: str
    # For a federated reading: how each region answered, this one included.
    regions: tuple[PageOutcome, ...] = ()


@dataclass
class InquiryHistory:
    runtime: NodeRuntime
    policy: Policy
    days: int
    federation: FederationDesk | None = None
    reader: HistoryLog = field(init=False)

    def __post_init__(self) -> None:
        self.reader = HistoryLog(self.runtime.store.database)
        self.peers = None if self.federation is None else HistoryPeers(self.federation, self.read_page)

    async def read(self, requester: Principal, request: HistoryRequest) -> HistoryAnswer:
        """One page of the subject's history; logged whatever the outcome."""
        now = self.runtime.clock()
        try:
            subject = Subject.parse(request.subject_kind, request.subject_identifier)
            require_self_only(self.policy, request.purpose)
            citation = self.policy.authorise(requester, request.purpose, subject, "", now)
            if request.federated and self.peers is None:
                raise InvalidInput.one("scope", "this node is not part of a federation")
            regions = (self.runtime.region, *(() if self.peers is None else self.peers.regions()))
            reader = reader_of(
                requester.uri, subject.kind.value, subject.identifier, request.purpose, request.federated
            )
            positions = (
                redeem(self.runtime.signing_key, reader, request.page_token, frozenset(regions))
                if request.page_token
                else {}
            )
        except (InvalidInput, Refused) as error:
            asked = InquiryRequest(request.subject_kind, request.subject_identifier, request.purpose)
            await self.runtime.event_log.append(
                _denied_event(self.runtime, requester, asked, error, EventKind.INQUIRY_HISTORY)
            )
            raise
        limit = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        if not request.federated:
            regions = (self.runtime.region,)
        wanted = {r: positions.get(r, Position()) for r in regions}
        own = self.runtime.region

        async def local() -> PageOutcome:
            if wanted[own].done:
                return PageOutcome(own, RegionStatus.OK, page=None)
            page = await self.runtime.off_loop(
                self.read_page, subject, requester.uri, wanted[own], limit, now, request.purpose, ""
            )
            return PageOutcome(own, RegionStatus.OK, page=page)

        remote: list[PageOutcome] = []
        if request.federated and self.peers is not None:
            self.peers.federation.require_current()
            own_outcome, remote = await asyncio.gather(
                local(),
                self.peers.fan_out(requester, subject, request.purpose, wanted, limit, request.deadline),
            )
        else:
            own_outcome = await local()
        outcomes = (own_outcome, *remote)
        entries, moved = merge(outcomes, wanted, limit)
        # Every region that answered, or had shown all it holds: the count each stated on its first page.
        total = sum(moved[o.region].total or 0 for o in outcomes if o.status == RegionStatus.OK)
        more = any(not p.done for r, p in moved.items() if _answered(outcomes, r))
        token = issue(self.runtime.signing_key, reader, moved) if more else ""
        details = {"entries": str(len(entries)), "total": str(total)}
        for outcome in outcomes if request.federated else ():
            details[f"region:{outcome.region}"] = f"{outcome.status} {outcome.digest or outcome.detail}"[:300]
        await self.runtime.event_log.append(
            self.runtime.event(
                EventKind.INQUIRY_HISTORY,
                requester,
                Outcome.ALLOWED,
                subject=subject,
                purpose=request.purpose,
                citations=(citation,),
                details=details,
            )
        )
        return HistoryAnswer(entries, total, token, outcomes if request.federated else ())

    def read_page(
        self,
        subject: Subject,
        requester_uri: str,
        position: Position,
        limit: int,
        now: datetime,
        purpose: str,
        request_digest: str,
    ) -> HistoryPage:
        """This node's page of the subject's history (a store thread's work: search, count and parsing)."""
        below = position.below if position.below is not None else self.runtime.store.log.size()
        query = HistoryQuery(
            subject.kind.value,
            subject.identifier,
            EventKind.INQUIRY.value,
            now - timedelta(days=self.days),
            requester_uri,
            below,
        )
        found = self.reader.page(query, position.before, limit + 1)
        names = self.reader.names(u for _, actor, _ in found if (u := institution_of(actor)) is not None)
        purposes = frozenset(self.policy.catalog.purposes)
        entries = tuple(history_entry(body, leaf, purposes, names) for leaf, _, body in found[:limit])
        return HistoryPage(
            self.runtime.region, request_digest, entries, self.reader.count(query), below, len(found) > limit
        )


def _answered(outcomes: tuple[PageOutcome, ...], region: str) -> bool:
    return any(o.region == region and o.status == RegionStatus.OK for o in outcomes)


def merge(
    outcomes: tuple[PageOutcome, ...], positions: dict[str, Position], limit: int
) -> tuple[tuple[HistoryEntry, ...], dict[str, Position]]:
    """The newest ``limit`` entries of every region's page, and where each region stands after them.

    A region whose entries were all shown and that holds no more is done; one that did not answer keeps
    its position, so a later page asks it again from where it stood.
    """
    candidates = [(entry, o.region) for o in outcomes if o.page is not None for entry in o.page.entries]
    candidates.sort(key=lambda c: (c[0].at, c[1], c[0].leaf_index), reverse=True)
    shown = candidates[:limit]
    moved = dict(positions)
    for outcome in outcomes:
        page, region = outcome.page, outcome.region
        if page is None:
            continue
        consumed = [entry.leaf_index for entry, r in shown if r == region]
        before = min(consumed) if consumed else positions[region].before
        finished = not page.more and len(consumed) == len(page.entries)
        moved[region] = replace(positions[region], before=before, below=page.below, done=finished, total=page.total)
    return tuple(entry for entry, _ in shown), moved
