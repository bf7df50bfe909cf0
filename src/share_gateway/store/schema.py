"""The tables. Alembic migrations create them; a test checks the two agree on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from share_gateway.store.schema_procedures import (
    consent_revocations,
    consents,
    debtor_corrections,
    disputes,
    listings,
    repair_applications,
)
from share_gateway.store.schema_types import Instant, Sequence64, metadata

# Re-exported: the procedure tables, read as ``schema.<table>`` like every other, and the shared types.
__all__ = [
    "Instant",
    "Sequence64",
    "consent_revocations",
    "consents",
    "debtor_corrections",
    "disputes",
    "listings",
    "metadata",
    "repair_applications",
]


def _signed_documents(name: str) -> Table:
    """A history of one kind of authority-signed document; versions only move forward."""
    return Table(
        name,
        metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("digest", String(64), nullable=False),
        Column("document", LargeBinary, nullable=False),
        Column("installed_at", Instant, nullable=False),
    )


catalogs = _signed_documents("catalogs")
manifests = _signed_documents("manifests")
# The authority's certificate revocation lists, beside the manifests.
revocation_lists = _signed_documents("revocation_lists")

# Records of nationally shared types waiting to reach each peer: written in the same transaction as
# the record, delivered with retries until the peer acknowledges.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    Column("peer", String(6), nullable=False),
    # "record": publish the record; "revocation": tell the peer it no longer may be disclosed;
    # "listing": share the listing ``listing_id`` (resting on the record) as it stands when delivered.
    Column("kind", String(16), nullable=False, server_default="record"),
    Column("record_id", String(36), nullable=False),
    Column("listing_id", String(36)),
    Column("created_at", Instant, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Instant, nullable=False),
    Column("delivered_at", Instant),
    Column("last_error", Text),
    # domain.deliveries.DeliveryState: pending, delivered, skipped, or dead (refused for a reason that cannot
    # change: kept with that reason and time until an operator redelivers it).
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("dead_reason", Text),
    Column("dead_at", Instant),
    # Which replica's courier is sending it, and until when that claim holds (a dead replica's claim lapses):
    # only an unclaimed row, or one whose claim lapsed, is due, so each delivery is sent and logged once.
    Column("claimed_by", String(64)),
    Column("claimed_until", Instant),
    Index(None, "delivered_at", "next_attempt_at"),
    Index(None, "state", "next_attempt_at"),
    Index(None, "peer", "record_id"),
)

# Who received which record, when: written with the inquiry's event, so a revocation reaches every recipient.
disclosure_ledger = Table(
    "disclosure_ledger",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    Column("record_id", String(36), nullable=False),
    Column("origin_region", String(6), nullable=False),
    # The requester's certificate identity, and the asking node when the inquiry came through a peer.
    Column("recipient", String(200), nullable=False),
    Column("via", String(200), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("disclosed_at", Instant, nullable=False),
    Index(None, "record_id"),
    Index(None, "recipient", "record_id"),
)

# Revocations signed by each record's origin (this node's own and its peers'): the feed requesters read.
revocations = Table(
    "revocations",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    Column("record_id", String(36), nullable=False),
    Column("origin_region", String(6), nullable=False),
    Column("statement", LargeBinary, nullable=False),
    Column("key_id", String(8), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("received_at", Instant, nullable=False),
    # One revocation per record of each origin: a peer cannot take the place of another origin's.
    UniqueConstraint("origin_region", "record_id"),
)

# A requester's acknowledgement of each revocation in its feed (migration 0018): when, and whether it came later
# than the node's configured time (``revocation_watch.acknowledge_within_seconds``) after the revocation was kept.
revocation_acknowledgements = Table(
    "revocation_acknowledgements",
    metadata,
    Column("recipient", String(200), primary_key=True),
    Column("revocation_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("acknowledged_at", Instant, nullable=False),
    Column("late", Boolean, nullable=False),
)

# What this node last cosigned of each peer's log, as a witness: a new checkpoint must extend it.
witnessed = Table(
    "witnessed",
    metadata,
    Column("origin", String(6), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", LargeBinary, nullable=False),
    Column("cosigned_at", Instant, nullable=False),
)

# Nonces of peer inquiries already answered: in the database, so every replica refuses a replay.
peer_nonces = Table(
    "peer_nonces",
    metadata,
    # A nonce is the asking region's: one region's nonce never blocks another's inquiry.
    Column("origin", String(6), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", Instant, nullable=False),
    Index(None, "seen_at"),
)

# Quota buckets (domain.quotas), one per requester, purpose and meter: shared by every replica, which lease
# tokens from them in batches.
quota_buckets = Table(
    "quota_buckets",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("period", String(32), nullable=False),
    Column("level", Float, nullable=False),
    Column("updated_at", Instant, nullable=False),
)

institutions = Table(
    "institutions",
    metadata,
    Column("institution", String(18), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("registered_at", Instant, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("grant_id", Sequence64, primary_key=True, autoincrement=True),
    Column("institution", String(18), ForeignKey("institutions.institution"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("scope", String(64), nullable=False),
    Column("valid_from", Instant, nullable=False),
    Column("valid_until", Instant),
    Column("revoked_at", Instant),
    Column("granted_at", Instant, nullable=False),
    Index(None, "institution"),
)

# A record is identified by (origin_region, record_id): the id is its origin's, and another region's record
# under the same id is another record (it can never replace, block or pass for this one).
records = Table(
    "records",
    metadata,
    Column("origin_region", String(6), primary_key=True),
    Column("record_id", String(36), primary_key=True),
    Column("request_key", String(200), nullable=False),
    Column("record_type", String(64), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(32)),
    # None for a record resting on no decision (its clock runs from the end of the conduct).
    Column("decided_on", Date),
    Column("period_start", Date),
    Column("period_days", Integer),
    # Publication (公示) and sharing (共享) end separately; each end excluded.
    Column("publish_until", Date),
    Column("share_until", Date),
    # A withdrawal after a revoked decision: the revoking decision's date and the day it was due by.
    Column("revoked_on", Date),
    Column("withdrawal_due", Date),
    Column("recorded_at", Instant, nullable=False),
    Column("version", Integer, nullable=False),
    Column("catalog_version", Integer, nullable=False),
    Column("submitted_by", String(200), nullable=False),
    Column("legal_document", JSON),
    # name -> [canonical value text, salt hex]: what opens each digest of the statement.
    Column("openings", JSON, nullable=False),
    Column("statement", LargeBinary, nullable=False),
    Column("key_id", String(8), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("changed_at", Instant),
    Column("change_reason", Text),
    UniqueConstraint("request_key"),
    Index(None, "subject_id", "subject_kind"),
    # What the disclosure sweeper looks for: active records whose sharing ended.
    Index(None, "status", "share_until"),
)


# The log's hot table: an append is one plain insert with no secondary index to maintain,
# because every inquiry waits for its event's commit. The canonical bytes are the event; the
# columns beside them are copied from the event in memory at append time, so the sequencer
# moves them into the searchable ``log_entries`` in SQL instead of parsing every event again.
def _event_fields() -> list[Column[Any]]:
    """The fields of an event that are searched by: in ``events`` as appended, in ``log_entries`` once integrated."""
    return [
        Column("event_id", String(36), nullable=False),
        Column("kind", String(32), nullable=False),
        Column("occurred_at", Instant, nullable=False),
        Column("node", String(6), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("subject_kind", String(16)),
        Column("subject_id", String(18)),
        Column("purpose", String(64)),
        Column("outcome", String(16), nullable=False),
    ]


EVENT_FIELDS = tuple(column.name for column in _event_fields())

events = Table(
    "events",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    *_event_fields(),
    Column("body", LargeBinary, nullable=False),
)

# One row per integrated event: its leaf index in the Merkle log, and the fields compliance
# officers search by. Written by the sequencer in batches, off the request path.
log_entries = Table(
    "log_entries",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("event_seq", BigInteger, nullable=False),
    *_event_fields(),
    Column("redacted_at", Instant),
    UniqueConstraint("event_seq"),
    UniqueConstraint("event_id"),
    Index(None, "actor", "occurred_at"),
    Index(None, "subject_id", "occurred_at"),
    # A subject's history, newest first (migration 0013).
    Index(None, "subject_id", "leaf_index"),
    Index(None, "occurred_at"),
)

# The officers' overview: integrated events counted per UTC day (YYYY-MM-DD), kind, purpose ("" for none) and
# outcome, added to in the transaction that integrates them (migration 0020 counted the log it found).
log_activity = Table(
    "log_activity",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Column("outcome", String(16), primary_key=True),
    Column("events", BigInteger, nullable=False),
)

# Every perfect subtree of the log: (level, index) covers leaves [index * 2**level, (index + 1) * 2**level).
log_nodes = Table(
    "log_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

# Signed checkpoints as published, one per tree size.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", LargeBinary, nullable=False),
    Column("published_at", Instant, nullable=False),
)

# The verifiable index (``ledger.index``, migration 0021): one row per (key, leaf) of an event about that key, with
# the key's chain hash once that leaf is added, so the index at any log size is read back without hashing again.
index_entries = Table(
    "index_entries",
    metadata,
    Column("key_hash", LargeBinary(32), primary_key=True),
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(27), nullable=False),
    Column("chain", LargeBinary(32), nullable=False),
    Index(None, "leaf_index"),
)

# Signed index checkpoints as published, one per log size: the index root bound to the log checkpoint of that size.
index_checkpoints = Table(
    "index_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("index_root", LargeBinary, nullable=False),
    Column("note", LargeBinary, nullable=False),
    Column("published_at", Instant, nullable=False),
)
