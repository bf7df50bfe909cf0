"""What a draft carries: a value for each field of its record type, and its legal document.

Values come from generators by field name, which read the case's facts; a
field no generator knows (a catalog newer than this module) gets a plausible
value of its type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeAlias

from share_gateway.domain.catalog import FieldSpec, FieldType
from share_gateway.domain.record_documents import LegalDocumentDraft
from share_gateway.domain.records import TypedValue
from share_gateway.synthetic.case import Case
from share_gateway.synthetic.draws import CENT, between, money
from share_gateway.synthetic.licences import licence
from share_gateway.synthetic.obligations import (
    CONDUCT_CODES,
    commitment,
    judgment,
    loan,
    tax_arrears,
    utility_arrears,
)
from share_gateway.synthetic.penalties import penalty
from share_gateway.synthetic.people import SyntheticCompany, SyntheticPerson

_Value: TypeAlias = str | int | bool | Decimal | date

_FieldGenerator = Callable[[Case], _Value | None]


def _of_company(get: Callable[[SyntheticCompany], _Value]) -> _FieldGenerator:
    """A field only a company has; for a person it does not apply (``None``)."""

    def generate(c: Case) -> _Value | None:
        return get(c.company) if c.company is not None else None

    return generate


def _of_person(get: Callable[[SyntheticPerson, Case], _Value]) -> _FieldGenerator:
    """A field only a person has; for a company it does not apply (``None``)."""

    def generate(c: Case) -> _Value | None:
        return get(c.person, c) if c.person is not None else None

    return generate


# Values by field name; "record_type.field" wins over "field" where one name means different things.
_FIELD_VALUES: Mapping[str, _FieldGenerator] = {
    # business_registration
    "entity_name": _of_company(lambda co: co.name),
    "entity_type": _of_company(lambda co: co.entity_type),
    "legal_representative": _of_company(lambda co: co.legal_representative),
    "registered_capital": _of_company(lambda co: co.registered_capital),
    "established_on": _of_company(lambda co: co.established_on),
    "registered_address": _of_company(lambda co: co.address),
    "business_scope": _of_company(lambda co: co.business_scope),
    "registration_authority": _of_company(lambda co: co.registration_authority),
    # the subject, however a record type names it
    "party_name": lambda c: c.subject.name,
    "debtor_name": lambda c: c.subject.name,
    "taxpayer_name": lambda c: c.subject.name,
    "sex": _of_person(lambda p, _: p.sex.value),
    "age": _of_person(lambda p, c: p.age_on(c.decided_on or c.today)),
    # administrative_penalty
    "decision_number": lambda c: penalty(c).number,
    "violation_type": lambda c: penalty(c).violation_type,
    "violation_facts": lambda c: penalty(c).facts,
    "penalty": lambda c: penalty(c).text,
    "penalty_amount": lambda c: penalty(c).amount,
    "administrative_penalty.issuing_authority": lambda c: penalty(c).issuer,
    # administrative_licence
    "licence_number": lambda c: licence(c).number,
    "licence_name": lambda c: licence(c).name,
    "licence_content": lambda c: licence(c).content,
    "valid_from": lambda c: licence(c).valid_from,
    "valid_until": lambda c: licence(c).valid_until,
    "administrative_licence.issuing_authority": lambda c: licence(c).issuer,
    "issuing_authority": lambda c: c.department("market"),
    # dishonest_judgment_debtor
    "obligation": lambda c: judgment(c).obligation,
    "performance": lambda c: judgment(c).performance,
    "conduct": lambda c: judgment(c).conduct,
    "dishonest_judgment_debtor.conduct_code": lambda c: CONDUCT_CODES[judgment(c).conduct],
    # No synthetic court extends a term: an extension needs the aggravating conduct Art. 2 names.
    "aggravation": lambda c: None,
    "extension_days": lambda c: None,
    # A synthetic penalty finds no conduct that grounds a listing (no source gives one to draw).
    "administrative_penalty.conduct_code": lambda c: "other_violation",
    "enforcement_basis_issuer": lambda c: judgment(c).basis_issuer,
    "enforcement_basis_number": lambda c: judgment(c).basis_number,
    "case_number": lambda c: judgment(c).case_number,
    "filed_on": lambda c: judgment(c).filed_on,
    "court": lambda c: judgment(c).court,
    # tax_arrears
    "tax_type": lambda c: tax_arrears(c).kind,
    "tax_authority": lambda c: tax_arrears(c).creditor,
    "tax_arrears.arrears_amount": lambda c: tax_arrears(c).amount,
    "tax_arrears.arrears_since": lambda c: tax_arrears(c).since,
    # loan_default
    "lender": lambda c: loan(c).lender,
    "contract_number": lambda c: loan(c).contract_number,
    "principal": lambda c: loan(c).principal,
    "overdue_amount": lambda c: loan(c).overdue_amount,
    "overdue_since": lambda c: loan(c).overdue_since,
    "days_overdue": lambda c: loan(c).days_overdue,
    "settled": lambda c: loan(c).settled,
    # utility_arrears
    "utility_kind": lambda c: utility_arrears(c).kind,
    "provider": lambda c: utility_arrears(c).creditor,
    "account_reference": lambda c: utility_arrears(c).reference,
    "notices_sent": lambda c: utility_arrears(c).notices,
    "utility_arrears.arrears_amount": lambda c: utility_arrears(c).amount,
    "utility_arrears.arrears_since": lambda c: utility_arrears(c).since,
    # credit_commitment
    "commitment_type": lambda c: commitment(c).type,
    "matter": lambda c: commitment(c).matter,
    "committed_on": lambda c: commitment(c).committed_on,
    "accepting_authority": lambda c: commitment(c).authority,
    "kept": lambda c: commitment(c).kept,
    "breach": lambda c: commitment(c).breach or None,
}
# How often an optional field that applies is filled in (default: always).
_OPTIONAL_SHARE: Mapping[str, float] = {
    "violation_facts": 0.9,
    "valid_until": 0.9,
    "business_scope": 0.95,
    "registered_capital": 0.9,
}


def _typed(spec: FieldSpec, value: _Value) -> TypedValue | None:
    """``value`` in the wire form of the field's type, or ``None`` when it is of another type."""
    if spec.type is FieldType.STRING and isinstance(value, str) and value.strip():
        return TypedValue(FieldType.STRING, value[: spec.max_length])
    if spec.type is FieldType.MONEY and isinstance(value, Decimal):
        return TypedValue(FieldType.MONEY, str(value.quantize(CENT)))
    if spec.type is FieldType.DATE and isinstance(value, date):
        return TypedValue(FieldType.DATE, value.isoformat())
    if spec.type is FieldType.BOOLEAN and isinstance(value, bool):
        return TypedValue(FieldType.BOOLEAN, value)
    if spec.type is FieldType.INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return TypedValue(FieldType.INTEGER, value)
    return None


