"""Readable renderings of what nodes answer, shared by the commands and the demo.

Each view is a rich renderable: lines and tables built with ``console.line`` and ``console.table``, so every value
a node sent is inert by the time it reaches the terminal. Its labels come from the one message table
(``messages.say``) in the ``language`` asked for; values are shown as the node sent them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from rich.console import Group, RenderableType

from share_gateway.cli.console import labelled, line, table
from share_gateway.cli.messages import say
from share_gateway.cli.repair_views import notice_view
from share_gateway.client import verify_receipt, verify_record_disclosure, verify_revocation
from share_gateway.crypto.errors import MalformedPayload, VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.catalog_text import Language
from share_gateway.domain.repair import Revocation
from share_gateway.federation.wire import envelope_from_wire
from share_gateway.v1 import common_pb2, inquiry_pb2

if TYPE_CHECKING:
    from share_gateway.store.deliveries import QueuedDelivery


def rpc_error_view(error: grpc.aio.AioRpcError, lead: str = "", language: Language = Language.EN) -> Group:
    """The status after ``lead``, then each field violation or the refusal's reason and legal bases."""
    lines = [f"{lead}{error.code().name}: {error.details()}"]
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(bad):
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
        elif detail.Unpack(info):
            lines.append(say("reason_line", language, reason=info.reason))
            lines += [f"  {rule}: {basis}" for rule, basis in info.metadata.items()]
    return Group(*map(line, lines))


def value_text(value: common_pb2.FieldValue) -> str:
    case = value.WhichOneof("value")
    if case is None:
        return ""
    if case == "boolean":
        return "true" if value.boolean else "false"
    return str(getattr(value, case))


def record_view(record: common_pb2.Record, lead: str = "", language: Language = Language.EN) -> Group:
    """A record's type, id and subject after ``lead``, then its fields and disclosure dates."""
    t = language
    rows: list[tuple[str, str]] = [(name, value_text(value)) for name, value in sorted(record.fields.items())]
    rows += [
        (say("decided_on", t), record.decided_on or say("no_decision", t)),
        (say("period_from", t), record.period_start or say("conduct_goes_on", t)),
        (say("published_until", t), record.publish_until or "—"),
        (say("shared_until", t), record.share_until or "—"),
    ]
    if record.HasField("withdrawal"):
        w = record.withdrawal
        late = say("late", t) if w.late else ""
        rows.append(
            (say("withdrawn", t), say("withdrawal_text", t, withdrawn_on=w.withdrawn_on, due=w.due or "—", late=late))
        )
    header = say(
        "record_header",
        t,
        lead=lead,
        record_type=record.record_type,
        record_id=record.record_id,
        subject=record.subject.identifier,
    )
    return Group(line(header), table([say("field", t), say("value", t)], rows))


def _period_text(statement: dict[str, Any], language: Language) -> str:
    """How a statement's clock started: its decision date, else the day its period runs from."""
    if statement.get("decided_on"):
        return say("decided", language, day=statement["decided_on"])
    start = statement.get("period_start") or say("conduct_goes_on", language)
    return say("no_decision_from", language, start=start)


