"""A node restored to a point before what its witnesses cosigned refuses to serve until its operator acknowledges it.

Each witness keeps the latest checkpoint of this node's log that it cosigned, and says which (``GetWitnessed``).
At start, before the sequencer publishes anything, the node asks every witness of its log: a cosigned checkpoint
larger than its tree, or one whose root its tree does not have at that size, means its database was restored to
a point before what the federation already saw. Serving on it would sign new checkpoints at sizes the witnesses
cosigned, with other roots: a fork. So the node refuses (health ``share_gateway.Restore`` and readiness
NOT_SERVING, calls UNAVAILABLE, the sequencer holds), logs one line saying what to do, and appends an alarm event
holding the evidence. ``node acknowledge-restore`` appends the operator's acknowledgement, and the node serves from
then on (docs/operations.md, "Backup and restore", says what becomes of the lost leaves).

A witness that does not answer (down, or a node without ``GetWitnessed``) does not stop the node: a region must be
able to start alone, and a federation restarting as a whole would otherwise wait on itself. Health says UNKNOWN
until a witness answered, and the node keeps asking each witness until it has answered once; an answer that shows
a lost checkpoint stops it then.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.errors import Unavailable
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.health import Component, Finding, not_serving, serving, unknown
from share_gateway.federation.peers import PeerError
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import node_principal
from share_gateway.ledger.checkpoint import open_checkpoint_signed
from share_gateway.store.repositories import Store

RESTORE_UNACKNOWLEDGED = "RESTORE_UNACKNOWLEDGED"
ACKNOWLEDGE = "share-gateway node acknowledge-restore --config <node.yaml>"
EVER = datetime(1970, 1, 1, tzinfo=UTC)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LostCheckpoint:
    """A checkpoint of this log a witness cosigned that this node's log does not hold."""

    witness: str
    size: int
    root: bytes
    # Leaves in this node's tree when it found out.
    local_size: int
    why: str
    note: bytes = b""

    def details(self) -> dict[str, str]:
        return {
            "witness": self.witness,
            "cosigned_size": str(self.size),
            "cosigned_root": self.root.hex(),
            "local_size": str(self.local_size),
            "why": self.why[:300],
            "checkpoint": base64.b64encode(self.note[:4096]).decode(),
        }

    @classmethod
    def of(cls, event: Event) -> LostCheckpoint:
        details = event.details
        return cls(
            details["witness"],
            int(details["cosigned_size"]),
            bytes.fromhex(details["cosigned_root"]),
            int(details["local_size"]),
            details["why"],
            base64.b64decode(details.get("checkpoint", "")),
        )

    def covered_by(self, acknowledged: LostCheckpoint) -> bool:
        """An acknowledgement of losing what a witness cosigned up to a size, from a local size, covers any loss up
        to that size from there or later (the log grew on since); not a later restore to an older point."""
        return self.size <= acknowledged.size and self.local_size >= acknowledged.local_size


def _of_kind(store: Store, kind: EventKind) -> list[Event]:
    return [Event.from_bytes(body) for body in store.events.of_kind_since(kind, EVER)]


def acknowledged(store: Store, lost: LostCheckpoint) -> Event | None:
    """The operator's acknowledgement that covers ``lost``, if one was logged."""
    for event in _of_kind(store, EventKind.RESTORE_ACKNOWLEDGED):
        if lost.covered_by(LostCheckpoint.of(event)):
            return event
    return None


def unacknowledged_refusal(store: Store) -> Event | None:
    """The latest refusal to serve after a restore that no acknowledgement covers."""
    refusals = sorted(_of_kind(store, EventKind.RESTORE_REFUSED), key=lambda event: event.at)
    for event in reversed(refusals):
        if acknowledged(store, LostCheckpoint.of(event)) is None:
            return event
    return None


def acknowledge(store: Store, region: str, operator: str, now: datetime) -> tuple[Event, LostCheckpoint]:
    """Log the operator's acknowledgement of the latest unacknowledged refusal (``LookupError``: there is none).

    The node is the actor (the operator has no certificate here); the operator's name and the refusal it answers
    are in the details, with the lost checkpoint, so the acknowledgement is the first thing the log's new history
    says about the one it departs from."""
    refusal = unacknowledged_refusal(store)
    if refusal is None:
        raise LookupError("no refusal to serve after a restore waits for an acknowledgement")
    lost = LostCheckpoint.of(refusal)
    event = Event(
        event_id=str(uuid.uuid4()),
        kind=EventKind.RESTORE_ACKNOWLEDGED,
        at=now,
        node=region,
        actor=node_principal(region).uri,
        outcome=Outcome.ALLOWED,
        reason=RESTORE_UNACKNOWLEDGED,
        details={**lost.details(), "refusal": refusal.event_id, "operator": operator, "via": "offline"},
    )
    store.write(lambda tx: store.events.append(tx, [event]))
    return event, lost


