"""What this replica holds of the shared quota buckets: tokens leased in batches and spent in memory.

Every admitted inquiry spends a token of each meter of an account (a requester's or an asking region's, for
one purpose: ``domain.quotas``). The buckets are rows shared by every replica; a replica leases a batch at a
time (``MeterSpec.batch``) and spends it here, so the database sees a lease per batch, not a write per
inquiry. An account's meters are leased together, in one transaction: a call that finds a meter empty leases
every meter it lacks, and tops up the others running low, at one commit rather than one per meter (at a
realistic quota a batch is a single token, and a new subject's call needs all three meters). When a batch
runs low (``LOW_WATER`` of it left), every meter of the account at or below ``TOP_UP_BELOW`` is topped up
ahead, in the background: calls go on spending what is held and no call waits on the lease's commit unless
the tokens run out first. A top-up fills the holding to one batch, never more, so the bound of
``gateway.quotas`` (at most a batch per other replica lies unspent) is unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway.domain.quotas import Lease, MeterSpec, QuotaLimits, meter_specs
from share_gateway.gateway.failures import database_outage
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.telemetry import Recorder

log = logging.getLogger(__name__)

# An empty day's or window's bucket is asked again after at most this long (an operator may have raised it).
RECHECK_SECONDS = 5.0
# Lease ahead once this share of a batch or less is left.
LOW_WATER = 0.25
# A lease tops up, beside the meters it is for, every other meter of the account holding this share or less.
TOP_UP_BELOW = 0.5
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
    leasing_ahead: bool = False
    # One lease of the account's meters at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
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

    def tokens(self, meter: int) -> int:
        """What this replica holds of ``meter`` for the current period."""
        held = self.held[meter]
        return held.tokens if held is not None and held.period == self.specs[meter].period else 0

    def refused_until(self, meter: int, now: datetime) -> datetime | None:
        """When to retry ``meter``, if its bucket was found empty and is not to be asked again yet."""
        held = self.held[meter]
        if held is None or held.period != self.specs[meter].period or held.recheck_at is None:
            return None
        return (held.retry_at or now) if now < held.recheck_at else None

    def top_ups(self, share: float, now: datetime) -> dict[int, int]:
        """Tokens to lease for each meter holding ``share`` of its batch or less (none for a bucket found empty
        and not to be asked again yet): what fills it to one batch."""
        wanted = {}
        for meter in _METERS:
            batch, tokens = self.specs[meter].batch, self.tokens(meter)
            if tokens <= batch * share and tokens < batch and self.refused_until(meter, now) is None:
                wanted[meter] = batch - tokens
        return wanted


def open_account(buckets: tuple[str, str, str], limits: QuotaLimits, now: datetime, batch_most: int) -> Account:
    specs = meter_specs(limits, now, batch_most)
    return Account(buckets, limits, specs, _specs_until(specs), seen_period=specs[2].period)


def _specs_until(specs: tuple[MeterSpec, MeterSpec, MeterSpec]) -> datetime:
    return min(end for end in (specs[1].period_ends, specs[2].period_ends) if end is not None)


@dataclass
class Leases:
    runtime: NodeRuntime
    # Counts lease transactions (by whether a call waited on it), for the node's metrics.
    recorder: Recorder = field(default_factory=Recorder)
    _ahead: set[asyncio.Task[None]] = field(default_factory=set)

    def spend_held(self, account: Account, subject: str) -> bool:
        """Spend this inquiry's tokens from what is held, all or none: the fast path of every admission."""
        new_subject = subject not in account.seen
        meters = (0, 1, 2) if new_subject else (0, 1)
        if any(account.tokens(meter) == 0 for meter in meters):
            return False
        self._spend(account, meters, subject if new_subject else None)
        return True

    async def spend(self, account: Account, subject: str, now: datetime) -> tuple[MeterSpec, float] | None:
        """Spend a token of each meter, all or none, leasing what is not held; else the first meter (rate,
        daily, distinct subjects) that had none and the seconds until retry."""
        async with account.lock:
            # Looked at again after each lease: another call may have leased meanwhile, spent what was held, or
            # asked about this subject first (then this call needs no distinct-subject token).
            while True:
                new_subject = subject not in account.seen
                meters = (0, 1, 2) if new_subject else (0, 1)
                lacking = [meter for meter in meters if account.tokens(meter) == 0]
                if not lacking:
                    break
                for meter in lacking:
                    until = account.refused_until(meter, now)
                    if until is not None:
                        return account.specs[meter], max(until - now, timedelta(milliseconds=1)).total_seconds()
                wanted = account.top_ups(TOP_UP_BELOW, now) | {m: account.specs[m].batch for m in lacking}
                leased = await self._lease(account, wanted, now, waited=True)
                for meter in lacking:
                    if leased[meter].taken == 0:
                        return account.specs[meter], leased[meter].retry_after
            self._spend(account, meters, subject if new_subject else None)
        return None

    def _spend(self, account: Account, meters: tuple[int, ...], new_subject: str | None) -> None:
        """Spend a held token of each of ``meters``; lease ahead if one ran low."""
        low = False
        for meter in meters:
            held = account.held[meter]
            assert held is not None
            held.tokens -= 1
            batch = account.specs[meter].batch
            low = low or (batch > 1 and held.tokens <= batch * LOW_WATER)
        if new_subject is not None:
            account.seen.add(new_subject)
        if low and not account.leasing_ahead:
            account.leasing_ahead = True
            task = asyncio.get_running_loop().create_task(self._lease_ahead(account))
            self._ahead.add(task)
            task.add_done_callback(self._ahead.discard)

    async def _lease_ahead(self, account: Account) -> None:
        """Top up the meters running low before they run out; a failure leaves it to the call that runs out."""
        try:
            async with account.lock:
                now = self.runtime.clock()
                # A batch of one is leased by the call that needs it: ahead, it would lie unspent at once.
                wanted = {m: n for m, n in account.top_ups(TOP_UP_BELOW, now).items() if account.specs[m].batch > 1}
                if any(account.tokens(m) <= account.specs[m].batch * LOW_WATER for m in wanted):
                    await self._lease(account, wanted, now, waited=False)
        except Exception as error:  # the database may be away: the next call that runs out leases, and says so
            if database_outage(error, "quota lease ahead") is None:
                log.warning("leasing quota tokens ahead for %s failed", account.buckets[0], exc_info=True)
        finally:
            account.leasing_ahead = False

    async def _lease(self, account: Account, wanted: dict[int, int], now: datetime, waited: bool) -> dict[int, Lease]:
        """Lease ``wanted`` tokens of each meter in one transaction, and hold what was taken."""
        quotas = self.runtime.store.quotas
        meters = sorted(wanted)
        asks = [(account.buckets[m], account.specs[m], wanted[m]) for m in meters]
        # Rides in the group commit's next transaction: a lease costs no commit (no wait for the disk) of its own.
        leases = await self.runtime.event_log.carry(lambda cursor: quotas.lease_on(cursor, asks, now))
        self.recorder.quota_leased(waited)
        for meter, (_, spec, _), leased in zip(meters, asks, leases, strict=True):
            if spec.period != account.specs[meter].period:
                continue  # the day or window turned while leasing: those tokens belong to the last one (lost)
            held = account.held[meter]
            if held is None or held.period != spec.period:
                held = account.held[meter] = _Held(spec.period)
            held.tokens += leased.taken
            if leased.taken == 0:
                retry = timedelta(seconds=leased.retry_after)
                held.recheck_at, held.retry_at = now + min(retry, timedelta(seconds=RECHECK_SECONDS)), now + retry
            else:
                held.recheck_at = held.retry_at = None
        return dict(zip(meters, leases, strict=True))

    async def close(self) -> None:
        """Let the leases ahead in flight finish (their tokens are taken from the bucket either way)."""
        if self._ahead:
            await asyncio.gather(*self._ahead, return_exceptions=True)
