"""Quotas and anti-harvesting: a harvester is cut off within its window (RESOURCE_EXHAUSTED with QuotaFailure and
RetryInfo), its refusals are logged aggregated, officers find the harvesting_suspected event; a cap on calls in
flight; a peer applies its quotas to the asking region and the requester it names. The node's clock is injected."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway.config import NodeConfig, QuotaOverride, QuotaSettings
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind
from share_gateway.domain.policy import Principal
from share_gateway.domain.quotas import MeterSpec, meter_specs
from share_gateway.gateway.quota_leases import LOW_WATER
from share_gateway.node import Node, start_node
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, inquiry_pb2_grpc
from tests.conftest import ChannelFactory, seed_grants
from tests.consents import signed_consent
from tests.federation import REGIONS, events, peer_call, signed_inquiry
from tests.support import CALLERS, COMPANY, entity, error_reason, inquiry, person, resident_id
from tests.waiting import eventually

HARVESTER = CALLERS["person"][0]
DISTINCT_LIMIT = 30


class Clock:
    """The node's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def quota_details(error: grpc.aio.AioRpcError) -> tuple[error_details_pb2.QuotaFailure, error_details_pb2.RetryInfo]:
    status = rpc_status.from_call(error)
    assert status is not None
    failure, retry = error_details_pb2.QuotaFailure(), error_details_pb2.RetryInfo()
    unpacked = [d.Unpack(failure) or d.Unpack(retry) for d in status.details]
    assert sum(unpacked) >= 2, "QuotaFailure and RetryInfo expected"
    return failure, retry


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def node(node_config: NodeConfig, clock: Clock) -> AsyncIterator[Node]:
    """The test node with a small distinct-subject quota for the person on public_lookup, a cap of 1 call in flight."""
    settings = QuotaSettings(
        concurrent_calls=1,
        overrides=(
            QuotaOverride(
                HARVESTER.uri, "public_lookup", (("per_minute", 6000), ("burst", 1000), ("distinct_subjects", 30))
            ),
        ),
    )
    started = await start_node(dataclasses.replace(node_config, quotas=settings), clock)
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


