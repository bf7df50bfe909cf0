"""Holding requesters to their purposes' quotas, and telling officers when one looks like a harvester.

Every inquiry, local or forwarded by a peer, is admitted here before the
policy looks at it. It spends one token of each meter of its requester and
purpose (``domain.quotas``: rate, daily volume, and a distinct-subject token
when the subject is new in the window); an inquiry a peer forwards spends
them for the requester it names **and** for the asking region as a whole
(``region_factor`` times one requester's limits). A call beyond a quota is
refused as ``Exhausted`` (RESOURCE_EXHAUSTED, with when to retry) and counted
into the node's ``Refusals``: one event per requester, reason and window,
never one per call.

The buckets are rows in the database, shared by every replica; each replica
leases tokens in batches (``MeterSpec.batch``, held in ``gateway.quota_leases``,
which leases the next batch ahead) and spends them in memory, so the database
sees about two leases a second per busy bucket, not one write per inquiry. The
bound this gives: across replicas a requester never gets more than a daily
volume or a distinct-subject limit (every token spent was taken from the shared
bucket first), and over any span T at most ``burst + rate × T + replicas ×
batch`` of the rate (a batch leased before the span and spent in it). In
return, up to one batch per other replica may lie unspent while this one
refuses. An empty bucket is not asked again before its next token is due (at
most ``quota_leases.RECHECK_SECONDS`` for the day's and window's), so a
refused harvester costs the database almost nothing.

The cap on calls in flight per identity is per process. Buckets nobody used for longer than any quota's
longest period are deleted hourly (``forget_unused``): each would be full, or in a new period, when next used.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway.config import QuotaSettings
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import Exhausted
from share_gateway.domain.events import EventKind, Outcome, format_instant
from share_gateway.domain.harvesting import HarvestingWatch, Suspicion
from share_gateway.domain.policy import Principal
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.domain.quotas import CONCURRENCY, DEFAULT_QUOTA, REASONS, QuotaLimits
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.quota_leases import Account, Leases, open_account
from share_gateway.gateway.refusals import Refusals
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.telemetry import Recorder

# How long a caller over its concurrency cap is told to wait.
CONCURRENCY_RETRY_SECONDS = 1.0
# Past this many buckets held in memory, they are dropped (their unspent tokens are lost: stricter, never laxer).
MEMORY_MOST = 100_000
UNKNOWN_PURPOSE = "unknown_purpose"
# How often unused buckets are looked for.
FORGET_INTERVAL_SECONDS = 3600.0


@dataclass(slots=True)
class Ticket:
    """An admitted call: the calls in flight it holds, for ``QuotaDesk.finished``."""

    requester: Principal
    in_flight: tuple[str, ...] = ()
    done: bool = False


@dataclass
class QuotaDesk:
    runtime: NodeRuntime
    catalog: Catalog
    refusals: Refusals
    settings: QuotaSettings = field(default_factory=QuotaSettings)
    # How a slowed refusal waits (injectable: tests see the delays without waiting them).
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # Counts refusals by reason, for the node's metrics.
    recorder: Recorder = field(default_factory=Recorder)

    def __post_init__(self) -> None:
        self._overrides = {(o.requester, o.purpose): dict(o.limits) for o in self.settings.overrides}
        self._limits: dict[tuple[str, str], QuotaLimits] = {}
        self._accounts: dict[tuple[str, str], Account] = {}
        self.leases = Leases(self.runtime, self.recorder)
        self._in_flight: Counter[str] = Counter()
        self.watch = HarvestingWatch(self.settings.harvesting)
        # How many harvesting_suspected events this process logged: for health and metrics to read.
        self.suspected = 0
        self.loop = Periodic("quota buckets", self.forget_unused, FORGET_INTERVAL_SECONDS)

    def follow(self, catalog: Catalog) -> None:
        """A newer catalog is in force: its quotas apply from the next inquiry (buckets already spent stay)."""
        self.catalog, self._limits = catalog, {}

    def longest_period(self) -> timedelta:
        """The longest a bucket of any quota here stays other than full: a day's volume, a distinct-subject
        window, or the time a rate bucket takes to refill from empty."""
        every = [
            self.limits(requester, purpose)
            for requester, purpose in [*(("", name) for name in self.catalog.purposes), *self._overrides]
        ]
        seconds = [86400.0, *(max(q.distinct_window_hours * 3600, q.burst / q.per_second) for q in every)]
        return timedelta(seconds=max(seconds))

    async def forget_unused(self) -> int:
        """Delete the buckets untouched for longer than ``longest_period`` (and a day's margin for clock skew
        between replicas): a missing row is a full bucket, so nobody gains a token by it."""
        since = self.runtime.clock() - self.longest_period() - timedelta(days=1)
        quotas = self.runtime.store.quotas
        return await self.runtime.write(lambda tx: quotas.forget(tx, since))

    def limits(self, requester: str, purpose: str) -> QuotaLimits:
        """The catalog's quota for ``purpose``, with this node's override for the grant (or region), if any.

        Worked out once per (requester, purpose): every inquiry asks, and neither the catalog nor the
        overrides change under a running desk."""
        key = (requester, purpose)
        limits = self._limits.get(key)
        if limits is None:
            definition = self.catalog.purposes.get(purpose)
            limits = DEFAULT_QUOTA if definition is None else definition.quota
            override = self._overrides.get(key)
            limits = limits if override is None else limits.replaced(**override)
            if len(self._limits) >= MEMORY_MOST:
                self._limits.clear()
            self._limits[key] = limits
        return limits

    async def admit(
        self, requester: Principal, purpose: str, subject_kind: str, subject_identifier: str, region: str = ""
    ) -> Ticket:
        """Admit one inquiry or raise ``Exhausted`` (the refusal counted, any suspicion logged)."""
        ticket = Ticket(requester)
        try:
            await self._admit(ticket, purpose, subject_kind, subject_identifier, region)
        except BaseException:
            # Failed on the way in (the database away, the call cancelled): its place in flight must not stay
            # taken, or a requester whose calls failed during an outage is refused as "too many in flight" after.
            self.release(ticket)
            raise
        return ticket

    async def _admit(
        self, ticket: Ticket, purpose: str, subject_kind: str, subject_identifier: str, region: str
    ) -> None:
        requester = ticket.requester
        now = self.runtime.clock()
        purpose_key = purpose if purpose in self.catalog.purposes else UNKNOWN_PURPOSE
        limits = self.limits(requester.uri, purpose_key)
        scopes = [(requester.uri, limits, self.settings.concurrent_calls)]
        if region:
            factor = self.settings.region_factor
            asking = Identity(IdentityKind.NODE, region).uri
            own = self._overrides.get((asking, purpose_key))
            region_limits = (
                self.limits("", purpose_key).times(factor) if own is None else self.limits(asking, purpose_key)
            )
            scopes.append((asking, region_limits, factor * self.settings.concurrent_calls))
        for scope, _, cap in scopes:
            if self._in_flight[scope] >= cap:
                self.release(ticket)
                await self._refuse(
                    requester,
                    purpose_key,
                    region,
                    CONCURRENCY,
                    scope,
                    CONCURRENCY_RETRY_SECONDS,
                    f"{scope} has {cap} calls in flight already",
                    now,
                )
            self._in_flight[scope] += 1
            ticket.in_flight += (scope,)
        subject = f"{subject_kind}:{subject_identifier.strip().upper()[:64]}"
        for scope, scope_limits, _ in scopes:
            account = self._account(scope, purpose_key, scope_limits, now)
            if self.leases.spend_held(account, subject):
                continue
            refusal = await self.leases.spend(account, subject, now)
            if refusal is not None:
                self.release(ticket)
                spec, retry_after = refusal
                await self._refuse(
                    requester,
                    purpose_key,
                    region,
                    REASONS[spec.meter],
                    scope,
                    retry_after,
                    f"{scope} has spent its {spec.meter} quota for {purpose_key}",
                    now,
                )
        suspicions = self.watch.asked(requester.uri, subject_identifier, now)
        seen = len(self._accounts[requester.uri, purpose_key].seen)
        suspicions += self.watch.distinct(requester.uri, seen, limits.distinct_subjects, now)
        if suspicions:  # rare: most admissions complete without awaiting anything more
            await self._log(requester, purpose_key, region, suspicions)

    async def finished(self, ticket: Ticket, purpose: str, refused: bool, region: str = "") -> None:
        """The admitted call ended; ``refused`` by the policy counts toward the requester's refusal ratio."""
        self.release(ticket)
        if refused:
            now = self.runtime.clock()
            purpose_key = purpose if purpose in self.catalog.purposes else UNKNOWN_PURPOSE
            suspicions = self.watch.refused(ticket.requester.uri, now, asked=True)
            await self._log(ticket.requester, purpose_key, region, suspicions)

    def release(self, ticket: Ticket) -> None:
        """The admitted call ended, not refused by the policy: its places in flight are free (``finished``,
        without awaiting anything)."""
        if ticket.done:
            return
        ticket.done = True
        for scope in ticket.in_flight:
            self._in_flight[scope] -= 1
            if self._in_flight[scope] <= 0:
                del self._in_flight[scope]

    def _account(self, scope: str, purpose: str, limits: QuotaLimits, now: datetime) -> Account:
        """``scope``'s meters for ``purpose`` as this replica holds them (their specs renewed as days turn)."""
        key = (scope, purpose)
        account = self._accounts.get(key)
        if account is None:
            if len(self._accounts) >= MEMORY_MOST:
                self._accounts.clear()
            buckets = (_key(scope, purpose, "rate"), _key(scope, purpose, "daily"), _key(scope, purpose))
            account = self._accounts[key] = open_account(buckets, limits, now, self.settings.lease_batch_most)
        else:
            account.renew(now, self.settings.lease_batch_most)
        return account

    async def _refuse(
        self,
        requester: Principal,
        purpose: str,
        region: str,
        reason: str,
        scope: str,
        retry_after: float,
        message: str,
        now: datetime,
    ) -> None:
        """Count the refusal (aggregated per window), log any suspicion it completes, and raise."""
        self.recorder.quota_refused(reason)
        extra = {"purpose": purpose, "quota": scope} | ({"via": region} if region else {})
        await self.refusals.refused(EventKind.QUOTA_REFUSED, Identity.from_uri(requester.uri), reason, message, **extra)
        await self._log(requester, purpose, region, self.watch.refused(requester.uri, now))
        if self.watch.refused_in_window(requester.uri, now) > self.settings.slow_refusals_after:
            # A requester pushing on past its quota: the refusal waits, so its connections are spent waiting.
            await self.sleep(min(retry_after, self.settings.slow_refusal_seconds))
        raise Exhausted(reason, f"{scope}/{purpose}", message, retry_after)

    async def _log(self, requester: Principal, purpose: str, region: str, suspicions: list[Suspicion]) -> None:
        for suspicion in suspicions:
            self.suspected += 1
            details = {
                "signal": suspicion.signal.value,
                "window_opened_at": format_instant(suspicion.opened_at),
                "calls": str(suspicion.calls),
                "refused": str(suspicion.refused),
                "sequential_steps": str(suspicion.sequential_steps),
                "distinct_subjects": str(suspicion.distinct_subjects),
            } | ({"via": region} if region else {})
            await self.runtime.event_log.append(
                self.runtime.event(
                    EventKind.HARVESTING_SUSPECTED,
                    requester,
                    Outcome.DENIED,
                    purpose=purpose,
                    reason=suspicion.signal.name,
                    details=details,
                )
            )


def _key(scope: str, purpose: str, meter: str = "subjects") -> str:
    """A bucket's name: the meter, the purpose and whose (an sgw:// URI), within the 200-character column."""
    return f"{meter}|{purpose[:64]}|{scope[:120]}"
