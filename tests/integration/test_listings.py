"""The seriously-untrustworthy list across three regions (Guo Ban Fa [2020] No. 49): the regulator lists a
company whose penalty finds conduct a criterion names, after notice and hearing; every region applies the
list's measures and states the list, and the listing ends on repair or when the decision behind it is
revoked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import grpc
import pytest

from share_gateway.crypto.envelope import Envelope
from share_gateway.devkit import Layout
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.events import EventKind
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.listings import LISTING_TYPE, ListingState, RemovalCause
from share_gateway.federation.wire import envelope_to_wire
from share_gateway.node import Node
from share_gateway.v1 import common_pb2, inquiry_pb2, peer_pb2, registry_pb2
from tests.federation import Nodes, events, peer_call
from tests.integration.test_repair import (
    ORIGIN,
    PEERS,
    apply,
    inquiries,
    registry,
)
from tests.support import (
    COMPANY,
    error_reason,
    field_violations,
    inquiry,
    listable_penalty_request,
    penalty_request,
    withdrawal,
)
from tests.waiting import eventually

LIST = "serious_untrustworthy"
PARTY = Subject(SubjectKind.LEGAL_ENTITY, COMPANY)


REGULATOR = "regulator"


def proposal(record_id: str, list_name: str = LIST) -> registry_pb2.ProposeListingRequest:
    return registry_pb2.ProposeListingRequest(
        record_id=record_id,
        list_name=list_name,
        document="京市监信告〔2026〕12号 拟列入严重违法失信名单告知书",
        reason="有履行能力但拒不履行法定义务，情节严重",
        removal_conditions="履行法定义务并纠正失信行为，申请信用修复",
        remedies="收到告知后五个工作日内可提出书面异议；对决定不服的，可申请行政复议或提起行政诉讼",
    )


async def listable_penalty(layout: Layout, nodes: Nodes, issued: int = 30) -> str:
    """The regulator's serious penalty finding conduct the list's criterion names, decided ``issued`` days ago."""
    request = listable_penalty_request(issued=issued)
    return (await registry(layout, nodes[ORIGIN], REGULATOR).SubmitRecord(request, timeout=5)).record.record_id


async def approve(layout: Layout, nodes: Nodes, application_id: str) -> None:
    """The regulator accepts and approves the company's repair."""
    regulator = registry(layout, nodes[ORIGIN], REGULATOR)
    await regulator.AcceptRepair(registry_pb2.AcceptRepairRequest(application_id=application_id), timeout=5)
    decision = registry_pb2.DecideRepairRequest(application_id=application_id, approve=True, reason="已纠正")
    decided = await regulator.DecideRepair(decision, timeout=5)
    assert decided.application.state == common_pb2.REPAIR_STATE_APPROVED


async def licensing_measures(layout: Layout, node: Node) -> dict[str, list[str]]:
    """The measures a licensing authority is told of for the company, with their grounds."""
    request = inquiry("administrative_licensing_review")
    answer = await inquiries(layout, node, "licensing").Inquire(request, timeout=10)
    return {m.name: list(m.grounds) for m in answer.measures}


def lists_of(node: Node) -> frozenset[str]:
    return node.gateway.store.listings.lists_of(PARTY, node.gateway.runtime.clock().date())


async def listed_after_hearing(layout: Layout, nodes: Nodes, record_id: str) -> str:
    """Propose, notify, hear and dismiss the company's objection, then list it; return the listing id."""
    court, company = registry(layout, nodes[ORIGIN], REGULATOR), inquiries(layout, nodes[ORIGIN], "company")
    proposed = (await court.ProposeListing(proposal(record_id), timeout=5)).listing
    assert proposed.state == common_pb2.LISTING_STATE_PROPOSED
    assert proposed.notice_due
    assert "no_simplified_licensing" in proposed.decision.measures
    listing_id = proposed.listing_id
    notice = registry_pb2.NotifyListingRequest(listing_id=listing_id, document="告知书 118", reason="告知理由和权利")
    told = (await court.NotifyListing(notice, timeout=5)).listing
    assert told.objection_due
    # The party sees the proposal about itself, and objects within its window.
    mine = await company.ListMyListings(inquiry_pb2.ListMyListingsRequest(), timeout=5)
    assert [x.listing_id for x in mine.listings] == [listing_id]
    objection = inquiry_pb2.ObjectToListingRequest(listing_id=listing_id, statement="已部分履行，附还款凭证")
    objected = (await company.ObjectToListing(objection, timeout=5)).listing
    assert (objected.state, bool(objected.review_due)) == (common_pb2.LISTING_STATE_OBJECTED, True)
    review = registry_pb2.ReviewObjectionRequest(
        listing_id=listing_id, upheld=False, document="复核决定书 7", reason="部分履行不足以免除列入"
    )
    assert (await court.ReviewObjection(review, timeout=5)).listing.state == common_pb2.LISTING_STATE_REVIEWED
    decision = registry_pb2.ConfirmListingRequest(listing_id=listing_id, document="决定书 9", reason="依法列入")
    listed = (await court.ConfirmListing(decision, timeout=5)).listing
    assert (listed.state, listed.listed_on, bool(listed.ends_on)) == (
        common_pb2.LISTING_STATE_LISTED,
        listed.history[-1].at.ToDatetime().date().isoformat(),
        True,
    )
    assert [(h.state, h.document) for h in listed.history] == [
        (common_pb2.LISTING_STATE_PROPOSED, proposal(record_id).document),
        (common_pb2.LISTING_STATE_NOTIFIED, "告知书 118"),
        (common_pb2.LISTING_STATE_OBJECTED, ""),
        (common_pb2.LISTING_STATE_REVIEWED, "复核决定书 7"),
        (common_pb2.LISTING_STATE_LISTED, "决定书 9"),
    ]
    return listing_id


