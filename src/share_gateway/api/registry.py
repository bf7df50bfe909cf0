"""RegistryService: agencies submit, read and withdraw records."""

from __future__ import annotations

from typing import Any

import grpc

from share_gateway.api.auth import calling_principal
from share_gateway.api.convert import document_from_wire, draft_from_wire, record_to_wire
from share_gateway.api.errors import handles_errors
from share_gateway.gateway import Gateway
from share_gateway.v1 import registry_pb2, registry_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @handles_errors
    async def SubmitRecord(
        self, request: registry_pb2.SubmitRecordRequest, context: Context
    ) -> registry_pb2.SubmitRecordResponse:
        agency = await calling_principal(self.gateway, context)
        stored = await self.gateway.registry.submit(agency, request.request_id, draft_from_wire(request))
        return registry_pb2.SubmitRecordResponse(record=record_to_wire(stored, self.gateway.catalog.catalog))

    @handles_errors
    async def GetRecord(
        self, request: registry_pb2.GetRecordRequest, context: Context
    ) -> registry_pb2.GetRecordResponse:
        agency = await calling_principal(self.gateway, context)
        stored = await self.gateway.registry.get(agency, request.record_id)
        return registry_pb2.GetRecordResponse(record=record_to_wire(stored, self.gateway.catalog.catalog))

    @handles_errors
    async def WithdrawRecord(
        self, request: registry_pb2.WithdrawRecordRequest, context: Context
    ) -> registry_pb2.WithdrawRecordResponse:
        agency = await calling_principal(self.gateway, context)
        document = document_from_wire(request.revoking_document) if request.HasField("revoking_document") else None
        stored = await self.gateway.registry.withdraw(agency, request.record_id, request.reason, document)
        return registry_pb2.WithdrawRecordResponse(record=record_to_wire(stored, self.gateway.catalog.catalog))
