"""Conversions between the wire contract and domain objects; generated types stop here."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from share_gateway.crypto.disclosure import Disclosure
from share_gateway.domain.canonical import day_text
from share_gateway.domain.catalog import Catalog, FieldType
from share_gateway.domain.errors import FieldViolation, InvalidInput
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.listings import Listing
from share_gateway.domain.record_documents import LegalDocument, LegalDocumentDraft
from share_gateway.domain.records import RecordDraft, RecordStatus, TypedValue
from share_gateway.domain.repair import RepairApplication, RepairDeadlines, RepairState
from share_gateway.domain.repair_notice import RepairNotice
from share_gateway.domain.text import storable, unstorable
from share_gateway.domain.withdrawal import Withdrawal
from share_gateway.federation.wire import disclosure_to_wire
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import registry_pb2

if TYPE_CHECKING:
    # Only an annotation: clients import this module and must not load SQLAlchemy for it.
    from share_gateway.store.records import StoredRecord

SUBJECT_KINDS = {
    SubjectKind.LEGAL_ENTITY: pb.SUBJECT_KIND_LEGAL_ENTITY,
    SubjectKind.INDIVIDUAL: pb.SUBJECT_KIND_INDIVIDUAL,
}
_KIND_TEXT = {wire: kind.value for kind, wire in SUBJECT_KINDS.items()}
_CASES = {
    "text": FieldType.STRING,
    "integer": FieldType.INTEGER,
    "money": FieldType.MONEY,
    "date": FieldType.DATE,
    "boolean": FieldType.BOOLEAN,
}
_TYPE_CASE = {field_type: case for case, field_type in _CASES.items()}
Request = TypeVar("Request", bound=Message)
STATUSES = {status: pb.RecordStatus.Value(f"RECORD_STATUS_{status.name}") for status in RecordStatus}


def request_from_wire(request_type: type[Request], data: bytes) -> Request:
    """The one door of every request: decode ``data`` and check it, or ``InvalidInput`` (nothing else ran).

    protobuf refuses invalid UTF-8 in a string field while decoding; what decodes may still hold text no
    database can store (NUL) or an enum number the contract does not define, which would otherwise
    silently become the default (a local inquiry for an unknown ``scope``).
    """
    try:
        request = request_type.FromString(data)
    except DecodeError as error:
        raise InvalidInput.one("request", f"is not a valid {request_type.DESCRIPTOR.full_name} message") from error
    violations = request_violations(request)
    if violations:
        raise InvalidInput(violations)
    return request


def request_violations(message: Message, prefix: str = "") -> list[FieldViolation]:
    """Every string that cannot be stored and every undefined enum value in ``message``, by field path."""
    violations: list[FieldViolation] = []
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entry = field.message_type.fields_by_name
            key_field, value_field = entry["key"], entry["value"]
            for key, item in value.items():
                named = f"{path}.{storable(str(key))}"  # a field path never carries what it refuses
                violations += _value_violations(key_field, key, f"{named} (key)")
                violations += _value_violations(value_field, item, named)
        elif field.is_repeated:
            for index, item in enumerate(value):
                violations += _value_violations(field, item, f"{path}[{index}]")
        else:
            violations += _value_violations(field, value, path)
    return violations


def _value_violations(field: FieldDescriptor, value: object, path: str) -> list[FieldViolation]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        assert isinstance(value, Message)
        return request_violations(value, f"{path}.")
    if field.type == FieldDescriptor.TYPE_STRING:
        assert isinstance(value, str)
        problem = unstorable(value)
        return [] if problem is None else [FieldViolation(path, problem)]
    enum = field.enum_type
    if enum is not None and value not in enum.values_by_number:
        names = ", ".join(v.name for v in enum.values)
        return [FieldViolation(path, f"{value} is not a value of {enum.name} ({names})")]
    return []


def subject_kind_text(kind: pb.SubjectKind.ValueType) -> str:
    """The domain name of a wire subject kind ("" when unspecified, which the domain refuses)."""
    return _KIND_TEXT.get(kind, "")


def subject_to_wire(subject: Subject) -> pb.Subject:
    return pb.Subject(kind=SUBJECT_KINDS[subject.kind], identifier=subject.identifier)


def value_to_wire(field_type: FieldType, text: str) -> pb.FieldValue:
    """A canonical text as the typed wire value the catalog gives its field."""
    value = pb.FieldValue()
    if field_type is FieldType.INTEGER:
        value.integer = int(text)
    elif field_type is FieldType.BOOLEAN:
        value.boolean = text == "true"
    else:
        setattr(value, _TYPE_CASE[field_type], text)
    return value


def document_to_wire(document: LegalDocument | None) -> pb.LegalDocument | None:
    if document is None:
        return None
    return pb.LegalDocument(
        number=document.number,
        issuer=document.issuer,
        kind=document.kind,
        issued_on=document.issued_on.isoformat(),
        effective_on=document.effective_on.isoformat(),
    )


def document_from_wire(message: pb.LegalDocument) -> LegalDocumentDraft:
    return LegalDocumentDraft(message.number, message.issuer, message.kind, message.issued_on, message.effective_on)


def withdrawal_to_wire(withdrawal: Withdrawal | None) -> pb.Withdrawal | None:
    if withdrawal is None:
        return None
    return pb.Withdrawal(
        revoked_on=withdrawal.revoked_on.isoformat(),
        due=day_text(withdrawal.due),
        withdrawn_on=withdrawal.withdrawn_on.isoformat(),
        late=withdrawal.late,
    )


def record_to_wire(stored: StoredRecord, catalog: Catalog) -> pb.Record:
    """The full record for its agency; values typed by the catalog (text for fields it no longer has)."""
    record = stored.record
    specs = catalog.record_types[record.record_type].fields if record.record_type in catalog.record_types else {}
    fields = {}
    for name, text in record.fields.items():
        spec = specs.get(name)
        fields[name] = value_to_wire(spec.type, text) if spec else pb.FieldValue(text=text)
    message = pb.Record(
        record_id=record.record_id,
        record_type=record.record_type,
        subject=subject_to_wire(record.subject),
        origin_region=record.origin_region,
        fields=fields,
        legal_document=document_to_wire(record.legal_document),
        severity=record.severity or "",
        decided_on=day_text(record.decided_on),
        disclose_until=day_text(record.share_until),
        publish_until=day_text(record.publish_until),
        share_until=day_text(record.share_until),
        period_start=day_text(record.period_start),
        withdrawal=withdrawal_to_wire(record.withdrawal),
        status=STATUSES[record.status],
        version=record.version,
        submitted_by=record.submitted_by,
        catalog_version=record.catalog_version,
        disclosure=disclosure_to_wire(Disclosure(stored.sealed.statement, tuple(stored.sealed.openings.values()))),
    )
    message.recorded_at.FromDatetime(record.recorded_at)
    return message


def draft_to_wire(request_id: str, draft: RecordDraft) -> registry_pb2.SubmitRecordRequest:
    """A submission for a draft: what an agency's client sends (the inverse of ``draft_from_wire``)."""
    request = registry_pb2.SubmitRecordRequest(
        request_id=request_id,
        record_type=draft.record_type,
        subject=pb.Subject(kind=SUBJECT_KINDS[SubjectKind(draft.subject_kind)], identifier=draft.subject_identifier),
        severity=draft.severity,
    )
    for name, value in draft.fields.items():
        setattr(request.fields[name], _TYPE_CASE[value.type], value.raw)
    if draft.legal_document is not None:
        document = draft.legal_document
        request.legal_document.CopyFrom(
            pb.LegalDocument(
                number=document.number,
                issuer=document.issuer,
                kind=document.kind,
                issued_on=document.issued_on,
                effective_on=document.effective_on,
            )
        )
    if draft.disclosure_days is not None:
        request.disclosure_days = draft.disclosure_days
    if draft.settled_on:
        request.settled_on = draft.settled_on
    return request


