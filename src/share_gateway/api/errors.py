"""Domain errors become gRPC statuses here and nowhere else.

Details follow google.rpc: ``BadRequest`` with field violations for bad
input, ``ErrorInfo`` with a machine reason (and the citations that refused)
for refusals. A database outage (``store.outages``) is UNAVAILABLE, which
clients retry, and is logged once per kind and window (``gateway.failures``),
not once per call. An unexpected error is INTERNAL and never echoes its text.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from share_gateway.domain.errors import (
    ChangedMeanwhile,
    Conflict,
    DomainError,
    Exhausted,
    InvalidInput,
    InvalidState,
    NotFound,
    Refused,
    Unauthenticated,
    Unavailable,
)
from share_gateway.gateway.failures import database_outage
from share_gateway.store.outages import Outage, outage_of

ERROR_DOMAIN = "share-gateway"
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
# How long a client waits before it retries a call its node's database failed (google.rpc.RetryInfo).
DATABASE_RETRY_SECONDS = 1.0
log = logging.getLogger(__name__)
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_for(error: Exception) -> status_pb2.Status:
    """The google.rpc.Status a domain error is sent as."""
    if isinstance(error, InvalidInput):
        violations = error.violations
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in violations
            ]
        )
        return status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=str(error), details=[_pack(bad)])
    if isinstance(error, Refused):
        info = error_details_pb2.ErrorInfo(
            reason=str(error.reason),
            domain=ERROR_DOMAIN,
            metadata={c.rule: c.legal_basis for c in error.citations},
        )
        return status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message=error.message, details=[_pack(info)])
    if isinstance(error, Exhausted):
        return _exhausted(error)
    if isinstance(error, NotFound):
        return status_pb2.Status(code=code_pb2.NOT_FOUND, message=str(error))
    if isinstance(error, ChangedMeanwhile):
        info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN)
        return status_pb2.Status(code=code_pb2.ABORTED, message=str(error), details=[_pack(info)])
    if isinstance(error, InvalidState):
        details = (
            [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata))]
            if error.reason
            else []
        )
        return status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message=str(error), details=details)
    if isinstance(error, Conflict):
        return status_pb2.Status(code=code_pb2.ALREADY_EXISTS, message=str(error))
    if isinstance(error, Unauthenticated):
        return status_pb2.Status(code=code_pb2.UNAUTHENTICATED, message=str(error))
    if isinstance(error, Unavailable):
        info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN)
        return status_pb2.Status(code=code_pb2.UNAVAILABLE, message=str(error), details=[_pack(info)])
    outage = outage_of(error)
    if outage is not None:
        return _database_unavailable(outage)
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")


def _database_unavailable(outage: Outage) -> status_pb2.Status:
    """UNAVAILABLE: the call may succeed if retried (here, or at another replica)."""
    info = error_details_pb2.ErrorInfo(reason=DATABASE_UNAVAILABLE, domain=ERROR_DOMAIN, metadata={"outage": outage})
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.FromNanoseconds(round(DATABASE_RETRY_SECONDS * 1e9))
    message = f"the node's database is {outage}: retry"
    return status_pb2.Status(code=code_pb2.UNAVAILABLE, message=message, details=[_pack(info), _pack(retry)])


def _exhausted(error: Exhausted) -> status_pb2.Status:
    """RESOURCE_EXHAUSTED: which quota (QuotaFailure), when to retry (RetryInfo), and the machine reason."""
    failure = error_details_pb2.QuotaFailure(
        violations=[error_details_pb2.QuotaFailure.Violation(subject=error.subject, description=error.message)]
    )
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.FromNanoseconds(max(1, round(error.retry_after * 1e9)))
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN)
    return status_pb2.Status(
        code=code_pb2.RESOURCE_EXHAUSTED, message=error.message, details=[_pack(failure), _pack(retry), _pack(info)]
    )


async def abort(error: Exception, where: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
    """Abort the call with the status ``error`` maps to; an unexpected error is logged, never echoed, and a
    database outage is counted (one line per kind and window)."""
    if not isinstance(error, DomainError) and database_outage(error, where) is None:
        log.error("unexpected error in %s", where, exc_info=error)
    await context.abort_with_status(rpc_status.to_status(status_for(error)))


def handles_errors(handler: Handler) -> Handler:
    """Turn what a servicer method raises into the right status with rich details."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await handler(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes a status
            await abort(error, handler.__qualname__, context)
        raise AssertionError("abort_with_status raises")

    return wrapper  # type: ignore[return-value]


StreamHandler = TypeVar("StreamHandler", bound=Callable[..., AsyncIterator[Any]])


def streams_errors(handler: StreamHandler) -> StreamHandler:
    """``handles_errors`` for server-streaming methods."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        try:
            async for message in handler(self, request, context):
                yield message
        except grpc.aio.AbortError:
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes a status
            await abort(error, handler.__qualname__, context)

    return wrapper  # type: ignore[return-value]
