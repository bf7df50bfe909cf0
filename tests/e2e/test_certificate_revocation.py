"""A compromised certificate cut off at a running node, in its own process: `pki revoke` signs the next list,
the node takes it from the file it watches without a restart, and refuses the certificate on every mTLS service
from then on, logging the refusal once per window; an older list put back on disk changes nothing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import pytest

from share_gateway.cli import main
from share_gateway.config import NodeConfig
from share_gateway.crypto.pki import certificate_fingerprint
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind
from share_gateway.store.database import open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import (
    compliance_pb2,
    compliance_pb2_grpc,
    inquiry_pb2,
    inquiry_pb2_grpc,
    peer_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
)
from tests.federation import REGIONS, channel, peer_call, signed_inquiry
from tests.processes import Cluster, federation_cluster
from tests.support import CALLERS, inquiry, penalty_request
from tests.waiting import PATIENCE, PROCESS_TEST_SECONDS

HERE, PEER, _ = REGIONS
pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """One node serving (its peers down: nothing here needs them), polling its revocation list often."""
    settings = {"revocation_poll_seconds": 0.1, "refusal_window_seconds": 3600}
    with federation_cluster(tmp_path / "federation", (HERE,), (HERE,), settings) as running:
        yield running


async def _every_call(layout: Layout, port: int, name: str) -> dict[str, grpc.aio.AioRpcError | None]:
    """One call of each mTLS service, as client ``name``: what each ended with."""
    ended: dict[str, grpc.aio.AioRpcError | None] = {}
    async with channel(layout, port, name) as chan:
        registry = registry_pb2_grpc.RegistryServiceStub(chan)
        compliance = compliance_pb2_grpc.ComplianceServiceStub(chan)
        inquiries = inquiry_pb2_grpc.InquiryServiceStub(chan)
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "Inquire": lambda: inquiries.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=10),
            "GetInquiryHistory": lambda: inquiries.GetInquiryHistory(
                inquiry_pb2.GetInquiryHistoryRequest(), timeout=10
            ),
            "SubmitRecord": lambda: registry.SubmitRecord(penalty_request("revoked-1"), timeout=10),
            "GetRecord": lambda: registry.GetRecord(registry_pb2.GetRecordRequest(record_id="r"), timeout=10),
            "GetCheckpoint": lambda: compliance.GetCheckpoint(compliance_pb2.GetCheckpointRequest(), timeout=10),
            "PeerService.Inquire": lambda: peer_pb2_grpc.PeerServiceStub(chan).Inquire(
                signed_inquiry(layout, PEER), timeout=10
            ),
        }
        for call_name, call in calls.items():
            try:
                await call()
            except grpc.aio.AioRpcError as error:
                ended[call_name] = error
            else:
                ended[call_name] = None
    return ended


def _revoked(ended: dict[str, grpc.aio.AioRpcError | None]) -> bool:
    return all(
        error is not None and error.code() is grpc.StatusCode.UNAUTHENTICATED and "revoked" in (error.details() or "")
        for error in ended.values()
    )


def _logged(layout: Layout, kind: EventKind) -> list[Event]:
    store = Store(open_database(NodeConfig.load(layout.node_config(HERE)).database))
    try:
        events = [Event.from_bytes(body) for _, body in store.events.read(limit=100_000)]
    finally:
        store.database.dispose()
    return [event for event in events if event.kind is kind]


def _refusals(layout: Layout) -> list[Event]:
    return _logged(layout, EventKind.CERTIFICATE_REFUSED)


async def test_a_revoked_bank_certificate_is_refused_on_every_service_after_a_hot_install(cluster: Cluster) -> None:
    layout, port = cluster.layout, cluster.ports[HERE]
    first_list = layout.revocation_list.read_bytes()
    async with channel(layout, port, "bank") as bank:
        await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
            inquiry("loan_underwriting", consent="AUTH-1"), timeout=10
        )
    bank_certificate = layout.client("bank").certificate
    main(["pki", "revoke", str(bank_certificate), "--reason", "key compromise", "--federation", str(layout.root)])
    fingerprint = certificate_fingerprint(bank_certificate.read_bytes())
    peer_node = layout.node_dir(PEER) / "tls.crt"
    stolen = certificate_fingerprint(peer_node.read_bytes())
    main(["pki", "revoke", "--fingerprint", stolen, "--reason", "stolen", "--federation", str(layout.root)])
    deadline = time.monotonic() + PATIENCE
    while not _revoked(ended := await _every_call(layout, port, "bank")):
        assert time.monotonic() < deadline, f"the bank is still served: {ended}"
    # Every service refused it, and the log holds one refusal however many calls were refused.
    await _every_call(layout, port, "bank")
    [refusal] = [e for e in _refusals(layout) if e.actor == CALLERS["bank"][0].uri]
    assert refusal.details["fingerprint"] == fingerprint
    # The list in force at the first refusal: version 2 revoked the bank, and version 3 may have come after it.
    assert refusal.details["revocation_list"] in {"2", "3"}
    # A revoked node certificate is refused on PeerService too; other callers are served as before.
    with pytest.raises(grpc.aio.AioRpcError) as peer_refused:
        await peer_call(layout, port, PEER).Inquire(signed_inquiry(layout, PEER), timeout=10)
    assert peer_refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    async with channel(layout, port, "regulator") as regulator:
        await registry_pb2_grpc.RegistryServiceStub(regulator).SubmitRecord(penalty_request("still-served"), timeout=10)
    # The first list put back where the node watches it is refused: the bank stays cut off.
    layout.revocation_list.write_bytes(first_list)
    cluster.processes[HERE].wait_for("not installed")
    assert _revoked(await _every_call(layout, port, "bank"))
    # Each list taken is in the log; the one put back is an alarm (issue 13, item 5: live trust material).
    installed = [e.details["version"] for e in _logged(layout, EventKind.TRUST_MATERIAL_INSTALLED)]
    assert installed[-1] == "3"
    [alarm] = _logged(layout, EventKind.TRUST_MATERIAL_REFUSED)
    assert (alarm.details["artefact"], alarm.outcome.value) == ("revocation_list", "denied")
