"""Which records an answer marks "under dispute", and on whose word (DOMAIN.md "Disputes, notice and repair
channels": marked as under dispute meanwhile; only the record's origin answers the dispute)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from share_gateway.domain.dispute_marks import copy_of, mark_of
from share_gateway.domain.disputes import Dispute, DisputeState
from share_gateway.domain.events import DisclosedRecord
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.gateway.federation import RegionOutcome, RegionStatus
from share_gateway.gateway.inquiries import _disputed

ORIGIN = "110000"
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
COMPANY = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")


def filed(record_id: str, origin: str = ORIGIN) -> Dispute:
    return Dispute(
        f"d-{record_id}", origin, record_id, "dishonest_judgment_debtor", COMPANY, "sgw://x", "有误",
        DisputeState.FILED, AT, date(2026, 12, 21),
    )  # fmt: skip


def relayed(region: str, *records: str, disputed: tuple[Dispute, ...] = ()) -> RegionOutcome:
    refs = tuple(DisclosedRecord(r, "dishonest_judgment_debtor", ORIGIN) for r in records)
    return RegionOutcome(region, RegionStatus.OK, records=refs, disputed=disputed)


def test_a_copy_is_marked_on_the_origins_delivered_word_and_a_fresh_answer_of_the_origin_prevails() -> None:
    """A copy held here is marked by the mark its origin delivered; when the origin itself answered for the record
    just now, its signed answer decides (the delivered mark may not have caught up with the origin's answer)."""
    held = [copy_of(mark_of(filed("r-1"))), copy_of(mark_of(filed("r-2")))]
    shown = {(ORIGIN, "r-1"), (ORIGIN, "r-2")}
    assert [d.record_id for d in _disputed(held, [], shown)] == ["r-1", "r-2"]
    # The origin answered for r-1 without a mark (its dispute answered), and still marks r-2.
    origin = relayed(ORIGIN, "r-1", "r-2", disputed=(copy_of(mark_of(filed("r-2"))),))
    assert [d.record_id for d in _disputed(held, [origin], shown)] == ["r-2"]
    # A region that failed its checks has no word; a record not in the answer is not marked.
    failed = replace(origin, status=RegionStatus.INVALID)
    assert [d.record_id for d in _disputed(held, [failed], {(ORIGIN, "r-1")})] == ["r-1"]
