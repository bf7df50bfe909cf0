"""The statement's digest count does not tell which optional fields a record has (issue 11, weakness 9)."""

from __future__ import annotations

from share_gateway.crypto.disclosure import RecordStatement
from share_gateway.federation.wire import disclosure_from_wire
from share_gateway.v1 import registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.support import penalty_request

OPTIONAL = ("violation_facts", "penalty_amount")


async def test_statements_of_one_type_list_as_many_digests_whatever_fields_it_has(connect: ChannelFactory) -> None:
    registry = registry_pb2_grpc.RegistryServiceStub(connect("regulator"))
    full = penalty_request("full")
    bare = penalty_request("bare")
    for name in OPTIONAL:
        del bare.fields[name]
    counts = {}
    for request in (full, bare):
        record = (await registry.SubmitRecord(request, timeout=5)).record
        disclosure = disclosure_from_wire(record.disclosure)
        statement = RecordStatement.from_bytes(disclosure.statement.payload)
        assert {o.name for o in disclosure.fields} == set(request.fields), "the submitter sees every real field"
        counts[request.request_id] = len(statement.digests)
    assert counts == {"full": 8, "bare": 8}, "administrative_penalty has 8 fields in the catalog"
