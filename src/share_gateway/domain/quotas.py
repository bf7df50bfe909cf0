"""Quotas per requester and purpose, as pure arithmetic: the time is always passed in.

A purpose's ``QuotaLimits`` (from the catalog, overridden per grant in node
config) become three meters per requester and purpose, each a bucket of
tokens: the **rate** (a token bucket of ``burst`` tokens refilling at
``per_minute``), the **daily volume** (``per_day`` tokens per UTC day) and the
**distinct subjects** (``distinct_subjects`` new subjects per window of
``distinct_window_hours``). A bucket lives in the database, shared by every
replica; a replica takes tokens from it in batches (``lease``) and spends them
locally, so the hot path does not go to the database per inquiry.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

# How long a batch of rate tokens lasts at the full rate: at most about two leases per second per bucket.
LEASE_SECONDS = 0.5
# A batch is at most this share of a limit, so the tokens another replica holds unspent stay small.
LEASE_SHARE = 10


class Meter(StrEnum):
    RATE = "rate"
    DAILY = "daily"
    DISTINCT_SUBJECTS = "distinct_subjects"


# The reason codes of a quota refusal (sent as google.rpc.ErrorInfo.reason and logged as the refusal's reason).
REASONS = {
    Meter.RATE: "QUOTA_RATE",
    Meter.DAILY: "QUOTA_DAILY_VOLUME",
    Meter.DISTINCT_SUBJECTS: "QUOTA_DISTINCT_SUBJECTS",
}
CONCURRENCY = "QUOTA_CONCURRENT_CALLS"
QUOTA_FIELDS = ("per_minute", "burst", "per_day", "distinct_subjects", "distinct_window_hours")


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """What one requester may take for one purpose."""

    per_minute: int
    burst: int
    per_day: int
    distinct_subjects: int
    distinct_window_hours: int = 24

    def __post_init__(self) -> None:
        for name in QUOTA_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1")

    def replaced(self, **changes: int) -> QuotaLimits:
        return dataclasses.replace(self, **changes)

    def times(self, factor: int) -> QuotaLimits:
        """The limits of many requesters together (a whole region asking through its node)."""
        return QuotaLimits(
            self.per_minute * factor,
            self.burst * factor,
            self.per_day * factor,
            self.distinct_subjects * factor,
            self.distinct_window_hours,
        )

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


# When a catalog names no quota for a purpose: a requester's steady work, far below bulk enumeration
# (about one inquiry a second sustained, 5,000 a day). This project's choice; see the README.
DEFAULT_QUOTA = QuotaLimits(per_minute=60, burst=30, per_day=5000, distinct_subjects=2000)


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """One bucket's shape at one moment: its capacity, how it refills, and the period its tokens belong to."""

    meter: Meter
    capacity: int
    refill_per_second: float
    # Tokens of another period are void: the day (daily), the window (distinct subjects); "" for the rate.
    period: str
    period_ends: datetime | None
    # How many tokens one lease asks for.
    batch: int


def _batch(capacity: int, per_second: float, most: int) -> int:
    return max(1, min(math.ceil(per_second * LEASE_SECONDS), capacity // LEASE_SHARE, most))


def meter_specs(limits: QuotaLimits, now: datetime, batch_most: int) -> tuple[MeterSpec, MeterSpec, MeterSpec]:
    """The three buckets of ``limits`` at ``now`` (UTC days; distinct-subject windows counted from the epoch)."""
    seconds = int(now.timestamp())
    return _meter_specs(limits, seconds // 86400, seconds // (limits.distinct_window_hours * 3600), batch_most)


@functools.lru_cache(maxsize=4096)
def _meter_specs(
    limits: QuotaLimits, day_number: int, index: int, batch_most: int
) -> tuple[MeterSpec, MeterSpec, MeterSpec]:
    """The same for a UTC day and window (numbered from the epoch): every inquiry asks, the answer changes daily."""
    rate = limits.per_second
    day_starts = datetime.fromtimestamp(day_number * 86400, UTC)
    day, day_ends = day_starts.date(), day_starts + timedelta(days=1)
    window = limits.distinct_window_hours * 3600
    window_ends = datetime.fromtimestamp((index + 1) * window, UTC)
    return (
        MeterSpec(Meter.RATE, limits.burst, rate, "", None, _batch(limits.burst, rate, batch_most)),
        MeterSpec(
            Meter.DAILY, limits.per_day, 0.0, day.isoformat(), day_ends, _batch(limits.per_day, rate, batch_most)
        ),
        MeterSpec(
            Meter.DISTINCT_SUBJECTS,
            limits.distinct_subjects,
            0.0,
            f"{limits.distinct_window_hours}h#{index}",
            window_ends,
            _batch(limits.distinct_subjects, rate, batch_most),
        ),
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    """A bucket as the database keeps it."""

    period: str
    level: float
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Lease:
    """Tokens taken from a bucket (0: none left), and when to ask again if none were."""

    taken: int
    retry_after: float
    bucket: Bucket


def lease(bucket: Bucket | None, spec: MeterSpec, wanted: int, now: datetime) -> Lease:
    """Take up to ``wanted`` whole tokens from ``bucket`` (a missing one, or one of another period, is full)."""
    if bucket is None or bucket.period != spec.period:
        level = float(spec.capacity)
    else:
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        level = min(float(spec.capacity), bucket.level + elapsed * spec.refill_per_second)
        # A lease with an older clock (a call that waited, another replica's) must not move the bucket's time
        # back: the refill since then would be credited twice.
        now = max(now, bucket.updated_at)
    taken = max(0, min(wanted, math.floor(level)))
    level -= taken
    retry_after = 0.0
    if taken == 0:
        if spec.refill_per_second > 0:
            retry_after = (1.0 - level) / spec.refill_per_second
        elif spec.period_ends is not None:
            retry_after = (spec.period_ends - now).total_seconds()
        retry_after = max(retry_after, 0.001)
    return Lease(taken, retry_after, Bucket(spec.period, level, now))
