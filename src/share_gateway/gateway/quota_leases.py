"""What this replica holds of the shared quota buckets: tokens leased in batches and spent in memory.

Every admitted inquiry spends a token of each meter of an account (a requester's or an asking region's, for
one purpose: ``domain.quotas``). The buckets are rows shared by every replica; a replica leases a batch at a
time (``MeterSpec.batch``) and spends it here, so the database sees a lease per batch, not a write per
inquiry. When a batch runs low (``LOW_WATER`` of it left), the rest of a batch is leased ahead, in the
background: calls go on spending what is held and no call waits on the lease's commit unless the tokens run
out first. A lease ahead tops the holding up to one batch, never more, so the bound of ``gateway.quotas``
(at most a batch per other replica lies unspent) is unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway.domain.quotas import Lease, MeterSpec, QuotaLimits, meter_specs
from share_gateway.gateway.failures import database_outage
from share_gateway.gateway.runtime import NodeRuntime

log = logging.getLogger(__name__)

# An empty day's or window's bucket is asked again after at most this long (an operator may have raised it).
RECHECK_SECONDS = 5.0
# Lease ahead once this share of a batch or less is left.
LOW_WATER = 0.25
_METERS = range(3)


@dataclass(slots=True)
class _Held:
    period: str
    tokens: int = 0
    # An empty bucket: not asked again before ``recheck_at``; the caller is told ``retry_at``.
    recheck_at: datetime | None = None
    retry_at: datetime | None = None


@dataclass(slots=True)
class Account:
    """One scope's three meters (rate, daily, distinct subjects) for one purpose, as this replica holds them."""

    buckets: tuple[str, str, str]
    limits: QuotaLimits
    specs: tuple[MeterSpec, MeterSpec, MeterSpec]
    # The day or the distinct-subject window turns then, and the specs are worked out again.
    specs_until: datetime
    held: list[_Held | None] = field(default_factory=lambda: [None, None, None])
    leasing_ahead: list[bool] = field(default_factory=lambda: [False, False, False])
    locks: tuple[asyncio.Lock, ...] = field(default_factory=lambda: tuple(asyncio.Lock() for _ in _METERS))
    # The subjects asked about in the current distinct-subject window (a known subject spends no token).
    seen_period: str = ""
    seen: set[str] = field(default_factory=set)

    def renew(self, now: datetime, batch_most: int) -> None:
        if now >= self.specs_until:
            self.specs = meter_specs(self.limits, now, batch_most)
            self.specs_until = _specs_until(self.specs)
        window = self.specs[2].period
        if self.seen_period != window:
            self.seen_period, self.seen = window, set()


def open_account(buckets: tuple[str, str, str], limits: QuotaLimits, now: datetime, batch_most: int) -> Account:
    specs = meter_specs(limits, now, batch_most)
    return Account(buckets, limits, specs, _specs_until(specs), seen_period=specs[2].period)


def _holds(account: Account, meter: int) -> bool:
    """Whether this replica holds a token of ``meter`` for the current period."""
    held = account.held[meter]
    return held is not None and held.tokens > 0 and held.period == account.specs[meter].period


def _specs_until(specs: tuple[MeterSpec, MeterSpec, MeterSpec]) -> datetime:
    return min(end for end in (specs[1].period_ends, specs[2].period_ends) if end is not None)


@dataclass
class Leases:
    runtime: NodeRuntime
    _ahead: set[asyncio.Task[None]] = field(default_factory=set)

    def spend_held(self, account: Account, subject: str) -> bool:
        """Spend this inquiry's tokens from what is held, all or none: the fast path of every admission."""
        new_subject = subject not in account.seen
        meters = (0, 1, 2) if new_subject else (0, 1)
        for meter in meters:
            if not _holds(account, meter):
                return False
        for meter in meters:
            self._spent(account, meter)
        if new_subject:
            account.seen.add(subject)
        return True

    async def spend(self, account: Account, subject: str, now: datetime) -> tuple[MeterSpec, float] | None:
        """Spend a token of each meter, leasing where none is held; the meter that had none and when to retry."""
        for meter in (0, 1):
            retry_after = await self._take(account, meter, now)
            if retry_after is not None:
                return account.specs[meter], retry_after
        if subject not in account.seen:
            retry_after = await self._take(account, 2, now)
            if retry_after is not None:
                return account.specs[2], retry_after
            account.seen.add(subject)
        return None

    def _spent(self, account: Account, meter: int) -> None:
        held = account.held[meter]
        assert held is not None
        held.tokens -= 1
        batch = account.specs[meter].batch
        if (
            held.tokens <= batch * LOW_WATER
            and batch > 1
            and held.recheck_at is None  # an empty bucket is asked again by the call that runs out, not ahead
            and not account.leasing_ahead[meter]
        ):
            account.leasing_ahead[meter] = True
            task = asyncio.get_running_loop().create_task(self._lease_ahead(account, meter))
            self._ahead.add(task)
            task.add_done_callback(self._ahead.discard)

    def _spend_one(self, account: Account, meter: int) -> bool:
        if not _holds(account, meter):
            return False
        self._spent(account, meter)
        return True

    async def _take(self, account: Account, meter: int, now: datetime) -> float | None:
        """One token of a meter, from what is held or a new lease; else seconds until retry."""
        if self._spend_one(account, meter):
            return None
        async with account.locks[meter]:
            if self._spend_one(account, meter):  # leased meanwhile by a call that held the lock
                return None
            spec, held = account.specs[meter], account.held[meter]
            if (
                held is not None
                and held.period == spec.period
                and held.recheck_at is not None
                and now < held.recheck_at
            ):
                return max((held.retry_at or now) - now, timedelta(milliseconds=1)).total_seconds()
            leased = await self._lease(account, meter, spec, spec.batch, now)
            if leased.taken == 0:
                return leased.retry_after
            self._spent(account, meter)
            return None

    async def _lease_ahead(self, account: Account, meter: int) -> None:
        """Top the holding up to a batch before it runs out; a failure leaves it to the call that runs out."""
        try:
            async with account.locks[meter]:
                spec, held = account.specs[meter], account.held[meter]
                tokens = 0 if held is None or held.period != spec.period else held.tokens
                if tokens <= spec.batch * LOW_WATER:
                    await self._lease(account, meter, spec, spec.batch - tokens, self.runtime.clock())
        except Exception as error:  # the database may be away: the next call that runs out leases, and says so
            if database_outage(error, "quota lease ahead") is None:
                log.warning("leasing quota tokens ahead for %s failed", account.buckets[meter], exc_info=True)
        finally:
            account.leasing_ahead[meter] = False

    async def _lease(self, account: Account, meter: int, spec: MeterSpec, wanted: int, now: datetime) -> Lease:
        quotas, bucket = self.runtime.store.quotas, account.buckets[meter]
        leased = await self.runtime.write(lambda tx: quotas.lease(tx, bucket, spec, now, wanted))
        held = account.held[meter]
        if held is None or held.period != spec.period:
            held = account.held[meter] = _Held(spec.period)
        held.tokens += leased.taken
        if leased.taken == 0:
            retry = timedelta(seconds=leased.retry_after)
            held.recheck_at, held.retry_at = now + min(retry, timedelta(seconds=RECHECK_SECONDS)), now + retry
        else:
            held.recheck_at = held.retry_at = None
        return leased

    async def close(self) -> None:
        """Let the leases ahead in flight finish (their tokens are taken from the bucket either way)."""
        if self._ahead:
            await asyncio.gather(*self._ahead, return_exceptions=True)
