"""The files an officer keeps and hands on: a checkpoint, and a consistency proof between two checkpoints.

A kept checkpoint is the signed note exactly as the node published it
(c2sp.org/tlog-checkpoint, cosignatures included). A consistency proof file
(``share-gateway/tlog-consistency@v1``) holds both checkpoints and the proof
between them, so it verifies offline with only the log's public key::

    share-gateway/tlog-consistency@v1
    <the older checkpoint, as published: a signed note>
    <an empty line>
    old <the older checkpoint's size>
    <one base64 hash a line: the RFC 9162 consistency proof, section 2.1.4>
    <an empty line>
    <the newer checkpoint, as published: a signed note>

From ``old`` on it is byte for byte the body of a c2sp.org/tlog-witness
``add-checkpoint`` request, the standard text for "this checkpoint extends
the one of size N"; the older checkpoint in front makes it self-contained.
C2SP defines no file for a consistency proof (c2sp.org/tlog-proof carries an
inclusion proof only), hence our own header.

``describe`` says what a file is, so that a command given the wrong one
(a tlog-proof where a checkpoint belongs, a bundle, a key) can say so.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.crypto.note import parse_note
from share_gateway.ledger.checkpoint import (
    PROOF_HEADER,
    Checkpoint,
    MalformedCheckpoint,
    TlogProof,
    _decimal,
    _hash,
    open_checkpoint,
)
from share_gateway.ledger.verify import verify_consistency

CONSISTENCY_HEADER = "share-gateway/tlog-consistency@v1"
# c2sp.org/tlog-witness: at most 63 proof lines (a tree of 2**64 leaves needs no more).
MOST_PROOF_LINES = 63


class NotACheckpoint(VerificationError):
    """The file is not a checkpoint; the message says what it is instead."""


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Two published checkpoints of one log and the proof that the newer extends the older."""

    old: bytes  # the signed notes, as published
    new: bytes
    proof: tuple[bytes, ...]

    def encode(self) -> bytes:
        old_size = Checkpoint.parse(parse_note(self.old).text).size
        lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return f"{CONSISTENCY_HEADER}\n".encode() + self.old + b"\n" + ("\n".join(lines) + "\n\n").encode() + self.new

    @classmethod
    def parse(cls, data: bytes) -> ConsistencyProof:
        try:
            text = data.decode()
        except UnicodeDecodeError as error:
            raise MalformedCheckpoint("a consistency proof is UTF-8 text") from error
        header, _, rest = text.partition("\n")
        if header != CONSISTENCY_HEADER:
            raise MalformedCheckpoint(f"a consistency proof starts with the line {CONSISTENCY_HEADER!r}")
        # The older note: its text, an empty line, its signature lines; then the empty line that ends it.
        signatures = rest.find("\n\n")
        end = rest.find("\n\n", signatures + 2) if signatures >= 0 else -1
        if end < 0:
            raise MalformedCheckpoint("a consistency proof holds the older checkpoint, then an empty line")
        old, body = rest[: end + 1], rest[end + 2 :]
        head, separator, new = body.partition("\n\n")
        lines = head.split("\n")
        if not separator or not lines[0].startswith("old "):
            raise MalformedCheckpoint("after the older checkpoint come 'old SIZE', the proof, an empty line, the newer")
        if len(lines) - 1 > MOST_PROOF_LINES:
            raise MalformedCheckpoint(f"a consistency proof has at most {MOST_PROOF_LINES} hashes")
        proof = cls(old.encode(), new.encode(), tuple(_hash(line) for line in lines[1:]))
        stated = _decimal(lines[0][4:], "old size")
        if stated != Checkpoint.parse(parse_note(proof.old).text).size:
            raise MalformedCheckpoint(f"'old {stated}' is not the size of the older checkpoint")
        return proof

    def verify(self, keys: KeyRing, origin: str) -> tuple[Checkpoint, Checkpoint]:
        """Verify offline: both checkpoints signed by the log key of ``origin``, then the RFC 9162 proof between
        their roots. Raises ``VerificationError`` or ``ProofError``; returns (older, newer)."""
        old = open_checkpoint(self.old, keys, origin)
        new = open_checkpoint(self.new, keys, origin)
        if old.size > new.size:
            raise MalformedCheckpoint(f"the older checkpoint (size {old.size}) is larger than the newer ({new.size})")
        verify_consistency(old.size, new.size, old.root, new.root, self.proof)
        return old, new


def proof_origin(data: bytes) -> str:
    """The origin a tlog-proof or consistency proof claims (to choose the key); nothing is verified."""
    note = (
        ConsistencyProof.parse(data).new
        if data.startswith(CONSISTENCY_HEADER.encode())
        else TlogProof.parse(data).checkpoint
    )
    return Checkpoint.parse(parse_note(note).text).origin


def describe(data: bytes) -> str:
    """What the bytes are, in a few words: "a checkpoint of ... of size N", or what they are instead."""
    if not data.strip():
        return "an empty file"
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return "binary data (a checkpoint is UTF-8 text)"
    try:
        if text.startswith(PROOF_HEADER):
            proof = TlogProof.parse(data)
            size = Checkpoint.parse(parse_note(proof.checkpoint).text).size
            return f"a C2SP tlog-proof: the inclusion proof of leaf {proof.index} under a checkpoint of size {size}"
        if text.startswith(CONSISTENCY_HEADER):
            consistency = ConsistencyProof.parse(data)
            old = Checkpoint.parse(parse_note(consistency.old).text).size
            new = Checkpoint.parse(parse_note(consistency.new).text).size
            return f"a consistency proof from the checkpoint of size {old} to that of size {new}"
    except VerificationError as error:
        return f"a damaged proof ({error})"
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return "damaged JSON"
        form = document.get("format") if isinstance(document, dict) else None
        return f"a JSON document ({form})" if form else "a JSON document"
    if text.startswith("-----BEGIN "):
        return f"a PEM file ({text.splitlines()[0].strip('- ').lower()})"
    try:
        note = parse_note(data)
    except VerificationError as error:
        return f"text that is not a signed note ({error})"
    try:
        checkpoint = Checkpoint.parse(note.text)
    except VerificationError as error:
        return f"a signed note that is not a checkpoint ({error})"
    return f"a checkpoint of {checkpoint.origin} of size {checkpoint.size}"


def read_checkpoint(data: bytes, name: str) -> Checkpoint:
    """The checkpoint a kept file claims (not yet verified); ``NotACheckpoint`` saying what the file is otherwise."""
    try:
        if not data.startswith((PROOF_HEADER.encode(), CONSISTENCY_HEADER.encode())):
            return Checkpoint.parse(parse_note(data).text)
    except (VerificationError, ValueError):
        pass
    raise NotACheckpoint(f"{name} is {describe(data)}, not a checkpoint")
