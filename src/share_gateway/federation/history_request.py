"""What the asking node signs to read a subject's history at a peer, on that subject's behalf.

Like a forwarded inquiry (``messages.PeerInquiry``) it carries a nonce and a time against replay and the
catalog's digest; it names the subject and the requester, whose certificate at the asking node is that
subject's own identity, and the page wanted: entries of leaves below ``before`` (None: from the newest)
of a log read at size ``below`` (None: the peer's current size).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind

PEER_HISTORY_TYPE = "application/vnd.share-gateway.peer-history+json"
PEER_HISTORY_FORMAT = 1


def _position(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("a log position is a non-negative integer")
    return value


@dataclass(frozen=True, slots=True)
class PeerHistoryRequest:
    origin: str
    requester_uri: str
    subject: Subject
    purpose: str
    before: int | None
    below: int | None
    limit: int
    catalog_digest: str
    nonce: str
    at: datetime

    @classmethod
    def new(cls, **values: Any) -> PeerHistoryRequest:
        return cls(nonce=os.urandom(16).hex(), **values)

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": PEER_HISTORY_FORMAT,
                "origin": self.origin,
                "requester": self.requester_uri,
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "purpose": self.purpose,
                "before": self.before,
                "below": self.below,
                "limit": self.limit,
                "catalog_digest": self.catalog_digest,
                "nonce": self.nonce,
                "at": format_instant(self.at),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PeerHistoryRequest:
        raw: dict[str, Any] = parse_json(data)
        try:
            if raw["v"] != PEER_HISTORY_FORMAT:
                raise ValueError(f"unknown peer history request format {raw['v']!r}")
            limit = raw["limit"]
            if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 1000:
                raise ValueError("a page holds 1 to 1000 entries")
            request = cls(
                origin=raw["origin"],
                requester_uri=raw["requester"],
                subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
                purpose=raw["purpose"],
                before=_position(raw["before"]),
                below=_position(raw["below"]),
                limit=limit,
                catalog_digest=raw["catalog_digest"],
                nonce=raw["nonce"],
                at=parse_instant(raw["at"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed peer history request: {error!r}") from error
        if request.to_bytes() != data:
            raise ValueError("peer history request bytes are not canonical")
        return request
