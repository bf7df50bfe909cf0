"""A caller proves its own receipt: the inclusion proof of one event it made, and of nothing else.

An inquiry's answer carries the node's signed receipt over the event it logged; with the proof that this event is
a leaf under a signed checkpoint, the requester can show a third party that the node cannot later deny or drop
the inquiry. Officers prove any entry (``gateway.audit``); here the event's actor must be the caller.

An event of another caller and an unknown id get the same ``NotFound``: the call is no oracle of what others did.
An own event that waits for its leaf, or for a checkpoint over it, is ``InvalidState`` with the reason
``NOT_YET_IN_LOG`` (FAILED_PRECONDITION): the sequencer integrates within a second, so the caller asks again.

A proof request is not itself logged. It discloses nothing the caller does not hold (the event's bytes are its
receipt's payload, the proof is hashes, the checkpoint is the signed head every witness sees), and an event per
read would let any caller grow the log at will, each such event needing a proof of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.domain.canonical import parse_json
from share_gateway.domain.errors import InvalidInput, InvalidState, NotFound
from share_gateway.domain.policy import Principal
from share_gateway.gateway.audit import InclusionAnswer, published_checkpoint
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.log_reading import LoggedEvent

NOT_YET_IN_LOG = "NOT_YET_IN_LOG"
NO_SUCH_EVENT = "no event of yours with this id is in this node's log"
# Event ids are UUIDs (36 characters); a longer one cannot name an event.
MAX_EVENT_ID = 36


def _actor(logged: LoggedEvent) -> str | None:
    """Who made the event, read from its leaf's bytes (a redacted stub keeps the actor)."""
    try:
        document = parse_json(logged.body)
    except ValueError:
        return None
    actor = document.get("actor") if isinstance(document, dict) else None
    return actor if isinstance(actor, str) else None


@dataclass
class ReceiptProofs:
    runtime: NodeRuntime

    async def prove(self, caller: Principal, event_id: str, tree_size: int = 0) -> InclusionAnswer:
        """The tlog-proof of ``event_id`` under the checkpoint of ``tree_size`` (the latest for 0), if the caller
        made that event."""
        if not event_id or len(event_id) > MAX_EVENT_ID:
            raise InvalidInput.one("event_id", "name the event by its id (an answer's inquiry_id)")
        store = self.runtime.store
        # Pending first, then integrated: an event integrated between the two reads is still found.
        pending = await self.runtime.read(store.events.pending_actor, event_id)
        if pending is not None:
            if pending != caller.uri:
                raise NotFound(NO_SUCH_EVENT)
            raise _not_yet("the event is not yet integrated into the log")
        logged = await self.runtime.read(store.log.entry, event_id)
        if logged is None or _actor(logged) != caller.uri:
            raise NotFound(NO_SUCH_EVENT)
        try:
            checkpoint = await published_checkpoint(self.runtime, store.log, tree_size)
        except InvalidState as error:
            raise _not_yet(str(error)) from error
        if logged.leaf_index >= checkpoint.size:
            if tree_size:
                raise InvalidInput.one(
                    "tree_size", f"leaf {logged.leaf_index} is not under the checkpoint of size {checkpoint.size}"
                )
            raise _not_yet(f"leaf {logged.leaf_index} is not yet under a checkpoint (size {checkpoint.size})")
        proof = await self.runtime.read(store.log.inclusion_proof, logged.leaf_index, checkpoint.size)
        return InclusionAnswer(logged.leaf_index, checkpoint, tuple(proof), logged)


def _not_yet(why: str) -> InvalidState:
    return InvalidState(f"{why}; ask again after the next checkpoint (about a second)", NOT_YET_IN_LOG)
