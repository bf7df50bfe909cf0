"""The files an officer keeps and hands on: a consistency proof's round trip and tampering, and what ``describe``
says a file is when a checkpoint was expected."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.ledger.checkpoint import Checkpoint, TlogProof
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.proof_files import ConsistencyProof, NotACheckpoint, describe, read_checkpoint
from share_gateway.ledger.tree import Frontier, NodeId, consistency_proof
from share_gateway.ledger.verify import ProofError
from tests.unit.test_audit_levels import honest_log

KEY = SigningKey.generate("share-gateway/node/110000")
KEYS = KeyRing([KEY.verifying_key])


def proof_between(old: int, new: int) -> ConsistencyProof:
    """A proof computed by the tree the sequencer keeps (levels from ``honest_log``), over two signed checkpoints."""
    log, roots = honest_log(new)

    def fetch(ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {n: log.nodes[n] if n.level else log.rows[n.index].stored_hash or b"" for n in ids}

    hashes = consistency_proof(old, new, fetch)
    signed = {size: Checkpoint(KEY.name, size, roots[size]).sign(KEY) for size in (old, new)}
    return ConsistencyProof(signed[old], signed[new], tuple(hashes))


def test_a_consistency_proof_round_trips_and_verifies_with_only_the_key() -> None:
    proof = proof_between(5, 13)
    data = proof.encode()
    assert data.startswith(b"share-gateway/tlog-consistency@v1\nshare-gateway/node/110000\n5\n")
    assert b"\n\nold 5\n" in data
    old, new = ConsistencyProof.parse(data).verify(KEYS, KEY.name)
    assert (old.size, new.size) == (5, 13)
    assert describe(data) == "a consistency proof from the checkpoint of size 5 to that of size 13"


def test_a_consistency_proof_with_a_changed_hash_or_a_stated_size_that_lies_is_refused() -> None:
    data = proof_between(5, 13).encode()
    lines = data.decode().split("\n")
    at = lines.index("old 5") + 1
    lines[at] = ("A" if lines[at][0] != "A" else "B") + lines[at][1:]
    with pytest.raises(ProofError):
        ConsistencyProof.parse("\n".join(lines).encode()).verify(KEYS, KEY.name)
    with pytest.raises(VerificationError, match="'old 6' is not the size"):
        ConsistencyProof.parse(data.replace(b"\nold 5\n", b"\nold 6\n"))
    with pytest.raises(VerificationError):
        ConsistencyProof.parse(data).verify(KeyRing([SigningKey.generate(KEY.name).verifying_key]), KEY.name)


def test_what_a_file_given_as_a_checkpoint_is_said_to_be() -> None:
    frontier = Frontier(0, [])
    frontier.append(leaf_hash(b"x"))
    note = Checkpoint(KEY.name, 1, frontier.root).sign(KEY)
    assert read_checkpoint(note, "kept.note").size == 1
    assert describe(note) == "a checkpoint of share-gateway/node/110000 of size 1"
    cases = {
        TlogProof(
            0, (), note
        ).encode(): "a C2SP tlog-proof: the inclusion proof of leaf 0 under a checkpoint of size 1",
        b"": "an empty file",
        b"\xff\xfe": "binary data (a checkpoint is UTF-8 text)",
        b'{"format": "share-gateway/audit-bundle@v1"}': "a JSON document (share-gateway/audit-bundle@v1)",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n": "a PEM file (begin public key)",
    }
    for data, said in cases.items():
        with pytest.raises(NotACheckpoint) as refused:
            read_checkpoint(data, "f")
        assert str(refused.value) == f"f is {said}, not a checkpoint"
    assert describe(b"hello\n").startswith("text that is not a signed note")
