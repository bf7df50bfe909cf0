"""Wire forms of disputes, dispute marks, repair notices and debtor-list corrections (generated types stop here)."""

from __future__ import annotations

from datetime import date

from share_gateway.api.convert import notice_to_wire, subject_to_wire
from share_gateway.domain.canonical import day_text
from share_gateway.domain.catalog import DebtorListRules
from share_gateway.domain.catalog_repair import DisputeRules
from share_gateway.domain.debtor_list import CorrectionApplication, CorrectionState
from share_gateway.domain.disputes import Dispute, DisputeState
from share_gateway.v1 import common_pb2 as pb

# The notice served with a decision is converted beside the listing that carries it.
__all__ = ["correction_to_wire", "dispute_mark_to_wire", "dispute_to_wire", "notice_to_wire"]

_DISPUTE_STATES = {
    DisputeState.FILED: pb.DISPUTE_STATE_FILED,
    DisputeState.CORRECTED: pb.DISPUTE_STATE_CORRECTED,
    DisputeState.REJECTED: pb.DISPUTE_STATE_REJECTED,
}


def dispute_to_wire(dispute: Dispute, today: date, rules: DisputeRules) -> pb.Dispute:
    message = pb.Dispute(
        dispute_id=dispute.dispute_id,
        origin_region=dispute.origin_region,
        record_id=dispute.record_id,
        subject=subject_to_wire(dispute.subject),
        applicant=dispute.applicant,
        claim=dispute.claim,
        state=_DISPUTE_STATES[dispute.state],
        answer_due=dispute.answer_due.isoformat(),
        answer=dispute.answer,
        corrected_record_id=dispute.corrected_record_id,
        overdue=dispute.overdue(today),
        basis=rules.basis,
    )
    message.filed_at.FromDatetime(dispute.filed_at)
    if dispute.answered_at is not None:
        message.answered_at.FromDatetime(dispute.answered_at)
    return message


def dispute_mark_to_wire(dispute: Dispute, today: date) -> pb.DisputeMark:
    """How an answer marks a record under dispute."""
    return pb.DisputeMark(
        origin_region=dispute.origin_region,
        record_id=dispute.record_id,
        dispute_id=dispute.dispute_id,
        answer_due=dispute.answer_due.isoformat(),
        overdue=dispute.overdue(today),
    )


_CORRECTION_STATES = {
    CorrectionState.APPLIED: pb.CORRECTION_STATE_APPLIED,
    CorrectionState.UPHELD: pb.CORRECTION_STATE_UPHELD,
    CorrectionState.DISMISSED: pb.CORRECTION_STATE_DISMISSED,
}


def correction_to_wire(
    application: CorrectionApplication, today: date, rules: DebtorListRules | None
) -> pb.CorrectionApplication:
    """A correction application with its review, and whether the review is overdue ``today``."""
    message = pb.CorrectionApplication(
        application_id=application.application_id,
        origin_region=application.origin_region,
        record_id=application.record_id,
        applicant=application.applicant,
        grounds=application.grounds,
        state=_CORRECTION_STATES[application.state],
        applied_on=application.applied_on.isoformat(),
        review_due=application.review_due.isoformat(),
        reviewed_on=day_text(application.reviewed_on),
        reason=application.reason,
        deletion_due=day_text(application.deletion_due),
        overdue=application.overdue(today) is not None,
        basis="" if rules is None else rules.correction_source,
    )
    if application.subject is not None:
        message.subject.CopyFrom(subject_to_wire(application.subject))
    return message
