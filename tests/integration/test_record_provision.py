"""Submission checks the catalog's providers and documents over real mTLS gRPC (issue 12 item 11): the wrong body is
PERMISSION_DENIED with its reason, a wrong document INVALID_ARGUMENT with the field at fault; neither is stored."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.gateway.grants import enrol, operator_act
from share_gateway.node import Node
from share_gateway.v1 import registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.support import CALLERS, debtor_request, error_reason, field_violations, penalty_request, text


async def test_only_providing_bodies_may_submit_type(node: Node, connect: ChannelFactory) -> None:
    """提供单位: a market regulator granted the debtor list by mistake still cannot provide it; courts do (Fa Shi
    [2017] No. 7 via the catalog's ``providers``)."""
    regulator = CALLERS["regulator"][0].identifier
    since = node.gateway.runtime.clock() - timedelta(days=1)
    grants = [Grant(GrantRole.SUBMIT, "dishonest_judgment_debtor", since)]
    enrol(node.gateway.store, regulator, grants, since, act=operator_act(node.gateway.runtime.region, "test setup"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(debtor_request(), timeout=5)
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(refused.value) == "NOT_A_PROVIDER"
    assert node.gateway.store.count("records") == 0
    court = registry_pb2_grpc.RegistryServiceStub(connect("court"))
    assert (await court.SubmitRecord(debtor_request(), timeout=5)).record.record_type == "dishonest_judgment_debtor"


async def test_document_kind_and_number_are_checked_at_submission(node: Node, connect: ChannelFactory) -> None:
    """A penalty rests on a penalty decision whose number is its ``decision_number`` (SAMR Order 45 Art. 4)."""
    request = penalty_request()
    request.legal_document.kind = "business_licence"
    request.fields["decision_number"].CopyFrom(text("京市监罚〔2026〕119号"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(request, timeout=5)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(refused.value) == {
        "legal_document.kind": (
            "administrative_penalty rests on administrative_penalty_decision, not 'business_licence'"
        ),
        "fields.decision_number": "must be the number of its legal document, '京市监罚〔2026〕118号'",
    }
    assert node.gateway.store.count("records") == 0
