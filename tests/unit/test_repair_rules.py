"""Issue 12's repair rules as pure functions: what is repairable, when, by whom, and what a decision states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.consent import Consent, ConsentStatement
from share_gateway.domain.errors import CatalogInvalid, InvalidInput, InvalidState, Refused
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.mandates import MANDATE_INVALID, MANDATE_PURPOSE, mandated_subject
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.domain.repair import RepairState, accept, apply_for_repair, decide, extend
from share_gateway.domain.repair_notice import repair_notice
from tests.unit.catalog_support import sample_document
from tests.unit.test_repair import CALENDAR, CATALOG, DEADLINES, NOW, application, record

AGENT = "sgw://institution/91110000MA0000001L"
COMPANY = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")


def commitment(kept: bool) -> Record:
    """A credit commitment made to an authority, kept or not."""
    return replace(
        record("minor", days_ago=2),
        record_type="credit_commitment",
        severity=None,
        fields={
            "commitment_type": "告知承诺",
            "matter": "食品经营许可",
            "committed_on": "2026-01-05",
            "accepting_authority": "北京市朝阳区市场监督管理局",
            "kept": "true" if kept else "false",
        },
    )


def test_tax_arrears_repairable_unless_law_forbids() -> None:
    """Every untrustworthiness record is repairable unless a law says otherwise: NDRC Order No. 36 (2025) Art. 2
    (DOMAIN.md "Disclosure periods"). Tax arrears get a repair path, and the catalog says no source gives them a
    severity tier; a catalog making an untrustworthiness type unrepairable must name the law."""
    tax = CATALOG.record_types["tax_arrears"]
    assert (tax.repairable, tax.repair_rules.untrustworthiness) == (True, True)
    assert "No source" in tax.repair_rules.severity_note
    assert "unverified" in tax.repair_rules.severity_note
    tax_record = replace(record("minor", days_ago=2), record_type="tax_arrears", severity=None)
    assert application(tax_record).state is RepairState.SUBMITTED
    for record_type in CATALOG.record_types.values():
        if record_type.repair_rules.untrustworthiness:
            assert record_type.repairable or record_type.repair_rules.forbidden_by, record_type.name
    loan = CATALOG.record_types["loan_default"]
    assert not loan.repairable
    assert "Art. 16" in loan.repair_rules.forbidden_by

    document = sample_document()
    document["record_types"]["tax_arrears"]["repairable"] = False
    with pytest.raises(CatalogInvalid) as refused:
        parse_catalog(document)
    assert [p.field for p in refused.value.problems] == ["record_types.tax_arrears.repair.forbidden_by"]
    document["record_types"]["tax_arrears"]["repair"]["forbidden_by"] = "A law that forbids it (test)"
    assert parse_catalog(document).record_types["tax_arrears"].repairable is False


def test_breached_credit_commitment_repairable_kept_one_is_not_untrustworthiness() -> None:
    """A breached credit commitment is untrustworthiness information, so repairable (Order 36 Art. 2); a kept one
    is not untrustworthiness information and has nothing to repair."""
    rules = CATALOG.record_types["credit_commitment"].repair_rules
    assert "No source" in rules.severity_note
    assert application(commitment(kept=False)).state is RepairState.SUBMITTED
    with pytest.raises(InvalidState) as refused:
        application(commitment(kept=True))
    assert refused.value.reason == "NOT_REPAIRABLE"


def test_expired_record_repairable_while_listing_in_force() -> None:
    """Repair must be possible wherever a measure still bites (issue 12 item 1; Order 36 Art. 2): an expired
    record a listing still rests on is repairable; one nothing rests on is not."""
    expired = change_status(record("general", days_ago=100), RecordStatus.EXPIRED)
    with pytest.raises(InvalidState) as refused:
        application(expired)
    assert refused.value.reason == "RECORD_NOT_ACTIVE"
    applied = apply_for_repair(
        expired,
        CATALOG.record_types[expired.record_type],
        application_id="a-1",
        applicant="sgw://institution/91110105MA01ABCD00",
        evidence="罚款已缴清",
        commitment="承诺",
        now=NOW,
        calendar=CALENDAR,
        deadlines=DEADLINES,
        measures_in_force=True,
    )
    assert applied.state is RepairState.SUBMITTED
    assert change_status(expired, RecordStatus.REPAIRED).status is RecordStatus.REPAIRED


def test_rejection_states_reasons_and_remedy() -> None:
    """A rejection states its reasons and the remedy (issue 12, "Repair at any node, by an agent, with notice";
    2025 No. 22): without a remedy it is refused, and the remedy is kept with the decision."""
    submitted = application()
    with pytest.raises(InvalidInput) as refused:
        decide(submitted, False, "sgw://x", "证据不足", NOW)
    assert [v.field for v in refused.value.violations] == ["remedy"]
    with pytest.raises(InvalidInput) as refused:
        decide(submitted, False, "sgw://x", "", NOW, remedy="")
    assert [v.field for v in refused.value.violations] == ["reason", "remedy"]
    rejected = decide(submitted, False, "sgw://x", "证据不足", NOW, remedy="可在六十日内申请行政复议")
    assert (rejected.state, rejected.reason, rejected.remedy) == (
        RepairState.REJECTED,
        "证据不足",
        "可在六十日内申请行政复议",
    )
    assert CATALOG.record_types["administrative_penalty"].repair_rules.remedy, "the catalog's default remedy"


def test_extension_for_complex_case_needs_a_reason() -> None:
    """An extension for a complex case needs a reason, is granted once and at most the configured working days,
    and moves both deadlines (issue 12, "Repair at any node, by an agent, with notice")."""
    accepted = accept(application(), datetime(2026, 10, 8, 9, 0, tzinfo=UTC), CALENDAR, DEADLINES)
    assert (accepted.result_due, accepted.decision_due) == (date(2026, 10, 20), date(2026, 10, 12))
    with pytest.raises(InvalidInput) as refused:
        extend(accepted, 0, " ", CALENDAR, DEADLINES)
    assert [v.field for v in refused.value.violations] == ["reason", "working_days"]
    with pytest.raises(InvalidInput):
        extend(accepted, DEADLINES.extension_working_days + 1, "涉及多个部门核查", CALENDAR, DEADLINES)
    extended = extend(accepted, 5, "涉及多个部门核查", CALENDAR, DEADLINES)
    assert (extended.result_due, extended.decision_due) == (date(2026, 10, 27), date(2026, 10, 19))
    assert (extended.extension_reason, extended.extended_by, extended.version) == ("涉及多个部门核查", 5, 3)
    assert extended.overdue(date(2026, 10, 19)) is None
    assert extended.overdue(date(2026, 10, 20)) == "decision"
    with pytest.raises(InvalidState) as again:
        extend(extended, 1, "再次延长", CALENDAR, DEADLINES)
    assert again.value.reason == "ALREADY_EXTENDED"


def test_penalty_decision_carries_repair_notice_of_when_and_how() -> None:
    """Two documents together (两书同达, 2025 No. 22): a decision is served with a notice of when and how repair
    becomes possible, computed from the catalog (DOMAIN.md "Disputes, notice and repair channels")."""
    general = record("general", days_ago=10)
    notice = repair_notice(general, CATALOG.record_types["administrative_penalty"], DEADLINES)
    assert notice.repairable
    assert general.period_start is not None
    assert notice.repairable_from == general.period_start + timedelta(days=90)
    assert "credit commitment" in notice.how
    assert (notice.deadlines.total_working_days, notice.deadlines.decision_working_days) == (10, 3)
    loan = replace(general, record_type="loan_default", severity="negative")
    refused = repair_notice(loan, CATALOG.record_types["loan_default"], DEADLINES)
    assert (refused.repairable, refused.repairable_from) == (False, None)
    assert "Art. 16" in refused.forbidden_by


def _consent(requester: str, purposes: tuple[str, ...], attested: bool = False) -> Consent:
    statement = ConsentStatement(
        COMPANY, requester, purposes, NOW - timedelta(days=1), NOW + timedelta(days=30), "0" * 64, attested
    )
    return Consent("c" * 32, statement, requester if attested else "sgw://institution/91110105MA01ABCD00")


def test_agent_needs_subject_mandate() -> None:
    """An agent applies only with a mandate the subject itself signed, naming the agent and credit repair
    (issue 12, "Repair at any node, by an agent, with notice"; DOMAIN.md: "An agent may apply with the
    subject's mandate")."""
    assert mandated_subject(_consent(AGENT, (MANDATE_PURPOSE,)), AGENT) == COMPANY
    for consent in (
        _consent(AGENT, (MANDATE_PURPOSE,), attested=True),  # the agent's own word
        _consent("sgw://institution/91310000MA00000025", (MANDATE_PURPOSE,)),  # another agent
        _consent(AGENT, ("loan_underwriting",)),  # not for repair
    ):
        with pytest.raises(Refused) as refused:
            mandated_subject(consent, AGENT)
        assert refused.value.reason == MANDATE_INVALID
