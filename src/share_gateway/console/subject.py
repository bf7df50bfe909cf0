"""The data subject's pages: who looked at me, my consents (with their withdrawal), my disputes, my listings
(with the objection form inside its window).

A subject is whoever the console's certificate names, a company or a person; the node decides from that same
certificate what it may see, so the console never takes a subject from a form. An officer's certificate names a
person too: its subject pages show that person's own history, consents and disputes, as the node shows them to
it. A certificate naming neither (a node's) gets a page saying it has no subject pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Generic, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from share_gateway.console.nodes import NodeLink, NodeRefused
from share_gateway.console.rendering import Console, Handler, Page, guarded, render
from share_gateway.console.session import COOKIE, CSRF_FIELD, Sessions, forbidden
from share_gateway.v1 import common_pb2, inquiry_pb2

T = TypeVar("T")
HISTORY_PAGE_SIZE = 20
LARGEST_HISTORY_PAGE = 200
DISPUTE_STATES = {
    common_pb2.DISPUTE_STATE_FILED: "filed",
    common_pb2.DISPUTE_STATE_CORRECTED: "corrected",
    common_pb2.DISPUTE_STATE_REJECTED: "rejected",
}
LISTING_STATES = {v: k.removeprefix("LISTING_STATE_").lower() for k, v in common_pb2.ListingState.items()}
REGION_STATUSES = {v: k.removeprefix("REGION_STATUS_").lower() for k, v in inquiry_pb2.RegionStatus.items()}
NO_SUBJECT = "This identity is neither a company's nor a person's: it has no subject pages."
NO_SUCH_CONSENT = "No such consent."
NO_SUCH_LISTING = "No such listing."
# Messages the pages show translated from a value (the catalog test checks each has its Chinese).
MESSAGES = {NO_SUBJECT, NO_SUCH_CONSENT, NO_SUCH_LISTING}


def moment(stamp: Timestamp) -> str:
    return stamp.ToDatetime().strftime("%Y-%m-%d %H:%M:%S") if stamp.seconds or stamp.nanos else ""


@dataclass
class RegionFailure:
    address: str
    refused: NodeRefused


@dataclass
class ConsentRow:
    summary: inquiry_pb2.ConsentSummary
    node: int  # the first node that registered it: the withdrawal is asked there
    revoked_at: str = ""

    @property
    def id(self) -> str:
        return self.summary.consent_id


@dataclass
class Gathered(Generic[T]):
    """What every node answered, and which did not (a node down never hides the others')."""

    answers: list[tuple[int, T]] = field(default_factory=list)
    failures: list[RegionFailure] = field(default_factory=list)

    @property
    def all_denied(self) -> bool:
        return not self.answers and bool(self.failures) and all(f.refused.denied for f in self.failures)


async def gather(nodes: Sequence[NodeLink], call: Callable[[NodeLink], Awaitable[T]]) -> Gathered[T]:
    async def one(link: NodeLink) -> T | NodeRefused:
        try:
            return await call(link)
        except NodeRefused as refused:
            return refused

    gathered: Gathered[T] = Gathered()
    for n, (link, answer) in enumerate(zip(nodes, await asyncio.gather(*(one(x) for x in nodes)), strict=True)):
        if isinstance(answer, NodeRefused):
            gathered.failures.append(RegionFailure(link.address, answer))
        else:
            gathered.answers.append((n, answer))
    return gathered


def subject_page(page: Page, console: Console) -> Handler:
    """A page about the certificate's own subject; 403 where the node refuses the certificate outright."""

    def refuse(request: Request) -> Response | None:
        if console.identity.subject is None:
            return render(request, "message.html", {"message": NO_SUBJECT, "page": "subject"}, 403)
        return None

    return guarded(page, console, refuse)


async def history(request: Request, console: Console) -> Response:
    """One page of "who looked at me", every region's, newest first, as one node gathers and masks it."""
    subject = console.identity.subject
    assert subject is not None  # subject_page
    params = request.query_params
    token = params.get("page", "")
    try:
        shown = max(int(params.get("shown", "0") or 0), 0)
        asked = int(params.get("node", "-1") or -1)
        size = min(max(int(params.get("size", HISTORY_PAGE_SIZE) or HISTORY_PAGE_SIZE), 1), LARGEST_HISTORY_PAGE)
    except ValueError:
        shown, asked, size = 0, -1, HISTORY_PAGE_SIZE
    order = [asked] if 0 <= asked < len(console.nodes) else list(range(len(console.nodes)))
    answer, used, failures = None, 0, []
    for n in order:  # the first node that answers gathers the others (a next page must come from the same)
        try:
            answer = await console.nodes[n].history(subject, size, token)
            used = n
            break
        except NodeRefused as refused:
            if refused.denied:
                raise
            failures.append(RegionFailure(console.nodes[n].address, refused))
    values = {
        "page": "history",
        "answer": answer,
        "failures": failures,
        "node": used,
        "shown": shown,
        "size": size,
        "moment": moment,
        "statuses": REGION_STATUSES,
    }
    return render(request, "history.html", values)


def merged_consents(gathered: Gathered[list[inquiry_pb2.ConsentSummary]]) -> list[ConsentRow]:
    """Each consent once, withdrawn if any region says so (a withdrawal reaches every region), newest first."""
    rows: dict[str, ConsentRow] = {}
    for n, summaries in gathered.answers:
        for summary in summaries:
            row = rows.setdefault(summary.consent_id, ConsentRow(summary, n))
            row.revoked_at = row.revoked_at or moment(summary.revoked_at)
    return sorted(rows.values(), key=lambda r: r.summary.registered_at.ToNanoseconds(), reverse=True)


async def consents(request: Request, console: Console) -> Response:
    gathered = await gather(console.nodes, NodeLink.consents)
    if gathered.all_denied:
        return forbidden()
    values = {
        "page": "consents",
        "rows": merged_consents(gathered),
        "failures": gathered.failures,
        "moment": moment,
        "withdrawn": request.query_params.get("withdrawn", ""),
    }
    return render(request, "consents.html", values)


async def revoke(request: Request, console: Console) -> Response:
    """Withdraw one consent at a node that registered it (a form with the session's CSRF token)."""
    form = await request.form()
    if not genuine(request, form):
        return forbidden()
    consent_id = str(form.get("consent_id", "")).strip()
    try:
        node = int(str(form.get("node", "")))
    except ValueError:
        node = -1
    if not 0 <= node < len(console.nodes) or not consent_id:
        return render(request, "message.html", {"message": NO_SUCH_CONSENT, "page": "consents"}, 400)
    try:
        await console.nodes[node].revoke_consent(consent_id)
    except NodeRefused as refused:
        if refused.denied:
            raise
        return render(request, "message.html", {"message": str(refused), "page": "consents"}, 400)
    return RedirectResponse(f"/me/consents?withdrawn={consent_id}", status_code=303)


async def disputes(request: Request, console: Console) -> Response:
    gathered = await gather(console.nodes, NodeLink.disputes)
    if gathered.all_denied:
        return forbidden()
    found: dict[str, common_pb2.Dispute] = {}
    for _, listed in gathered.answers:
        for dispute in listed:
            known = found.get(dispute.dispute_id)
            if known is None or (dispute.state != common_pb2.DISPUTE_STATE_FILED and not known.answer):
                found[dispute.dispute_id] = dispute  # an answered copy over one still filed
    rows = sorted(found.values(), key=lambda d: d.filed_at.ToNanoseconds(), reverse=True)
    values = {
        "page": "disputes",
        "rows": rows,
        "failures": gathered.failures,
        "moment": moment,
        "states": DISPUTE_STATES,
    }
    return render(request, "disputes.html", values)


def genuine(request: Request, form: FormData) -> bool:
    sessions: Sessions = request.app.state.sessions
    return sessions.form_is_genuine(request.cookies.get(COOKIE), str(form.get(CSRF_FIELD, "")))


async def listings(request: Request, console: Console) -> Response:
    """Each listing about the subject once (the copy with the longest history: its origin's), with the objection
    form while the listing is notified and its window, by the console's clock, is open; the node decides."""
    gathered = await gather(console.nodes, NodeLink.listings)
    if gathered.all_denied:
        return forbidden()
    found: dict[str, tuple[int, common_pb2.Listing]] = {}
    for n, listed in gathered.answers:
        for listing in listed:
            known = found.get(listing.listing_id)
            if known is None or len(listing.history) > len(known[1].history):
                found[listing.listing_id] = (n, listing)
    today = console.clock().astimezone(UTC).date().isoformat()
    values = {
        "page": "listings",
        "rows": sorted(found.values(), key=lambda row: row[1].listing_id),
        "failures": gathered.failures,
        "states": LISTING_STATES,
        "open": lambda x: x.state == common_pb2.LISTING_STATE_NOTIFIED and today <= x.objection_due,
        "objected": request.query_params.get("objected", ""),
    }
    return render(request, "listings.html", values)


async def object_to(request: Request, console: Console) -> Response:
    """The subject's objection to a listing, at the node that showed the listing's fullest history (its origin)."""
    form = await request.form()
    if not genuine(request, form):
        return forbidden()
    listing_id = str(form.get("listing_id", "")).strip()
    try:
        node = int(str(form.get("node", "")))
    except ValueError:
        node = -1
    if not 0 <= node < len(console.nodes) or not listing_id:
        return render(request, "message.html", {"message": NO_SUCH_LISTING, "page": "listings"}, 400)
    try:
        await console.nodes[node].object_to_listing(listing_id, str(form.get("statement", "")))
    except NodeRefused as refused:
        if refused.denied:
            raise
        return render(request, "message.html", {"message": str(refused), "page": "listings"}, 400)
    return RedirectResponse(f"/me/listings?objected={listing_id}", status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route("/me", subject_page(history, console)),
        Route("/me/consents", subject_page(consents, console)),
        Route("/me/consents/revoke", subject_page(revoke, console), methods=["POST"]),
        Route("/me/disputes", subject_page(disputes, console)),
        Route("/me/listings", subject_page(listings, console)),
        Route("/me/listings/object", subject_page(object_to, console), methods=["POST"]),
    ]
