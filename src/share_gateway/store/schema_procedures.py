"""The tables of what subjects and agencies do about records: consents, repair applications, disputes, listings.

Kept apart from ``schema`` (which re-exports them) only to keep each module readable; they share its metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from share_gateway.store.schema_types import Instant, metadata

# Consents this node registered (the first node to see one registers it): the statement as signed, so a
# subject can list and withdraw what is about it. The evidence itself never comes here, only its digest.
consents = Table(
    "consents",
    metadata,
    Column("consent_id", String(32), primary_key=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("requester", String(64), nullable=False),
    Column("statement", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("certificate", LargeBinary, nullable=False),
    Column("registered_at", Instant, nullable=False),
    Index(None, "subject_kind", "subject_id"),
)

# Withdrawn consents, from this node's subjects or delivered by a peer: kept even for a consent this node never
# saw, so it is refused if it arrives later.
consent_revocations = Table(
    "consent_revocations",
    metadata,
    Column("consent_id", String(32), primary_key=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("origin_region", String(6), nullable=False),
    Column("revoked_at", Instant, nullable=False),
    Column("received_at", Instant, nullable=False),
)

repair_applications = Table(
    "repair_applications",
    metadata,
    Column("application_id", String(36), primary_key=True),
    Column("record_id", String(36), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("applicant", String(200), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("commitment", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("submitted_at", Instant, nullable=False),
    # The whole course's deadline (migration 0017 renamed it from reply_due: same day, 10 working days on).
    Column("result_due", Date, nullable=False),
    Column("decision_due", Date),
    Column("decided_at", Instant),
    Column("decided_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("version", Integer, nullable=False),
    # Migration 0017: the remedy of a rejection, an extension and its reason, an agent's mandate.
    Column("remedy", Text, nullable=False, server_default=""),
    Column("extension_reason", Text, nullable=False, server_default=""),
    Column("extended_by", Integer, nullable=False, server_default="0"),
    Column("mandate_id", String(64), nullable=False, server_default=""),
    Index(None, "record_id"),
    Index(None, "state"),
)

# Disputes about wrong records (异议), at the record's origin (migration 0017).
disputes = Table(
    "disputes",
    metadata,
    Column("dispute_id", String(36), primary_key=True),
    Column("origin_region", String(6), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("record_type", String(64), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("applicant", String(200), nullable=False),
    Column("claim", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("filed_at", Instant, nullable=False),
    Column("answer_due", Date, nullable=False),
    Column("answered_at", Instant),
    Column("answered_by", String(200), nullable=False),
    Column("answer", Text, nullable=False),
    Column("corrected_record_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Index(None, "origin_region", "record_id"),
    Index(None, "state"),
    # The inquiry path's read of a subject's open disputes (revision 0022).
    Index(None, "subject_kind", "subject_id", "state"),
)

# Correction applications (纠正) about entries on the courts' list of dishonest judgment debtors (Fa Shi [2017]
# No. 7 Art. 12), kept at the entry's origin node, with the court's review.
debtor_corrections = Table(
    "debtor_corrections",
    metadata,
    Column("application_id", String(36), primary_key=True),
    Column("origin_region", String(6), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("record_type", String(64), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("applicant", String(200), nullable=False),
    Column("grounds", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("review_due", Date, nullable=False),
    Column("reviewed_on", Date),
    Column("reviewed_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("deletion_due", Date),
    Column("version", Integer, nullable=False),
    Index(None, "origin_region", "record_id"),
    Index(None, "state"),
)

# Listings on the seriously-untrustworthy list (and the other catalog lists): this node's own, and
# copies its peers shared. ``body`` is the listing's canonical bytes, history included.
listings = Table(
    "listings",
    metadata,
    # A listing is its origin's: (origin_region, listing_id), so no region's id can take another's place.
    Column("origin_region", String(6), primary_key=True),
    Column("listing_id", String(36), primary_key=True),
    Column("list_name", String(64), nullable=False),
    # The record it rests on: (origin_region, record_id), a record of the listing's own origin.
    Column("record_id", String(36), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(18), nullable=False),
    Column("state", String(16), nullable=False),
    Column("ends_on", Date),
    Column("version", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("changed_at", Instant, nullable=False),
    Index(None, "subject_kind", "subject_id"),
    Index(None, "record_id", "origin_region"),
    Index(None, "state", "ends_on"),
)
