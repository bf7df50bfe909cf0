"""A record's document must be of a kind its type rests on, and carry the number the record cites (issue 12 item 11).

The catalog names, per record type, the kinds of legally effective document
accepted and the field that repeats the document's number (an administrative
penalty's ``decision_number`` is the number of the penalty decision itself, SAMR
Order 45 Art. 4). A record whose document is of another kind, or whose decision
number is not its document's, does not rest on that document and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from share_gateway.domain.errors import FieldViolation

if TYPE_CHECKING:
    from share_gateway.domain.catalog import RecordType

__all__ = ["LegalDocument", "LegalDocumentDraft", "admit_legal_document", "check_document_provision", "parse_date"]

MAX_DOCUMENT_TEXT = 200
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str, path: str, violations: list[FieldViolation]) -> date | None:
    try:
        parsed = date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
    except ValueError:
        parsed = None
    if parsed is None:
        violations.append(FieldViolation(path, f"{text!r} is not an ISO 8601 date (YYYY-MM-DD)"))
    return parsed


@dataclass(frozen=True, slots=True)
class LegalDocument:
    """The legally effective document a record rests on."""

    number: str
    issuer: str
    kind: str
    issued_on: date
    effective_on: date

    def to_json(self) -> dict[str, str]:
        return {
            "number": self.number,
            "issuer": self.issuer,
            "kind": self.kind,
            "issued_on": self.issued_on.isoformat(),
            "effective_on": self.effective_on.isoformat(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, str]) -> LegalDocument:
        return cls(
            raw["number"],
            raw["issuer"],
            raw["kind"],
            date.fromisoformat(raw["issued_on"]),
            date.fromisoformat(raw["effective_on"]),
        )


@dataclass(frozen=True, slots=True)
class LegalDocumentDraft:
    number: str
    issuer: str
    kind: str
    issued_on: str
    effective_on: str


def admit_legal_document(
    draft: LegalDocumentDraft, today: date, path: str, violations: list[FieldViolation]
) -> LegalDocument | None:
    """Check a document is complete and already in effect (a future one grounds nothing yet)."""
    before = len(violations)
    for name in ("number", "issuer", "kind"):
        text = getattr(draft, name)
        if not text.strip():
            violations.append(FieldViolation(f"{path}.{name}", "is required"))
        elif len(text) > MAX_DOCUMENT_TEXT:
            violations.append(FieldViolation(f"{path}.{name}", f"is longer than {MAX_DOCUMENT_TEXT} characters"))
    issued = parse_date(draft.issued_on, f"{path}.issued_on", violations)
    effective = parse_date(draft.effective_on, f"{path}.effective_on", violations)
    if issued and effective:
        if effective < issued:
            violations.append(FieldViolation(f"{path}.effective_on", "precedes the issue date"))
        if effective > today:
            violations.append(FieldViolation(f"{path}.effective_on", "the document is not yet legally effective"))
    if len(violations) > before or issued is None or effective is None:
        return None
    return LegalDocument(draft.number.strip(), draft.issuer.strip(), draft.kind.strip(), issued, effective)


def check_document_provision(
    record_type: RecordType, document: LegalDocument | None, fields: Mapping[str, str], violations: list[FieldViolation]
) -> None:
    """Record a violation for a document kind the type does not accept, or a decision number not the document's."""
    if document is None:
        return
    provision = record_type.provision
    if not provision.accepts_document(document.kind):
        accepted = ", ".join(sorted(provision.document_kinds))
        violations.append(
            FieldViolation("legal_document.kind", f"{record_type.name} rests on {accepted}, not {document.kind!r}")
        )
    name = provision.document_number_field
    if name is not None and name in fields and fields[name].strip() != document.number:
        violations.append(
            FieldViolation(f"fields.{name}", f"must be the number of its legal document, {document.number!r}")
        )
