"""Readable renderings of repair applications, repair notices and disputes (inert rich renderables).

Every view of an application states both deadlines: the whole course's (application to result) and the
department's decision's (so many working days from receipt, inside the total). Labels come from the one
message table (``messages.say``) in the language asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType

from share_gateway.cli.console import labelled, line, table
from share_gateway.cli.messages import say
from share_gateway.domain.catalog_text import Language
from share_gateway.v1 import common_pb2


def repair_state_text(state: common_pb2.RepairState.ValueType) -> str:
    return common_pb2.RepairState.Name(state).removeprefix("REPAIR_STATE_").lower()


def dispute_state_text(state: common_pb2.DisputeState.ValueType) -> str:
    return common_pb2.DisputeState.Name(state).removeprefix("DISPUTE_STATE_").lower()


def result_due_text(application: common_pb2.RepairApplication, language: Language = Language.EN) -> str:
    """The whole course's deadline, and its length (older nodes sent only reply_due)."""
    due = application.result_due or application.reply_due or "—"
    days = application.total_working_days
    return say("result_due_days", language, due=due, days=days) if days else due


def decision_due_text(application: common_pb2.RepairApplication, language: Language = Language.EN) -> str:
    """The decision's deadline, or how it will be set before the department received the application."""
    if application.decision_due:
        return application.decision_due
    days = application.decision_working_days
    if not days:
        return "—"
    return say("decision_due_days", language, days=days)


def repair_view(application: common_pb2.RepairApplication, language: Language = Language.EN) -> Group:
    """One application: where it stands, both deadlines and, once decided, why and the remedy."""
    t = language
    a = application
    held_by = say("in_region", t, region=a.origin_region) if a.origin_region else say("this_node", t)
    rows: list[tuple[str, str]] = [
        (say("record", t), a.record_id),
        (say("subject", t), a.subject.identifier),
        (say("applicant", t), a.applicant),
        (say("held_by", t), held_by),
        (say("submitted", t), f"{a.submitted_at.ToDatetime():%Y-%m-%d %H:%M} UTC"),
        (say("result_due", t), result_due_text(a, t)),
        (say("decision_due", t), decision_due_text(a, t)),
    ]
    if a.mandate_id:
        rows.append((say("mandate", t), a.mandate_id))
    if a.extended_by:
        rows.append((say("extended", t), say("extension", t, days=a.extended_by, reason=a.extension_reason)))
    if a.HasField("decided_at"):
        rows.append((say("decided_at", t), f"{a.decided_at.ToDatetime():%Y-%m-%d %H:%M} UTC"))
    if a.reason:
        rows.append((say("reason", t), a.reason))
    if a.remedy:
        rows.append((say("remedy", t), a.remedy))
    if a.overdue:
        rows.append((say("overdue_flag", t), say("deadline_passed", t, which=a.overdue)))
    header = say("repair_header", t, application_id=a.application_id, state=repair_state_text(a.state))
    return Group(line(header), *labelled(rows, 13))


def repairs_view(applications: Sequence[common_pb2.RepairApplication], language: Language = Language.EN) -> Group:
    """Open applications as one table: both deadlines and what is overdue at a glance."""
    t = language
    parts: list[RenderableType] = [line(say("repairs_count", t, count=len(applications)))]
    if applications:
        parts.append(
            table(
                [say(k, t) for k in ("application", "record", "state", "result_due", "decision_due", "overdue")],
                [
                    (
                        a.application_id,
                        a.record_id,
                        repair_state_text(a.state),
                        a.result_due or a.reply_due or "—",
                        decision_due_text(a, t),
                        a.overdue or "",
                    )
                    for a in applications
                ],
            )
        )
    return Group(*parts)


def notice_view(notice: common_pb2.RepairNotice, language: Language = Language.EN) -> Group:
    """The repair notice served with a decision (两书同达): when and how repair becomes possible."""
    t = language
    if notice.repairable:
        deadlines = say("notice_deadlines", t, total=notice.total_working_days, decision=notice.decision_working_days)
        rows = [
            (say("repairable_from", t), notice.repairable_from),
            (say("how", t), notice.how),
            (say("deadlines", t), deadlines),
        ]
    else:
        rows = [(say("repairable", t), say("no", t) + (f": {notice.forbidden_by}" if notice.forbidden_by else ""))]
    if notice.basis:
        rows.append((say("basis", t), notice.basis))
    if notice.severity_note:
        rows.append((say("severity", t), notice.severity_note))
    return Group(line(say("repair_notice", t)), *labelled(rows, 16))


def dispute_view(dispute: common_pb2.Dispute, language: Language = Language.EN) -> Group:
    """One dispute: the claim, the answer day (and whether it passed) and the answer."""
    t = language
    d = dispute
    rows: list[tuple[str, str]] = [
        (say("record", t), f"{d.origin_region}/{d.record_id}"),
        (say("subject", t), d.subject.identifier),
        (say("claim", t), d.claim),
        (say("filed", t), f"{d.filed_at.ToDatetime():%Y-%m-%d %H:%M} UTC"),
        (say("answer_due", t), f"{d.answer_due} ({d.basis})" if d.basis else d.answer_due),
    ]
    if d.HasField("answered_at"):
        rows.append((say("answered", t), f"{d.answered_at.ToDatetime():%Y-%m-%d %H:%M} UTC"))
    if d.answer:
        rows.append((say("answer", t), d.answer))
    if d.corrected_record_id:
        rows.append((say("corrected_by", t), d.corrected_record_id))
    if d.overdue:
        late = say("answered_late", t) if d.HasField("answered_at") else say("answer_day_passed", t)
        rows.append((say("overdue_flag", t), late))
    header = say("dispute_header", t, dispute_id=d.dispute_id, state=dispute_state_text(d.state))
    return Group(line(header), *labelled(rows, 13))


def disputes_view(disputes: Sequence[common_pb2.Dispute], language: Language = Language.EN) -> Group:
    t = language
    parts: list[RenderableType] = [line(say("disputes_count", t, count=len(disputes)))]
    if disputes:
        parts.append(
            table(
                [say(k, t) for k in ("dispute", "record", "state", "answer_due", "overdue")],
                [
                    (
                        d.dispute_id,
                        d.record_id,
                        dispute_state_text(d.state),
                        d.answer_due,
                        say("yes", t) if d.overdue else "",
                    )
                    for d in disputes
                ],
            )
        )
    return Group(*parts)
