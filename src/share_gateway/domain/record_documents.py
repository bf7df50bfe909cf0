"""A record's document must be of a kind its type rests on, and carry the number the record cites (issue 12 item 11).

The catalog names, per record type, the kinds of legally effective document
accepted and the field that repeats the document's number (an administrative
penalty's ``decision_number`` is the number of the penalty decision itself, SAMR
Order 45 Art. 4). A record whose document is of another kind, or whose decision
number is not its document's, does not rest on that document and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from share_gateway.domain.errors import FieldViolation

if TYPE_CHECKING:  # records imports this module to run the check at admission
    from share_gateway.domain.catalog import RecordType
    from share_gateway.domain.records import LegalDocument

__all__ = ["check_document_provision"]


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
