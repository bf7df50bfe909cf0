"""Checkpoints (c2sp.org/tlog-checkpoint), offline proofs (c2sp.org/tlog-proof) and audit bundles, without a node.

The integration tests exercise these through a running log; here each format
rule is checked on its own, with the text written out: a checkpoint is origin,
decimal size without leading zeros and base64 root, one per line; a proof
starts with its header and index; a bundle rests every entry on one checkpoint.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import sign_note
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.ledger.bundle import BundleEntry, BundleError, encode_bundle, verify_bundle
from share_gateway.ledger.checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    TlogProof,
    open_checkpoint,
    unverified_checkpoint,
)
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, inclusion_proof
from share_gateway.ledger.verify import RootMismatch

ORIGIN = "share-gateway/node/110000"
KEY = SigningKey.generate(ORIGIN)
KEYS = KeyRing([KEY.verifying_key])
ROOT = bytes(range(32))
ROOT_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


# --- checkpoints --------------------------------------------------------------------------------------


def test_a_checkpoint_is_origin_size_and_base64_root_one_per_line() -> None:
    checkpoint = Checkpoint(ORIGIN, 923748, ROOT)
    assert checkpoint.text() == f"{ORIGIN}\n923748\n{ROOT_B64}\n"
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    # Lines after the root (C2SP extension lines) are allowed and ignored.
    assert Checkpoint.parse(f"{ORIGIN}\n923748\n{ROOT_B64}\nextension\n") == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n923748\n{ROOT_B64}",  # no final newline
        f"{ORIGIN}\n923748\n{ROOT_B64}\nextension",  # no final newline after an extension line
        f"{ORIGIN}\n5\n{ROOT_B64[:10]}!{ROOT_B64[10:]}\n",  # a stray character in the root
        f"{ORIGIN}\n923748\n",  # no root
        f"\n923748\n{ROOT_B64}\n",  # no origin
        f"{ORIGIN}\n0923748\n{ROOT_B64}\n",  # leading zero
        f"{ORIGIN}\n-1\n{ROOT_B64}\n",
        f"{ORIGIN}\n+5\n{ROOT_B64}\n",
        f"{ORIGIN}\n 5\n{ROOT_B64}\n",
        f"{ORIGIN}\n\n{ROOT_B64}\n",
        f"{ORIGIN}\n5\n{ROOT_B64[:-4]}\n",  # 30 bytes
        f"{ORIGIN}\n5\n{base64.b64encode(bytes(33)).decode()}\n",
        f"{ORIGIN}\n5\nnot base64!\n",
    ],
)
def test_a_text_that_is_not_a_checkpoint_is_malformed(text: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_size_zero_is_written_as_0() -> None:
    assert Checkpoint.parse(f"{ORIGIN}\n0\n{ROOT_B64}\n").size == 0


def test_a_checkpoint_is_signed_by_the_key_its_origin_names_and_opened_only_for_that_origin() -> None:
    note = Checkpoint(ORIGIN, 5, ROOT).sign(KEY)
    assert note.decode().startswith(f"{ORIGIN}\n5\n{ROOT_B64}\n\n\u2014 {ORIGIN} ")
    assert open_checkpoint(note, KEYS, ORIGIN) == Checkpoint(ORIGIN, 5, ROOT)
    assert unverified_checkpoint(note) == Checkpoint(ORIGIN, 5, ROOT)
    with pytest.raises(MalformedCheckpoint, match="expected 'share-gateway/node/310000'"):
        open_checkpoint(note, KEYS, "share-gateway/node/310000")
    with pytest.raises(ValueError, match="signed by the key of that name"):
        Checkpoint("share-gateway/node/310000", 5, ROOT).sign(KEY)


def test_a_checkpoint_of_the_origin_signed_only_by_another_trusted_key_is_refused() -> None:
    witness = SigningKey.generate("witness/310000")
    note = Checkpoint(ORIGIN, 5, ROOT)
    signed_by_witness = sign_note(note.text(), witness).encode()
    with pytest.raises(VerificationError, match="no signature by the log key"):
        open_checkpoint(signed_by_witness, KeyRing([KEY.verifying_key, witness.verifying_key]), ORIGIN)


# --- offline proofs ------------------------------------------------------------------------------------


def tree(size: int) -> tuple[dict[NodeId, bytes], bytes, list[bytes]]:
    bodies = [event(i).canonical_bytes() for i in range(size)]
    frontier, stored = Frontier(0, []), dict[NodeId, bytes]()
    for body in bodies:
        stored.update(frontier.append(leaf_hash(body)))
    return stored, frontier.root, bodies


def event(i: int) -> Event:
    return Event(f"e-{i}", EventKind.AUDIT, NOW + timedelta(seconds=i), "110000", "officer", Outcome.ALLOWED)


STORED, TREE_ROOT, BODIES = tree(6)
NOTE = Checkpoint(ORIGIN, 6, TREE_ROOT).sign(KEY)


def proof_of(index: int, note: bytes = NOTE, extra: bytes | None = None) -> TlogProof:
    hashes = inclusion_proof(index, 6, lambda ids: {i: STORED[i] for i in ids if i in STORED})
    return TlogProof(index, tuple(hashes), note, extra)


def test_a_proof_is_its_header_index_hashes_a_blank_line_and_the_checkpoint() -> None:
    proof = proof_of(2)
    lines = proof.encode().decode().split("\n")
    assert lines[:2] == ["c2sp.org/tlog-proof@v1", "index 2"]
    assert lines[2:5] == [base64.b64encode(h).decode() for h in proof.proof]
    assert proof.encode().endswith(b"\n\n" + NOTE)
    assert TlogProof.parse(proof.encode()) == proof
    with_extra = proof_of(2, extra=b"\x00\xff")
    assert with_extra.encode().decode().split("\n")[1] == "extra AP8="
    assert TlogProof.parse(with_extra.encode()) == with_extra


def test_a_proof_verifies_its_entry_offline_and_nothing_else() -> None:
    assert proof_of(4).verify(BODIES[4], KEYS, ORIGIN) == Checkpoint(ORIGIN, 6, TREE_ROOT)
    with pytest.raises(RootMismatch):
        proof_of(4).verify(BODIES[3], KEYS, ORIGIN)


@pytest.mark.parametrize(
    "data",
    [
        b"c2sp.org/tlog-proof@v2\nindex 1\n\n",
        b"c2sp.org/tlog-proof@v1\nindex 1\n",  # no blank line before the checkpoint
        b"c2sp.org/tlog-proof@v1\n\n",
        b"c2sp.org/tlog-proof@v1\nindex 01\n\n",
        b"c2sp.org/tlog-proof@v1\nindex -1\n\n",
        b"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n",
        b"c2sp.org/tlog-proof@v1\nextra AP8=\n\n",
        b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n",
        b"c2sp.org/tlog-proof@v1\nindex 1\n\xff\n\n",
    ],
)
def test_text_that_is_not_a_proof_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedCheckpoint):
        TlogProof.parse(data + NOTE)


# --- bundles -----------------------------------------------------------------------------------------------


def entries(note: bytes = NOTE) -> list[BundleEntry]:
    return [
        BundleEntry(1, proof_of(1, note), event=BODIES[1]),
        BundleEntry(3, proof_of(3, note), leaf_hash=leaf_hash(BODIES[3])),
        BundleEntry(5, proof_of(5, note), event=BODIES[5]),
    ]


def test_a_bundle_is_canonical_json_that_verifies_offline() -> None:
    data = encode_bundle(ORIGIN, entries())
    document = json.loads(data)
    assert (document["format"], document["origin"]) == ("share-gateway/audit-bundle@v1", ORIGIN)
    assert document["entries"][0] == {
        "leaf_index": 1,
        "event": base64.b64encode(BODIES[1]).decode(),
        "proof": proof_of(1).encode().decode(),
    }
    assert set(document["entries"][1]) == {"leaf_index", "leaf_hash", "proof"}
    verified = verify_bundle(data, KEYS, ORIGIN)
    assert verified.checkpoint == Checkpoint(ORIGIN, 6, TREE_ROOT)
    assert verified.events == (event(1), event(5))
    assert verified.redacted == (3,)


def _tampered(change: str) -> bytes:
    document = json.loads(encode_bundle(ORIGIN, entries()))
    if change == "format":
        document["format"] = "share-gateway/audit-bundle@v9"
    elif change == "origin":
        document["origin"] = "share-gateway/node/310000"
    elif change == "no entries":
        document["entries"] = []
    elif change == "index":
        document["entries"][0]["leaf_index"] = 2
    elif change == "event":
        document["entries"][2]["event"] = base64.b64encode(BODIES[4]).decode()
    elif change == "stray character in an event":
        document["entries"][0]["event"] = "!" + document["entries"][0]["event"]
    elif change == "stray character in a leaf hash":
        document["entries"][1]["leaf_hash"] = "!" + document["entries"][1]["leaf_hash"]
    elif change == "leaf hash":
        document["entries"][1]["leaf_hash"] = base64.b64encode(leaf_hash(b"other")).decode()
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("format", "not a share-gateway/audit-bundle@v1 or @v2 bundle"),
        ("origin", "bundle of 'share-gateway/node/310000'"),
        ("no entries", "holds no entries"),
        ("index", "entry 0: proof is for leaf 1, the entry says 2"),
        ("event", "entry 2: inclusion"),
        ("leaf hash", "entry 1: inclusion"),
        ("stray character in an event", "entry 0: "),
        ("stray character in a leaf hash", "entry 1: "),
    ],
)
def test_a_bundle_that_does_not_verify_names_the_entry_and_why(change: str, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        verify_bundle(_tampered(change), KEYS, ORIGIN)


def test_every_entry_of_a_bundle_rests_on_one_checkpoint() -> None:
    # Leaf 0 proved under the earlier checkpoint of size 5: valid on its own, but another checkpoint.
    _, root5, _ = tree(5)
    hashes = inclusion_proof(0, 5, lambda ids: {i: STORED[i] for i in ids if i in STORED})
    earlier = TlogProof(0, tuple(hashes), Checkpoint(ORIGIN, 5, root5).sign(KEY))
    assert earlier.verify(BODIES[0], KEYS, ORIGIN).size == 5
    mixed = [*entries(), BundleEntry(0, earlier, event=BODIES[0])]
    with pytest.raises(BundleError, match="entry 3 rests on another checkpoint than entry 0"):
        verify_bundle(encode_bundle(ORIGIN, mixed), KEYS, ORIGIN)
    # The same checkpoint with a witness's cosignature added is still the same checkpoint.
    cosigned = NOTE + b"\xe2\x80\x94 witness/1 AAAAAAAA\n"
    assert verify_bundle(
        encode_bundle(ORIGIN, [*entries(), BundleEntry(0, proof_of(0, cosigned), event=BODIES[0])]), KEYS, ORIGIN
    )


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"format": "share-gateway/audit-bundle@v1"}'])
def test_bytes_that_are_not_a_bundle_are_a_bundle_error(data: bytes) -> None:
    with pytest.raises(BundleError):
        verify_bundle(data, KEYS, ORIGIN)
