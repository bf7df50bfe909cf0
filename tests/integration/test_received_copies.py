"""A record's maker is (origin region, agency): a copy received from a peer is nobody's to read with its salts,
change, list or revoke at the receiving node; only its origin can."""

from __future__ import annotations

import pytest

from share_gateway.devkit import Layout
from share_gateway.domain.errors import NotFound
from share_gateway.domain.policy import Principal
from share_gateway.domain.records import RecordStatus
from share_gateway.gateway import Gateway
from share_gateway.gateway.runtime import node_principal
from share_gateway.v1 import registry_pb2_grpc
from tests.federation import Nodes, channel
from tests.support import CALLERS, debtor_request
from tests.waiting import eventually

ORIGIN, HERE = "110000", "310000"


async def _refused_everything(gateway: Gateway, caller: Principal, record_id: str) -> None:
    with pytest.raises(NotFound):
        await gateway.registry.get(caller, record_id)
    with pytest.raises(NotFound):
        await gateway.listings.propose(
            caller, record_id, "serious_untrustworthy", "京法〔2026〕1号", "forged", "paid in full", "pay"
        )
    with pytest.raises(NotFound):
        await gateway.registry.withdraw(caller, record_id, "forged", None)


async def test_no_caller_of_the_receiving_node_acts_on_a_received_copy(layout: Layout, nodes: Nodes) -> None:
    async with channel(layout, nodes[ORIGIN], "court") as court:
        submitted = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(debtor_request("copy-1"), timeout=5)
    record_id = submitted.record.record_id
    gateway = nodes[HERE].gateway
    await eventually(lambda: gateway.store.records.get(ORIGIN, record_id) is not None)
    # The copy names the origin's node as its maker; and the court's own identity is the same at every node.
    as_stored = node_principal(ORIGIN)
    same_agency_here = await gateway.runtime.principal(CALLERS["court"][0])
    for caller in (as_stored, same_agency_here):
        await _refused_everything(gateway, caller, record_id)
    copy = gateway.store.records.get(ORIGIN, record_id)
    assert copy is not None
    assert copy.record.status is RecordStatus.ACTIVE
    assert gateway.store.revocations.get(ORIGIN, record_id) is None  # HERE signed no revocation of it
    assert gateway.store.count("listings") == 0
    # At its origin the same agency still acts on it.
    origin = nodes[ORIGIN].gateway
    court_there = await origin.runtime.principal(CALLERS["court"][0])
    assert (await origin.registry.get(court_there, record_id)).record.record_id == record_id
