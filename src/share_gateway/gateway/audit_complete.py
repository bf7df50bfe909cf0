"""Complete exports: for one subject or one requester, a bundle v2 that proves it holds every event about the key.

An export filtered by the subject alone or by the requester (the actor) alone,
optionally within a time range, is exactly an index lookup: the key's leaves
under the latest index checkpoint, each with its proof under the log
checkpoint of the same size, and the lookup proof of the key (its leaves, or
that it has none). Any other filter, a limit the key's events do not fit in,
or a log with no index checkpoint yet exports v1: completeness not proven.
"""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.ledger.bundle import BundleEntry
from share_gateway.ledger.bundle_completeness import Completeness
from share_gateway.ledger.checkpoint import TlogProof
from share_gateway.ledger.index import key_hash, requester_key, subject_key
from share_gateway.ledger.index_tree import IndexTree
from share_gateway.store.log import LogStore, StoredCheckpoint
from share_gateway.store.log_reading import LogQuery


def completeness_key(query: LogQuery) -> str | None:
    """The index key an export's filter is exactly, if it is one; None otherwise."""
    others = (query.purpose, query.outcome, query.kind)
    if any(others):
        return None
    if query.actor and not (query.subject_id or query.subject_kind):
        return requester_key(query.actor)
    if query.subject_id and not query.actor:
        kinds = [query.subject_kind] if query.subject_kind else [kind.value for kind in SubjectKind]
        valid = [kind for kind in kinds if _is_subject(kind, query.subject_id)]
        if len(valid) == 1:
            return subject_key(valid[0], query.subject_id)
    return None


def _is_subject(kind: str, identifier: str) -> bool:
    try:
        return Subject.parse(kind, identifier).identifier == identifier
    except InvalidInput:
        return False


@dataclass(frozen=True, slots=True)
class CompleteExport:
    completeness: Completeness
    checkpoint: StoredCheckpoint
    leaves: tuple[int, ...]  # the entries the bundle must hold, in leaf order


class IndexLookups:
    """Lookups in the index at a checkpoint's size; the tree of the latest size asked for is kept (building it reads
    every key's chain), so the exports under one checkpoint build it once."""

    def __init__(self, log: LogStore) -> None:
        self.log = log
        self._tree: tuple[int, IndexTree] | None = None

    def _tree_at(self, size: int) -> IndexTree:
        if self._tree is None or self._tree[0] != size:
            self._tree = (size, IndexTree(self.log.index.values_at(size)))
        return self._tree[1]

    def plan(self, query: LogQuery, limit: int | None) -> CompleteExport | None:
        """The complete export ``query`` asks for (on a store thread), or None when it cannot be one."""
        key = completeness_key(query)
        latest = self.log.index.latest_checkpoint_note()
        if key is None or latest is None:
            return None
        size, note = latest
        checkpoint = self.log.checkpoint(size)
        if checkpoint is None:
            return None
        hashed = key_hash(key)
        listed = self.log.index.entries(hashed, size)
        completeness = Completeness(
            key, note, tuple(listed), self._tree_at(size).prove(hashed), query.since, query.until
        )
        selected = tuple(e.leaf_index for e in completeness.selected())
        if limit is not None and len(selected) > limit:
            return None
        return CompleteExport(completeness, checkpoint, selected)

    def proved(self, leaves: tuple[int, ...], checkpoint: StoredCheckpoint) -> list[BundleEntry]:
        """The entries of ``leaves``, each with its proof under ``checkpoint`` (on a store thread)."""
        entries = []
        for leaf in leaves:
            event = self.log.at(leaf)
            proof = TlogProof(leaf, tuple(self.log.inclusion_proof(leaf, checkpoint.size)), checkpoint.note)
            if event is None or event.redacted:
                entries.append(BundleEntry(leaf, proof, leaf_hash=self.log.leaf_hash(leaf)))
            else:
                entries.append(BundleEntry(leaf, proof, event=event.body))
        return entries
