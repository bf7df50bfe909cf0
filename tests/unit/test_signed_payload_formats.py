"""What the origin signs is read back only in the one format and the one byte form it was written in.

A record statement, a listing and a revocation each carry a format number
(``"v": 1``) and must be canonical JSON: bytes in another format, or the same
content spaced, reordered or escaped differently, are refused, both when parsed
and when opened from a signed envelope (``MalformedPayload``). The payloads
are spelled out field by field, not produced by the code under test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from share_gateway.crypto.disclosure import STATEMENT_TYPE, Disclosure, RecordStatement, verify_disclosure
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import MalformedPayload
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.canonical import canonical_json
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, DisputeMark
from share_gateway.domain.disputes import DisputeState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.listings import LISTING_TYPE, Listing, ListingDecision, ListingState, Transition
from share_gateway.domain.record_documents import LegalDocument
from share_gateway.domain.records import RecordStatus
from share_gateway.domain.repair import REVOCATION_TYPE, RepairDeadlines, Revocation
from share_gateway.domain.repair_notice import RepairNotice

ORIGIN = SigningKey.generate("share-gateway/node/110000")
KEYS = KeyRing([ORIGIN.verifying_key])
SUBJECT = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")
AT = datetime(2026, 11, 26, 10, 0, 0, 250000, tzinfo=UTC)

STATEMENT = RecordStatement(
    record_id="r-1",
    record_type="administrative_penalty",
    subject=SUBJECT,
    origin_region="110000",
    catalog_version=3,
    severity="general",
    decided_on=date(2026, 9, 1),
    period_start=date(2026, 9, 1),
    period_days=365,
    publish_until=date(2027, 9, 1),
    share_until=date(2027, 9, 1),
    legal_document=LegalDocument(
        "京朝市监罚〔2026〕118号", "北京市朝阳区市场监督管理局", "行政处罚决定书", date(2026, 9, 1), date(2026, 9, 1)
    ),
    recorded_at=AT,
    version=1,
    digests=frozenset({bytes(32), bytes([1]) * 32}),
    format=1,
)
STATEMENT_JSON: dict[str, Any] = {
    "v": 1,
    "record_id": "r-1",
    "record_type": "administrative_penalty",
    "subject": {"kind": "legal_entity", "id": "91110105MA01ABCD00"},
    "origin": "110000",
    "catalog_version": 3,
    "severity": "general",
    "decided_on": "2026-09-01",
    "disclose_until": "2027-09-01",
    "legal_document": {
        "number": "京朝市监罚〔2026〕118号",
        "issuer": "北京市朝阳区市场监督管理局",
        "kind": "行政处罚决定书",
        "issued_on": "2026-09-01",
        "effective_on": "2026-09-01",
    },
    "recorded_at": "2026-11-26T10:00:00.250000Z",
    "version": 1,
    "digests": ["00" * 32, "01" * 32],
}

LISTING = Listing(
    listing_id="l-1",
    list_name="serious_untrustworthy",
    record_id="r-1",
    origin_region="110000",
    record_type="dishonest_judgment_debtor",
    subject=SUBJECT,
    state=ListingState.PROPOSED,
    decision=ListingDecision("有履行能力而拒不履行", "国办发〔2020〕49号", ("restrict",), "全部履行", "可提出异议"),
    notice_due=date(2026, 12, 3),
    history=(Transition(ListingState.PROPOSED, "sgw://institution/11110000MB0000005B", AT, "拟列入通知", "理由"),),
)
LISTING_JSON: dict[str, Any] = {
    "v": 1,
    "listing_id": "l-1",
    "list": "serious_untrustworthy",
    "record_id": "r-1",
    "origin": "110000",
    "record_type": "dishonest_judgment_debtor",
    "subject": {"kind": "legal_entity", "id": "91110105MA01ABCD00"},
    "state": "proposed",
    "decision": {
        "reason": "有履行能力而拒不履行",
        "basis": "国办发〔2020〕49号",
        "measures": ["restrict"],
        "removal_conditions": "全部履行",
        "remedies": "可提出异议",
    },
    "notice_due": "2026-12-03",
    "objection_due": "",
    "review_due": "",
    "listed_on": "",
    "ends_on": "",
    "removal_due": "",
    "removal_cause": "",
    "history": [
        {
            "state": "proposed",
            "actor": "sgw://institution/11110000MB0000005B",
            "at": "2026-11-26T10:00:00.250000Z",
            "document": "拟列入通知",
            "reason": "理由",
        }
    ],
    "version": 1,
}

REVOCATION = Revocation("r-1", "110000", "administrative_penalty", SUBJECT, RecordStatus.REPAIRED, "已修复", AT)
REVOCATION_JSON: dict[str, Any] = {
    "v": 1,
    "record_id": "r-1",
    "origin": "110000",
    "record_type": "administrative_penalty",
    "subject": {"kind": "legal_entity", "id": "91110105MA01ABCD00"},
    "status": "repaired",
    "reason": "已修复",
    "at": "2026-11-26T10:00:00.250000Z",
}

# Format 2 (decoy digests among the real ones) differs only in its number: padding is in what the list holds.
PADDED_STATEMENT = replace(STATEMENT, digests=STATEMENT.digests | {bytes([2]) * 32}, format=2)
PADDED_STATEMENT_JSON: dict[str, Any] = {**STATEMENT_JSON, "v": 2, "digests": ["00" * 32, "01" * 32, "02" * 32]}

# Format 3: two ends (NDRC Order No. 36 of 2025: publication and sharing end apart), the start of the clock and the
# severity period's days; here a penalty shared for a year after its publication ended.
TWO_ENDS_STATEMENT = replace(PADDED_STATEMENT, period_start=date(2026, 9, 1), share_until=date(2028, 8, 31), format=3)
TWO_ENDS_STATEMENT_JSON: dict[str, Any] = {
    key: value for key, value in PADDED_STATEMENT_JSON.items() if key != "disclose_until"
} | {
    "v": 3,
    "period_start": "2026-09-01",
    "period_days": 365,
    "publish_until": "2027-09-01",
    "share_until": "2028-08-31",
}

# A listing decision served with its repair notice (两书同达, 2025 No. 22): the notice is signed with the listing; a
# listing without one keeps the bytes it always had.
NOTICE = RepairNotice(True, date(2027, 9, 1), "履行义务并作出信用承诺", "2025 No. 22", "", "", RepairDeadlines())
SERVED_LISTING = replace(LISTING, repair_notice=NOTICE)
SERVED_LISTING_JSON: dict[str, Any] = LISTING_JSON | {
    "repair_notice": {
        "repairable": True,
        "repairable_from": "2027-09-01",
        "how": "履行义务并作出信用承诺",
        "basis": "2025 No. 22",
        "forbidden_by": "",
        "severity_note": "",
        "total_working_days": 10,
        "decision_working_days": 3,
        "extension_working_days": 10,
    }
}

# Where a dispute about the origin's record stands: the mark other regions show, without claim or answer.
DISPUTE_MARK = DisputeMark(
    "d-1", "110000", "r-1", "dishonest_judgment_debtor", SUBJECT, DisputeState.FILED, AT, date(2026, 12, 16), None, 1
)
DISPUTE_MARK_JSON: dict[str, Any] = {
    "v": 1,
    "dispute_id": "d-1",
    "origin": "110000",
    "record_id": "r-1",
    "record_type": "dishonest_judgment_debtor",
    "subject": {"kind": "legal_entity", "id": "91110105MA01ABCD00"},
    "state": "filed",
    "filed_at": "2026-11-26T10:00:00.250000Z",
    "answer_due": "2026-12-16",
    "answered_at": "",
    "version": 1,
}

CASES: list[tuple[str, Any, dict[str, Any], Callable[[bytes], Any], str]] = [
    ("statement", STATEMENT, STATEMENT_JSON, RecordStatement.from_bytes, STATEMENT_TYPE),
    ("statement", PADDED_STATEMENT, PADDED_STATEMENT_JSON, RecordStatement.from_bytes, STATEMENT_TYPE),
    ("statement", TWO_ENDS_STATEMENT, TWO_ENDS_STATEMENT_JSON, RecordStatement.from_bytes, STATEMENT_TYPE),
    ("listing", LISTING, LISTING_JSON, Listing.from_bytes, LISTING_TYPE),
    ("listing", SERVED_LISTING, SERVED_LISTING_JSON, Listing.from_bytes, LISTING_TYPE),
    ("revocation", REVOCATION, REVOCATION_JSON, Revocation.from_bytes, REVOCATION_TYPE),
    ("dispute mark", DISPUTE_MARK, DISPUTE_MARK_JSON, DisputeMark.from_bytes, DISPUTE_MARK_TYPE),
]
IDS = ["statement-v1", "statement-v2", "statement-v3", "listing", "listing-with-notice", "revocation", "dispute-mark"]


def canonical(document: dict[str, Any]) -> bytes:
    """Canonical JSON written out with the standard library alone: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize(("name", "value", "document", "parse", "media_type"), CASES, ids=IDS)
