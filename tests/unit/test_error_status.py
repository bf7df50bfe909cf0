"""Each domain error reaches the caller as its gRPC status, with the machine reason where there is one."""

from __future__ import annotations

from google.rpc import code_pb2, error_details_pb2

from share_gateway.api.errors import status_for
from share_gateway.domain.errors import ChangedMeanwhile, InvalidInput, InvalidState, NotFound


def reason_of(status: object) -> str:
    for detail in status.details:  # type: ignore[attr-defined]
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


def test_a_change_made_meanwhile_is_aborted_so_the_caller_reads_again_and_retries() -> None:
    status = status_for(ChangedMeanwhile("listing l-1 was changed meanwhile; read it again"))
    assert (status.code, reason_of(status)) == (code_pb2.ABORTED, "CHANGED_MEANWHILE")


def test_a_step_the_state_does_not_allow_is_a_failed_precondition_with_its_reason() -> None:
    status = status_for(InvalidState("a proposed listing cannot become listed", "ILLEGAL_TRANSITION"))
    assert (status.code, reason_of(status)) == (code_pb2.FAILED_PRECONDITION, "ILLEGAL_TRANSITION")


def test_bad_input_and_missing_things_keep_their_codes() -> None:
    assert status_for(InvalidInput.one("list_name", "not a list")).code == code_pb2.INVALID_ARGUMENT
    assert status_for(NotFound("no listing")).code == code_pb2.NOT_FOUND
    assert status_for(RuntimeError("secret detail")).message == "internal error"
