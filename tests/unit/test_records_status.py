"""Status changes of a record: only as the status table allows, each a new version."""

from __future__ import annotations

import dataclasses

import pytest

from share_gateway.domain.errors import InvalidState
from share_gateway.domain.periods import Audience
from share_gateway.domain.records import RecordStatus, change_status
from tests.unit.records_support import TODAY, admit, penalty


def test_active_record_can_be_withdrawn() -> None:
    record = admit(penalty())
    withdrawn = change_status(record, RecordStatus.WITHDRAWN)
    assert withdrawn.status is RecordStatus.WITHDRAWN
    assert withdrawn.version == 2
    assert dataclasses.replace(withdrawn, status=RecordStatus.ACTIVE, version=1) == record
    assert record.status is RecordStatus.ACTIVE  # the original is untouched
    assert not withdrawn.visible_to(Audience.SHARING, TODAY)


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (RecordStatus.WITHDRAWN, RecordStatus.WITHDRAWN),
        (RecordStatus.WITHDRAWN, RecordStatus.ACTIVE),
        (RecordStatus.ACTIVE, RecordStatus.ACTIVE),
        (RecordStatus.EXPIRED, RecordStatus.ACTIVE),
    ],
)
def test_status_change_outside_the_table_is_refused(start: RecordStatus, to: RecordStatus) -> None:
    record = dataclasses.replace(admit(penalty()), status=start)
    with pytest.raises(InvalidState):
        change_status(record, to)


def test_withdrawing_twice_is_refused() -> None:
    withdrawn = change_status(admit(penalty()), RecordStatus.WITHDRAWN)
    with pytest.raises(InvalidState, match="withdrawn"):
        change_status(withdrawn, RecordStatus.WITHDRAWN)
