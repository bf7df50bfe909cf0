"""An officer's export of any size streams in pieces while the node serves others; proofs refuse bad ranges."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.ledger.bundle import verify_bundle
from share_gateway.node import Node
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, inquiry_pb2_grpc
from tests.integration.conftest import Connect
from tests.support import COMPANY, REGION, field_violations, inquiry
from tests.waiting import PATIENCE

ORIGIN = f"share-gateway/node/{REGION}"
MANY = 10_050
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def logged_inquiry(i: int) -> Event:
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        NOW + timedelta(microseconds=i),
        REGION,
        "sgw://institution/91110000MA0000001L",
        Outcome.ALLOWED,
        subject=Subject(SubjectKind.LEGAL_ENTITY, COMPANY),
        purpose="loan_underwriting",
    )


async def fill_log(node: Node, count: int) -> None:
    """``count`` events appended and integrated under a published checkpoint."""
    for start in range(0, count, 2_000):
        node.gateway.store.append([logged_inquiry(i) for i in range(start, min(start + 2_000, count))])
    expected, deadline = node.gateway.store.count("events"), time.monotonic() + PATIENCE
    # A step integrates a batch at a time, beside the node's own sequencer loop: step until one covers them all.
    while True:
        await node.gateway.sequencer.step(force=True)
        if _covers(node, expected):
            return
        assert time.monotonic() < deadline, f"no checkpoint covered {expected} events within {PATIENCE} s"


def _covers(node: Node, size: int) -> bool:
    latest = node.gateway.store.log.latest_checkpoint()
    return latest is not None and latest.size >= size


def officer(dial: Connect) -> compliance_pb2_grpc.ComplianceServiceAsyncStub:
    return compliance_pb2_grpc.ComplianceServiceStub(dial("officer"))


async def test_an_export_of_ten_thousand_events_streams_in_pieces_while_others_are_served(
    any_node: Node, dial: Connect, federation: Layout
) -> None:
    await fill_log(any_node, MANY)
    stream = officer(dial).StreamExportBundle(compliance_pb2.StreamExportBundleRequest(), timeout=300)
    pieces: list[compliance_pb2.StreamExportBundleResponse] = [await stream.read()]  # type: ignore[list-item]
    # Mid-export, another caller is answered: the export holds up neither the loop nor the store.
    answer = await inquiry_pb2_grpc.InquiryServiceStub(dial("bank")).Inquire(
        inquiry("loan_underwriting", consent="AUTH-1"), timeout=30
    )
    assert answer.inquiry_id
    while (piece := await stream.read()) is not grpc.aio.EOF:
        pieces.append(piece)  # type: ignore[arg-type]
    assert len(pieces) >= 3
    assert all(len(p.data) <= 1 << 20 for p in pieces)
    assert [p.events for p in pieces[:-1]] == [0] * (len(pieces) - 1)
    verified = verify_bundle(b"".join(p.data for p in pieces), KeyRing([federation.node_verifying_key(REGION)]), ORIGIN)
    assert len(verified.events) == pieces[-1].events >= MANY


async def test_a_streamed_export_honours_its_limit_and_filter(
    any_node: Node, dial: Connect, federation: Layout
) -> None:
    await fill_log(any_node, 1_200)
    request = compliance_pb2.StreamExportBundleRequest(
        filter=compliance_pb2.EventFilter(subject_identifier=COMPANY), limit=1_001
    )
    pieces = [p async for p in officer(dial).StreamExportBundle(request, timeout=60)]
    verified = verify_bundle(b"".join(p.data for p in pieces), KeyRing([federation.node_verifying_key(REGION)]), ORIGIN)
    assert len(verified.events) == pieces[-1].events == 1_001


async def invalid(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    return raised.value


async def test_out_of_range_indexes_and_reversed_sizes_are_invalid_argument(any_node: Node, dial: Connect) -> None:
    await fill_log(any_node, 10)
    await fill_log(any_node, 10)
    stub = officer(dial)
    for index in (2**63, 2**64 - 1, 20):
        error = await invalid(stub.GetInclusionProof(compliance_pb2.GetInclusionProofRequest(leaf_index=index)))
        assert "leaf_index" in field_violations(error)
    error = await invalid(
        stub.GetInclusionProof(compliance_pb2.GetInclusionProofRequest(leaf_index=1, tree_size=2**63))
    )
    assert "tree_size" in field_violations(error)
    error = await invalid(stub.GetConsistencyProof(compliance_pb2.GetConsistencyProofRequest(from_size=20, to_size=10)))
    assert "from_size" in field_violations(error)
    error = await invalid(stub.GetConsistencyProof(compliance_pb2.GetConsistencyProofRequest(from_size=2**63)))
    assert "from_size" in field_violations(error)
    # In range, the proofs are still given.
    proof = await stub.GetConsistencyProof(compliance_pb2.GetConsistencyProofRequest(from_size=10, to_size=20))
    assert proof.proof


@pytest.mark.parametrize(("field", "value"), [("outcome", "refused"), ("outcome", "DENIED"), ("kind", "inquiries")])
async def test_unknown_filter_values_are_refused(any_node: Node, dial: Connect, field: str, value: str) -> None:
    stub = officer(dial)
    wanted = compliance_pb2.EventFilter()
    setattr(wanted, field, value)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        _ = [m async for m in stub.SearchEvents(compliance_pb2.SearchEventsRequest(filter=wanted), timeout=10)]
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert f"filter.{field}" in field_violations(raised.value)
    error = await invalid(stub.ExportBundle(compliance_pb2.ExportBundleRequest(filter=wanted), timeout=10))
    assert f"filter.{field}" in field_violations(error)