class RestoreGuard:
    """Whether this node may serve on its log as it is, after asking its witnesses what they cosigned of it."""

    def __init__(self, federation: FederationDesk, interval: float = 1.0) -> None:
        self.federation = federation
        self.lost: LostCheckpoint | None = None
        # What each witness cosigned that this log does not hold, as found.
        self._losses: dict[str, LostCheckpoint] = {}
        # Witnesses holding a checkpoint this log departs from, acknowledged: not asked to cosign (each request
        # would be one more alarm in their log) until the federation re-established the log and they forgot it.
        self.forked: set[str] = set()
        self.witnesses = tuple(w.region for w in federation.manifest.manifest.witnesses_of(federation.runtime.region))
        self._unanswered = set(self.witnesses)
        self._warned: set[str] = set()
        self.loop = Periodic("restore guard", self._step, interval)

    @property
    def refusing(self) -> bool:
        return self.lost is not None

    def require_serving(self) -> None:
        """Raise ``Unavailable`` while the node refuses to serve after a restore."""
        lost = self.lost
        if lost is not None:
            raise Unavailable(
                f"this node's database was restored to before checkpoint {lost.size} its witness {lost.witness} "
                f"cosigned; it serves nothing until its operator acknowledges the restore",
                RESTORE_UNACKNOWLEDGED,
            )

    def finding(self) -> Finding:
        name = Component.RESTORE.value
        lost = self.lost
        if lost is not None:
            return not_serving(name, f"restored behind what {lost.witness} cosigned ({lost.why}): {ACKNOWLEDGE}")
        answered = len(self.witnesses) - len(self._unanswered)
        if self.witnesses and not answered:
            return unknown(name, "no witness answered yet: the log is not checked against what they cosigned")
        return serving(name, f"holds what its witnesses cosigned ({answered} of {len(self.witnesses)} answered)")

    async def check(self) -> None:
        """Ask each witness that has not answered yet; refuse on the largest checkpoint one cosigned beyond the log."""
        asked = sorted(self._unanswered)
        answers = await asyncio.gather(*(self._ask(witness) for witness in asked))
        found: list[LostCheckpoint] = []
        for witness, note in zip(asked, answers, strict=True):
            if note is None:
                continue
            self._unanswered.discard(witness)
            lost = await self._compare(witness, note)
            if lost is not None:
                found.append(lost)
                self._losses[witness] = lost
        if found and self.lost is None:
            await self._refuse(max(found, key=lambda lost: lost.size))

    async def _step(self) -> None:
        if self.lost is not None:
            runtime = self.federation.runtime
            event = await runtime.read(acknowledged, runtime.store, self.lost)
            if event is not None:
                log.warning(
                    "restore acknowledged by %s: serving; this log's history departs from checkpoint %d",
                    event.details.get("operator") or event.actor,
                    self.lost.size,
                )
                self.lost = None
                self.forked |= set(self._losses)
        if self._unanswered:
            await self.check()

    def asks_cosignature(self, witness: str) -> bool:
        """Whether this node's checkpoints go to ``witness``: not while refusing, nor to a witness it forked from."""
        return self.lost is None and witness not in self.forked

    async def _ask(self, witness: str) -> bytes | None:
        """What ``witness`` cosigned of this log (empty: nothing); None if it did not say."""
        federation = self.federation
        try:
            note = await federation.clients.witnessed(federation.manifest.manifest, witness, federation.peer_timeout)
        except PeerError as error:
            if witness not in self._warned:
                self._warned.add(witness)
                log.warning("witness %s did not say what it cosigned of this log (asking again): %s", witness, error)
            return None
        return note

    async def _compare(self, witness: str, note: bytes) -> LostCheckpoint | None:
        if not note:
            return None
        runtime, manifest = self.federation.runtime, self.federation.manifest.manifest
        try:
            checkpoint, _ = open_checkpoint_signed(note, manifest.keys, manifest.nodes[runtime.region].signing_key.name)
        except VerificationError as error:
            log.warning("witness %s sent a checkpoint of this log that this log did not sign: %s", witness, error)
            return None
        size = await runtime.read(runtime.store.log.size)
        if checkpoint.size > size:
            why = f"it cosigned size {checkpoint.size}, this log holds {size} leaves"
        elif checkpoint.size and await runtime.read(runtime.store.log.root, checkpoint.size) != checkpoint.root:
            why = f"this log's root at size {checkpoint.size} is not the one it cosigned"
        else:
            return None
        return LostCheckpoint(witness, checkpoint.size, checkpoint.root, size, why, note)

    async def _refuse(self, lost: LostCheckpoint) -> None:
        runtime = self.federation.runtime
        if (event := await runtime.read(acknowledged, runtime.store, lost)) is not None:
            log.warning(
                "witness %s cosigned checkpoint %d, which this log does not hold; acknowledged by %s: serving",
                lost.witness,
                lost.size,
                event.details.get("operator") or event.actor,
            )
            self.forked |= set(self._losses)
            return
        self.lost = lost
        log.error(
            "node %s refuses to serve: its database was restored to before checkpoint %d, which witness %s "
            "cosigned (%s); restore a later backup, or run `%s` to serve on the log as it is "
            "(docs/operations.md, Backup and restore)",
            runtime.region,
            lost.size,
            lost.witness,
            lost.why,
            ACKNOWLEDGE,
        )
        if await runtime.read(_refused_before, runtime.store, lost):
            return
        await runtime.event_log.append(
            runtime.event(
                EventKind.RESTORE_REFUSED,
                node_principal(runtime.region),
                Outcome.DENIED,
                reason=RESTORE_UNACKNOWLEDGED,
                details=lost.details(),
            )
        )


def _refused_before(store: Store, lost: LostCheckpoint) -> bool:
    """Whether a refusal for the same loss was logged already (a node restarted while refusing)."""
    return any(
        (found := LostCheckpoint.of(event)).size == lost.size and found.local_size == lost.local_size
        for event in _of_kind(store, EventKind.RESTORE_REFUSED)
    )
