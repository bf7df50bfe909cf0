"""A consent crosses regions with the inquiry, every node in its own process: each region that holds records
verifies it itself (not on the asking node's word), and a subject's withdrawal reaches every region, which
refuses the consent from then on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from share_gateway.domain.events import EventKind, Outcome
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc
from tests.consents import consent_to_wire, signed_consent
from tests.federation import OK, REGIONS, channel, peer_call, seed, signed_inquiry, statuses
from tests.processes import Cluster, federation_cluster, logged
from tests.support import CALLERS, entity, error_reason, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, eventually

ASKER, PEER, OTHER = REGIONS
BANK = CALLERS["bank"][0].uri

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with federation_cluster(tmp_path / "federation") as running:
        yield running


def federated_with(consent: inquiry_pb2.Consent) -> inquiry_pb2.InquireRequest:
    request = inquiry("loan_underwriting")
    request.consent.CopyFrom(consent)
    request.scope = inquiry_pb2.INQUIRY_SCOPE_FEDERATION
    return request


def consent_ids(cluster: Cluster, region: str, outcome: Outcome) -> list[str]:
    return [
        e.details.get("consent_id", "")
        for e in logged(cluster.layout, region)
        if e.kind is EventKind.INQUIRY and e.outcome is outcome
    ]


async def test_every_region_verifies_the_consent_and_refuses_it_once_withdrawn(cluster: Cluster) -> None:
    layout = cluster.layout
    await seed(layout, cluster.ports)
    signed = signed_consent(layout.client("company"), entity(), BANK)
    async with channel(layout, cluster.ports[ASKER], "bank") as bank:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
            federated_with(consent_to_wire(signed)), timeout=30
        )
    assert statuses(answer) == {ASKER: OK, PEER: OK, OTHER: OK}
    assert len(answer.records) == 3
    # Each region logged the consent it verified itself (the signer is only known from its own check).
    for region in REGIONS:
        assert consent_ids(cluster, region, Outcome.ALLOWED) == [signed.consent_id]
        [allowed] = [e for e in logged(layout, region) if e.kind is EventKind.INQUIRY]
        assert allowed.details["consent_signer"] == "subject"

    # A peer does not take the asking node's word: a consent for another purpose, forwarded by a genuine node.
    elsewhere = signed_consent(layout.client("company"), entity(), BANK, ("utility_connection",))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, cluster.ports[PEER], ASKER).Inquire(
            signed_inquiry(layout, ASKER, consent=elsewhere), timeout=10
        )
    assert error_reason(raised.value) == "CONSENT_OTHER_PURPOSE"

    # The company withdraws the consent at the asking node; the withdrawal reaches every peer.
    async with channel(layout, cluster.ports[ASKER], "company") as company:
        revoked = await inquiry_pb2_grpc.InquiryServiceStub(company).RevokeConsent(
            inquiry_pb2.RevokeConsentRequest(consent_id=signed.consent_id), timeout=10
        )
    assert revoked.consent.HasField("revoked_at")

    def withdrawn_everywhere() -> bool:
        return all(
            any(e.kind is EventKind.CONSENT_REVOCATION_RECEIVED for e in logged(layout, region))
            for region in (PEER, OTHER)
        )

    await eventually(withdrawn_everywhere)
    # The peer refuses it itself, even forwarded by a node that would still vouch for it...
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, cluster.ports[PEER], ASKER).Inquire(
            signed_inquiry(layout, ASKER, consent=signed), timeout=10
        )
    assert error_reason(raised.value) == "CONSENT_REVOKED"
    # ...and so does every region asked directly, and the federated inquiry as a whole.
    async with channel(layout, cluster.ports[OTHER], "bank") as bank:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(federated_with(consent_to_wire(signed)), timeout=30)
    assert error_reason(raised.value) == "CONSENT_REVOKED"
