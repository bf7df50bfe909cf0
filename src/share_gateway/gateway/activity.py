"""The officers' overview figures, aggregated at the node: what the log holds per day, and who witnessed it.

A console draws a month of a million events from a few hundred counts: the node groups them in SQL (one index),
never ships the events. Each step is logged as the other review steps are (kind ``audit``), refused without
the officer role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from share_gateway.domain.errors import FieldViolation, InvalidInput
from share_gateway.domain.events import format_instant
from share_gateway.domain.policy import Principal
from share_gateway.domain.principals import Identity
from share_gateway.gateway.audit import AuditDesk
from share_gateway.store.activity import ActivityCount, Cosigned, count_activity, count_activity_of, last_cosigned
from share_gateway.store.log import StoredCheckpoint

# The longest range one summary covers: a year and a day, so any calendar year fits.
LONGEST_RANGE = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class ActivitySummary:
    counts: tuple[ActivityCount, ...]
    log_size: int
    checkpoint: StoredCheckpoint | None
    # Per witness key name, the newest checkpoint carrying its cosignature line.
    witnessed: dict[str, Cosigned]


@dataclass
class ActivityDesk:
    audit: AuditDesk
    # The key names of the witnesses the manifest lists for this node's log (none outside a federation).
    cosigners: Callable[[], frozenset[str]]

    async def summary(
        self, officer: Principal, since: datetime | None, until: datetime | None, actor: str = ""
    ) -> ActivitySummary:
        """The day counts of every event, or (``actor``) of one requester's, with the log's size and witnesses."""
        if actor:
            _require_identity(actor)
        await self.audit.admit(
            officer,
            "activity_summary",
            since=format_instant(since) if since else "",
            until=format_instant(until) if until else "",
            actor=actor,
        )
        since, until = _range(since, until)
        runtime, log = self.audit.runtime, self.audit.log
        if actor:
            counts = await runtime.read(count_activity_of, log.database, actor, since, until)
        else:
            counts = await runtime.read(count_activity, log.database, since, until)
        size = await runtime.read(log.size)
        checkpoint = await runtime.read(log.latest_checkpoint)
        witnessed = await runtime.read(last_cosigned, log.database, self.cosigners())
        return ActivitySummary(tuple(counts), size, checkpoint, witnessed)


def _require_identity(actor: str) -> None:
    """A requester named by its identity URI, as the log keeps it (every valid one is short); anything else is
    refused before it is logged, and the refusal does not repeat it."""
    try:
        Identity.from_uri(actor)
    except InvalidInput as error:
        raise InvalidInput.one("actor", "is not a certificate identity URI (sgw://...)") from error


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """Both bounds given, in order, and at most ``LONGEST_RANGE`` apart; else every fault named at once."""
    violations = []
    if since is None:
        violations.append(FieldViolation("since", "is required"))
    if until is None:
        violations.append(FieldViolation("until", "is required"))
    if since is not None and until is not None:
        if until <= since:
            violations.append(FieldViolation("until", "must be after since"))
        elif until - since > LONGEST_RANGE:
            violations.append(FieldViolation("until", f"at most {LONGEST_RANGE.days} days after since"))
    if violations:
        raise InvalidInput(violations)
    assert since is not None
    assert until is not None
    return since, until
