"""Which witnesses cosigned a checkpoint, and whether that meets a quorum.

A witness is a peer node, known from the federation manifest by its witness
key (c2sp.org/tlog-cosignature, ``cosignature/v1``). Before witness keys
existed, peers cosigned with a plain note signature by their *log* key; such
lines are still in databases and bundles. They are verified and reported as
``legacy`` but never count toward a quorum: they carry no timestamp and no
``cosignature/v1`` domain separation, are made with a key that signs the
peer's own statements too, and no C2SP verifier accepts them. A checkpoint
whose only cosignatures are legacy ones is re-witnessed by the peers as soon
as its node runs this version (a witness cosigns the same size and root again).

A line that names a witness with its key id but does not verify is *invalid*:
the note was changed after the witness signed it. A line under a witness's
name with another key id is ignored, as the spec requires (an older key).
A line by a witness key the manifest lists as retired, timestamped at or
after its retirement, is invalid too: that key may have leaked since.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from share_gateway.crypto.cosignature import CosignerKey
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import VerifyingKey
from share_gateway.crypto.note import Note, parse_note


class Status(StrEnum):
    VALID = "valid"
    LEGACY = "legacy"  # a plain signature by the witness's log key: verifies, does not count
    INVALID = "invalid"
    MISSING = "missing"


@dataclass(frozen=True)
class Witness:
    """One peer that may cosign: its region, its cosigner keys (more than one across a rotation), its log key."""

    region: str
    keys: tuple[CosignerKey, ...]
    log_key: VerifyingKey | None = None

    @property
    def name(self) -> str:
        return self.keys[0].name if self.keys else f"region {self.region}"


@dataclass(frozen=True)
class Cosigned:
    witness: str  # the region
    name: str  # the key name the line is under
    status: Status
    timestamp: int | None = None
    why: str = ""

    def __str__(self) -> str:
        when = "" if self.timestamp is None else f" at {self.timestamp}"
        why = f": {self.why}" if self.why else ""
        return f"witness {self.witness} ({self.name}): {self.status.value}{when}{why}"


@dataclass(frozen=True)
class Witnessing:
    """What each known witness did for one checkpoint note."""

    cosigned: tuple[Cosigned, ...] = field(default_factory=tuple)

    def with_status(self, status: Status) -> tuple[Cosigned, ...]:
        return tuple(c for c in self.cosigned if c.status is status)

    @property
    def valid(self) -> frozenset[str]:
        return frozenset(c.witness for c in self.with_status(Status.VALID))

    @property
    def invalid(self) -> tuple[Cosigned, ...]:
        return self.with_status(Status.INVALID)

    @property
    def missing(self) -> tuple[Cosigned, ...]:
        """One entry per witness with no valid cosignature here: missing, legacy only, or invalid."""
        valid, seen, absent = self.valid, set(), []
        for cosigned in self.cosigned:
            if cosigned.witness not in valid and cosigned.witness not in seen:
                seen.add(cosigned.witness)
                absent.append(cosigned)
        return tuple(absent)

    def shortfall(self, quorum: int) -> str:
        """Empty when at least ``quorum`` witnesses cosigned validly, else why not, naming who did not."""
        if len(self.valid) >= quorum:
            return ""
        absent = ", ".join(f"{c.witness} ({c.status.value})" for c in self.missing) or "none listed"
        return f"cosigned by {len(self.valid)} of the {quorum} witness(es) required; not cosigned by: {absent}"


def check_cosignatures(note: bytes | Note, witnesses: Iterable[Witness]) -> Witnessing:
    """Verify every line of every known witness on ``note``; lines of unknown keys are ignored."""
    parsed = parse_note(note) if isinstance(note, bytes) else note
    found: list[Cosigned] = []
    for witness in witnesses:
        found += _lines_of(parsed, witness) or [Cosigned(witness.region, witness.name, Status.MISSING)]
    return Witnessing(tuple(found))


def _lines_of(note: Note, witness: Witness) -> list[Cosigned]:
    results = []
    for signature in note.signatures:
        key = next((k for k in witness.keys if k.matches(signature)), None)
        if key is not None:
            try:
                timestamp = key.verify(note.text, signature)
            except VerificationError as error:
                results.append(Cosigned(witness.region, key.name, Status.INVALID, why=str(error)))
            else:
                if key.until is not None and timestamp >= key.until:
                    why = f"cosigned by a witness key retired at {key.until}"
                    results.append(Cosigned(witness.region, key.name, Status.INVALID, timestamp, why))
                else:
                    results.append(Cosigned(witness.region, key.name, Status.VALID, timestamp))
            continue
        legacy = witness.log_key
        if legacy is not None and (signature.name, signature.key_id) == (legacy.name, legacy.key_id):
            try:
                legacy.verify(signature.signature, note.text.encode())
            except VerificationError as error:
                results.append(Cosigned(witness.region, legacy.name, Status.INVALID, why=str(error)))
            else:
                results.append(Cosigned(witness.region, legacy.name, Status.LEGACY, why="plain log-key signature"))
    return results


def merge_witnesses(lists: Iterable[Sequence[Witness]]) -> tuple[Witness, ...]:
    """One witness per region with every cosigner key any list gives it (several manifests, a rotation)."""
    merged: dict[str, Witness] = {}
    for witnesses in lists:
        for witness in witnesses:
            known = merged.get(witness.region)
            if known is None:
                merged[witness.region] = witness
                continue
            # A retirement any manifest records stands: a key once retired is not in force again.
            retired = {k.key_id: k for k in witness.keys if k.until is not None}
            ids = {k.key_id for k in known.keys}
            keys = tuple(retired.get(k.key_id, k) if k.until is None else k for k in known.keys)
            keys += tuple(k for k in witness.keys if k.key_id not in ids)
            merged[witness.region] = Witness(witness.region, keys, known.log_key or witness.log_key)
    return tuple(merged[region] for region in sorted(merged))