def draft_from_wire(request: registry_pb2.SubmitRecordRequest) -> RecordDraft:
    """A draft from a submission; a field without a value is a violation here already."""
    fields: dict[str, TypedValue] = {}
    violations: list[FieldViolation] = []
    for name, value in request.fields.items():
        case = value.WhichOneof("value")
        if case is None:
            violations.append(FieldViolation(f"fields.{name}", "has no value"))
            continue
        fields[name] = TypedValue(_CASES[case], getattr(value, case))
    if violations:
        raise InvalidInput(violations)
    return RecordDraft(
        record_type=request.record_type,
        subject_kind=subject_kind_text(request.subject.kind),
        subject_identifier=request.subject.identifier,
        fields=fields,
        legal_document=document_from_wire(request.legal_document) if request.HasField("legal_document") else None,
        severity=request.severity,
        disclosure_days=request.disclosure_days if request.HasField("disclosure_days") else None,
        settled_on=request.settled_on,
    )


def repair_to_wire(
    application: RepairApplication, today: date, deadlines: RepairDeadlines, origin_region: str = ""
) -> pb.RepairApplication:
    """An application with both its deadlines: the whole course's and the department's decision's."""
    message = pb.RepairApplication(
        application_id=application.application_id,
        record_id=application.record_id,
        subject=subject_to_wire(application.subject),
        applicant=application.applicant,
        state=_REPAIR_STATES[application.state],
        reply_due=application.result_due.isoformat(),
        decision_due=day_text(application.decision_due),
        reason=application.reason,
        overdue=application.overdue(today) or "",
        result_due=application.result_due.isoformat(),
        total_working_days=deadlines.total_working_days,
        decision_working_days=deadlines.decision_working_days,
        remedy=application.remedy,
        extension_reason=application.extension_reason,
        extended_by=application.extended_by,
        mandate_id=application.mandate_id,
        origin_region=origin_region,
    )
    message.submitted_at.FromDatetime(application.submitted_at)
    if application.decided_at is not None:
        message.decided_at.FromDatetime(application.decided_at)
    return message


