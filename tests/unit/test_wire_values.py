"""Values other programs depend on, written out literally: a change to any of them must fail a test.

Machine reasons reach callers as ``google.rpc.ErrorInfo.reason``; media types
and format numbers are inside signed envelopes and logged events; enum values
are in signed payloads and the log; size limits are promised to clients.
Comparing a constant with itself proves nothing, so every expected value below
is spelled out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from enum import StrEnum

import pytest
from google.rpc import code_pb2, error_details_pb2

from share_gateway.api.errors import ERROR_DOMAIN, status_for
from share_gateway.catalog import sample_catalog_text
from share_gateway.crypto import disclosure
from share_gateway.domain import (
    catalog,
    conformance,
    events,
    listing_grounds,
    listings,
    policy,
    record_documents,
    records,
    repair,
)
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog, FieldType
from share_gateway.domain.errors import Citation, InvalidInput, InvalidState, Refused
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.listings import ListingState, RemovalCause
from share_gateway.domain.policy import Denial, GrantRole, Principal
from share_gateway.domain.record_documents import LegalDocumentDraft
from share_gateway.domain.records import RecordDraft, RecordStatus, TypedValue, admit_record
from share_gateway.domain.repair import RepairState
from share_gateway.federation import manifest, messages
from share_gateway.ledger import bundle, checkpoint, hashing, witness

CATALOG = Catalog.from_yaml(sample_catalog_text())
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def error_info(status: object) -> error_details_pb2.ErrorInfo:
    (detail,) = status.details  # type: ignore[attr-defined]
    info = error_details_pb2.ErrorInfo()
    assert detail.Unpack(info)
    return info


# --- machine reasons ---------------------------------------------------------------------------------


def test_every_refusal_reason_is_spelled_as_callers_expect() -> None:
    assert {d.name: d.value for d in Denial} == {
        "REQUESTER_KIND_NOT_ALLOWED": "REQUESTER_KIND_NOT_ALLOWED",
        "NO_GRANT": "NO_GRANT",
        "CONSENT_REQUIRED": "CONSENT_REQUIRED",
        "NOT_THE_SUBJECT": "NOT_THE_SUBJECT",
        "SCOPE_NOT_REACHED": "SCOPE_NOT_REACHED",
        "NOT_NECESSARY": "NOT_NECESSARY",
        "RECORD_TYPE_NOT_GRANTED": "RECORD_TYPE_NOT_GRANTED",
        "NOT_A_PROVIDER": "NOT_A_PROVIDER",
        "NOT_A_COMPLIANCE_OFFICER": "NOT_A_COMPLIANCE_OFFICER",
        "NOT_AN_ADMINISTRATOR": "NOT_AN_ADMINISTRATOR",
        "NOT_SELF_ONLY": "NOT_SELF_ONLY",
        "PEER_NOT_ADMITTED": "PEER_NOT_ADMITTED",
        "CERTIFICATE_NOT_PINNED": "CERTIFICATE_NOT_PINNED",
        "CATALOG_MISMATCH": "CATALOG_MISMATCH",
        "REPLAYED": "REPLAYED",
        "MANIFEST_EXPIRED": "MANIFEST_EXPIRED",
        "NOT_SHARED": "NOT_SHARED",
        "NOT_A_CLIENT": "NOT_A_CLIENT",
        "RECORD_NOT_HELD": "RECORD_NOT_HELD",
        "LISTING_MISMATCH": "LISTING_MISMATCH",
        "CONSENT_FREE_TEXT": "CONSENT_FREE_TEXT",
        "CONSENT_FORGED": "CONSENT_FORGED",
        "CONSENT_EXPIRED": "CONSENT_EXPIRED",
        "CONSENT_NOT_YET_VALID": "CONSENT_NOT_YET_VALID",
        "CONSENT_REVOKED": "CONSENT_REVOKED",
        "CONSENT_OTHER_REQUESTER": "CONSENT_OTHER_REQUESTER",
        "CONSENT_OTHER_PURPOSE": "CONSENT_OTHER_PURPOSE",
        "CONSENT_OTHER_SUBJECT": "CONSENT_OTHER_SUBJECT",
    }


def test_a_refusal_reaches_the_caller_as_error_info_with_its_reason_domain_and_legal_bases() -> None:
    requester = Principal("91110000MA0000001L", "sgw://institution/91110000MA0000001L", "bank")
    subject = Subject.parse("legal_entity", "91110105MA01ABCD00")
    with pytest.raises(Refused) as refused:
        policy.Policy(CATALOG).authorise(requester, "loan_underwriting", subject, "AUTH-1", NOW)
    status = status_for(refused.value)
    info = error_info(status)
    assert (status.code, info.reason, info.domain) == (code_pb2.PERMISSION_DENIED, "NO_GRANT", "share-gateway")
    assert list(info.metadata) == ["purpose/loan_underwriting"]
    assert ERROR_DOMAIN == "share-gateway"


def test_a_refusal_built_with_a_citation_keeps_it_as_metadata() -> None:
    info = error_info(status_for(Refused(Denial.CONSENT_REQUIRED, "m", [Citation("purpose/p", "Art. 1")])))
    assert (info.reason, dict(info.metadata)) == ("CONSENT_REQUIRED", {"purpose/p": "Art. 1"})


def test_the_witness_size_mismatch_names_the_size_it_holds() -> None:
    info = error_info(status_for(witness.SizeMismatch(41)))
    assert (info.reason, dict(info.metadata)) == ("WITNESS_SIZE_MISMATCH", {"known_size": "41"})
    assert witness.SIZE_MISMATCH == "WITNESS_SIZE_MISMATCH"


LOAN_DEFAULT = records.Record(
    record_id="r-1",
    record_type="loan_default",
    subject=Subject.parse("legal_entity", "91110105MA01ABCD00"),
    origin_region="110000",
    fields={},
    legal_document=None,
    severity="minor",
    decided_on=None,
    period_start=None,
    period_days=None,
    publish_until=None,
    share_until=None,
    status=RecordStatus.ACTIVE,
    recorded_at=NOW,
    version=1,
    submitted_by="sgw://institution/11110000MB00000048",
    catalog_version=CATALOG.version,
)
LIST = listing_grounds.list_definition(CATALOG, "serious_untrustworthy")
NOTIFIED = listings.Listing(
    listing_id="l-1",
    list_name="serious_untrustworthy",
    record_id="r-1",
    origin_region="110000",
    record_type="dishonest_judgment_debtor",
    subject=LOAN_DEFAULT.subject,
    state=ListingState.NOTIFIED,
    decision=listings.ListingDecision("r", "b", (), "c", "d"),
    notice_due=date(2026, 12, 1),
    objection_due=date(2026, 12, 4),
)


def _repair(record: records.Record) -> repair.RepairApplication:
    return repair.apply_for_repair(
        record,
        CATALOG.record_types[record.record_type],
        application_id="a",
        applicant="x",
        evidence="e",
        commitment="c",
        now=NOW,
        calendar=WorkingCalendar(),
        deadlines=repair.RepairDeadlines(),
    )


STATE_REASONS: list[tuple[Callable[[], object], str, dict[str, str]]] = [
    (
        lambda: listing_grounds.check_criteria(LIST, LOAN_DEFAULT),
        "NOT_LIST_ELIGIBLE",
        {"list": "serious_untrustworthy", "record_type": "loan_default"},
    ),
    (
        lambda: listing_grounds.check_criteria(
            LIST, replace(LOAN_DEFAULT, record_type="administrative_penalty", severity="serious")
        ),
        "CRITERIA_NOT_MET",
        {
            "list": "serious_untrustworthy",
            "conduct": "",
            "conducts": "endangers_health_or_safety,refuses_defence_obligation,refuses_statutory_obligation,"
            "undermines_fair_competition",
        },
    ),
    (
        lambda: listing_grounds.check_criteria(
            LIST,
            replace(
                LOAN_DEFAULT,
                record_type="administrative_penalty",
                fields={"conduct_code": "refuses_statutory_obligation"},
                status=RecordStatus.EXPIRED,
            ),
        ),
        "RECORD_NOT_ACTIVE",
        {},
    ),
    (
        lambda: listings.object_to(
            NOTIFIED, LIST, actor="p", statement="s", now=datetime(2026, 12, 5, tzinfo=UTC), calendar=WorkingCalendar()
        ),
        "OBJECTION_WINDOW_CLOSED",
        {"objection_due": "2026-12-04"},
    ),
    (
        lambda: listings.confirm(
            NOTIFIED, LIST, actor="c", document="d", reason="r", now=datetime(2026, 12, 4, tzinfo=UTC)
        ),
        "OBJECTION_WINDOW_OPEN",
        {"objection_due": "2026-12-04"},
    ),
    (
        lambda: listings.review(NOTIFIED, upheld=True, actor="c", document="d", reason="r", now=NOW),
        "ILLEGAL_TRANSITION",
        {"from": "notified", "to": "removed"},
    ),
    (
        lambda: listings.notify(
            NOTIFIED, LIST, actor="c", document="d", reason="r", now=NOW, calendar=WorkingCalendar()
        ),
        "ILLEGAL_TRANSITION",
        {"from": "notified", "to": "notified"},
    ),
    (lambda: _repair(LOAN_DEFAULT), "NOT_REPAIRABLE", {}),
    (
        lambda: repair.decide(
            _repair(replace(LOAN_DEFAULT, record_type="administrative_penalty")),
            True,
            "by",
            "why",
            NOW,
        ),
        "ILLEGAL_TRANSITION",
        {"from": "submitted", "to": "approved"},
    ),
    (
        lambda: _repair(replace(LOAN_DEFAULT, record_type="administrative_penalty", status=RecordStatus.REPAIRED)),
        "RECORD_NOT_ACTIVE",
        {},
    ),
    (
        lambda: _repair(replace(LOAN_DEFAULT, record_type="administrative_penalty", severity="general")),
        "MINIMUM_PERIOD_NOT_REACHED",
        {"repairable_from": "2027-03-07"},
    ),
]


@pytest.mark.parametrize(("attempt", "reason", "metadata"), STATE_REASONS, ids=[r[1] for r in STATE_REASONS])
def test_state_reasons_of_the_procedures_reach_the_caller_spelled_out(
    attempt: Callable[[], object], reason: str, metadata: dict[str, str]
) -> None:
    """Raised by the rules themselves (each rule is tested with its module); here their spelling on the wire."""
    with pytest.raises(InvalidState) as raised:
        attempt()
    status = status_for(raised.value)
    info = error_info(status)
    assert (status.code, info.reason, info.domain, dict(info.metadata)) == (
        code_pb2.FAILED_PRECONDITION,
        reason,
        "share-gateway",
        metadata,
    )


# --- media types and format numbers ---------------------------------------------------------------------


def test_media_types_of_signed_payloads() -> None:
    assert disclosure.STATEMENT_TYPE == "application/vnd.share-gateway.record-statement+json"
    assert listings.LISTING_TYPE == "application/vnd.share-gateway.listing+json"
    assert repair.REVOCATION_TYPE == "application/vnd.share-gateway.revocation+json"
    assert events.EVENT_MEDIA_TYPE == "application/vnd.share-gateway.event+json"
    assert messages.PEER_INQUIRY_TYPE == "application/vnd.share-gateway.peer-inquiry+json"


def test_format_numbers_and_format_names() -> None:
    assert (
        disclosure.STATEMENT_FORMAT,
        listings.LISTING_FORMAT,
        repair.REVOCATION_FORMAT,
        events.EVENT_FORMAT,
        manifest.MANIFEST_FORMAT,
        messages.PEER_INQUIRY_FORMAT,
    ) == (3, 1, 1, 1, 4, 1)
    assert disclosure.READABLE_STATEMENT_FORMATS == (1, 2, 3), (
        "format 3 gives a record two ends; format 2 pads with decoy digests; formats 1 and 2 still read"
    )
    assert manifest.READABLE_FORMATS == (1, 2, 3, 4), (
        "format 4 lists C2SP verifier keys; format 3 added key history; format 2 witness keys; 1 to 3 still read"
    )
    assert bundle.BUNDLE_FORMAT == "share-gateway/audit-bundle@v1"
    assert checkpoint.PROOF_HEADER == "c2sp.org/tlog-proof@v1"


def enum_values(kind: type[StrEnum]) -> list[str]:
    return [member.value for member in kind]


def test_enum_values_written_into_signed_payloads_and_the_log() -> None:
    assert enum_values(SubjectKind) == ["legal_entity", "individual"]
    assert enum_values(RecordStatus) == ["active", "repaired", "expired", "withdrawn", "quarantined"]
    assert enum_values(ListingState) == ["proposed", "notified", "objected", "reviewed", "listed", "removed"]
    assert enum_values(RemovalCause) == [
        "duration",
        "repair",
        "decision_revoked",
        "record_quarantined",
        "objection_upheld",
        "record_expired",
    ]
    assert enum_values(RepairState) == ["submitted", "accepted", "approved", "rejected"]
    assert enum_values(GrantRole) == ["inquire", "submit"]
    assert enum_values(Outcome) == ["allowed", "denied"]
    assert enum_values(EventKind) == [
        "inquiry",
        "record_submitted",
        "record_read",
        "record_withdrawn",
        "inquiry_history",
        "audit",
        "log_redacted",
        "record_published",
        "record_received",
        "record_expired",
        "record_quarantined",
        "catalog_swept",
        "repair_applied",
        "repair_accepted",
        "repair_rejected",
        "record_repaired",
        "record_revoked",
        "revocation_delivered",
        "revocations_read",
        "listing_proposed",
        "listing_notified",
        "listing_objected",
        "listing_reviewed",
        "listing_listed",
        "listing_removed",
        "listing_shared",
        "listing_received",
        "checkpoint_inconsistent",
        "certificate_refused",
        "peer_refused",
        "delivery_dead_lettered",
        "delivery_redelivered",
        "quota_refused",
        "harvesting_suspected",
        "consent_revoked",
        "consent_revocation_received",
        "consent_revocation_delivered",
        "request_refused",
        "revocations_acknowledged",
        "revocation_acknowledged_late",
        "repair_extended",
        "dispute_filed",
        "dispute_answered",
        "repair_forwarded",
        "debtor_performed",
        "debtor_correction_applied",
        "debtor_correction_reviewed",
        "dispute_mark_shared",
        "dispute_mark_received",
        "trust_material_expiring",
        "trust_material_installed",
        "trust_material_refused",
        "institution_registered",
        "grant_added",
        "grant_changed",
        "grant_revoked",
        "restore_refused",
        "restore_acknowledged",
    ]


# --- size limits ----------------------------------------------------------------------------------------


def test_size_limits_promised_to_clients() -> None:
    assert (repair.MAX_EVIDENCE, repair.MAX_REASON) == (4000, 1000)
    assert (listings.MAX_TEXT, listings.MAX_DOCUMENT) == (2000, 200)
    assert record_documents.MAX_DOCUMENT_TEXT == 200
    assert (records.MAX_MONEY_DIGITS, records.MAX_INTEGER) == (15, 9223372036854775807)
    assert policy.MAX_CONSENT_REFERENCE == 200
    assert catalog.DEFAULT_MAX_TEXT == 2000
    assert conformance.MAX_REPORTED_IDS == 100
    assert (disclosure.SALT_BYTES, hashing.HASH_SIZE) == (16, 32)


def penalty(**changes: object) -> RecordDraft:
    fields = {
        "decision_number": TypedValue(FieldType.STRING, "京市监罚〔2026〕118号"),
        "party_name": TypedValue(FieldType.STRING, "北京恒信科技有限公司"),
        "violation_type": TypedValue(FieldType.STRING, "虚假宣传"),
        "penalty": TypedValue(FieldType.STRING, "罚款"),
        "issuing_authority": TypedValue(FieldType.STRING, "北京市市场监督管理局"),
    }
    fields.update(changes)  # type: ignore[arg-type]
    return RecordDraft(
        record_type="administrative_penalty",
        subject_kind="legal_entity",
        subject_identifier="91110105MA01ABCD00",
        fields=fields,
        legal_document=LegalDocumentDraft(
            "京市监罚〔2026〕118号",
            "北京市市场监督管理局",
            "administrative_penalty_decision",
            "2026-12-01",
            "2026-12-01",
        ),
        severity="minor",
    )


def admit(draft: RecordDraft) -> records.Record:
    return admit_record(CATALOG, draft, record_id="r-1", origin_region="110000", submitted_by="agency", now=NOW)


def violations(draft: RecordDraft) -> list[str]:
    with pytest.raises(InvalidInput) as refused:
        admit(draft)
    return [v.field for v in refused.value.violations]


def test_a_money_amount_has_at_most_15_digits_before_the_point() -> None:
    assert admit(penalty(penalty_amount=TypedValue(FieldType.MONEY, "9" * 15 + ".99"))).fields["penalty_amount"] == (
        "999999999999999.99"
    )
    assert violations(penalty(penalty_amount=TypedValue(FieldType.MONEY, "1" + "0" * 15))) == ["fields.penalty_amount"]


def test_a_text_field_without_its_own_limit_takes_2000_characters() -> None:
    assert (
        admit(penalty(violation_facts=TypedValue(FieldType.STRING, "事" * 2000))).fields["violation_facts"]
        == "事" * 2000
    )
    assert violations(penalty(violation_facts=TypedValue(FieldType.STRING, "事" * 2001))) == ["fields.violation_facts"]


def test_a_legal_document_number_takes_200_characters() -> None:
    document = penalty().legal_document
    assert document is not None
    long_number = replace(document, number="号" * 200)
    numbered = penalty(decision_number=TypedValue(FieldType.STRING, "号" * 200))  # the number of its document
    assert admit(replace(numbered, legal_document=long_number)).legal_document.number == "号" * 200  # type: ignore[union-attr]
    too_long = replace(document, number="号" * 201)
    assert violations(replace(penalty(), legal_document=too_long)) == ["legal_document.number"]


def test_a_consent_reference_takes_200_characters() -> None:
    requester = Principal("91110000MA0000001L", "sgw://institution/91110000MA0000001L", "bank")
    subject = Subject.parse("legal_entity", "91110105MA01ABCD00")
    rules = policy.Policy(CATALOG)
    # Past the length check a bank without a grant is refused: that refusal shows the reference was taken.
    with pytest.raises(Refused):
        rules.authorise(requester, "loan_underwriting", subject, "A" * 200, NOW)
    with pytest.raises(InvalidInput) as refused:
        rules.authorise(requester, "loan_underwriting", subject, "A" * 201, NOW)
    assert [v.field for v in refused.value.violations] == ["consent_reference"]
