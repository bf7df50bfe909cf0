"""What the console verifies itself, with the ledger's code, before it shows a ✓: never the node's word for it.

An entry verifies when (1) the checkpoint is signed by the key the signed manifest lists for the log's region,
(2) the event's leaf hash and the inclusion proof lead to that checkpoint's root, and (3) at least one witness the
manifest lists for the region cosigned that checkpoint, and no witness line is invalid. A checkpoint not yet
cosigned is *pending*, not verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from share_gateway.crypto.errors import VerificationError
from share_gateway.federation.authority_rotation import authority_keys
from share_gateway.federation.manifest import Manifest, open_manifest
from share_gateway.ledger.checkpoint import open_checkpoint_signed, unverified_checkpoint
from share_gateway.ledger.cosignatures import Status, check_cosignatures
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.verify import MalformedProof, RootMismatch, verify_inclusion
from share_gateway.v1 import compliance_pb2


class Verdict(StrEnum):
    VERIFIED = "verified"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class EntryCheck:
    """The outcome of verifying one logged event, with the reason in words an officer can act on."""

    verdict: Verdict
    reason: str
    region: str = ""
    size: int = 0
    cosigned_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class WitnessRow:
    """One witness of a log: the newest checkpoint size it cosigned (verified), against the log's size."""

    region: str
    name: str
    size: int
    behind: int
    valid: bool
    why: str = ""


def load_manifest(manifest: Path, authority: Path) -> Manifest:
    """The federation's manifest, verified with the authority's pinned key (or the key its rotations lead to)."""
    return open_manifest(manifest.read_bytes(), authority_keys(authority)).manifest


def region_of(note: bytes) -> str:
    """The region a checkpoint note claims (``share-gateway/node/<region>``), unverified, for display."""
    try:
        return unverified_checkpoint(note).origin.rsplit("/", 1)[-1]
    except (VerificationError, ValueError):
        return ""


def witnessed_size(leaf_index: int, witnessed: list[compliance_pb2.WitnessedCheckpoint]) -> int:
    """The checkpoint to prove an entry under: one covering it that the most witnesses cosigned (the larger on a
    tie); 0 (the latest) when none covers it yet. The newest checkpoint is rarely cosigned yet: each review step
    is itself logged, so the log grows as the officer reads it."""
    sizes: dict[int, int] = {}
    for w in witnessed:
        if w.size > leaf_index:
            sizes[w.size] = sizes.get(w.size, 0) + 1
    return max(sizes, key=lambda size: (sizes[size], size)) if sizes else 0


def check_entry(answer: compliance_pb2.GetInclusionProofResponse, manifest: Manifest | None) -> EntryCheck:
    if manifest is None:
        return EntryCheck(Verdict.FAILED, "no manifest: start the console with --manifest and --authority")
    region = region_of(answer.checkpoint)
    if region not in manifest.nodes:
        return EntryCheck(Verdict.FAILED, f"the checkpoint names a log ({region or '?'}) the manifest does not list")
    node = manifest.nodes[region]
    # Step 1: the log's own signature, with a key the manifest lists for the region.
    try:
        checkpoint, _ = open_checkpoint_signed(answer.checkpoint, node.signing_keys, node.signing_key.name)
    except (VerificationError, ValueError) as error:
        return EntryCheck(Verdict.FAILED, f"the checkpoint's signature does not verify: {error}", region)
    # Step 2: the event's bytes, through the proof, to the signed root.
    try:
        verify_inclusion(
            answer.leaf_index, checkpoint.size, leaf_hash(answer.event), list(answer.proof), checkpoint.root
        )
    except RootMismatch as error:
        why = (
            f"the event's leaf hash and the proof lead to root {error.calculated.hex()[:16]}…, not to the signed "
            f"root {error.expected.hex()[:16]}… of the checkpoint of size {checkpoint.size}: the event's bytes "
            "are not the ones logged"
        )
        return EntryCheck(Verdict.FAILED, why, region, checkpoint.size)
    except (MalformedProof, ValueError) as error:
        return EntryCheck(Verdict.FAILED, f"the inclusion proof is malformed: {error}", region, checkpoint.size)
    # Step 3: the witnesses the manifest lists for the region.
    witnessing = check_cosignatures(answer.checkpoint, manifest.witnesses_of(region))
    if witnessing.invalid:
        bad = "; ".join(str(c) for c in witnessing.invalid)
        return EntryCheck(Verdict.FAILED, f"a witness cosignature does not verify: {bad}", region, checkpoint.size)
    cosigned = tuple(sorted(witnessing.valid))
    if not cosigned and manifest.witnesses_of(region):
        why = f"signed by {region} and proved, but no witness has cosigned the checkpoint of size {checkpoint.size} yet"
        return EntryCheck(Verdict.PENDING, why, region, checkpoint.size)
    why = f"in the log of {region} of size {checkpoint.size}, signed by its key" + (
        f" and cosigned by {', '.join(cosigned)}" if cosigned else ""
    )
    return EntryCheck(Verdict.VERIFIED, why, region, checkpoint.size, cosigned)


def witness_rows(
    region: str, log_size: int, witnessed: list[compliance_pb2.WitnessedCheckpoint], manifest: Manifest | None
) -> list[WitnessRow]:
    """Each witness the manifest lists for ``region`` with its newest cosigned size, each line verified here."""
    if manifest is None or region not in manifest.nodes:
        return [
            WitnessRow("", w.witness, w.size, log_size - w.size, False, "not verified: no manifest") for w in witnessed
        ]
    by_name = {w.witness: w for w in witnessed}
    rows = []
    for witness in manifest.witnesses_of(region):
        found = next((by_name[k.name] for k in witness.keys if k.name in by_name), None)
        if found is None:
            rows.append(WitnessRow(witness.region, witness.name, 0, log_size, False, "never cosigned"))
            continue
        lines = [c for c in check_cosignatures(found.checkpoint, [witness]).cosigned if c.witness == witness.region]
        valid = any(c.status is Status.VALID for c in lines)
        why = "" if valid else "; ".join(str(c) for c in lines) or "no line"
        rows.append(WitnessRow(witness.region, witness.name, found.size, log_size - found.size, valid, why))
    return rows
