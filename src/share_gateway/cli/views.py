"""Readable renderings of what nodes answer, shared by the commands and the demo.

Each view is a rich renderable: lines and tables built with ``console.line`` and ``console.table``, so every value
a node sent is inert by the time it reaches the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from rich.console import Group, RenderableType

from share_gateway.cli.console import line, table
from share_gateway.cli.repair_views import notice_view
from share_gateway.client import verify_receipt, verify_record_disclosure, verify_revocation
from share_gateway.crypto.errors import MalformedPayload, VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.repair import Revocation
from share_gateway.federation.wire import envelope_from_wire
from share_gateway.v1 import common_pb2, inquiry_pb2

if TYPE_CHECKING:
    from share_gateway.store.deliveries import QueuedDelivery


def rpc_error_view(error: grpc.aio.AioRpcError, lead: str = "") -> Group:
    """The status after ``lead``, then each field violation or the refusal's reason and legal bases."""
    lines = [f"{lead}{error.code().name}: {error.details()}"]
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(bad):
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
        elif detail.Unpack(info):
            lines.append(f"  reason {info.reason}")
            lines += [f"  {rule}: {basis}" for rule, basis in info.metadata.items()]
    return Group(*map(line, lines))


def value_text(value: common_pb2.FieldValue) -> str:
    case = value.WhichOneof("value")
    if case is None:
        return ""
    if case == "boolean":
        return "true" if value.boolean else "false"
    return str(getattr(value, case))


def record_view(record: common_pb2.Record, lead: str = "") -> Group:
    """A record's type, id and subject after ``lead``, then its fields and disclosure dates."""
    rows: list[tuple[str, str]] = [(name, value_text(value)) for name, value in sorted(record.fields.items())]
    rows += [
        ("decided on", record.decided_on or "— (no decision)"),
        ("period from", record.period_start or "— (the conduct goes on)"),
        ("published until", record.publish_until or "—"),
        ("shared until", record.share_until or "—"),
    ]
    if record.HasField("withdrawal"):
        late = " (LATE)" if record.withdrawal.late else ""
        rows.append(("withdrawn", f"{record.withdrawal.withdrawn_on}, due {record.withdrawal.due or '—'}{late}"))
    return Group(
        line(f"{lead}{record.record_type} {record.record_id} about {record.subject.identifier}"),
        table(["field", "value"], rows),
    )


def _period_text(statement: dict[str, Any]) -> str:
    """How a statement's clock started: its decision date, else the day its period runs from."""
    if statement.get("decided_on"):
        return f"decided {statement['decided_on']}"
    return f"no decision, period from {statement.get('period_start') or '— (the conduct goes on)'}"