def notice_to_wire(notice: RepairNotice) -> pb.RepairNotice:
    """The repair notice served with a penalty or listing decision (两书同达)."""
    return pb.RepairNotice(
        repairable=notice.repairable,
        repairable_from=day_text(notice.repairable_from),
        how=notice.how,
        basis=notice.basis,
        forbidden_by=notice.forbidden_by,
        severity_note=notice.severity_note,
        total_working_days=notice.deadlines.total_working_days,
        decision_working_days=notice.deadlines.decision_working_days,
    )


def listing_to_wire(listing: Listing, today: date) -> pb.Listing:
    decision = listing.decision
    message = pb.Listing(
        listing_id=listing.listing_id,
        list_name=listing.list_name,
        record_id=listing.record_id,
        origin_region=listing.origin_region,
        record_type=listing.record_type,
        subject=subject_to_wire(listing.subject),
        state=pb.ListingState.Value(f"LISTING_STATE_{listing.state.name}"),
        decision=pb.ListingDecision(
            reason=decision.reason,
            basis=decision.basis,
            measures=decision.measures,
            removal_conditions=decision.removal_conditions,
            remedies=decision.remedies,
        ),
        notice_due=listing.notice_due.isoformat(),
        objection_due=day_text(listing.objection_due),
        review_due=day_text(listing.review_due),
        listed_on=day_text(listing.listed_on),
        ends_on=day_text(listing.ends_on),
        removal_due=day_text(listing.removal_due),
        removal_cause="" if listing.removal_cause is None else listing.removal_cause.value,
        overdue=listing.overdue(today) or "",
    )
    if listing.repair_notice is not None:
        message.repair_notice.CopyFrom(notice_to_wire(listing.repair_notice))
    for step in listing.history:
        transition = message.history.add(
            state=pb.ListingState.Value(f"LISTING_STATE_{step.state.name}"),
            actor=step.actor,
            document=step.document,
            reason=step.reason,
        )
        transition.at.FromDatetime(step.at)
    return message


_REPAIR_STATES = {
    RepairState.SUBMITTED: pb.REPAIR_STATE_SUBMITTED,
    RepairState.ACCEPTED: pb.REPAIR_STATE_ACCEPTED,
    RepairState.APPROVED: pb.REPAIR_STATE_APPROVED,
    RepairState.REJECTED: pb.REPAIR_STATE_REJECTED,
}