async def test_a_harvesting_client_is_cut_off_within_its_window_and_officers_find_it(
    node: Node, connect: ChannelFactory, clock: Clock
) -> None:
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("person"))
    refused: list[grpc.aio.AioRpcError] = []
    for serial in range(1, 41):  # an enumeration of sequential resident IDs at full speed
        try:
            await stub.Inquire(inquiry("public_lookup", person(resident_id(serial))), timeout=5)
        except grpc.aio.AioRpcError as error:
            refused.append(error)
    assert len(refused) == 40 - DISTINCT_LIMIT
    first = refused[0]
    assert first.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(first) == "QUOTA_DISTINCT_SUBJECTS"
    failure, retry = quota_details(first)
    assert failure.violations[0].subject == f"{HARVESTER.uri}/public_lookup"
    window_ends = datetime.fromtimestamp((int(clock.now.timestamp()) // 86400 + 1) * 86400, UTC)
    assert retry.retry_delay.ToTimedelta() == pytest.approx(window_ends - clock.now, abs=timedelta(seconds=1))
    # A subject already asked about in the window is still answered: the limit is on new subjects.
    await stub.Inquire(inquiry("public_lookup", person(resident_id(1))), timeout=5)
    # The officer finds the suspicion (sequential identifiers, then many distinct subjects) by its kind.
    officer = compliance_pb2_grpc.ComplianceServiceStub(connect("officer"))

    await node.gateway.runtime.event_log.drain()
    await node.gateway.sequencer.step(force=True)
    request = compliance_pb2.SearchEventsRequest(
        filter=compliance_pb2.EventFilter(kind=EventKind.HARVESTING_SUSPECTED.value)
    )
    pages = [page async for page in officer.SearchEvents(request, timeout=5)]
    found = [Event.from_bytes(logged.event) for page in pages for logged in page.events]
    assert {e.reason for e in found} == {"SEQUENTIAL_IDENTIFIERS", "DISTINCT_SUBJECTS"}
    assert {e.actor for e in found} == {HARVESTER.uri}
    assert node.gateway.quotas.suspected == 2
    # Ten refusals, logged as one event at once and, when the refusal window ends, one with the other nine.
    quota_refused = [e for e in events(node) if e.kind is EventKind.QUOTA_REFUSED]
    assert [(e.actor, e.details["count"]) for e in quota_refused] == [(HARVESTER.uri, "1")]
    clock.advance(timedelta(seconds=node.config.refusal_window_seconds))
    await node.gateway.refusals.log_ended()
    quota_refused = [e for e in events(node) if e.kind is EventKind.QUOTA_REFUSED]
    assert [e.details["count"] for e in quota_refused] == ["1", str(len(refused) - 1)]
    # Within its window the harvester stays cut off; the next window lets it ask again.
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Inquire(inquiry("public_lookup", person(resident_id(99))), timeout=5)
    clock.advance(timedelta(days=1))
    await stub.Inquire(inquiry("public_lookup", person(resident_id(99))), timeout=5)


async def test_a_requester_pushing_on_past_its_quota_is_answered_slowly(node: Node, connect: ChannelFactory) -> None:
    """Past ``slow_refusals_after`` refusals in its window, each refusal waits before it goes back (a tarpit): a
    harvester at full speed then holds its own connections, not the node's cores. The wait is injected."""
    waited: list[float] = []

    async def recorded(seconds: float) -> None:
        waited.append(seconds)

    node.gateway.quotas.sleep = recorded
    after = node.gateway.quotas.settings.slow_refusals_after
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("person"))
    for serial in range(1, DISTINCT_LIMIT + 1):
        await stub.Inquire(inquiry("public_lookup", person(resident_id(serial))), timeout=5)
    for serial in range(DISTINCT_LIMIT + 1, DISTINCT_LIMIT + after + 6):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Inquire(inquiry("public_lookup", person(resident_id(serial))), timeout=5)
        assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert waited == [node.gateway.quotas.settings.slow_refusal_seconds] * 5


async def test_calls_in_flight_beyond_the_cap_are_refused_until_one_ends(node: Node, connect: ChannelFactory) -> None:
    bank = CALLERS["bank"][0]
    gateway = node.gateway
    requester = Principal(bank.identifier, bank.uri, "bank")
    held = await gateway.quotas.admit(requester, "public_lookup", "legal_entity", COMPANY)  # a call in flight
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Inquire(inquiry("public_lookup"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(raised.value) == "QUOTA_CONCURRENT_CALLS"
    _, retry = quota_details(raised.value)
    assert retry.retry_delay.ToTimedelta() > timedelta(0)
    await gateway.quotas.finished(held, "public_lookup", refused=False)
    await stub.Inquire(inquiry("public_lookup"), timeout=5)


@pytest.fixture
async def peer_node(layout: Layout) -> AsyncIterator[Node]:
    """The first region's node, whose peers' requesters get three inquiries a day, and each region nine."""
    asked, asker = REGIONS[0], REGIONS[1]
    config = NodeConfig.load(layout.node_config(asked))
    settings = QuotaSettings(
        overrides=(
            QuotaOverride(CALLERS["bank"][0].uri, "loan_underwriting", (("per_day", 3),)),
            QuotaOverride(f"sgw://node/{asker}", "loan_underwriting", (("per_day", 4),)),
        )
    )
    started = await start_node(dataclasses.replace(config, quotas=settings))
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


async def test_a_peer_applies_its_quotas_to_the_asking_region_and_the_requester_it_names(
    layout: Layout, peer_node: Node
) -> None:
    asker = REGIONS[1]
    stub = peer_call(layout, peer_node.port, asker)
    for _ in range(3):
        await stub.Inquire(signed_inquiry(layout, asker), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Inquire(signed_inquiry(layout, asker), timeout=5)
    assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(raised.value) == "QUOTA_DAILY_VOLUME"
    failure, _ = quota_details(raised.value)
    assert failure.violations[0].subject == f"{CALLERS['bank'][0].uri}/loan_underwriting"
    # Another requester of the same region has its own quota, but the region's total (4) is spent after one more.
    other = CALLERS["twin_bank"][0].uri
    attested = signed_consent(layout.client("twin_bank"), entity(), other, attested=True)
    await stub.Inquire(signed_inquiry(layout, asker, requester_uri=other, consent=attested), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as region_spent:
        await stub.Inquire(signed_inquiry(layout, asker, requester_uri=other, consent=attested), timeout=5)
    failure, _ = quota_details(region_spent.value)
    assert failure.violations[0].subject == f"sgw://node/{asker}/loan_underwriting"
    refusals = [e for e in events(peer_node) if e.kind is EventKind.QUOTA_REFUSED]
    assert {e.details["via"] for e in refusals} == {asker}


async def test_buckets_nobody_used_for_longer_than_any_period_are_deleted(
    node: Node, connect: ChannelFactory, clock: Clock
) -> None:
    """Quota rows do not pile up forever: a bucket untouched past the longest period (and a day of margin) is
    deleted, one still inside it kept (a missing row is a full bucket: nobody gains a token by the deletion)."""
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("person"))
    for serial in range(1, DISTINCT_LIMIT + 1):
        await stub.Inquire(inquiry("public_lookup", person(resident_id(serial))), timeout=5)
    store, quotas = node.gateway.store, node.gateway.quotas
    held = store.count("quota_buckets")
    assert held >= 3
    assert await quotas.forget_unused() == 0
    clock.advance(quotas.longest_period() + timedelta(days=1) + timedelta(seconds=1))
    assert await quotas.forget_unused() == held
    assert store.count("quota_buckets") == 0


async def test_a_batch_running_low_is_leased_ahead_never_past_one_batch(node: Node, connect: ChannelFactory) -> None:
    """Calls do not wait on a lease's commit each time a batch runs out: once a quarter of the batch is left,
    the rest of a batch is leased in the background, and what a replica holds never exceeds one batch (the
    bound ``gateway.quotas`` states: at most a batch per other replica lies unspent)."""
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("person"))
    quotas, store = node.gateway.quotas, node.gateway.store
    rate = meter_specs(quotas.limits(HARVESTER.uri, "public_lookup"), node.gateway.runtime.clock(), 100)[0]
    low = math.floor(rate.batch * LOW_WATER)
    assert rate.batch > 4, "the override's rate gives batches large enough to lease ahead"
    bucket = f"rate|public_lookup|{HARVESTER.uri}"
    for _ in range(rate.batch - low):  # the first call leases a batch; these leave ``low`` tokens held
        await stub.Inquire(inquiry("public_lookup", entity()), timeout=5)
    topped_up = rate.capacity - rate.batch - (rate.batch - low)

    def leased_ahead() -> bool:
        level = store.quotas.level(bucket)
        return level is not None and level.level == topped_up

    await eventually(leased_ahead)
    for _ in range(low):  # spent from the holding, a batch again: no lease, so the bucket is as it was
        await stub.Inquire(inquiry("public_lookup", entity()), timeout=5)
    assert leased_ahead()


Specs = tuple[MeterSpec, MeterSpec, MeterSpec]


def bank_buckets(node: Node, purpose: str = "public_lookup") -> tuple[list[str], Specs]:
    """The bank's three buckets for ``purpose`` (at the catalog's quota) and their specs now."""
    quotas = node.gateway.quotas
    bank = CALLERS["bank"][0].uri
    specs = meter_specs(quotas.limits(bank, purpose), node.gateway.runtime.clock(), quotas.settings.lease_batch_most)
    return [f"rate|{purpose}|{bank}", f"daily|{purpose}|{bank}", f"subjects|{purpose}|{bank}"], specs


async def test_an_accounts_meters_are_leased_at_one_commit(node: Node, connect: ChannelFactory) -> None:
    """At the catalog's quota each meter's batch is one token, and a new subject's call needs all three: they are
    leased in one transaction, not one per meter (each a commit, and a wait for the disk, on the call's path)."""
    buckets, specs = bank_buckets(node)
    assert [spec.batch for spec in specs] == [1, 1, 1], "a realistic quota: batches of one token"
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    await stub.Inquire(inquiry("public_lookup", entity()), timeout=5)
    assert node.gateway.quotas.recorder.quota_leases == {"call": 1}
    levels = [node.gateway.store.quotas.level(bucket) for bucket in buckets]
    assert [None if level is None else level.level for level in levels] == [spec.capacity - 1 for spec in specs]


async def test_a_call_refused_for_one_meter_spends_nothing_of_the_others(node: Node, connect: ChannelFactory) -> None:
    """Another replica took the day's volume: every call is refused for it, and none of them spends the rate, so
    the refusals keep naming the day's volume (the old order spent a rate token first, and after ``burst``
    refusals the requester was refused for a rate it never used)."""
    buckets, specs = bank_buckets(node)
    runtime, quotas = node.gateway.runtime, node.gateway.store.quotas
    now = runtime.clock()
    await runtime.write(lambda tx: quotas.lease(tx, buckets[1], specs[1], now, specs[1].capacity))
    node.gateway.quotas.sleep = no_wait
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    for _ in range(specs[0].capacity + 3):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Inquire(inquiry("public_lookup", entity()), timeout=5)
        assert error_reason(refused.value) == "QUOTA_DAILY_VOLUME"
    rate = quotas.level(buckets[0])
    assert rate is None or rate.level >= specs[0].capacity - 1, "at most the one batch leased beside the day's"


async def no_wait(seconds: float) -> None:
    """A refusal's tarpit, not waited here."""