def test_the_signed_bytes_are_exactly_the_documented_json_and_read_back(
    name: str, value: Any, document: dict[str, Any], parse: Callable[[bytes], Any], media_type: str
) -> None:
    assert value.to_bytes() == canonical(document) == canonical_json(document)
    assert parse(canonical(document)) == value


@pytest.mark.parametrize("version", [0, 4, "1", None])
@pytest.mark.parametrize(("name", "value", "document", "parse", "media_type"), CASES, ids=IDS)
def test_an_unknown_format_version_is_refused_as_such(
    name: str, value: Any, document: dict[str, Any], parse: Callable[[bytes], Any], media_type: str, version: object
) -> None:
    # The rest is the valid document: only the format number is unknown.
    with pytest.raises(ValueError, match=f"unknown {name} format {version!r}"):
        parse(canonical({**document, "v": version}))


def _spaced(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False).encode()


def _unsorted(document: dict[str, Any]) -> bytes:
    return json.dumps(dict(reversed(document.items())), separators=(",", ":"), ensure_ascii=False).encode()


def _escaped(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _trailing_newline(document: dict[str, Any]) -> bytes:
    return canonical(document) + b"\n"


NON_CANONICAL = [_spaced, _unsorted, _escaped, _trailing_newline]


# Every case in every other encoding; escaping applies only where a format holds text beyond ASCII.
VARIANT_CASES = [
    pytest.param(*case, variant, id=f"{variant.__name__.strip('_')}-{case_id}")
    for case, case_id in zip(CASES, IDS, strict=True)
    for variant in NON_CANONICAL
    if not (variant is _escaped and canonical(case[2]).isascii())
]


@pytest.mark.parametrize(("name", "value", "document", "parse", "media_type", "variant"), VARIANT_CASES)
def test_the_same_content_in_other_bytes_is_refused(
    name: str,
    value: Any,
    document: dict[str, Any],
    parse: Callable[[bytes], Any],
    media_type: str,
    variant: Callable[[dict[str, Any]], bytes],
) -> None:
    data = variant(document)
    assert data != canonical(document), "the variant must really differ"
    with pytest.raises(ValueError, match=f"{name} bytes are not canonical"):
        parse(data)


@pytest.mark.parametrize(("name", "value", "document", "parse", "media_type"), CASES, ids=IDS)
def test_a_signed_envelope_over_other_bytes_does_not_open(
    name: str, value: Any, document: dict[str, Any], parse: Callable[[bytes], Any], media_type: str
) -> None:
    """The signature holds (the origin signed these very bytes), yet the payload is refused."""
    assert Envelope.seal(ORIGIN, media_type, canonical(document)).open(KEYS, media_type, parse) == value
    for data in (_spaced(document), canonical({**document, "v": 4})):
        envelope = Envelope.seal(ORIGIN, media_type, data)
        envelope.verify(KEYS, media_type)
        with pytest.raises(MalformedPayload, match=re.escape(f"{media_type} does not parse")):
            envelope.open(KEYS, media_type, parse)


def test_a_disclosure_whose_statement_is_not_canonical_does_not_verify() -> None:
    for data in (_spaced(STATEMENT_JSON), canonical({**STATEMENT_JSON, "v": 3})):
        disclosure = Disclosure(Envelope.seal(ORIGIN, STATEMENT_TYPE, data), ())
        with pytest.raises(MalformedPayload):
            verify_disclosure(disclosure, KEYS)
