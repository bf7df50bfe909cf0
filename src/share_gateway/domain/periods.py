"""Disclosure periods: when a record's clock starts, when its publication ends and when its sharing ends.

Stopping publication (公示) and stopping sharing and use (共享) are two different ends (NDRC Order No. 36 of
2025): a record may still be shared for a lawful purpose after its publication ended, and its subject always
sees it. The clock starts at the decision date unless the type's own rule says otherwise (SAMR Order 45
Art. 13 counts from publication); records without a decision run from the end of the conduct (Credit Reporting
Industry Regulation Art. 16: negative information kept 5 years from the end of the conduct). Minor information
is not published by default (State Council General Office 2025 No. 22), and every record has a maximum period
unless its own rule sets none. Every number comes from the catalog (``PeriodRule``), none from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# The tier 2025 No. 22 calls minor: may stay unpublished, at most 3 months where publication is necessary.
MINOR = "minor"


class PeriodStart(StrEnum):
    """What starts a record type's clock."""

    DECISION = "decision"
    PUBLICATION = "publication"
    CONDUCT_END = "conduct_end"


class Audience(StrEnum):
    """Who an answer is for, and so which end of a record it honours."""

    # Disclosure in the public scope (public lookup, the public port): until publication ends.
    PUBLICATION = "publication"
    # A purpose-bound answer to an authorised requester: until sharing ends.
    SHARING = "sharing"
    # The subject's own inquiry: its records, published or not, while they are kept.
    SUBJECT = "subject"


@dataclass(frozen=True, slots=True)
class MinorPublication:
    """Why a type must publish minor information after all, and for how long at most."""

    maximum_days: int
    reason: str


@dataclass(frozen=True, slots=True)
class PeriodRule:
    """A record type's period rule, from its catalog entry ``periods`` (every key optional)."""

    starts: PeriodStart = PeriodStart.DECISION
    starts_source: str = ""
    # How long sharing lasts after the severity period (publication) ends; 0: both end together.
    sharing_after_publication_days: int = 0
    # The longest a record is kept for sharing, counted from its start; None: its own rule sets none.
    maximum_days: int | None = None
    maximum_source: str = ""
    # None: minor information of the type is not published at all.
    minor_publication: MinorPublication | None = None
    # Working days after the revoking decision within which a record resting on it must be withdrawn (None: none
    # set for the type).
    withdrawal_working_days: int | None = None
    withdrawal_source: str = ""


@dataclass(frozen=True, slots=True)
class Ends:
    """Where a record's clock started and where its two windows end (each end excluded; None: no end yet)."""

    start: date | None
    publish_until: date | None
    share_until: date | None


def period_start(rule: PeriodRule, decided_on: date | None, settled_on: date | None, published_on: date) -> date | None:
    """The day the clock starts; None while the conduct of a conduct-end type has not ended.

    A decision-counted type recorded without a decision (its document is optional) runs from the end of the
    conduct where it is given, else from its publication: never from an invented decision date.
    """
    if rule.starts is PeriodStart.PUBLICATION:
        return published_on
    if rule.starts is PeriodStart.CONDUCT_END:
        return settled_on
    return decided_on or settled_on or published_on


def record_ends(rule: PeriodRule, severity: str | None, period_days: int | None, start: date | None) -> Ends:
    """Both ends of a record whose severity period is ``period_days`` (None: the type has no severity periods).

    Minor information is published for 0 days unless the type's rule says why it must be, and then for at most
    the rule's number of days; sharing lasts the severity period plus the type's sharing time after it. Both
    ends stop at the type's maximum.
    """
    if start is None:
        return Ends(None, None, None)
    maximum = rule.maximum_days
    if period_days is None:
        end = None if maximum is None else start + timedelta(days=maximum)
        return Ends(start, end, end)
    published, shared = windows(rule, severity, period_days)
    return Ends(start, start + timedelta(days=published), start + timedelta(days=shared))


def windows(rule: PeriodRule, severity: str | None, period_days: int) -> tuple[int, int]:
    """Days of publication and of sharing for a severity period of ``period_days``: what ``record_ends`` counts
    from a record's start, and what the catalog states for each tier's longest period."""
    published = period_days
    if severity == MINOR:
        published = 0 if rule.minor_publication is None else min(period_days, rule.minor_publication.maximum_days)
    shared = period_days + rule.sharing_after_publication_days
    maximum = rule.maximum_days
    if maximum is not None:
        published, shared = min(published, maximum), min(shared, maximum)
    return published, shared


def visible_to(audience: Audience, publish_until: date | None, share_until: date | None, today: date) -> bool:
    """Whether an active record is inside the window ``audience`` is answered from (its end excluded)."""
    if audience is Audience.SUBJECT:
        return True
    until = publish_until if audience is Audience.PUBLICATION else share_until
    return until is None or today < until


def maximum_reached(rule: PeriodRule, start: date | None, today: date) -> bool:
    """Whether a record started on ``start`` has reached its type's maximum by ``today``."""
    return rule.maximum_days is not None and start is not None and start + timedelta(days=rule.maximum_days) <= today
