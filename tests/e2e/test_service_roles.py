"""Roles per service, with every node in its own process: a node certificate calls PeerService only, and only the
very certificate the manifest pins for its region; it never acts as a local agency, requester or officer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.crypto.pki import issue_certificate
from share_gateway.domain.events import EventKind
from share_gateway.domain.principals import Identity, IdentityKind, node_host_name
from share_gateway.domain.records import RecordStatus
from share_gateway.store.database import open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import (
    compliance_pb2,
    compliance_pb2_grpc,
    inquiry_pb2_grpc,
    peer_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
)
from tests.federation import REGIONS, channel, signed_inquiry
from tests.processes import Cluster, federation_cluster, logged
from tests.support import debtor_request, error_reason, inquiry, penalty_request
from tests.waiting import PROCESS_TEST_SECONDS, eventually

HERE, ORIGIN, _ = REGIONS
pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


class Federation:
    """Two running nodes (the third is down: nothing here needs it) and a record of ORIGIN copied to HERE."""

    def __init__(self, cluster: Cluster, record_id: str) -> None:
        self.cluster = cluster
        self.layout = cluster.layout
        self.record_id = record_id
        self.port = cluster.ports[HERE]

    def store(self) -> Store:
        return Store(open_database(NodeConfig.load(self.layout.node_config(HERE)).database))


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with federation_cluster(tmp_path_factory.mktemp("roles"), (HERE, ORIGIN), (HERE, ORIGIN)) as cluster:
        yield Federation(cluster, _published_copy(cluster))


def _published_copy(cluster: Cluster) -> str:
    """A court at ORIGIN records a judgment debtor (shared nationwide); wait until HERE holds its copy."""

    async def submit() -> str:
        async with channel(cluster.layout, cluster.ports[ORIGIN], "court") as court:
            answer = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(
                debtor_request("roles-1"), timeout=10
            )
        record_id = answer.record.record_id
        store = Store(open_database(NodeConfig.load(cluster.layout.node_config(HERE)).database))
        try:
            await eventually(lambda: store.records.get(ORIGIN, record_id) is not None)
        finally:
            store.database.dispose()
        return record_id

    return asyncio.run(submit())


def _channel(port: int, certificate: Path, key: Path, ca: Path) -> grpc.aio.Channel:
    return open_channel(f"localhost:{port}", credentials(certificate, key, ca))


async def _client_calls(chan: grpc.aio.Channel, record_id: str) -> dict[str, grpc.aio.AioRpcError | None]:
    """Every kind of client call a stolen or peer node certificate could try: what each ended with."""
    registry = registry_pb2_grpc.RegistryServiceStub(chan)
    inquiries = inquiry_pb2_grpc.InquiryServiceStub(chan)
    compliance = compliance_pb2_grpc.ComplianceServiceStub(chan)

    async def search() -> object:
        return [page async for page in compliance.SearchEvents(compliance_pb2.SearchEventsRequest(), timeout=10)]

    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "GetRecord": lambda: registry.GetRecord(registry_pb2.GetRecordRequest(record_id=record_id), timeout=10),
        "ProposeListing": lambda: registry.ProposeListing(
            registry_pb2.ProposeListingRequest(
                record_id=record_id,
                list_name="serious_untrustworthy",
                document="京市监〔2026〕9号",
                reason="forged",
                removal_conditions="none",
                remedies="none",
            ),
            timeout=10,
        ),
        "WithdrawRecord": lambda: registry.WithdrawRecord(
            registry_pb2.WithdrawRecordRequest(record_id=record_id, reason="forged"), timeout=10
        ),
        "SubmitRecord": lambda: registry.SubmitRecord(penalty_request("node-as-agency"), timeout=10),
        "Inquire": lambda: inquiries.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=10),
        "GetCheckpoint": lambda: compliance.GetCheckpoint(compliance_pb2.GetCheckpointRequest(), timeout=10),
        "SearchEvents": search,
    }
    ended: dict[str, grpc.aio.AioRpcError | None] = {}
    for name, call in calls.items():
        try:
            await call()
        except grpc.aio.AioRpcError as error:
            ended[name] = error
        else:
            ended[name] = None
    return ended


def _refused_as_no_client(ended: dict[str, grpc.aio.AioRpcError | None]) -> None:
    accepted = [name for name, error in ended.items() if error is None]
    assert not accepted, f"a node certificate was served as a client by {accepted}"
    for name, error in ended.items():
        assert error is not None
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED, (name, error.code(), error.details())
        assert error_reason(error) == "NOT_A_CLIENT", name
        assert "PeerService only" in (error.details() or "")


async def test_a_peer_node_certificate_is_refused_on_every_client_service(federation: Federation) -> None:
    node = federation.layout.node_dir(ORIGIN)
    async with _channel(federation.port, node / "tls.crt", node / "tls.key", federation.layout.ca_certificate) as peer:
        ended = await _client_calls(peer, federation.record_id)
    _refused_as_no_client(ended)
    # The probing is in the log (the first refusal at once; the rest counted in its window).
    await eventually(
        lambda: any(
            e.kind is EventKind.PEER_REFUSED and e.reason == "NOT_A_CLIENT" and e.actor == f"sgw://node/{ORIGIN}"
            for e in logged(federation.layout, HERE)
        )
    )
    store = federation.store()
    try:
        copy = store.records.get(ORIGIN, federation.record_id)
        assert copy is not None
        assert copy.record.status is RecordStatus.ACTIVE
        assert store.count("revocations") == 0  # HERE signed no revocation of a record it did not make
        assert store.count("listings") == 0
    finally:
        store.database.dispose()


async def test_a_reissued_node_certificate_the_manifest_does_not_pin_is_refused_everywhere(
    federation: Federation, tmp_path: Path
) -> None:
    """The CA issues a second certificate for ORIGIN's identity; only the pinned one is ORIGIN's node."""
    layout = federation.layout
    issued = issue_certificate(
        layout.ca(),
        Identity(IdentityKind.NODE, ORIGIN),
        datetime.now(UTC),
        server=True,
        dns_names=["localhost", node_host_name(ORIGIN)],
    )
    (tmp_path / "tls.crt").write_bytes(issued.cert_pem)
    (tmp_path / "tls.key").write_bytes(issued.key_pem)
    async with _channel(federation.port, tmp_path / "tls.crt", tmp_path / "tls.key", layout.ca_certificate) as chan:
        ended = await _client_calls(chan, federation.record_id)
        with pytest.raises(grpc.aio.AioRpcError) as peer_refused:
            await peer_pb2_grpc.PeerServiceStub(chan).Inquire(signed_inquiry(layout, ORIGIN), timeout=10)
    _refused_as_no_client(ended)
    assert peer_refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(peer_refused.value) == "CERTIFICATE_NOT_PINNED"
    assert "pins" in (peer_refused.value.details() or "")


async def test_a_client_certificate_never_calls_peer_service(federation: Federation) -> None:
    async with channel(federation.layout, federation.port, "bank") as bank:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await peer_pb2_grpc.PeerServiceStub(bank).Inquire(signed_inquiry(federation.layout, ORIGIN), timeout=10)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(refused.value) == "PEER_NOT_ADMITTED"
