"""Readable renderings of what nodes answer, shared by the CLI and the demo."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway.client import verify_receipt, verify_record_disclosure
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import parse_json
from share_gateway.tables import render_table
from share_gateway.v1 import common_pb2, inquiry_pb2


def rpc_error_view(error: grpc.aio.AioRpcError) -> str:
    """The status, then each field violation or the refusal's reason and legal bases."""
    lines = [f"{error.code().name}: {error.details()}"]
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(bad):
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
        elif detail.Unpack(info):
            lines.append(f"  reason {info.reason}")
            lines += [f"  {rule}: {basis}" for rule, basis in info.metadata.items()]
    return "\n".join(lines)


def value_text(value: common_pb2.FieldValue) -> str:
    case = value.WhichOneof("value")
    if case is None:
        return ""
    if case == "boolean":
        return "true" if value.boolean else "false"
    return str(getattr(value, case))


def record_view(record: common_pb2.Record) -> str:
    rows: list[tuple[str, str]] = [(name, value_text(value)) for name, value in sorted(record.fields.items())]
    rows += [("decided on", record.decided_on), ("disclosed until", record.disclose_until or "—")]
    return f"{record.record_type} {record.record_id} about {record.subject.identifier}\n" + render_table(
        ["field", "value"], rows
    )


def answer_view(answer: inquiry_pb2.InquireResponse, keys: KeyRing | None) -> str:
    """Each disclosed record with its fields, verified against the origin's key when ``keys`` are given."""
    lines = [f"inquiry {answer.inquiry_id}: {len(answer.records)} record(s)"]
    if answer.regions:
        lines.append(
            render_table(
                ["region", "answer", "records", "detail"],
                [
                    (
                        r.region,
                        inquiry_pb2.RegionStatus.Name(r.status).removeprefix("REGION_STATUS_").lower(),
                        r.records,
                        r.detail,
                    )
                    for r in answer.regions
                ],
            )
        )
    for record in answer.records:
        verified = "not checked: no node key given"
        if keys is not None:
            try:
                verify_record_disclosure(record, keys)
                verified = "signature and every value verified"
            except VerificationError as error:
                verified = f"VERIFICATION FAILED: {error}"
        statement = parse_json(record.statement.payload)
        lines.append(
            f"\n{statement['record_type']} from region {statement['origin']}, decided {statement['decided_on']}"
            f" ({verified})"
        )
        lines.append(render_table(["field", "value"], [(f.name, f.value) for f in record.fields]))
    if answer.measures:
        lines.append("\ndisciplinary measures:")
        lines += [f"  {m.name}: {m.description} (because of {', '.join(m.grounds)})" for m in answer.measures]
    lines.append("\nlegal bases:")
    lines += [f"  {c.rule}: {c.legal_basis}" for c in answer.citations]
    if keys is not None:
        event = verify_receipt(answer.receipt, keys)
        lines.append(f"\nsigned receipt verified: logged at {event.at:%Y-%m-%d %H:%M:%S} UTC by node {event.node}")
    return "\n".join(lines)
