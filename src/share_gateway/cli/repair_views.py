"""Readable renderings of repair applications, repair notices and disputes (inert rich renderables).

Every view of an application states both deadlines: the whole course's (application to result) and the
department's decision's (so many working days from receipt, inside the total).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType

from share_gateway.cli.console import line, table
from share_gateway.v1 import common_pb2


def repair_state_text(state: common_pb2.RepairState.ValueType) -> str:
    return common_pb2.RepairState.Name(state).removeprefix("REPAIR_STATE_").lower()


def dispute_state_text(state: common_pb2.DisputeState.ValueType) -> str:
    return common_pb2.DisputeState.Name(state).removeprefix("DISPUTE_STATE_").lower()


def result_due_text(application: common_pb2.RepairApplication) -> str:
    """The whole course's deadline, and its length (older nodes sent only reply_due)."""
    due = application.result_due or application.reply_due or "—"
    days = application.total_working_days
    return f"{due} ({days} working days from the application)" if days else due


def decision_due_text(application: common_pb2.RepairApplication) -> str:
    """The decision's deadline, or how it will be set before the department received the application."""
    if application.decision_due:
        return application.decision_due
    days = application.decision_working_days
    if not days:
        return "—"
    return f"{days} working days after acceptance, by the result date at the latest"


def repair_view(application: common_pb2.RepairApplication) -> Group:
    """One application: where it stands, both deadlines and, once decided, why and the remedy."""
    rows: list[tuple[str, str]] = [
        ("record", application.record_id),
        ("subject", application.subject.identifier),
        ("applicant", application.applicant),
        ("held by", f"region {application.origin_region}" if application.origin_region else "this node"),
        ("submitted", f"{application.submitted_at.ToDatetime():%Y-%m-%d %H:%M} UTC"),
        ("result due", result_due_text(application)),
        ("decision due", decision_due_text(application)),
    ]
    if application.mandate_id:
        rows.append(("mandate", application.mandate_id))
    if application.extended_by:
        rows.append(("extended", f"{application.extended_by} working days: {application.extension_reason}"))
    if application.HasField("decided_at"):
        rows.append(("decided", f"{application.decided_at.ToDatetime():%Y-%m-%d %H:%M} UTC"))
    if application.reason:
        rows.append(("reason", application.reason))
    if application.remedy:
        rows.append(("remedy", application.remedy))
    if application.overdue:
        rows.append(("OVERDUE", f"the {application.overdue} deadline passed"))
    header = f"repair application {application.application_id}: {repair_state_text(application.state)}"
    return Group(line(header), *(line(f"  {name:<13} {value}") for name, value in rows))


def repairs_view(applications: Sequence[common_pb2.RepairApplication]) -> Group:
    """Open applications as one table: both deadlines and what is overdue at a glance."""
    parts: list[RenderableType] = [line(f"{len(applications)} open repair application(s)")]
    if applications:
        parts.append(
            table(
                ["application", "record", "state", "result due", "decision due", "overdue"],
                [
                    (
                        a.application_id,
                        a.record_id,
                        repair_state_text(a.state),
                        a.result_due or a.reply_due or "—",
                        decision_due_text(a),
                        a.overdue or "",
                    )
                    for a in applications
                ],
            )
        )
    return Group(*parts)


def notice_view(notice: common_pb2.RepairNotice) -> Group:
    """The repair notice served with a decision (两书同达): when and how repair becomes possible."""
    if notice.repairable:
        rows = [
            ("repairable from", notice.repairable_from),
            ("how", notice.how),
            (
                "deadlines",
                f"result within {notice.total_working_days} working days of applying; decision within "
                f"{notice.decision_working_days} of receipt",
            ),
        ]
    else:
        rows = [("repairable", "no" + (f": {notice.forbidden_by}" if notice.forbidden_by else ""))]
    if notice.basis:
        rows.append(("basis", notice.basis))
    if notice.severity_note:
        rows.append(("severity", notice.severity_note))
    return Group(line("repair notice"), *(line(f"  {name:<16} {value}") for name, value in rows))


def dispute_view(dispute: common_pb2.Dispute) -> Group:
    """One dispute: the claim, the answer day (and whether it passed) and the answer."""
    rows: list[tuple[str, str]] = [
        ("record", f"{dispute.origin_region}/{dispute.record_id}"),
        ("subject", dispute.subject.identifier),
        ("claim", dispute.claim),
        ("filed", f"{dispute.filed_at.ToDatetime():%Y-%m-%d %H:%M} UTC"),
        ("answer due", f"{dispute.answer_due} ({dispute.basis})" if dispute.basis else dispute.answer_due),
    ]
    if dispute.HasField("answered_at"):
        rows.append(("answered", f"{dispute.answered_at.ToDatetime():%Y-%m-%d %H:%M} UTC"))
    if dispute.answer:
        rows.append(("answer", dispute.answer))
    if dispute.corrected_record_id:
        rows.append(("corrected by", dispute.corrected_record_id))
    if dispute.overdue:
        rows.append(("OVERDUE", "answered late" if dispute.HasField("answered_at") else "the answer day passed"))
    header = f"dispute {dispute.dispute_id}: {dispute_state_text(dispute.state)}"
    return Group(line(header), *(line(f"  {name:<13} {value}") for name, value in rows))


def disputes_view(disputes: Sequence[common_pb2.Dispute]) -> Group:
    parts: list[RenderableType] = [line(f"{len(disputes)} dispute(s)")]
    if disputes:
        parts.append(
            table(
                ["dispute", "record", "state", "answer due", "overdue"],
                [
                    (d.dispute_id, d.record_id, dispute_state_text(d.state), d.answer_due, "yes" if d.overdue else "")
                    for d in disputes
                ],
            )
        )
    return Group(*parts)
