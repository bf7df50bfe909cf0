"""An export for one subject or one requester proves it is complete: a dropped or foreign entry is caught."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.ledger.bundle import BundleError, VerifiedBundle, verify_bundle
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.node import Node
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc
from tests.integration.conftest import Connect
from tests.integration.test_officer_export import fill_log
from tests.support import COMPANY, OTHER_COMPANY, PERSON, REGION

ORIGIN = f"share-gateway/node/{REGION}"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BANK = "sgw://institution/91110000MA0000001L"
OTHER_BANK = "sgw://institution/91310000MA00000025"


def logged(i: int, subject: Subject | None, actor: str) -> Event:
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        NOW + timedelta(minutes=i),
        REGION,
        actor,
        Outcome.ALLOWED,
        subject,
        purpose="loan_underwriting",
    )


async def export(dial: Connect, **filters: Any) -> bytes:
    stub = compliance_pb2_grpc.ComplianceServiceStub(dial("officer"))
    stream = stub.StreamExportBundle(
        compliance_pb2.StreamExportBundleRequest(filter=compliance_pb2.EventFilter(**filters)), timeout=60
    )
    return b"".join([piece.data async for piece in stream])


def verify(bundle: bytes, federation: Layout) -> VerifiedBundle:
    return verify_bundle(bundle, KeyRing([federation.node_verifying_key(REGION)]), ORIGIN)


def without_entry(bundle: bytes, position: int) -> bytes:
    doc = parse_json(bundle)
    del doc["entries"][position]
    return canonical_json(doc)


@pytest.fixture
async def logged_subjects(any_node: Node) -> Node:
    """Events about two companies and a person, by two banks, mixed; then integrated under a checkpoint."""
    company, other = Subject(SubjectKind.LEGAL_ENTITY, COMPANY), Subject(SubjectKind.LEGAL_ENTITY, OTHER_COMPANY)
    person = Subject(SubjectKind.INDIVIDUAL, PERSON)
    events = [logged(i, (company, other, person)[i % 3], (BANK, OTHER_BANK)[i % 2]) for i in range(30)]
    any_node.gateway.store.append(events)
    await fill_log(any_node, 0)
    return any_node


async def test_an_export_for_a_subject_is_proven_complete_and_one_without_an_entry_fails_naming_it(
    logged_subjects: Node, dial: Connect, federation: Layout
) -> None:
    bundle = await export(dial, subject_identifier=COMPANY)
    verified = verify(bundle, federation)
    assert verified.complete is not None
    assert verified.complete.key == f"subject:legal_entity:{COMPANY}"
    assert len(verified.events) == verified.complete.leaves == 10
    assert all(e.subject is not None and e.subject.identifier == COMPANY for e in verified.events)
    dropped = parse_json(bundle)["entries"][3]["leaf_index"]
    with pytest.raises(BundleError, match=f"leaf {dropped} is missing: the index lists it under subject:"):
        verify(without_entry(bundle, 3), federation)


async def test_a_foreign_entry_added_to_a_complete_export_fails(
    logged_subjects: Node, dial: Connect, federation: Layout
) -> None:
    mine, theirs = await export(dial, subject_identifier=COMPANY), await export(dial, subject_identifier=PERSON)
    doc, foreign = parse_json(mine), parse_json(theirs)["entries"][0]
    doc["entries"].append(foreign)
    with pytest.raises(BundleError, match=f"leaf {foreign['leaf_index']} is not one of the leaves the index lists"):
        verify(canonical_json(doc), federation)


async def test_a_requester_export_in_a_time_range_holds_exactly_its_events_in_range(
    logged_subjects: Node, dial: Connect, federation: Layout
) -> None:
    since, until = Timestamp(), Timestamp()
    since.FromDatetime(NOW + timedelta(minutes=10))
    until.FromDatetime(NOW + timedelta(minutes=20))
    verified = verify(await export(dial, actor=OTHER_BANK, since=since, until=until), federation)
    assert verified.complete is not None
    assert verified.complete.key == f"requester:{OTHER_BANK}"
    assert sorted(e.at for e in verified.events) == [NOW + timedelta(minutes=i) for i in range(11, 20, 2)]


async def test_a_subject_with_no_events_exports_an_empty_bundle_proven_complete(
    logged_subjects: Node, dial: Connect, federation: Layout
) -> None:
    verified = verify(await export(dial, subject_identifier="91110000MA0000001L"), federation)
    assert verified.complete is not None
    assert verified.events == ()
    assert verified.checkpoint.size >= 30


async def test_another_filter_exports_v1_which_still_verifies_but_is_not_proven_complete(
    logged_subjects: Node, dial: Connect, federation: Layout
) -> None:
    bundle = await export(dial, subject_identifier=COMPANY, purpose="loan_underwriting")
    assert parse_json(bundle)["format"] == "share-gateway/audit-bundle@v1"
    verified = verify(bundle, federation)
    assert verified.complete is None
    assert len(verified.events) == 10
    # Dropping an entry from a v1 bundle still verifies: that is what v2 is for.
    assert len(verify(without_entry(bundle, 0), federation).events) == 9


async def test_a_redacted_entry_still_counts_as_present(
    logged_subjects: Node, dial: Connect, federation: Layout
) -> None:
    bundle = parse_json(await export(dial, subject_identifier=COMPANY))
    entry = bundle["entries"][0]
    body = base64.b64decode(entry.pop("event"))
    entry["leaf_hash"] = base64.b64encode(leaf_hash(body)).decode()
    verified = verify(canonical_json(bundle), federation)
    assert verified.complete is not None
    assert (len(verified.events), len(verified.redacted)) == (9, 1)