def answer_view(answer: inquiry_pb2.InquireResponse, keys: KeyRing | None) -> Group:
    """Each disclosed record with its fields, verified against the origin's key when ``keys`` are given."""
    parts: list[RenderableType] = [line(f"inquiry {answer.inquiry_id}: {len(answer.records)} record(s)")]
    if answer.regions:
        parts.append(
            table(
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
    disputes = {
        (d.origin_region, d.record_id): f" UNDER DISPUTE, answer due {d.answer_due}"
        + (" (OVERDUE)" if d.overdue else "")
        for d in answer.disputed
    }
    for record in answer.records:
        verified = "not checked: no node key given"
        if keys is not None:
            try:
                verify_record_disclosure(record, keys)
                verified = "signature and every value verified"
            except VerificationError as error:
                verified = f"VERIFICATION FAILED: {error}"
        statement = parse_json(record.statement.payload)
        disputed = disputes.get((statement["origin"], statement["record_id"]), "")
        parts += [
            line(""),
            line(
                f"{statement['record_type']} from region {statement['origin']}, {_period_text(statement)}"
                f" ({verified}){disputed}"
            ),
            table(["field", "value"], [(f.name, f.value) for f in record.fields]),
        ]
    if answer.lists:
        parts += [line(""), line("lists in force:")]
        parts += [
            line(
                f"  {m.list_name}: decided in region {m.origin_region} by {m.decision_reference or '—'}"
                f" on {m.listed_on or '—'}, until {m.listed_until or 'no fixed end'}"
            )
            for m in answer.lists
        ]
    for information_only, title in ((False, "disciplinary measures:"), (True, "measures others apply (information):")):
        shown = [m for m in answer.measures if m.information_only is information_only]
        if shown:
            parts += [line(""), line(title)]
            parts += [
                line(
                    f"  {m.name}: {m.description} (by {m.implementing_body or '—'}; because of {', '.join(m.grounds)})"
                )
                for m in shown
            ]
    parts += [line(""), line("legal bases:")]
    parts += [line(f"  {c.rule}: {c.legal_basis}") for c in answer.citations]
    if keys is not None:
        event = verify_receipt(answer.receipt, keys)
        parts += [
            line(""),
            line(f"signed receipt verified: logged at {event.at:%Y-%m-%d %H:%M:%S} UTC by node {event.node}"),
        ]
    return Group(*parts)


def listing_state_text(state: common_pb2.ListingState.ValueType) -> str:
    return common_pb2.ListingState.Name(state).removeprefix("LISTING_STATE_").lower()


def listing_view(listing: common_pb2.Listing) -> Group:
    """One listing: the decision it states, its deadlines, and every step with its document."""
    decision = listing.decision
    rows: list[tuple[str, str]] = [
        ("list", listing.list_name),
        ("record", f"{listing.record_type} {listing.record_id} ({listing.origin_region})"),
        ("subject", listing.subject.identifier),
        ("reason", decision.reason),
        ("basis", decision.basis),
        ("measures", ", ".join(decision.measures) or "—"),
        ("removal", decision.removal_conditions),
        ("remedies", decision.remedies),
    ]
    dates = (
        ("notice due", listing.notice_due),
        ("objection due", listing.objection_due),
        ("review due", listing.review_due),
        ("listed on", listing.listed_on),
        ("ends on", listing.ends_on),
        ("removal due", listing.removal_due),
    )
    rows += [(name, day) for name, day in dates if day]
    if listing.removal_cause:
        rows.append(("removed for", listing.removal_cause.replace("_", " ")))
    if listing.overdue:
        rows.append(("OVERDUE", f"the {listing.overdue} step is late"))
    steps = [
        f"    {step.at.ToDatetime():%Y-%m-%d %H:%M} {listing_state_text(step.state):<9} {step.actor}"
        f" {step.document or '—'}: {step.reason}"
        for step in listing.history
    ]
    header = f"listing {listing.listing_id}: {listing_state_text(listing.state)}"
    # The repair notice served with the decision (两书同达), where the listing carries one.
    notice = [notice_view(listing.repair_notice)] if listing.HasField("repair_notice") else []
    return Group(
        line(header),
        *(line(f"  {name:<13} {value}") for name, value in rows),
        *notice,
        line("  history"),
        *map(line, steps),
    )


def consents_view(consents: Sequence[inquiry_pb2.ConsentSummary]) -> Group:
    """A subject's consents: to whom, for what, until when, and whether withdrawn."""
    parts: list[RenderableType] = [line(f"{len(consents)} consent(s)")]
    if consents:
        parts.append(
            table(
                ["consent", "requester", "purposes", "valid until", "signed by", "withdrawn"],
                [
                    (
                        c.consent_id,
                        c.requester,
                        ", ".join(c.purposes),
                        c.not_after.ToDatetime().date().isoformat(),
                        "requester (attested)" if c.attested else "subject",
                        c.revoked_at.ToDatetime().isoformat(timespec="seconds") if c.HasField("revoked_at") else "",
                    )
                    for c in consents
                ],
            )
        )
    return Group(*parts)


def listings_view(listings: Sequence[common_pb2.Listing]) -> Group:
    parts: list[RenderableType] = [line(f"{len(listings)} listing(s)")]
    if listings:
        parts.append(
            table(
                ["listing", "list", "record", "state", "next date", "overdue"],
                [
                    (
                        x.listing_id,
                        x.list_name,
                        x.record_id,
                        listing_state_text(x.state),
                        x.ends_on or x.review_due or x.objection_due or x.notice_due,
                        x.overdue or "",
                    )
                    for x in listings
                ],
            )
        )
    return Group(*parts)


def revocations_view(entries: Sequence[inquiry_pb2.RevocationEntry], keys: KeyRing | None) -> Group:
    """Each revocation with the origin's signature checked when ``keys`` are given, and where to read on from."""
    rows = []
    for entry in entries:
        envelope = envelope_from_wire(entry.revocation)
        if keys is not None:
            revocation = verify_revocation(entry.revocation, keys)
        else:
            try:
                revocation = Revocation.from_bytes(envelope.payload)
            except (ValueError, KeyError, TypeError) as error:
                raise MalformedPayload(f"revocation at position {entry.position} does not parse: {error}") from error
        rows.append(
            (
                entry.position,
                revocation.record_id,
                revocation.record_type,
                revocation.origin_region,
                revocation.status.value,
                f"{revocation.at:%Y-%m-%d %H:%M}",
                revocation.reason,
            )
        )
    checked = "origin signatures verified" if keys is not None else "not checked: no node key given"
    parts: list[RenderableType] = [line(f"{len(entries)} revocation(s) ({checked})" if entries else "0 revocation(s)")]
    if rows:
        parts.append(table(["position", "record", "type", "origin", "status", "at (UTC)", "reason"], rows))
        parts.append(line(f"delete these records; next time read on with --after {entries[-1].position}"))
    return Group(*parts)


def outbox_view(deliveries: Sequence[QueuedDelivery], dead_only: bool) -> Group:
    """Undelivered deliveries: a dead letter with why and when, a pending one with what it waits for."""
    what = "dead letter(s)" if dead_only else "undelivered deliveries"
    parts: list[RenderableType] = [line(f"{len(deliveries)} {what}")]
    if deliveries:
        rows = []
        for d in deliveries:
            if d.dead_at is not None:
                status = f"dead since {d.dead_at:%Y-%m-%d %H:%M:%S}"
            elif d.waiting_on is not None:
                status = f"waits for {d.waiting_on}"
            else:
                status = f"next try {d.next_attempt_at:%Y-%m-%d %H:%M:%S}"
            item = d.record_id if d.listing_id is None else f"{d.listing_id} (record {d.record_id})"
            reason = d.dead_reason or d.last_error or ""
            rows.append((d.seq, d.peer, d.kind.value, item, d.state.value, d.attempts, status, reason))
        parts.append(table(["seq", "peer", "kind", "item", "state", "attempts", "when (UTC)", "reason"], rows))
        if any(d.dead_at is not None for d in deliveries):
            parts.append(
                line("once the cause is fixed: share-gateway outbox redeliver --config node.yaml SEQ --reason ...")
            )
    return Group(*parts)
