"""AdminService: administrators register institutions and add, change and revoke their grants, each act logged,
and install newer trust material without a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from share_gateway.api.auth import calling_principal
from share_gateway.api.errors import handles_errors
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.policy import GrantRole
from share_gateway.gateway import Gateway
from share_gateway.store.grants import GrantRow
from share_gateway.v1 import admin_pb2, admin_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def _until(present: bool, wire: timestamp_pb2.Timestamp) -> datetime | None:
    """A request's ``until``: absent is no end; one outside the years 1 to 9999 is the caller's error."""
    if not present:
        return None
    try:
        return wire.ToDatetime(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidInput.one("until", "is not a valid timestamp") from error


def grant_to_wire(row: GrantRow) -> admin_pb2.GrantInfo:
    message = admin_pb2.GrantInfo(
        grant_id=row.grant_id,
        institution=row.institution,
        institution_kind=row.institution_kind,
        role=row.grant.role.value,
        scope=row.grant.scope,
    )
    message.valid_from.FromDatetime(row.grant.valid_from)
    if row.grant.valid_until is not None:
        message.valid_until.FromDatetime(row.grant.valid_until)
    if row.revoked_at is not None:
        message.revoked_at.FromDatetime(row.revoked_at)
    return message


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @handles_errors
    async def RegisterInstitution(
        self, request: admin_pb2.RegisterInstitutionRequest, context: Context
    ) -> admin_pb2.RegisterInstitutionResponse:
        admin = await calling_principal(self.gateway, context)
        event = await self.gateway.grants.register(
            admin, request.institution, request.kind, request.name, request.document
        )
        return admin_pb2.RegisterInstitutionResponse(event_id=event.event_id)

    @handles_errors
    async def AddGrant(self, request: admin_pb2.AddGrantRequest, context: Context) -> admin_pb2.AddGrantResponse:
        admin = await calling_principal(self.gateway, context)
        scopes = [(GrantRole.INQUIRE, p) for p in request.inquire] + [(GrantRole.SUBMIT, t) for t in request.submit]
        until = _until(request.HasField("until"), request.until)
        added = await self.gateway.grants.add(admin, request.institution, scopes, until, request.document)
        return admin_pb2.AddGrantResponse(
            grants=[grant_to_wire(row) for row, _ in added], event_ids=[event.event_id for _, event in added]
        )

    @handles_errors
    async def ChangeGrant(
        self, request: admin_pb2.ChangeGrantRequest, context: Context
    ) -> admin_pb2.ChangeGrantResponse:
        admin = await calling_principal(self.gateway, context)
        if request.HasField("until") == request.no_end:
            raise InvalidInput.one("until", "give the grant's new end, or no_end for none (exactly one)")
        until = _until(request.HasField("until"), request.until)
        row, event = await self.gateway.grants.change(admin, request.grant_id, until, request.document)
        return admin_pb2.ChangeGrantResponse(grant=grant_to_wire(row), event_id=event.event_id)

    @handles_errors
    async def RevokeGrant(
        self, request: admin_pb2.RevokeGrantRequest, context: Context
    ) -> admin_pb2.RevokeGrantResponse:
        admin = await calling_principal(self.gateway, context)
        row, event = await self.gateway.grants.revoke(admin, request.grant_id, request.document)
        return admin_pb2.RevokeGrantResponse(grant=grant_to_wire(row), event_id=event.event_id)

    @handles_errors
    async def ListGrants(self, request: admin_pb2.ListGrantsRequest, context: Context) -> admin_pb2.ListGrantsResponse:
        admin = await calling_principal(self.gateway, context)
        rows = await self.gateway.grants.grants(admin, request.institution)
        return admin_pb2.ListGrantsResponse(grants=[grant_to_wire(row) for row in rows])

    @handles_errors
    async def InstallTrustMaterial(
        self, request: admin_pb2.InstallTrustMaterialRequest, context: Context
    ) -> admin_pb2.InstallTrustMaterialResponse:
        admin = await calling_principal(self.gateway, context)
        version, installed = await self.gateway.install_trust_material(admin, request.artefact, request.document)
        return admin_pb2.InstallTrustMaterialResponse(version=version, installed=installed)