def _by_type(c: Case, spec: FieldSpec) -> TypedValue:
    """A plausible value for a field no generator knows (a catalog newer than this module)."""
    rng = c.rng
    if spec.type is FieldType.STRING:
        return TypedValue(FieldType.STRING, (spec.description.strip() or "详见法律文书")[: spec.max_length])
    if spec.type is FieldType.MONEY:
        return TypedValue(FieldType.MONEY, str(money(rng, 1_000, 1_000_000, CENT)))
    if spec.type is FieldType.DATE:
        return TypedValue(FieldType.DATE, c.before_decision(0, 365).isoformat())
    if spec.type is FieldType.BOOLEAN:
        return TypedValue(FieldType.BOOLEAN, rng.random() < 0.5)
    return TypedValue(FieldType.INTEGER, rng.randint(1, 12))


# --- Legal documents --------------------------------------------------------------------


def _effective(c: Case, delay: int) -> str:
    """Effective on issue or up to ``delay`` days later (service), never after today."""
    latest = min(c.today, c.decision + timedelta(days=delay))
    return between(c.rng, c.decision, latest).isoformat()


def _document(c: Case, number: str, issuer: str, kind: str, delay: int = 0) -> LegalDocumentDraft:
    """A document issued on the decision date."""
    return LegalDocumentDraft(number, issuer, kind, c.decision.isoformat(), _effective(c, delay))


def _registration_document(c: Case) -> LegalDocumentDraft:
    assert c.company is not None
    return _document(c, c.company.uscc, c.company.registration_authority, "business_licence")


_DOCUMENTS: Mapping[str, Callable[[Case], LegalDocumentDraft]] = {
    "business_registration": _registration_document,
    "administrative_penalty": lambda c: _document(
        c, penalty(c).number, penalty(c).issuer, "administrative_penalty_decision", delay=7
    ),
    "administrative_licence": lambda c: _document(
        c, licence(c).decision_number, licence(c).issuer, "administrative_licence_decision"
    ),
    "dishonest_judgment_debtor": lambda c: _document(
        c, judgment(c).case_number, judgment(c).court, "dishonest_judgment_debtor_decision"
    ),
    "tax_arrears": lambda c: _document(
        c, tax_arrears(c).reference, tax_arrears(c).creditor, "tax_arrears_announcement"
    ),
}


def _generic_document(c: Case) -> LegalDocumentDraft:
    """A decision of the market regulator, for a record type this module has no document for."""
    number = c.mark("{cabbr}{short}决") + f"〔{c.decision.year}〕{c.rng.randint(1, 3000)}号"
    return _document(c, number, c.department("market"), "administrative_decision")


def draft_fields(c: Case) -> dict[str, TypedValue]:
    """The fields of a draft of ``c.record_type``: every required one, optional ones where they apply."""
    spec = c.record_type
    fields: dict[str, TypedValue] = {}
    for name, field_spec in spec.fields.items():
        generator = _FIELD_VALUES.get(f"{spec.name}.{name}") or _FIELD_VALUES.get(name)
        value = generator(c) if generator is not None else None
        typed = _typed(field_spec, value) if value is not None else None
        if not field_spec.required:
            if generator is not None and typed is None:
                continue  # does not apply to this subject or case
            if c.rng.random() >= _OPTIONAL_SHARE.get(name, 1.0 if generator is not None else 0.5):
                continue
        fields[name] = typed if typed is not None else _by_type(c, field_spec)
    return fields


def legal_document(c: Case) -> LegalDocumentDraft | None:
    """The document a draft of ``c.record_type`` rests on, if the record type requires one."""
    if not c.record_type.legal_document_required:
        return None
    return _DOCUMENTS.get(c.record_type.name, _generic_document)(c)
