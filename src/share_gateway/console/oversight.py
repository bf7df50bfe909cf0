"""Oversight: every agency's open repair applications and listings at each node, overdue first.

An officer sees each step's next deadline as the node computes it in working
days of its calendar (``ListRepairApplications`` and ``ListListings``, which
answer an officer with every agency's, and log the review); the console only
orders them: overdue first, then the nearest deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from share_gateway.console.nodes import NodeLink, NodeRefused
from share_gateway.console.records import REPAIR_STATES
from share_gateway.console.rendering import Console, render
from share_gateway.console.session import forbidden
from share_gateway.console.subject import LISTING_STATES
from share_gateway.v1 import common_pb2


@dataclass(frozen=True)
class Step:
    """One open repair application or listing, and the deadline it waits on."""

    address: str
    kind: str  # "repair" or "listing"
    ident: str
    about: str  # the record, or the list and the record
    subject: str
    state: str
    due_what: str  # which deadline: decision, result, notice, objection, review, removal, end
    due: str  # its date (YYYY-MM-DD), "" when the state waits on none
    overdue: str  # the step that is late, as the node says; "" when none is
    working_days: str  # the course in working days, for a repair application

    @property
    def order(self) -> tuple[bool, bool, str]:
        return (not self.overdue, not self.due, self.due)


def repair_step(address: str, a: common_pb2.RepairApplication) -> Step:
    deciding = a.state in (common_pb2.REPAIR_STATE_SUBMITTED, common_pb2.REPAIR_STATE_ACCEPTED)
    due_what, due = ("decision", a.decision_due) if deciding and a.decision_due else ("result", a.result_due)
    extended = f" + {a.extended_by}" if a.extended_by else ""
    return Step(
        address,
        "repair",
        a.application_id,
        a.record_id,
        a.subject.identifier,
        REPAIR_STATES.get(a.state, "unknown"),
        due_what,
        due,
        a.overdue,
        f"{a.total_working_days}{extended}",
    )


_LISTING_DUE = {
    common_pb2.LISTING_STATE_PROPOSED: "notice",
    common_pb2.LISTING_STATE_NOTIFIED: "objection",
    common_pb2.LISTING_STATE_OBJECTED: "review",
}


def listing_step(address: str, listing: common_pb2.Listing) -> Step:
    due_what = _LISTING_DUE.get(listing.state, "removal" if listing.removal_due else "end")
    dates = {
        "notice": listing.notice_due,
        "objection": listing.objection_due,
        "review": listing.review_due,
        "removal": listing.removal_due,
        "end": listing.ends_on,
    }
    return Step(
        address,
        "listing",
        listing.listing_id,
        f"{listing.list_name} · {listing.record_id}",
        listing.subject.identifier,
        LISTING_STATES.get(listing.state, "unknown"),
        due_what,
        dates[due_what],
        listing.overdue,
        "",
    )


async def _node_steps(link: NodeLink) -> tuple[list[Step], list[Step], NodeRefused | None]:
    try:
        repairs, listings = await link.oversight()
    except NodeRefused as refused:
        return [], [], refused  # one region refusing the identity hides only that region
    return [repair_step(link.address, a) for a in repairs], [listing_step(link.address, x) for x in listings], None


async def oversight(request: Request, console: Console) -> Response:
    gathered = await asyncio.gather(*(_node_steps(link) for link in console.nodes))
    repairs = sorted((s for r, _, _ in gathered for s in r), key=lambda s: s.order)
    listings = sorted((s for _, x, _ in gathered for s in x), key=lambda s: s.order)
    refused = [(link.address, r) for link, (_, _, r) in zip(console.nodes, gathered, strict=True) if r is not None]
    if len(refused) == len(console.nodes) and all(r.denied for _, r in refused):
        return forbidden()
    values = {"repairs": repairs, "listings": listings, "refused": refused}
    return render(request, "oversight.html", values)
