"""Witnessing: peers cosign each other's checkpoints, and catch a log that rewrote its history.

As a witness (``WitnessDesk``), this node cosigns a peer's checkpoint only
when it extends the one it last cosigned for that peer, proved by a
consistency proof; otherwise it logs an alarm event holding the evidence
(the presented signed checkpoint and what it had cosigned) and refuses. As an
origin (``Cosigner``), it sends each new checkpoint to every peer and appends
the cosignatures, each verified against that peer's witness key in the
manifest, to the published note, so any reader of a checkpoint sees who
witnessed it. Cosignatures are c2sp.org/tlog-cosignature ``cosignature/v1``
lines under the node's witness key, never its log key. Routine cosignatures are not logged as
events: each would grow the log and call for a new checkpoint, forever.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from share_gateway.crypto.cosignature import CosignerKey, cosign_checkpoint, open_cosignature
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import SigningKey
from share_gateway.crypto.note import parse_note
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.federation.peers import PeerError
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import node_principal
from share_gateway.ledger.checkpoint import open_checkpoint_signed, require_signed_in_force
from share_gateway.ledger.witness import SIZE_MISMATCH, InconsistentCheckpoint, Witnessed, check_extends
from share_gateway.store.log import LogStore, StoredCheckpoint

INCONSISTENT = "INCONSISTENT_CHECKPOINT"
NO_WITNESS_KEY = "NO_WITNESS_KEY"
log = logging.getLogger(__name__)


@dataclass
class WitnessDesk:
    federation: FederationDesk

    async def cosign(self, region: str, note: bytes, old_size: int, proof: Sequence[bytes]) -> str:
        """This node's cosignature line for ``region``'s checkpoint, if it extends the last one cosigned."""
        runtime, manifest = self.federation.runtime, self.federation.manifest.manifest
        key = self._witness_key()
        origin = manifest.nodes[region].signing_key.name
        try:
            checkpoint, signers = open_checkpoint_signed(note, manifest.keys, origin)
            # Cosigned now, so signed by a log key in force now: a key retired by a rotation may have leaked.
            require_signed_in_force(signers, manifest.keys, runtime.clock())
        except VerificationError as error:
            raise InvalidInput.one("checkpoint", f"not a checkpoint signed by {origin}: {error}") from error
        last = await runtime.read(runtime.store.witness.witnessed, region)
        try:
            check_extends(last, old_size, checkpoint, proof)
        except InconsistentCheckpoint as error:
            await self._alarm(region, note, last, str(error))
            raise InvalidState(f"region {region}'s log was rewritten: {error}", INCONSISTENT) from error
        cosigned = Witnessed(checkpoint.size, checkpoint.root)
        await runtime.write(
            lambda tx: runtime.store.witness.advance(tx, region, old_size, cosigned, note, runtime.clock())
        )
        timestamp = int(runtime.clock().timestamp())
        return cosign_checkpoint(parse_note(note).text, key, timestamp).line()

    async def witnessed(self, region: str) -> bytes:
        """The checkpoint of ``region``'s log this node last cosigned, as it arrived (empty: none): what a node
        restored from a backup asks, to learn whether the federation saw more of its log than it holds."""
        runtime = self.federation.runtime
        note = await runtime.read(runtime.store.witness.note, region)
        return b"" if note is None else note

    def _witness_key(self) -> SigningKey:
        """The key to cosign with: configured, and the one the manifest lists for this node (else peers reject it)."""
        runtime = self.federation.runtime
        key = runtime.witness_key
        listed = self.federation.manifest.manifest.nodes[runtime.region].witness_key
        if key is None or listed is None:
            raise InvalidState("this node has no witness key in its configuration and the manifest", NO_WITNESS_KEY)
        if listed.raw != key.verifying_key.raw:
            log.error("this node's witness key is not the one the manifest lists for region %s", runtime.region)
            raise InvalidState("this node's witness key is not the one the manifest lists", NO_WITNESS_KEY)
        return key

    async def _alarm(self, region: str, note: bytes, last: Witnessed | None, why: str) -> None:
        runtime = self.federation.runtime
        log.error("witness alarm for region %s: %s", region, why)
        cosigned = await runtime.read(runtime.store.witness.note, region)
        await runtime.event_log.append(
            runtime.event(
                EventKind.CHECKPOINT_INCONSISTENT,
                node_principal(region),
                Outcome.DENIED,
                reason=INCONSISTENT,
                details={
                    "why": why[:300],
                    "presented": base64.b64encode(note[:4096]).decode(),
                    "cosigned": "" if cosigned is None else base64.b64encode(cosigned[:4096]).decode(),
                    "cosigned_size": str(0 if last is None else last.size),
                },
            )
        )


@dataclass
class Cosigner:
    """Gathers peers' cosignatures on this node's latest checkpoint."""

    federation: FederationDesk
    log: LogStore
    interval: float = 1.0
    timeout: float = 5.0
    # Told of each peer that answered: a peer the courier rests may be back (see ``Courier.peer_back``).
    on_answer: Callable[[str], None] | None = None
    # Told of each cosignature kept: the witness, the size it cosigned and the time it states (for metrics).
    on_cosigned: Callable[[str, int, int], None] | None = None
    # Told of each witness asked, with the time (for metrics: a witness that never cosigned shows from then).
    on_asked: Callable[[str, int], None] | None = None
    # Whether to ask a witness now (``gateway.restore``: not while a restore waits for its acknowledgement, nor a
    # witness whose cosigned checkpoint this log departs from); None: every witness.
    asks: Callable[[str], bool] | None = None
    # What each witness last cosigned, as far as this node knows; a witness corrects it when wrong.
    _known: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.loop = Periodic("cosigner", self.collect, self.interval)

    async def collect(self) -> int:
        """Ask every peer that has not cosigned the latest checkpoint; return how many did."""
        runtime = self.federation.runtime
        latest = await runtime.read(self.log.latest_checkpoint)
        if latest is None:
            return 0
        manifest = self.federation.manifest.manifest
        signatures = parse_note(latest.note).signatures
        peers = [
            witness.region
            for witness in manifest.witnesses_of(runtime.region)
            if not any(key.matches(s) for key in witness.keys for s in signatures)
            and (self.asks is None or self.asks(witness.region))
        ]
        if self.on_asked is not None:
            asked_at = int(runtime.clock().timestamp())
            for peer in peers:
                self.on_asked(peer, asked_at)
        return sum(await asyncio.gather(*(self._ask(peer, latest) for peer in peers)))

    async def _ask(self, peer: str, latest: StoredCheckpoint) -> int:
        runtime, federation = self.federation.runtime, self.federation
        for _ in range(2):  # a second time from the size the witness names
            old = self._known.get(peer, 0)
            if old > latest.size:
                log.error("witness %s cosigned size %d, beyond this log's %d", peer, old, latest.size)
                return 0
            proof = await runtime.read(self.log.consistency_proof, old, latest.size) if old else []
            try:
                cosignature = await federation.clients.witness(
                    federation.manifest.manifest, peer, latest.note, old, proof, self.timeout
                )
            except PeerError as error:
                if error.reason != SIZE_MISMATCH:
                    log.warning("witness %s did not cosign size %d: %s", peer, latest.size, error.details)
                    return 0
                self._known[peer] = int(error.metadata["known_size"])
                continue
            listed = federation.manifest.manifest.nodes[peer].witness_key
            if listed is None:
                log.warning("witness %s is no longer listed with a witness key", peer)
                return 0
            try:
                signature, timestamp = open_cosignature(
                    parse_note(latest.note).text, cosignature, CosignerKey.of(listed)
                )
            except VerificationError as error:
                log.warning("witness %s sent a cosignature that does not verify: %s", peer, error)
                return 0
            # A witness says when it saw the checkpoint: not later than now, give or take the clocks' skew.
            latest_credible = runtime.clock() + federation.clock_skew
            if timestamp > latest_credible.timestamp():
                log.warning("witness %s dated its cosignature %d, ahead of this node's clock", peer, timestamp)
                return 0
            await runtime.off_loop(self.log.add_cosignature, latest.size, signature)
            self._known[peer] = latest.size
            if self.on_cosigned is not None:
                self.on_cosigned(peer, latest.size, timestamp)
            if self.on_answer is not None:
                self.on_answer(peer)
            return 1
        return 0
