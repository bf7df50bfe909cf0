"""AdminService over real mTLS gRPC: grants as logged acts (issue 13, item 4).

The rule tested: only an administrator changes who may do what, each change names its document and is an
event in the log, and a revoked grant stops working at once. The State Council's 2020 decision asks for
"strict authority and procedure for inquiries" (principle 6) and the Credit Reporting Industry Regulation
Art. 22 for every inquiry recorded with who, when, what and why; logging the grants themselves is this
project's reading of both (unverified).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf import timestamp_pb2

from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.crypto.pki import issue_certificate
from share_gateway.devkit import Layout, administrator_identity
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.principals import Role
from share_gateway.node import Node, start_node
from share_gateway.v1 import admin_pb2, admin_pb2_grpc, compliance_pb2, compliance_pb2_grpc, inquiry_pb2_grpc
from tests.conftest import ChannelFactory, channels_to, seed_grants
from tests.support import CALLERS, REGION, error_reason, field_violations, inquiry

ADMIN = f"admin-{REGION}"
BANK = CALLERS["bank"][0].identifier
DOCUMENT = "京信用办〔2026〕9号"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def node(request: pytest.FixtureRequest, node_config: NodeConfig) -> AsyncIterator[Node]:
    """A node (on SQLite, and on the real PostgreSQL server) that caches principals for an hour: only forgetting
    them on a change can make a revocation work at once (with the default two seconds a slow test would pass
    without it)."""
    config = dataclasses.replace(node_config, principal_ttl_seconds=3600.0)
    if request.param == "postgresql":
        config = dataclasses.replace(config, database=request.getfixturevalue("fresh_postgres"))
    started = await start_node(config)
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


@pytest.fixture
async def connect(node: Node, federation: Layout) -> AsyncIterator[ChannelFactory]:
    async with channels_to(node.port, federation) as factory:
        yield factory


def admin(connect: ChannelFactory, caller: str = ADMIN) -> admin_pb2_grpc.AdminServiceAsyncStub:
    return admin_pb2_grpc.AdminServiceStub(connect(caller))


def stamp(at: datetime) -> timestamp_pb2.Timestamp:
    wire = timestamp_pb2.Timestamp()
    wire.FromDatetime(at)
    return wire


async def grant_of(connect: ChannelFactory, institution: str, scope: str) -> admin_pb2.GrantInfo:
    listed = await admin(connect).ListGrants(admin_pb2.ListGrantsRequest(institution=institution), timeout=5)
    [found] = [g for g in listed.grants if g.scope == scope and not g.HasField("revoked_at")]
    return found


async def searched(node: Node, connect: ChannelFactory, kind: str) -> list[Event]:
    """The officer's search of the log for the administrator's events of ``kind``, once integrated (the test
    federation's own setup is logged too, as the node operator's acts)."""
    await node.gateway.sequencer.step(force=True)
    wanted = compliance_pb2.EventFilter(kind=kind, actor=administrator_identity(REGION).uri)
    request = compliance_pb2.SearchEventsRequest(filter=wanted)
    stub = compliance_pb2_grpc.ComplianceServiceStub(connect("officer"))
    return [Event.from_bytes(e.event) async for m in stub.SearchEvents(request, timeout=5) for e in m.events]


async def test_a_revoked_grant_refuses_the_next_inquiry_and_an_officer_finds_the_revocation(
    node: Node, connect: ChannelFactory
) -> None:
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=5)  # cached: allowed
    grant = await grant_of(connect, BANK, "loan_underwriting")
    revoked = await admin(connect).RevokeGrant(
        admin_pb2.RevokeGrantRequest(grant_id=grant.grant_id, document=DOCUMENT), timeout=5
    )
    assert revoked.grant.HasField("revoked_at")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-2"), timeout=5)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(refused.value) == "NO_GRANT"
    [event] = await searched(node, connect, "grant_revoked")
    assert event.event_id == revoked.event_id
    assert (event.actor, event.outcome) == (administrator_identity(REGION).uri, Outcome.ALLOWED)
    assert event.details["document"] == DOCUMENT
    assert event.details["grant_id"] == str(grant.grant_id)
    assert event.details["institution"] == BANK
    assert event.purpose == "loan_underwriting"


async def test_an_added_grant_and_a_changed_end_are_acts_an_officer_finds(node: Node, connect: ChannelFactory) -> None:
    """A bank without a grant is refused (and that refusal cached); granted, its next inquiry is allowed."""
    plain = CALLERS["bank_without_grant"][0].identifier
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank_without_grant"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=5)
    assert error_reason(refused.value) == "NO_GRANT"
    until = datetime.now(UTC) + timedelta(days=30)
    added = await admin(connect).AddGrant(
        admin_pb2.AddGrantRequest(
            institution=plain, inquire=["loan_underwriting"], until=stamp(until), document=DOCUMENT
        ),
        timeout=5,
    )
    [grant] = added.grants
    assert (grant.role, grant.scope, grant.institution_kind) == ("inquire", "loan_underwriting", "bank")
    await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-2"), timeout=5)
    changed = await admin(connect).ChangeGrant(
        admin_pb2.ChangeGrantRequest(grant_id=grant.grant_id, no_end=True, document="京信用办〔2026〕10号"), timeout=5
    )
    assert not changed.grant.HasField("valid_until"), "no_end: the grant no longer ends"
    [granted] = await searched(node, connect, "grant_added")
    assert granted.event_id == added.event_ids[0]
    assert (granted.details["institution"], granted.details["document"]) == (plain, DOCUMENT)
    [change] = await searched(node, connect, "grant_changed")
    assert change.details["previous_valid_until"].startswith(until.date().isoformat())
    assert change.details["valid_until"] == "none"
    assert change.actor == administrator_identity(REGION).uri


async def test_an_institution_registered_by_an_administrator_is_logged(node: Node, connect: ChannelFactory) -> None:
    company = CALLERS["company"][0].identifier
    registered = await admin(connect).RegisterInstitution(
        admin_pb2.RegisterInstitutionRequest(institution=company, kind="bank", name="某银行", document=DOCUMENT),
        timeout=5,
    )
    assert await node.gateway.runtime.read(node.gateway.store.grants.institution, company) == ("bank", ())
    [event] = await searched(node, connect, "institution_registered")
    assert event.event_id == registered.event_id
    assert (event.details["kind"], event.details["name"], event.details["document"]) == ("bank", "某银行", DOCUMENT)


@pytest.mark.parametrize("caller", ["officer", "bank", "regulator"])
async def test_a_non_administrator_is_refused_and_nothing_changes(
    node: Node, connect: ChannelFactory, caller: str
) -> None:
    """A compliance officer is no administrator either: reviewing the log is not changing who may do what."""
    store = node.gateway.store
    before = store.grants.rows()
    grant = before[0]
    stub = admin(connect, caller)
    for call in (
        stub.RevokeGrant(admin_pb2.RevokeGrantRequest(grant_id=grant.grant_id, document=DOCUMENT), timeout=5),
        stub.ChangeGrant(admin_pb2.ChangeGrantRequest(grant_id=grant.grant_id, no_end=True, document=DOCUMENT)),
        stub.AddGrant(admin_pb2.AddGrantRequest(institution=BANK, inquire=["public_lookup"], document=DOCUMENT)),
        stub.RegisterInstitution(admin_pb2.RegisterInstitutionRequest(institution=BANK, kind="utility", document="x")),
        stub.ListGrants(admin_pb2.ListGrantsRequest(), timeout=5),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert error_reason(refused.value) == "NOT_AN_ADMINISTRATOR"
    assert store.grants.rows() == before
    assert store.grants.institution(BANK)[0] == "bank"
    logged = [Event.from_bytes(body) for _, body in store.events.read()]
    attempts = [e for e in logged if e.actor == CALLERS[caller][0].uri and e.kind is not EventKind.AUDIT]
    assert {e.kind for e in attempts} == {
        EventKind.GRANT_REVOKED,
        EventKind.GRANT_CHANGED,
        EventKind.GRANT_ADDED,
        EventKind.INSTITUTION_REGISTERED,
        EventKind.REQUEST_REFUSED,
    }
    assert {(e.outcome, e.reason) for e in attempts} == {(Outcome.DENIED, "NOT_AN_ADMINISTRATOR")}


async def test_bad_input_is_refused_with_field_violations_and_nothing_changes(
    node: Node, connect: ChannelFactory
) -> None:
    store = node.gateway.store
    before, events = store.grants.rows(), len(store.events.read())
    stub = admin(connect)
    past = stamp(datetime.now(UTC) - timedelta(days=1))
    cases: list[tuple[object, set[str]]] = [
        (
            stub.AddGrant(admin_pb2.AddGrantRequest(institution="91110000MA0000001X", until=past, document=" ")),
            {"institution", "inquire", "until", "document"},
        ),
        (
            stub.AddGrant(
                admin_pb2.AddGrantRequest(institution=BANK, inquire=["astrology"], submit=["tax_arrears"], document="d")
            ),
            {"inquire", "submit"},
        ),
        (
            stub.RegisterInstitution(
                admin_pb2.RegisterInstitutionRequest(institution=BANK, kind="casino", name="x" * 201, document="d")
            ),
            {"kind", "name"},
        ),
        (stub.RevokeGrant(admin_pb2.RevokeGrantRequest(grant_id=0, document="x" * 201)), {"grant_id", "document"}),
        (
            stub.ChangeGrant(admin_pb2.ChangeGrantRequest(grant_id=before[0].grant_id, until=past, document="d")),
            {"until"},
        ),
        # A forgotten end must not make a grant endless; both ends at once are as wrong.
        (stub.ChangeGrant(admin_pb2.ChangeGrantRequest(grant_id=before[0].grant_id, document="d")), {"until"}),
        (
            stub.ChangeGrant(
                admin_pb2.ChangeGrantRequest(grant_id=before[0].grant_id, until=past, no_end=True, document="d")
            ),
            {"until"},
        ),
    ]
    for call, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call  # type: ignore[misc]
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(refused.value)) == fields
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.RevokeGrant(admin_pb2.RevokeGrantRequest(grant_id=10_000, document=DOCUMENT), timeout=5)
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
    company = CALLERS["company"][0].identifier
    with pytest.raises(grpc.aio.AioRpcError) as unregistered:
        await stub.AddGrant(admin_pb2.AddGrantRequest(institution=company, inquire=["public_lookup"], document="d"))
    assert unregistered.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert store.grants.rows() == before
    assert len(store.events.read()) == events, "no act was logged"
    await stub.RevokeGrant(admin_pb2.RevokeGrantRequest(grant_id=before[0].grant_id, document=DOCUMENT))
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await stub.RevokeGrant(admin_pb2.RevokeGrantRequest(grant_id=before[0].grant_id, document=DOCUMENT))
    assert again.value.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_an_administrator_of_another_node_is_refused(node: Node, federation: Layout, tmp_path: Path) -> None:
    """One CA certifies every region's administrator: a node accepts only those its ``administrators`` names
    (the development federation names its own region's), so Shanghai's administrator cannot revoke here."""
    stranger = administrator_identity("310000")
    issued = issue_certificate(federation.ca(), stranger, datetime.now(UTC), roles=[Role.ADMINISTRATOR])
    (tmp_path / "tls.crt").write_bytes(issued.cert_pem)
    (tmp_path / "tls.key").write_bytes(issued.key_pem)
    assert node.config.administrators == (administrator_identity(REGION).uri,)
    before = node.gateway.store.grants.rows()
    channel = open_channel(
        f"localhost:{node.port}", credentials(tmp_path / "tls.crt", tmp_path / "tls.key", federation.ca_certificate)
    )
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await admin_pb2_grpc.AdminServiceStub(channel).RevokeGrant(
                admin_pb2.RevokeGrantRequest(grant_id=before[0].grant_id, document=DOCUMENT), timeout=5
            )
    finally:
        await channel.close()
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(refused.value) == "NOT_AN_ADMINISTRATOR"
    assert node.gateway.store.grants.rows() == before
