"""Verifiable selective disclosure of records (DESIGN section 5, the SD-JWT idea).

At submission the origin node signs a *record statement* that holds, instead
of field values, one salted digest per field::

    digest = SHA-256(salt || u32(len(name)) || name || u32(len(value)) || value)

with a fresh 16-byte salt per field, UTF-8 name and canonical value text,
lengths big-endian (so no two (name, value) pairs share an encoding). The
digests are listed sorted and without names, so a withheld field leaves
neither its name nor its value on the wire. A disclosure is the signed
statement plus the (name, value, salt) triples the policy allows; anyone with
the origin's public key checks each value against the statement.

Format 2 pads the digests of every statement of a record type to one count
(the number of fields the type has in the catalog) with decoy digests, random
32-byte strings, as SD-JWT does: the count no longer tells which optional
fields a record has, nor how many a disclosure withheld. A decoy looks like any
other digest and no opening can match it (that would take a SHA-256 preimage).
Format 1 statements, unpadded, are still read and verified.

Format 3 gives a record its two ends, publication (``publish_until``) and sharing (``share_until``), the day
its clock started (``period_start``) and its severity period's days; a record without a decision has
``decided_on`` null. A format 1 or 2 statement's one ``disclose_until`` is both ends, and its decision date
the start.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import DigestMismatch, MalformedPayload
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.record_documents import LegalDocument
from share_gateway.domain.records import Record

STATEMENT_TYPE = "application/vnd.share-gateway.record-statement+json"
STATEMENT_FORMAT = 3
READABLE_STATEMENT_FORMATS = (1, 2, 3)
"""Format 1 listed one digest per field; format 2 adds decoys; format 3 two ends. Every statement ever signed stays
readable."""
_TWO_ENDS = 3
SALT_BYTES = 16
DIGEST_BYTES = 32


def field_digest(salt: bytes, name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return hashlib.sha256(
        salt
        + len(encoded_name).to_bytes(4, "big")
        + encoded_name
        + len(encoded_value).to_bytes(4, "big")
        + encoded_value
    ).digest()


@dataclass(frozen=True, slots=True)
class FieldOpening:
    """What proves one field: its name, canonical value text and salt."""

    name: str
    value: str
    salt: bytes

    @property
    def digest(self) -> bytes:
        return field_digest(self.salt, self.name, self.value)


@dataclass(frozen=True, slots=True)
class RecordStatement:
    """What the origin signs about a record: everything but the field values."""

    record_id: str
    record_type: str
    subject: Subject
    origin_region: str
    catalog_version: int
    severity: str | None
    decided_on: date | None
    period_start: date | None
    period_days: int | None
    publish_until: date | None
    share_until: date | None
    legal_document: LegalDocument | None
    recorded_at: datetime
    version: int
    digests: frozenset[bytes]
    format: int = STATEMENT_FORMAT

    @property
    def padded(self) -> bool:
        """Whether decoys may be among the digests: then their count says nothing of how many fields there are."""
        return self.format >= 2

    def to_bytes(self) -> bytes:
        doc = self.legal_document
        return canonical_json(
            {
                "v": self.format,
                "record_id": self.record_id,
                "record_type": self.record_type,
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "origin": self.origin_region,
                "catalog_version": self.catalog_version,
                "severity": self.severity,
                **self._periods(),
                "legal_document": None if doc is None else doc.to_json(),
                "recorded_at": format_instant(self.recorded_at),
                "version": self.version,
                "digests": sorted(d.hex() for d in self.digests),
            }
        )

    def _periods(self) -> dict[str, Any]:
        """The dates as the statement's format writes them (formats 1 and 2: one end, the decision its start)."""
        if self.format < _TWO_ENDS:
            assert self.decided_on is not None, "formats 1 and 2 always had a decision date"
            return {"decided_on": self.decided_on.isoformat(), "disclose_until": _iso(self.publish_until)}
        return {
            "decided_on": _iso(self.decided_on),
            "period_start": _iso(self.period_start),
            "period_days": self.period_days,
            "publish_until": _iso(self.publish_until),
            "share_until": _iso(self.share_until),
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> RecordStatement:
        raw: dict[str, Any] = parse_json(data)
        if type(raw["v"]) is not int or raw["v"] not in READABLE_STATEMENT_FORMATS:
            raise ValueError(f"unknown statement format {raw['v']!r}")
        doc = raw["legal_document"]
        statement = cls(
            record_id=raw["record_id"],
            record_type=raw["record_type"],
            subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
            origin_region=raw["origin"],
            catalog_version=raw["catalog_version"],
            severity=raw["severity"],
            **_read_periods(raw),
            legal_document=None if doc is None else LegalDocument.from_json(doc),
            recorded_at=parse_instant(raw["recorded_at"]),
            version=raw["version"],
            digests=frozenset(bytes.fromhex(d) for d in raw["digests"]),
            format=raw["v"],
        )
        if statement.to_bytes() != data:
            raise ValueError("statement bytes are not canonical")
        return statement


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(text: Any) -> date | None:
    if text is not None and not isinstance(text, str):
        raise ValueError(f"{text!r} is not a date")
    return None if text is None else date.fromisoformat(text)


def _read_periods(raw: dict[str, Any]) -> dict[str, Any]:
    """The dates of a statement of any format, as format 3 names them."""
    if raw["v"] < _TWO_ENDS:
        decided, until = date.fromisoformat(raw["decided_on"]), _day(raw["disclose_until"])
        days = None if until is None else (until - decided).days
        return {
            "decided_on": decided,
            "period_start": decided,
            "period_days": days,
            "publish_until": until,
            "share_until": until,
        }
    days = raw["period_days"]
    if days is not None and (type(days) is not int or days < 0):
        raise ValueError(f"period_days {days!r} is not a number of days")
    return {
        "decided_on": _day(raw["decided_on"]),
        "period_start": _day(raw["period_start"]),
        "period_days": days,
        "publish_until": _day(raw["publish_until"]),
        "share_until": _day(raw["share_until"]),
    }


@dataclass(frozen=True, slots=True)
class SealedRecord:
    """A signed statement and every opening: what the origin stores."""

    statement: Envelope
    openings: Mapping[str, FieldOpening]


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The signed statement and only the openings a purpose may see."""

    statement: Envelope
    fields: tuple[FieldOpening, ...]


@dataclass(frozen=True, slots=True)
class VerifiedDisclosure:
    statement: RecordStatement
    fields: Mapping[str, str]

    def complete(self, required: Collection[str]) -> bool:
        """Whether it opens the whole record, as far as can be seen (a publication must).

        A format-1 statement lists one digest per field: complete means one opening per digest. A padded
        statement (format 2) hides, on purpose, how many of its digests are decoys, so counting proves nothing
        there: it is complete when it opens every field its type requires (``required``, from the catalog). An
        optional field left out cannot be told from one the record never had; only the origin can publish its
        record, and it could as well have sealed the record without that field.
        """
        if self.statement.padded:
            return set(required) <= set(self.fields)
        return len(self.fields) == len(self.statement.digests)


def seal_record(
    record: Record,
    key: SigningKey,
    salt: Callable[[int], bytes] = os.urandom,
    *,
    pad_to: int = 0,
    decoy: Callable[[int], bytes] = os.urandom,
) -> SealedRecord:
    """Salt and digest every field, add decoys up to ``pad_to`` digests, then sign the statement.

    ``pad_to`` is the number of fields the record's type has in the catalog, so that every statement of the type
    lists as many digests. Decoys are fresh random bytes (never derived from anything an opening could reveal).
    """
    openings = {name: FieldOpening(name, value, salt(SALT_BYTES)) for name, value in record.fields.items()}
    if pad_to and pad_to < len(openings):
        raise ValueError(f"{record.record_type}: {len(openings)} fields cannot be padded to {pad_to} digests")
    digests = {o.digest for o in openings.values()}
    while len(digests) < pad_to:
        digests.add(decoy(DIGEST_BYTES))
    statement = RecordStatement(
        record_id=record.record_id,
        record_type=record.record_type,
        subject=record.subject,
        origin_region=record.origin_region,
        catalog_version=record.catalog_version,
        severity=record.severity,
        decided_on=record.decided_on,
        period_start=record.period_start,
        period_days=record.period_days,
        publish_until=record.publish_until,
        share_until=record.share_until,
        legal_document=record.legal_document,
        recorded_at=record.recorded_at,
        version=record.version,
        digests=frozenset(digests),
    )
    return SealedRecord(Envelope.seal(key, STATEMENT_TYPE, statement.to_bytes()), openings)


def disclose(sealed: SealedRecord, allowed: frozenset[str]) -> Disclosure:
    return Disclosure(
        sealed.statement, tuple(sealed.openings[name] for name in sorted(allowed) if name in sealed.openings)
    )


# Statements verified under one key ring, by (key id, payload type, signature, payload): see verify_disclosure.
OpenedStatements = MutableMapping[tuple[bytes, str, bytes, bytes], RecordStatement]


def verify_disclosure(
    disclosure: Disclosure, keys: KeyRing, opened: OpenedStatements | None = None
) -> VerifiedDisclosure:
    """Check a disclosure against the origin's key; return the statement and the verified values.

    1. The statement's signature holds for its exact bytes under a trusted key.
    2. The statement parses, and the key was not retired by the time it was recorded.
    3. Every disclosed (name, value, salt) hashes to a digest the statement lists,
       each name at most once.

    ``opened`` keeps the statements whose signature held under ``keys`` (the caller's, for that one ring): the
    same signed bytes verify the same way, so step 1 runs once per statement; steps 2 and 3 run every time.
    """
    envelope = disclosure.statement
    seen = (envelope.key_id, envelope.payload_type, envelope.signature, envelope.payload)
    statement = None if opened is None else opened.get(seen)
    if statement is None:
        statement = envelope.open(keys, STATEMENT_TYPE, RecordStatement.from_bytes)
        if opened is not None:
            opened[seen] = statement
    keys.require_in_force(envelope.key_id, statement.recorded_at)
    fields: dict[str, str] = {}
    for opening in disclosure.fields:
        if len(opening.salt) != SALT_BYTES:
            raise MalformedPayload(f"field {opening.name!r}: salt must be {SALT_BYTES} bytes")
        if opening.name in fields:
            raise MalformedPayload(f"field {opening.name!r} disclosed twice")
        if opening.digest not in statement.digests:
            raise DigestMismatch(f"field {opening.name!r} does not match the signed statement")
        fields[opening.name] = opening.value
    return VerifiedDisclosure(statement, fields)
