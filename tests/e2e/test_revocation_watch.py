"""Revocations pushed across regions: each node in its own process, a requester watching at another node than the
record's origin with `share-gateway inquire watch-revocations`.

Source of the rule: 2025 No. 22 (DOMAIN.md, "Credit repair"): the result reaches every platform at the same
time; DESIGN.md section 7: a signed revocation goes to every peer and every requester that received the record.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc
from tests.federation import REGIONS, channel
from tests.processes import Cluster, Process, federation_cluster, logged
from tests.support import days_ago, debtor_request, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

ORIGIN, WATCHED, _ = REGIONS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # three nodes, each a process of its own


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with federation_cluster(tmp_path / "federation") as running:
        yield running


async def test_record_revoked_at_its_origin_reaches_a_requester_watching_at_another_node(cluster: Cluster) -> None:
    """The court's debtor record is shared nationwide; the bank receives it at another region's node and watches
    there; the court withdraws it at the origin; the origin's signed revocation travels to that node and is
    pushed to the bank, which acknowledges it (DOMAIN.md "Credit repair"; DESIGN.md 7)."""
    layout, ports = cluster.layout, cluster.ports
    async with channel(layout, ports[ORIGIN], "court") as court:
        record_id = (
            await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(debtor_request(), timeout=10)
        ).record.record_id

    # The origin's courier publishes it to the other regions; then the bank receives it at the watched node.
    wait_until(lambda: any(e.kind.value == "record_received" for e in logged(layout, WATCHED)))
    async with channel(layout, ports[WATCHED], "bank") as bank:
        request = inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",))
        answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(request, timeout=10)
    assert len(answer.records) == 1
    bank_files = layout.client("bank")
    watcher = Process(
        [
            sys.executable,
            "-m",
            "share_gateway.cli",
            "inquire",
            "watch-revocations",
            "--node",
            f"localhost:{ports[WATCHED]}",
            "--identity",
            str(bank_files.directory),
            "--count",
            "1",
            "--ack",
            "--node-key",
            f"{ORIGIN}={layout.node_dir(ORIGIN) / 'signing.pub'}",
        ],
        ready="revocation(s)",
    )
    try:
        async with channel(layout, ports[ORIGIN], "court") as court:
            await registry_pb2_grpc.RegistryServiceStub(court).WithdrawRecord(
                registry_pb2.WithdrawRecordRequest(
                    record_id=record_id,
                    reason="enforcement basis set aside on retrial",
                    revoking_document=pb.LegalDocument(
                        number="(2026)京01民再12号",
                        issuer="北京市第一中级人民法院",
                        kind="court_decision",
                        issued_on=days_ago(1),
                        effective_on=days_ago(1),
                    ),
                ),
                timeout=10,
            )
        assert "origin signatures verified" in watcher.wait_ready()
        watcher.wait_for(record_id)
        watcher.wait_for("acknowledged through position")
        assert watcher.popen.wait(timeout=60) == 0
    finally:
        watcher.stop()
    kinds = [e.kind.value for e in logged(layout, WATCHED)]
    assert "revocations_acknowledged" in kinds
    async with channel(layout, ports[WATCHED], "bank") as bank:
        listed = await inquiry_pb2_grpc.InquiryServiceStub(bank).ListRevocations(
            inquiry_pb2.ListRevocationsRequest(), timeout=10
        )
    assert len(listed.revocations) == 1
