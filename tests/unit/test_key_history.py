"""Key history: a key replaced by a rotation verifies what it signed before, and nothing dated after.

The manifest (format 3) lists each node's earlier keys with the period each
was in force. A receipt, revocation, record statement or checkpoint is dated
by its own time (a checkpoint by the newest leaf it covers); a retired key on
anything dated at or after its retirement is refused. Manifests of formats 1
and 2 written before key history still verify (``testdata/manifest_formats_1_2.json``).
The rule is the project's (issue 13; TUF's root rotation is the model) (unverified).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from share_gateway.client import verify_receipt, verify_revocation
from share_gateway.crypto.cosignature import cosign_checkpoint
from share_gateway.crypto.envelope import Envelope, pae
from share_gateway.crypto.keys import KeyPeriod, KeyRetired, KeyRing, SigningKey
from share_gateway.crypto.note import parse_note
from share_gateway.domain.events import EVENT_MEDIA_TYPE, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import RecordStatus
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.federation.manifest import (
    Manifest,
    ManifestNode,
    open_manifest,
    sign_manifest,
)
from share_gateway.federation.manifest_keys import EarlierKey, ManifestInvalid
from share_gateway.federation.wire import envelope_to_wire
from share_gateway.ledger.audit import audit_log
from share_gateway.ledger.bundle import BundleEntry, BundleError, encode_bundle, verify_bundle
from share_gateway.ledger.checkpoint import Checkpoint, TlogProof
from share_gateway.ledger.cosignatures import check_cosignatures, merge_witnesses
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, inclusion_proof
from tests.unit.test_audit_levels import MemoryLog, Row

VECTORS = json.loads((Path(__file__).parent / "testdata/manifest_formats_1_2.json").read_text())
REGION = "110000"
NAME = f"share-gateway/node/{REGION}"
ROTATED_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BEFORE, AFTER = ROTATED_AT - timedelta(hours=1), ROTATED_AT + timedelta(hours=1)
AUTHORITY = SigningKey.generate("share-gateway-authority")
AUTHORITY_RING = KeyRing([AUTHORITY.verifying_key])
OLD, NEW = SigningKey.generate(NAME), SigningKey.generate(NAME)
OLD_WITNESS, NEW_WITNESS = (SigningKey.generate(f"share-gateway/witness/{REGION}") for _ in range(2))


def seeded(name: str, byte: int) -> SigningKey:
    return SigningKey(name, Ed25519PrivateKey.from_private_bytes(bytes([byte]) * 32))


def node_before() -> ManifestNode:
    return ManifestNode(REGION, "127.0.0.1:7443", OLD.verifying_key, "ab" * 32, OLD_WITNESS.verifying_key)


def rotated_manifest() -> Manifest:
    """Version 2: the signing key and the witness key rotated at ``ROTATED_AT``."""
    node = node_before().rotated("signing", NEW.verifying_key, ROTATED_AT)
    node = node.rotated("witness", NEW_WITNESS.verifying_key, ROTATED_AT)
    return Manifest(2, ROTATED_AT + timedelta(days=90), "cd" * 32, {REGION: node})


def receipt(key: SigningKey, at: datetime) -> Envelope:
    event = Event("e-1", EventKind.AUDIT, at, REGION, "officer", Outcome.ALLOWED)
    return Envelope.seal(key, EVENT_MEDIA_TYPE, event.canonical_bytes())


def test_manifests_of_format_one_and_two_written_before_key_history_still_verify_with_their_receipt() -> None:
    """Formats are versioned: verifiers accept every version ever written (house rules) (unverified)."""
    authority = seeded("share-gateway-authority", VECTORS["authority_seed_byte"])
    signing = seeded(NAME, VECTORS["signing_seed_byte"]).verifying_key
    raw = VECTORS["receipt"]
    message = envelope_to_wire(
        Envelope(
            base64.b64decode(raw["payload"]),
            raw["payload_type"],
            bytes.fromhex(raw["key_id"]),
            base64.b64decode(raw["signature"]),
        )
    )
    for form in ("manifest_v1", "manifest_v2"):
        document = VECTORS[form].encode()
        opened = open_manifest(document, KeyRing([authority.verifying_key]))
        assert opened.manifest.nodes[REGION].signing_key == signing
        assert sign_manifest(opened.manifest, authority) == document, "re-signed, it is the same bytes"
        assert verify_receipt(message, opened.manifest.keys).event_id == "e-1"


def test_a_rotated_manifest_is_format_three_lists_the_earlier_keys_and_round_trips() -> None:
    manifest = rotated_manifest()
    opened = open_manifest(sign_manifest(manifest, AUTHORITY), AUTHORITY_RING).manifest
    assert opened == manifest
    body = json.loads(manifest.text())
    assert body["v"] == 3
    keys = body["nodes"][REGION]["signing_keys"]
    assert [k["key"] for k in keys] == [base64.b64encode(k.verifying_key.raw).decode() for k in (OLD, NEW)]
    assert keys[0]["until"] == keys[1]["from"] == "2026-11-26T12:00:00.000000Z"
    assert "until" not in keys[1]
    witness = opened.nodes[REGION].as_witness()
    assert len(witness.keys) == 2, "the earlier witness key still verifies what it cosigned"


def test_a_receipt_signed_before_a_rotation_verifies_after_it() -> None:
    keys = rotated_manifest().keys
    assert verify_receipt(envelope_to_wire(receipt(OLD, BEFORE)), keys).at == BEFORE
    assert verify_receipt(envelope_to_wire(receipt(NEW, AFTER)), keys).at == AFTER


def test_a_receipt_by_the_retired_key_dated_after_its_retirement_is_refused() -> None:
    keys = rotated_manifest().keys
    with pytest.raises(KeyRetired, match="retired"):
        verify_receipt(envelope_to_wire(receipt(OLD, AFTER)), keys)
    with pytest.raises(KeyRetired):
        verify_receipt(envelope_to_wire(receipt(OLD, ROTATED_AT)), keys)  # at the instant itself: retired


def revocation(key: SigningKey, at: datetime) -> Envelope:
    revoked = Revocation(
        "rec-1", REGION, "administrative_penalty", Subject(SubjectKind.INDIVIDUAL, "110105198001011238"),
        RecordStatus.REPAIRED, "corrected", at,
    )  # fmt: skip
    return Envelope.seal(key, REVOCATION_TYPE, revoked.to_bytes())


def test_a_revocation_by_the_retired_key_verifies_only_if_dated_before_the_rotation() -> None:
    keys = rotated_manifest().keys
    assert verify_revocation(envelope_to_wire(revocation(OLD, BEFORE)), keys).at == BEFORE
    with pytest.raises(KeyRetired):
        verify_revocation(envelope_to_wire(revocation(OLD, AFTER)), keys)


def test_a_later_manifest_decides_when_a_key_retired_over_an_earlier_one() -> None:
    """An officer given both manifests trusts the old key until the rotation the newer one records."""
    first = Manifest(1, ROTATED_AT + timedelta(days=90), "cd" * 32, {REGION: node_before()})
    merged = first.nodes[REGION].signing_keys.merged(rotated_manifest().nodes[REGION].signing_keys)
    assert merged.period(OLD.key_id) == KeyPeriod(None, ROTATED_AT)
    with pytest.raises(KeyRetired):
        merged.require_in_force(OLD.key_id, AFTER)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda keys: keys[:1], "only the last key"),  # the key in force is missing: the old one still has until
        (lambda keys: [{**keys[0], "until": None}, keys[1]], "malformed"),
        (lambda keys: [{k: v for k, v in keys[0].items() if k != "until"}, keys[1]], "only the last key"),
        (lambda keys: [{**keys[0], "until": "2026-11-26T13:00:00.000000Z"}, keys[1]], "before the one before"),
        (lambda keys: [keys[0], {**keys[1], "since": "x"}], "key, from and until"),
        (lambda keys: [], "at least the key in force"),
    ],
    ids=["no-current-key", "null-until", "two-in-force", "overlap", "unknown-field", "empty"],
)
def test_a_key_history_that_breaks_its_rules_is_refused(change, message: str) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(rotated_manifest().text())
    body["nodes"][REGION]["signing_keys"] = change(body["nodes"][REGION]["signing_keys"])
    with pytest.raises(ManifestInvalid, match=message):
        Manifest.parse(json.dumps(body) + "\n")


def test_an_earlier_key_names_when_it_retired() -> None:
    with pytest.raises(ManifestInvalid):
        EarlierKey(OLD.verifying_key, KeyPeriod(None, None))


# --- checkpoints: dated by their newest leaf ----------------------------------------------------------------


def events_log(times: list[datetime]) -> tuple[list[bytes], dict[NodeId, bytes], bytes]:
    bodies = [
        Event(f"e-{i}", EventKind.AUDIT, at, REGION, "officer", Outcome.ALLOWED).canonical_bytes()
        for i, at in enumerate(times)
    ]
    frontier, stored = Frontier(0, []), dict[NodeId, bytes]()
    for item in bodies:
        stored.update(frontier.append(leaf_hash(item)))
    return bodies, stored, frontier.root


def bundle(key: SigningKey, times: list[datetime]) -> bytes:
    bodies, stored, root = events_log(times)
    note = Checkpoint(NAME, len(bodies), root).sign(key)
    entries = []
    for index, item in enumerate(bodies):
        hashes = inclusion_proof(index, len(bodies), lambda ids: {i: stored[i] for i in ids if i in stored})
        entries.append(BundleEntry(index, TlogProof(index, tuple(hashes), note), event=item))
    return encode_bundle(NAME, entries)


def test_a_bundle_on_a_checkpoint_the_retired_key_signed_before_the_rotation_verifies_after_it() -> None:
    verified = verify_bundle(bundle(OLD, [BEFORE - timedelta(hours=2), BEFORE]), rotated_manifest().keys, NAME)
    assert verified.checkpoint.size == 2


def test_a_checkpoint_by_the_retired_key_over_a_leaf_logged_after_the_rotation_is_refused() -> None:
    with pytest.raises(BundleError, match="retired"):
        verify_bundle(bundle(OLD, [BEFORE, AFTER]), rotated_manifest().keys, NAME)
    assert verify_bundle(bundle(NEW, [BEFORE, AFTER]), rotated_manifest().keys, NAME).checkpoint.size == 2


def memory_log(key: SigningKey, times: list[datetime]) -> MemoryLog:
    bodies, stored, root = events_log(times)
    rows = [Row(i, i + 1, item, leaf_hash(item)) for i, item in enumerate(bodies)]
    interior = {node: value for node, value in stored.items() if node.level > 0}
    return MemoryLog(rows, interior, [Checkpoint(NAME, len(bodies), root).sign(key)])


def test_the_whole_log_audit_accepts_the_retired_keys_checkpoints_from_before_and_finds_one_from_after() -> None:
    keys = rotated_manifest().keys
    assert audit_log(memory_log(OLD, [BEFORE - timedelta(hours=2), BEFORE]), keys, NAME).ok
    report = audit_log(memory_log(OLD, [BEFORE, AFTER]), keys, NAME)
    assert [f.leaf_index for f in report.findings] == [1]
    assert "retired" in report.findings[0].problem
    assert audit_log(memory_log(NEW, [BEFORE, AFTER]), keys, NAME).ok


def cosigned_note(witness: SigningKey, at: datetime) -> bytes:
    note = parse_note(Checkpoint(NAME, 1, bytes(32)).sign(NEW))
    line = cosign_checkpoint(note.text, witness, int(at.timestamp()))
    return replace(note, signatures=(*note.signatures, line)).encode()


def test_a_cosignature_by_the_retired_witness_key_counts_before_the_rotation_and_is_refused_after() -> None:
    """c2sp.org/tlog-cosignature lines carry their time; a retired witness key is held to it."""
    first = Manifest(1, ROTATED_AT + timedelta(days=90), "cd" * 32, {REGION: node_before()}).nodes[REGION]
    for witnesses in (
        [rotated_manifest().nodes[REGION].as_witness()],
        merge_witnesses([[first.as_witness()], [rotated_manifest().nodes[REGION].as_witness()]]),
    ):
        assert check_cosignatures(cosigned_note(OLD_WITNESS, BEFORE), witnesses).valid == {REGION}
        late = check_cosignatures(cosigned_note(OLD_WITNESS, AFTER), witnesses)
        assert late.valid == frozenset()
        assert "retired" in late.invalid[0].why
        assert check_cosignatures(cosigned_note(NEW_WITNESS, AFTER), witnesses).valid == {REGION}


# --- a verifier written from the spec -----------------------------------------------------------------------


def spec_verify_receipt(manifest_text: str, region: str, envelope: Envelope) -> bool:
    """What the issue and the manifest's docstring say, in plain ``cryptography``: the key id is
    SHA-256(name || 0x0A || 0x01 || public key)[:4] (c2sp.org/signed-note); the signature is Ed25519 over DSSE's
    "DSSEv1 len(type) type len(body) body"; the key must be listed for the region with ``until`` after the
    event's ``at`` (or none)."""
    name = f"share-gateway/node/{region}"
    for entry in json.loads(manifest_text)["nodes"][region]["signing_keys"]:
        raw = base64.b64decode(entry["key"])
        if hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4] != envelope.key_id:
            continue
        kind = envelope.payload_type.encode()
        message = b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(envelope.payload), envelope.payload)
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(envelope.signature, message)
        except InvalidSignature:
            return False
        at = json.loads(envelope.payload)["at"]
        return "until" not in entry or at < entry["until"]  # one instant format, so text order is time order
    return False


def test_a_verifier_written_from_the_spec_accepts_the_old_key_before_the_rotation_and_refuses_it_after() -> None:
    text = rotated_manifest().text()
    assert pae(EVENT_MEDIA_TYPE, b"x").startswith(b"DSSEv1 ")
    assert spec_verify_receipt(text, REGION, receipt(OLD, BEFORE))
    assert spec_verify_receipt(text, REGION, receipt(NEW, AFTER))
    assert not spec_verify_receipt(text, REGION, receipt(OLD, AFTER))
    forged = replace(receipt(OLD, BEFORE), payload=receipt(OLD, AFTER).payload)
    assert not spec_verify_receipt(text, REGION, forged)
