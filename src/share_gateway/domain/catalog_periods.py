"""A record type's ``periods`` entry in the catalog document: read into a ``PeriodRule``, every fault by path.

Every key is optional, so a catalog written before the entry existed still reads, with one exception the rules
demand: every record has a maximum period unless its own rule sets none (NDRC Order No. 36 of 2025). A type
with severity periods has one already (the longest, plus any sharing after publication); a type without them
must state ``maximum``, or ``maximum: none`` with the rule that sets none in ``maximum_source``::

    periods:
      starts: publication            # decision (default) | publication | conduct_end, with starts_source
      starts_source: "SAMR Order 45 Art. 13"
      sharing_after_publication: 0d  # default 0d: sharing ends with the severity period
      maximum: 1095d                 # or none (then maximum_source is required)
      minor_publication: {maximum: 90d, reason: "..."}  # absent: minor information is not published
      withdrawal_working_days: 3     # after the revoking decision, with withdrawal_source
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from share_gateway.domain.periods import MinorPublication, PeriodRule, PeriodStart

if TYPE_CHECKING:
    from share_gateway.domain.catalog_document import _Reader

_KEYS = (
    "starts",
    "starts_source",
    "sharing_after_publication",
    "maximum",
    "maximum_source",
    "minor_publication",
    "withdrawal_working_days",
    "withdrawal_source",
)
NO_MAXIMUM = "none"


def _days_or_none(r: _Reader, key: str) -> int | None:
    value = r.raw(key, False)
    return None if value is None else r.days(key, value)


def _minor(r: _Reader) -> MinorPublication | None:
    raw = r.raw("minor_publication", False)
    if raw is None:
        return None
    mr = type(r)(raw, r.at("minor_publication"), r.faults)
    mr.allow_only("maximum", "reason")
    return MinorPublication(mr.days("maximum", mr.raw("maximum", True) or ""), mr.text("reason"))


def _maximum(pr: _Reader, longest: int | None, sharing_after: int) -> tuple[int | None, str]:
    """The type's maximum: as stated, ``none`` with its source, or the longest severity period and sharing."""
    raw = pr.raw("maximum", False)
    source = pr.text("maximum_source", required=False)
    if raw == NO_MAXIMUM:
        if not source:
            pr.fault("maximum_source", "a record type without a maximum period names the rule that sets none")
        return None, source
    if raw is not None:
        return pr.days("maximum", raw), source
    if longest is None:
        pr.fault("maximum", "every record type has a maximum period, or says none with its source")
        return None, source
    return longest + sharing_after, source


def parse_period_rule(r: _Reader, severity_maxima: Mapping[str, Any] | None) -> PeriodRule:
    """The ``periods`` entry of the record type ``r`` reads; ``severity_maxima`` its raw severity periods."""
    raw = r.raw("periods", False)
    pr = type(r)({} if raw is None else raw, r.at("periods"), r.faults)
    pr.allow_only(*_KEYS)
    starts = pr.choice("starts", PeriodStart, PeriodStart.DECISION)
    starts_source = pr.text("starts_source", required=starts is not PeriodStart.DECISION)
    sharing_after = _days_or_none(pr, "sharing_after_publication") or 0
    longest = _longest(pr, severity_maxima)
    maximum, maximum_source = _maximum(pr, longest, sharing_after)
    withdrawal = pr.raw("withdrawal_working_days", False)
    withdrawal_days = None if withdrawal is None else pr.count("withdrawal_working_days", minimum=1)
    return PeriodRule(
        starts=starts,
        starts_source=starts_source,
        sharing_after_publication_days=sharing_after,
        maximum_days=maximum,
        maximum_source=maximum_source,
        minor_publication=_minor(pr),
        withdrawal_working_days=withdrawal_days,
        withdrawal_source=pr.text("withdrawal_source", required=withdrawal is not None),
    )


def _longest(pr: _Reader, severity_periods: Mapping[str, Any] | None) -> int | None:
    """The longest maximum among the raw severity periods (their faults are reported where they are read)."""
    if not isinstance(severity_periods, Mapping):
        return None
    silent = type(pr)({}, pr.path, [])
    longest = [
        silent.days("", bounds[1])
        for bounds in severity_periods.values()
        if isinstance(bounds, list) and len(bounds) == 2
    ]
    return max(longest) if longest else None