async def test_rule_2020_49_a_listing_after_notice_and_hearing_reaches_every_region_and_ends_on_repair(
    layout: Layout, nodes: Nodes
) -> None:
    # Decided 400 days ago: past the serious tier's minimum, so repair is possible (2025 No. 22).
    record_id = await listable_penalty(layout, nodes, issued=400)
    # Before any listing, no region applies the list's measure.
    for region in (ORIGIN, *PEERS):
        assert "no_simplified_licensing" not in await licensing_measures(layout, nodes[region])
    listing_id = await listed_after_hearing(layout, nodes, record_id)
    # Every region holds the origin's signed listing, though the penalty itself is not shared nationwide, and
    # applies the measure, citing the list.
    await eventually(lambda: all(lists_of(nodes[r]) == {LIST} for r in (ORIGIN, *PEERS)))
    for region in (ORIGIN, *PEERS):
        measures = await licensing_measures(layout, nodes[region])
        assert measures["no_simplified_licensing"] == [f"list/{LIST}"]
    # Another region cannot take the listing over, even signing with its own key: what it signs is its own
    # listing (another listing than Beijing's), and Beijing's stays as Beijing decided it.
    held = nodes["440000"].gateway.store.listings.get(ORIGIN, listing_id)
    assert held is not None
    takeover = replace(held, origin_region="310000", state=ListingState.REMOVED, version=held.version + 1)
    signed = Envelope.seal(nodes["310000"].gateway.runtime.signing_key, LISTING_TYPE, takeover.to_bytes())
    await peer_call(layout, nodes["440000"], "310000").ShareListing(
        peer_pb2.ShareListingRequest(listing=envelope_to_wire(signed)), timeout=5
    )
    kept = nodes["440000"].gateway.store.listings.get(ORIGIN, listing_id)
    assert kept is not None
    assert (kept.state, kept.version) == (held.state, held.version)
    assert lists_of(nodes["440000"]) == {LIST}
    # Signed by one region as another's, a listing is refused.
    forged = Envelope.seal(nodes["310000"].gateway.runtime.signing_key, LISTING_TYPE, held.to_bytes())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await peer_call(layout, nodes["440000"], "310000").ShareListing(
            peer_pb2.ShareListingRequest(listing=envelope_to_wire(forged)), timeout=5
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Repair approved: in the same transaction the listing ends, and the end reaches every region.
    application = await apply(layout, nodes, record_id)
    await approve(layout, nodes, application.application_id)
    ended = nodes[ORIGIN].gateway.store.listings.get(ORIGIN, listing_id)
    assert ended is not None
    assert (ended.state, ended.removal_cause) == (ListingState.REMOVED, RemovalCause.REPAIR)
    await eventually(lambda: all(lists_of(nodes[r]) == frozenset() for r in (ORIGIN, *PEERS)))
    for region in (ORIGIN, *PEERS):
        assert "no_simplified_licensing" not in await licensing_measures(layout, nodes[region])
    # Every step is an event at the origin; every peer logged both versions it took.
    kinds = [e.kind for e in events(nodes[ORIGIN])]
    for kind in (
        EventKind.LISTING_PROPOSED,
        EventKind.LISTING_NOTIFIED,
        EventKind.LISTING_OBJECTED,
        EventKind.LISTING_REVIEWED,
        EventKind.LISTING_LISTED,
        EventKind.LISTING_REMOVED,
    ):
        assert kinds.count(kind) == 1, kind
    await eventually(lambda: [e.kind for e in events(nodes[ORIGIN])].count(EventKind.LISTING_SHARED) == 4)
    await eventually(lambda: [e.kind for e in events(nodes["310000"])].count(EventKind.LISTING_RECEIVED) == 2)
    # Guangdong logged Beijing's two versions and Shanghai's own listing.
    assert [e.kind for e in events(nodes["440000"])].count(EventKind.LISTING_RECEIVED) == 3


async def test_rule_2020_49_a_revoked_decisions_listing_is_removed_within_3_working_days(
    layout: Layout, nodes: Nodes
) -> None:
    record_id = await listable_penalty(layout, nodes)
    listing_id = await listed_after_hearing(layout, nodes, record_id)
    await eventually(lambda: all(lists_of(nodes[r]) == {LIST} for r in PEERS))
    # Revoked two days before the withdrawal: the 3 working days run from the revoking decision's date.
    withdrawn = withdrawal(record_id, reason="原处罚决定被撤销", issued=2)
    await registry(layout, nodes[ORIGIN], REGULATOR).WithdrawRecord(withdrawn, timeout=5)
    ended = nodes[ORIGIN].gateway.store.listings.get(ORIGIN, listing_id)
    assert ended is not None
    assert (ended.state, ended.removal_cause) == (ListingState.REMOVED, RemovalCause.DECISION_REVOKED)
    removed_on = ended.history[-1].at.date()
    revoked_on = date.fromisoformat(withdrawn.revoking_document.issued_on)
    assert ended.removal_due == WorkingCalendar().add_working_days(revoked_on, 3)
    assert removed_on <= ended.removal_due
    assert ended.history[-1].document.startswith("reconsideration 京政复〔2026〕7号")
    await eventually(lambda: all(lists_of(nodes[r]) == frozenset() for r in (ORIGIN, *PEERS)))


async def test_public_lookup_states_lists_in_force(layout: Layout, nodes: Nodes) -> None:
    """Issue 12 "List membership is information" / DOMAIN.md "Seriously-untrustworthy list": an answer states
    the subject's lists in force with the decision reference, for every purpose that may see them, public
    lookup included, in every region; a list no longer in force is not stated."""
    record_id = await listable_penalty(layout, nodes)
    lookup = inquiry("public_lookup")
    before = await inquiries(layout, nodes["440000"], "company").Inquire(lookup, timeout=10)
    assert list(before.lists) == []
    listing_id = await listed_after_hearing(layout, nodes, record_id)
    await eventually(lambda: all(lists_of(nodes[r]) == {LIST} for r in PEERS))
    for region in (ORIGIN, *PEERS):
        answer = await inquiries(layout, nodes[region], "bank").Inquire(lookup, timeout=10)
        assert [(m.list_name, m.origin_region, m.listing_id, m.decision_reference) for m in answer.lists] == [
            (LIST, ORIGIN, listing_id, "决定书 9")
        ], region
        assert answer.lists[0].listed_on
        assert answer.lists[0].listed_until
        [event] = [e for e in events(nodes[region]) if e.event_id == answer.inquiry_id]
        assert event.details["lists"] == f"{LIST}@{ORIGIN}"
    withdrawn = withdrawal(record_id, reason="原处罚决定被撤销")
    await registry(layout, nodes[ORIGIN], REGULATOR).WithdrawRecord(withdrawn, timeout=5)
    await eventually(lambda: all(lists_of(nodes[r]) == frozenset() for r in (ORIGIN, *PEERS)))
    after = await inquiries(layout, nodes["440000"], "bank").Inquire(lookup, timeout=10)
    assert list(after.lists) == []


async def test_rule_2020_49_no_listing_outside_the_criteria_and_no_step_out_of_order(
    layout: Layout, nodes: Nodes
) -> None:
    court = registry(layout, nodes[ORIGIN])
    regulator = registry(layout, nodes[ORIGIN], "regulator")
    general = (await regulator.SubmitRecord(penalty_request("p-general"), timeout=5)).record.record_id
    before = len(events(nodes[ORIGIN]))
    with pytest.raises(grpc.aio.AioRpcError) as not_serious:
        await regulator.ProposeListing(proposal(general), timeout=5)
    assert not_serious.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(not_serious.value) == "CRITERIA_NOT_MET"
    with pytest.raises(grpc.aio.AioRpcError) as unknown_list:
        await regulator.ProposeListing(proposal(general, "my_own_blacklist"), timeout=5)
    assert unknown_list.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "list_name" in field_violations(unknown_list.value)
    # Another agency's record does not exist for the caller.
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await court.ProposeListing(proposal(general), timeout=5)
    assert not_theirs.value.code() == grpc.StatusCode.NOT_FOUND
    # Nothing was written: no listing, no event.
    assert nodes[ORIGIN].gateway.store.listings.find() == []
    assert len(events(nodes[ORIGIN])) == before
    # A listing straight from proposed, skipping notice and hearing, is refused.
    serious = (await regulator.SubmitRecord(listable_penalty_request("p-serious"), timeout=5)).record
    proposed = (await regulator.ProposeListing(proposal(serious.record_id), timeout=5)).listing
    confirm = registry_pb2.ConfirmListingRequest(listing_id=proposed.listing_id, document="决定书", reason="列入")
    with pytest.raises(grpc.aio.AioRpcError) as skipped:
        await regulator.ConfirmListing(confirm, timeout=5)
    assert skipped.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(skipped.value) == "ILLEGAL_TRANSITION"
    # Within the objection window the listing must wait.
    notice = registry_pb2.NotifyListingRequest(listing_id=proposed.listing_id, document="告知书", reason="告知")
    await regulator.NotifyListing(notice, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as too_early:
        await regulator.ConfirmListing(confirm, timeout=5)
    assert error_reason(too_early.value) == "OBJECTION_WINDOW_OPEN"
    # A second open listing of the same record on the same list is refused.
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await regulator.ProposeListing(proposal(serious.record_id), timeout=5)
    assert error_reason(twice.value) == "ALREADY_LISTED"
    # A listing not yet in force stays at its origin: nothing is queued for peers.
    assert nodes[ORIGIN].gateway.store.count("outbox") == 0
    [kept] = nodes[ORIGIN].gateway.store.listings.find()
    assert (kept.listing_id, kept.state) == (proposed.listing_id, ListingState.NOTIFIED)
    listed = await regulator.ListListings(registry_pb2.ListListingsRequest(), timeout=5)
    assert [x.listing_id for x in listed.listings] == [proposed.listing_id]
    assert (await court.ListListings(registry_pb2.ListListingsRequest(), timeout=5)).listings == []
    # A compliance officer oversees every agency's listings; the review is itself logged.
    officer = registry(layout, nodes[ORIGIN], "officer")
    overseen = await officer.ListListings(registry_pb2.ListListingsRequest(), timeout=5)
    assert [x.listing_id for x in overseen.listings] == [proposed.listing_id]
    [review] = [e for e in events(nodes[ORIGIN]) if e.kind is EventKind.AUDIT]
    assert review.details["action"] == "listings"


async def test_rule_2025_22_every_listing_decision_is_served_with_a_repair_notice(layout: Layout, nodes: Nodes) -> None:
    """ "Two documents together" (两书同达, State Council General Office 2025 No. 22; DOMAIN.md "Disputes, notice and
    repair channels"): a listing decision is served with a repair notice saying when and how repair becomes
    possible, the notice of the record it rests on, in the proposal, the decision, the party's view and every
    region's signed copy."""
    record_id = await listable_penalty(layout, nodes, issued=30)
    regulator = registry(layout, nodes[ORIGIN], REGULATOR)
    own = (await regulator.GetRepairNotice(registry_pb2.GetRepairNoticeRequest(record_id=record_id), timeout=5)).notice
    # A serious penalty decided 30 days ago: repairable after the tier's minimum of 365 days.
    assert own.repairable
    assert own.repairable_from == (date.today() + timedelta(days=365 - 30)).isoformat()
    assert own.how
    assert (own.total_working_days, own.decision_working_days) == (10, 3)
    listing_id = await listed_after_hearing(layout, nodes, record_id)
    decided = await regulator.GetListing(registry_pb2.GetListingRequest(listing_id=listing_id), timeout=5)
    assert decided.listing.HasField("repair_notice")
    assert decided.listing.repair_notice == own
    proposed = nodes[ORIGIN].gateway.store.listings.get(ORIGIN, listing_id)
    assert proposed is not None
    assert proposed.repair_notice is not None
    # The party reads it at the origin and, from the origin's signed copy, in every other region.
    await eventually(lambda: all(lists_of(nodes[r]) == {LIST} for r in PEERS))
    for region in (ORIGIN, *PEERS):
        mine = await inquiries(layout, nodes[region], "company").ListMyListings(
            inquiry_pb2.ListMyListingsRequest(), timeout=5
        )
        [listing] = [x for x in mine.listings if x.listing_id == listing_id]
        assert listing.repair_notice == own, region
    # The copy a region keeps is the origin's signed listing, notice included.
    held = nodes[PEERS[0]].gateway.store.listings.get(ORIGIN, listing_id)
    assert held is not None
    assert held.repair_notice == proposed.repair_notice
