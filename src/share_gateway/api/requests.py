"""Every request through one door: decoded and checked here, before any servicer runs.

grpcio decodes a request before the servicer is called, and a request that
does not decode (corrupt protobuf, invalid UTF-8 in a string) then fails as
UNKNOWN with Python's exception text and a traceback in the server's log.
So the methods are registered with raw bytes in, and each request is decoded
and checked by ``convert.request_from_wire``: what fails is INVALID_ARGUMENT
with a short message and field violations, and is logged as a refused call
(aggregated per caller and window, so refusing cannot flood the log and a
bad request cannot avoid it). Servicers stay as they are: thin, typed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from grpc_status import rpc_status

from share_gateway.api.auth import certified_caller
from share_gateway.api.convert import request_from_wire
from share_gateway.api.errors import abort, status_for
from share_gateway.api.in_flight import CallsInFlight
from share_gateway.domain.errors import InvalidInput, Unauthenticated, Unavailable
from share_gateway.domain.events import EventKind
from share_gateway.gateway import Gateway

Context = grpc.aio.ServicerContext[Any, Any]
# The kind a refused request is logged as: an inquiry's own kind, so an officer finds it among inquiries.
REFUSED_AS = {
    "share_gateway.v1.InquiryService.Inquire": EventKind.INQUIRY,
    "share_gateway.v1.InquiryService.GetInquiryHistory": EventKind.INQUIRY_HISTORY,
}
REFUSED_REASON = "INVALID_ARGUMENT"
# What a node restored behind what its witnesses cosigned still answers (``gateway.restore``): the public catalog,
# its administrators, and a peer's question of what it cosigned (its own witness state is not in doubt to the peer).
SERVED_WHILE_RESTORE_UNACKNOWLEDGED = frozenset(
    {
        "share_gateway.v1.CatalogService",
        "share_gateway.v1.AdminService",
        "share_gateway.v1.PeerService.GetWitnessed",
    }
)


async def refuse(gateway: Gateway, method: MethodDescriptor, error: InvalidInput, context: Context) -> None:
    """Log the refused request (if a certificate names the caller) and end the call INVALID_ARGUMENT."""
    try:
        caller = certified_caller(context)
    except Unauthenticated:
        caller = None
    if caller is not None:
        kind = REFUSED_AS.get(method.full_name, EventKind.REQUEST_REFUSED)
        try:
            await gateway.refusals.refused(kind, caller.identity, REFUSED_REASON, str(error), call=method.name)
        except Exception as failure:  # noqa: BLE001 - a refusal that cannot be logged (the database away) is not sent
            await abort(failure, method.full_name, context)
    await context.abort_with_status(rpc_status.to_status(status_for(error)))


async def enter(calls: CallsInFlight, context: Context, gateway: Gateway, method: MethodDescriptor) -> None:
    """Count the call in, or end it UNAVAILABLE if the node is stopping or refuses to serve after a restore."""
    try:
        if gateway.restore is not None and not _served_while_restore_unacknowledged(method):
            gateway.restore.require_serving()
        calls.enter()
    except Unavailable as error:
        await context.abort_with_status(rpc_status.to_status(status_for(error)))


def _served_while_restore_unacknowledged(method: MethodDescriptor) -> bool:
    served = SERVED_WHILE_RESTORE_UNACKNOWLEDGED
    return method.containing_service.full_name in served or method.full_name in served


def _handler(
    gateway: Gateway, servicer: object, method: MethodDescriptor, calls: CallsInFlight
) -> grpc.RpcMethodHandler[Any, Any]:
    request_type = message_factory.GetMessageClass(method.input_type)
    response_type = message_factory.GetMessageClass(method.output_type)
    behaviour: Callable[..., Any] = getattr(servicer, method.name)
    if method.client_streaming:
        raise NotImplementedError(f"{method.full_name}: no method of the contract streams requests")

    if method.server_streaming:

        async def stream(data: bytes, context: Context) -> AsyncIterator[Any]:
            await enter(calls, context, gateway, method)
            try:
                try:
                    request = request_from_wire(request_type, data)
                except InvalidInput as error:
                    await refuse(gateway, method, error, context)
                    return
                async for response in behaviour(request, context):
                    yield response
            finally:
                calls.leave()

        return grpc.unary_stream_rpc_method_handler(stream, response_serializer=response_type.SerializeToString)

    async def unary(data: bytes, context: Context) -> Any:
        await enter(calls, context, gateway, method)
        try:
            try:
                request = request_from_wire(request_type, data)
            except InvalidInput as error:
                await refuse(gateway, method, error, context)
                raise AssertionError("abort_with_status raises") from error
            return await behaviour(request, context)
        finally:
            calls.leave()

    return grpc.unary_unary_rpc_method_handler(unary, response_serializer=response_type.SerializeToString)


def add_checked_service(
    server: grpc.aio.Server, gateway: Gateway, service: ServiceDescriptor, servicer: object, calls: CallsInFlight
) -> None:
    """Serve ``servicer``'s methods of ``service`` with every request decoded and checked in one place, each call
    counted in ``calls`` (a stopping node refuses new ones and lets those counted finish)."""
    handlers = {method.name: _handler(gateway, servicer, method, calls) for method in service.methods}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
    server.add_registered_method_handlers(service.full_name, handlers)
