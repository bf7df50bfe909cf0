"""Checkpoints (c2sp.org/tlog-checkpoint) and offline proofs (c2sp.org/tlog-proof).

A checkpoint is a signed note whose text is the log's origin, its size in
decimal and its root in base64, one per line. The node signs with the key
named by the origin, so a verifier needs only the origin and that public key.

A checkpoint carries no time of its own; what dates it is the newest leaf it
covers (it cannot have been signed before that leaf was logged). A log key
retired by a rotation is refused on a checkpoint covering a leaf dated at or
after its retirement (``require_signed_in_force``).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import open_note, parse_note, sign_note
from share_gateway.ledger.hashing import HASH_SIZE, leaf_hash
from share_gateway.ledger.verify import verify_inclusion

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class MalformedCheckpoint(VerificationError):
    """The text is not a checkpoint (or a proof) in the C2SP format."""


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise MalformedCheckpoint(f"{what} {text!r} is not a decimal without leading zeros")
    return int(text)


def _hash(text: str) -> bytes:
    try:
        value = base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise MalformedCheckpoint(f"{text!r} is not base64") from error
    if len(value) != HASH_SIZE:
        raise MalformedCheckpoint(f"{text!r} is not a SHA-256 hash")
    return value


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def sign(self, key: SigningKey) -> bytes:
        if key.name != self.origin:
            raise ValueError(f"a checkpoint of {self.origin} is signed by the key of that name, not {key.name}")
        return sign_note(self.text(), key).encode()

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise MalformedCheckpoint("a checkpoint is origin, size and root, one per line")
        return cls(lines[0], _decimal(lines[1], "size"), _hash(lines[2]))


def open_checkpoint(note: bytes, keys: KeyRing, origin: str) -> Checkpoint:
    """Verify a signed checkpoint of ``origin``: a trusted key of that name signed it. Cosignatures are ignored."""
    return open_checkpoint_signed(note, keys, origin)[0]


def open_checkpoint_signed(note: bytes, keys: KeyRing, origin: str) -> tuple[Checkpoint, tuple[VerifyingKey, ...]]:
    """``open_checkpoint``, and which of the origin's keys signed it."""
    text, signers = open_note(note, keys)
    checkpoint = Checkpoint.parse(text)
    if checkpoint.origin != origin:
        raise MalformedCheckpoint(f"checkpoint of {checkpoint.origin!r}, expected {origin!r}")
    own = tuple(signer for signer in signers if signer.name == origin)
    if not own:
        raise VerificationError(f"no signature by the log key {origin!r}")
    return checkpoint, own


def require_signed_in_force(signers: tuple[VerifyingKey, ...], keys: KeyRing, newest_leaf: datetime) -> None:
    """Raise ``KeyRetired`` unless one of the log keys that signed a checkpoint was still in force when the newest
    leaf it covers was logged."""
    if all(keys.period(signer.key_id).retired_by(newest_leaf) for signer in signers):
        keys.require_in_force(signers[0].key_id, newest_leaf)


def retired_signers(signers: tuple[VerifyingKey, ...], keys: KeyRing) -> bool:
    """Whether every signer has been retired at some time (so the checkpoint's date must be looked at)."""
    return all(keys.period(signer.key_id).until is not None for signer in signers)


def unverified_checkpoint(note: bytes) -> Checkpoint:
    """The checkpoint a note claims, for display only: nothing is verified."""
    return Checkpoint.parse(parse_note(note).text)


@dataclass(frozen=True, slots=True)
class TlogProof:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None

    def encode(self) -> bytes:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {base64.b64encode(self.extra).decode()}")
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return ("\n".join(lines) + "\n\n").encode() + self.checkpoint

    @classmethod
    def parse(cls, data: bytes) -> TlogProof:
        try:
            text = data.decode()
        except UnicodeDecodeError as error:
            raise MalformedCheckpoint("a proof is UTF-8 text") from error
        head, separator, checkpoint = text.partition("\n\n")
        lines = head.split("\n")
        if not separator or lines[0] != PROOF_HEADER:
            raise MalformedCheckpoint(f"a proof starts with {PROOF_HEADER!r} and ends with a checkpoint")
        position = 1
        extra = None
        if len(lines) > 1 and lines[1].startswith("extra "):
            try:
                extra = base64.b64decode(lines[1][6:], validate=True)
            except binascii.Error as error:
                raise MalformedCheckpoint("bad extra data") from error
            position = 2
        if len(lines) <= position or not lines[position].startswith("index "):
            raise MalformedCheckpoint("a proof names the entry's index")
        index = _decimal(lines[position][6:], "index")
        return cls(index, tuple(_hash(line) for line in lines[position + 1 :]), checkpoint.encode(), extra)

    def verify_checkpoint(self, keys: KeyRing, origin: str) -> Checkpoint:
        return open_checkpoint(self.checkpoint, keys, origin)

    def verify(self, entry: bytes, keys: KeyRing, origin: str) -> Checkpoint:
        """Verify offline: the checkpoint's signature, then that ``entry`` is the leaf at ``index`` under its root."""
        checkpoint = self.verify_checkpoint(keys, origin)
        verify_inclusion(self.index, checkpoint.size, leaf_hash(entry), self.proof, checkpoint.root)
        return checkpoint