def answer_view(answer: inquiry_pb2.InquireResponse, keys: KeyRing | None, language: Language = Language.EN) -> Group:
    """Each disclosed record with its fields, verified against the origin's key when ``keys`` are given."""
    t = language
    parts: list[RenderableType] = [
        line(say("inquiry_header", t, inquiry_id=answer.inquiry_id, count=len(answer.records)))
    ]
    if answer.regions:
        parts.append(
            table(
                [say(k, t) for k in ("region", "answer", "records", "detail")],
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
        (d.origin_region, d.record_id): say("under_dispute", t, due=d.answer_due)
        + (say("overdue_mark", t) if d.overdue else "")
        for d in answer.disputed
    }
    for record in answer.records:
        verified = say("no_keys", t)
        if keys is not None:
            try:
                verify_record_disclosure(record, keys)
                verified = say("verified", t)
            except VerificationError as error:
                verified = say("verification_failed", t, error=error)
        statement = parse_json(record.statement.payload)
        disputed = disputes.get((statement["origin"], statement["record_id"]), "")
        parts += [
            line(""),
            line(
                say(
                    "disclosed_record",
                    t,
                    record_type=statement["record_type"],
                    origin=statement["origin"],
                    period=_period_text(statement, t),
                    verified=verified,
                    disputed=disputed,
                )
            ),
            table([say("field", t), say("value", t)], [(f.name, f.value) for f in record.fields]),
        ]
    if answer.lists:
        parts += [line(""), line(say("lists_in_force", t))]
        parts += [
            line(
                say(
                    "list_membership",
                    t,
                    list_name=m.list_name,
                    origin=m.origin_region,
                    reference=m.decision_reference or "—",
                    listed_on=m.listed_on or "—",
                    until=m.listed_until or say("no_fixed_end", t),
                )
            )
            for m in answer.lists
        ]
    for information_only, title in ((False, "measures_to_apply"), (True, "measures_information")):
        shown = [m for m in answer.measures if m.information_only is information_only]
        if shown:
            parts += [line(""), line(say(title, t))]
            parts += [
                line(
                    say(
                        "measure_line",
                        t,
                        name=m.name,
                        description=m.description,
                        body=m.implementing_body or "—",
                        grounds=", ".join(m.grounds),
                    )
                )
                for m in shown
            ]
    parts += [line(""), line(say("legal_bases", t))]
    parts += [line(f"  {c.rule}: {c.legal_basis}") for c in answer.citations]
    if keys is not None:
        event = verify_receipt(answer.receipt, keys)
        parts += [
            line(""),
            line(say("receipt_verified", t, at=f"{event.at:%Y-%m-%d %H:%M:%S}", node=event.node)),
        ]
    return Group(*parts)


def history_view(
    history: inquiry_pb2.GetInquiryHistoryResponse, subject_name: str, language: Language = Language.EN
) -> Group:
    """Who looked at a subject, when, for what, and whether they were let (its own history inquiry)."""
    t = language
    headers = [say(k, t) for k in ("when_utc", "institution", "purpose", "outcome", "node")]
    rows = [
        (e.at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"), e.institution, e.purpose, e.outcome, e.node)
        for e in history.entries
    ]
    return Group(line(say("history_header", t, subject=subject_name, days=history.days)), table(headers, rows))


def listing_state_text(state: common_pb2.ListingState.ValueType) -> str:
    return common_pb2.ListingState.Name(state).removeprefix("LISTING_STATE_").lower()


def listing_view(listing: common_pb2.Listing, language: Language = Language.EN) -> Group:
    """One listing: the decision it states, its deadlines, and every step with its document."""
    t = language
    decision = listing.decision
    rows: list[tuple[str, str]] = [
        (say("list", t), listing.list_name),
        (say("record", t), f"{listing.record_type} {listing.record_id} ({listing.origin_region})"),
        (say("subject", t), listing.subject.identifier),
        (say("reason", t), decision.reason),
        (say("basis", t), decision.basis),
        (say("measures", t), ", ".join(decision.measures) or "—"),
        (say("removal", t), decision.removal_conditions),
        (say("remedies", t), decision.remedies),
    ]
    dates = (
        ("notice_due", listing.notice_due),
        ("objection_due", listing.objection_due),
        ("review_due", listing.review_due),
        ("listed_on", listing.listed_on),
        ("ends_on", listing.ends_on),
        ("removal_due", listing.removal_due),
    )
    rows += [(say(key, t), day) for key, day in dates if day]
    if listing.removal_cause:
        rows.append((say("removed_for", t), listing.removal_cause.replace("_", " ")))
    if listing.overdue:
        rows.append((say("overdue_flag", t), say("step_late", t, step=listing.overdue)))
    steps = [
        f"    {step.at.ToDatetime():%Y-%m-%d %H:%M} {listing_state_text(step.state):<9} {step.actor}"
        f" {step.document or '—'}: {step.reason}"
        for step in listing.history
    ]
    header = say("listing_header", t, listing_id=listing.listing_id, state=listing_state_text(listing.state))
    # The repair notice served with the decision (两书同达), where the listing carries one.
    notice = [notice_view(listing.repair_notice, t)] if listing.HasField("repair_notice") else []
    return Group(
        line(header),
        *labelled(rows, 13),
        *notice,
        line(say("history", t)),
        *map(line, steps),
    )


def consents_view(consents: Sequence[inquiry_pb2.ConsentSummary], language: Language = Language.EN) -> Group:
    """A subject's consents: to whom, for what, until when, and whether withdrawn."""
    t = language
    parts: list[RenderableType] = [line(say("consents_count", t, count=len(consents)))]
    if consents:
        parts.append(
            table(
                [say(k, t) for k in ("consent_id", "requester", "purposes", "valid_until", "signed_by", "withdrawn")],
                [
                    (
                        c.consent_id,
                        c.requester,
                        ", ".join(c.purposes),
                        c.not_after.ToDatetime().date().isoformat(),
                        say("requester_attested", t) if c.attested else say("subject", t),
                        c.revoked_at.ToDatetime().isoformat(timespec="seconds") if c.HasField("revoked_at") else "",
                    )
                    for c in consents
                ],
            )
        )
    return Group(*parts)


def listings_view(listings: Sequence[common_pb2.Listing], language: Language = Language.EN) -> Group:
    t = language
    parts: list[RenderableType] = [line(say("listings_count", t, count=len(listings)))]
    if listings:
        parts.append(
            table(
                [say(k, t) for k in ("listing", "list", "record", "state", "next_date", "overdue")],
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


def revocations_view(
    entries: Sequence[inquiry_pb2.RevocationEntry], keys: KeyRing | None, language: Language = Language.EN
) -> Group:
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
    t = language
    checked = say("origin_verified", t) if keys is not None else say("no_keys", t)
    count = say("revocations_count", t, count=len(entries), checked=checked)
    parts: list[RenderableType] = [line(count if entries else say("revocations_none", t))]
    if rows:
        headers = [say(k, t) for k in ("position", "record", "type", "origin", "status", "at_utc", "reason")]
        parts.append(table(headers, rows))
        parts.append(line(say("read_on", t, position=entries[-1].position)))
    return Group(*parts)


def outbox_view(deliveries: Sequence[QueuedDelivery], dead_only: bool, language: Language = Language.EN) -> Group:
    """Undelivered deliveries: a dead letter with why and when, a pending one with what it waits for."""
    t = language
    parts: list[RenderableType] = [line(say("dead_letters" if dead_only else "undelivered", t, count=len(deliveries)))]
    if deliveries:
        rows = []
        for d in deliveries:
            if d.dead_at is not None:
                status = say("dead_since", t, at=f"{d.dead_at:%Y-%m-%d %H:%M:%S}")
            elif d.waiting_on is not None:
                status = say("waits_for", t, what=d.waiting_on)
            else:
                status = say("next_try", t, at=f"{d.next_attempt_at:%Y-%m-%d %H:%M:%S}")
            item = (
                d.record_id
                if d.listing_id is None
                else say("listing_item", t, listing=d.listing_id, record=d.record_id)
            )
            reason = d.dead_reason or d.last_error or ""
            rows.append((d.seq, d.peer, d.kind.value, item, d.state.value, d.attempts, status, reason))
        headers = ("seq", "peer", "kind", "item", "state", "attempts", "when_utc", "reason")
        parts.append(table([say(k, t) for k in headers], rows))
        if any(d.dead_at is not None for d in deliveries):
            parts.append(line(say("redeliver_hint", t)))
    return Group(*parts)
