"""A record as the store kept it before revision 0015: one disclosure end (``disclose_until``), a decision date for
every record, and a format-2 statement. For the upgrade tests of that revision and of earlier ones."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Column, Date, MetaData, Table

from share_gateway.crypto.disclosure import RecordStatement, SealedRecord
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.records import Record
from share_gateway.store import schema
from share_gateway.store.records import _row as record_row

_SINCE_0015 = ("period_start", "period_days", "publish_until", "share_until", "revoked_on", "withdrawal_due")


def sealed_before_0015(record: Record, sealed: SealedRecord, key: SigningKey) -> SealedRecord:
    """``sealed`` as the origin signed it before format 3: the same digests in a format-2 statement."""
    statement = RecordStatement.from_bytes(sealed.statement.payload)
    old = dataclasses.replace(statement, format=2)
    return SealedRecord(Envelope.seal(key, sealed.statement.payload_type, old.to_bytes()), sealed.openings)


def row_before_0015(record: Record, sealed: SealedRecord, request_key: str) -> dict[str, Any]:
    """The row revision 0014 stored for ``record`` (whose two ends are one)."""
    assert record.publish_until == record.share_until
    assert record.decided_on is not None
    row = {key: value for key, value in record_row(record, sealed, request_key).items() if key not in _SINCE_0015}
    return row | {"disclose_until": record.share_until}


def records_before_0015() -> Table:
    """The records table as revisions up to 0014 had it, to insert old rows into."""
    kept = [Column(c.name, c.type) for c in schema.records.columns if c.name not in _SINCE_0015]
    return Table("records", MetaData(), *kept, Column("disclose_until", Date))
