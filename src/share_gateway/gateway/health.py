"""Health that tells the truth: each dependency looked at, liveness and readiness told apart.

``HealthChecks.look`` reads every dependency once (the database with a short
timeout, on a thread of its own so a hung database cannot hold the look up),
and ``api.health`` publishes the result under gRPC health names; probes read
the last look, so any number of probes costs the database one look per
interval. A change of any finding is one log line saying why.

``database_reachable`` is how a node starts while its database is down: it
tries again with a growing pause, one log line per kind of failure, instead
of exiting with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from share_gateway.config_operations import HealthSettings
from share_gateway.crypto.note import parse_note
from share_gateway.domain.health import (
    Component,
    Finding,
    not_serving,
    outbox_finding,
    peer_finding,
    peer_name,
    ready,
    sequencer_finding,
    serving,
    unknown,
    waiting_since,
)
from share_gateway.domain.trust_expiry import Artefact, ExpiryState
from share_gateway.federation.manifest import ManifestExpired
from share_gateway.gateway.failures import DATABASE, database_outage, short
from share_gateway.store.database import Database
from share_gateway.store.health import HealthFigures
from share_gateway.store.outages import Outage

if TYPE_CHECKING:
    from share_gateway.gateway import Gateway

log = logging.getLogger(__name__)
T = TypeVar("T")
# Trust material without which no call can be served: no client completes a TLS handshake with an expired
# certificate. An expired manifest stops federation traffic only (``Manifest`` and PeerService say so), while
# local inquiries are still answered: it does not take the node out of service.
SERVES_NOTHING_WITHOUT = frozenset({Artefact.TLS_CERTIFICATE, Artefact.CA_CERTIFICATE})
# The first pause before a node that could not reach its database at start tries again; it doubles each time.
FIRST_RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class HealthReport:
    # The process runs its loops: a restart is not needed.
    live: Finding
    # It can serve: the database answers and the trust material in force has not expired.
    ready: Finding
    components: tuple[Finding, ...]


class HealthChecks:
    def __init__(self, gateway: Gateway, settings: HealthSettings) -> None:
        self.gateway = gateway
        self.settings = settings
        self.figures = HealthFigures(gateway.store.database)
        self._thread = ThreadPoolExecutor(1, "health")
        self._in_flight: asyncio.Future[object] | None = None
        self._last: dict[str, Finding] = {}

    async def _read(self, function: Callable[[], T]) -> T:
        """``function`` on the health thread, given up after the database timeout (a look still running counts)."""
        if self._in_flight is not None and not self._in_flight.done():
            raise TimeoutError("the previous look at the database has not returned")
        future = asyncio.get_running_loop().run_in_executor(self._thread, function)
        # A look given up on may still fail later: its failure is taken here, not reported as never retrieved.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._in_flight = future  # type: ignore[assignment]
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that arrives as the look returns,
        # and the health loop told to stop would go on for ever (its stop awaiting it).
        async with asyncio.timeout(self.settings.database_timeout_seconds):
            return await asyncio.shield(future)

    async def look(self) -> HealthReport:
        """Every dependency as it stands now; each change since the last look is logged once."""
        gateway, settings = self.gateway, self.settings
        now = gateway.runtime.clock()
        database = await self._database()
        components = [database]
        federation = gateway.federation
        witnesses = () if federation is None else federation.manifest.manifest.witnesses_of(gateway.runtime.region)
        figures = self.figures
        try:
            lag, outbox, checkpoints = await self._read(
                lambda: (figures.log_lag(), figures.outbox(), figures.recent_checkpoints() if witnesses else [])
            )
        except Exception as error:  # noqa: BLE001 - what cannot be read is UNKNOWN, and says why
            why = f"not read: {short(error)}"
            components.append(unknown(Component.SEQUENCER, why))
            components.append(unknown(Component.OUTBOX, why))
            components += [unknown(peer_name(w.region), why) for w in witnesses]
        else:
            components.append(
                sequencer_finding(lag, gateway.sequencer.alarm, now, timedelta(seconds=settings.sequencer_lag_seconds))
            )
            components.append(outbox_finding(outbox, now, timedelta(seconds=settings.outbox_backlog_seconds)))
            notes = [(published_at, parse_note(note).signatures) for published_at, note in checkpoints]
            limit = timedelta(seconds=settings.cosignature_age_seconds)
            for witness in witnesses:
                cosigned = [
                    (at, any(key.matches(s) for key in witness.keys for s in signatures)) for at, signatures in notes
                ]
                components.append(peer_finding(witness.region, waiting_since(cosigned), now, limit))
        restore = None if gateway.restore is None else gateway.restore.finding()
        if restore is not None:
            components.append(restore)
        if federation is not None:
            components.append(self._manifest())
        components.append(self._trust())
        expired = [
            s.material.artefact.value
            for s in gateway.trust.standings()
            if s.state is ExpiryState.EXPIRED and s.material.artefact in SERVES_NOTHING_WITHOUT
        ]
        report = HealthReport(self._live(), ready(database, expired, restore), tuple(components))
        self._log_changes(report)
        return report

    async def _database(self) -> Finding:
        name = Component.DATABASE.value
        try:
            await self._read(self.figures.ping)
        except TimeoutError:
            timeout = self.settings.database_timeout_seconds
            DATABASE.failed(Outage.UNREACHABLE, "health", TimeoutError(f"no answer within {timeout:g} s"))
            return not_serving(name, f"no answer within {self.settings.database_timeout_seconds:g} s")
        except Exception as error:  # noqa: BLE001 - any failure to answer is NOT_SERVING, and says why
            if database_outage(error, "health") is None:
                log.warning("the database's health look failed: %s", short(error))
            return not_serving(name, short(error))
        DATABASE.recovered()
        return serving(name, "answers")

    def _manifest(self) -> Finding:
        federation = self.gateway.federation
        assert federation is not None
        try:
            federation.require_current()
        except ManifestExpired as error:
            return not_serving(Component.MANIFEST, f"expired: {error}")
        return serving(Component.MANIFEST, f"version {federation.manifest.manifest.version} in force")

    def _trust(self) -> Finding:
        warning = self.gateway.trust.warning()
        if warning:
            named = ", ".join(f"{s.material.artefact.value} ({s.state.value})" for s in warning)
            return not_serving(Component.TRUST_MATERIAL, f"expiring or expired: {named}")
        return serving(Component.TRUST_MATERIAL, "none expires within the horizon")

    def _live(self) -> Finding:
        """Every loop this process started still runs (the sequencer may have stopped itself on its alarm)."""
        gateway = self.gateway
        loops = [gateway.sweeper.loop, gateway.listings.loop, gateway.quotas.loop, gateway.trust.loop]
        loops += [gateway.refusals.loop, gateway.revocation_watch.loop, gateway.trust_watch.loop]
        loops += [worker.loop for worker in (gateway.courier, gateway.cosigner, gateway.restore) if worker is not None]
        ended = [loop.name for loop in loops if loop.ended]
        if gateway.sequencer.ended and gateway.sequencer.alarm is None:
            ended.append("sequencer")
        if ended:
            return not_serving("Liveness", f"loops ended: {', '.join(ended)}")
        return serving("Liveness", "loops run")

    def _log_changes(self, report: HealthReport) -> None:
        for finding in (report.live, report.ready, *report.components):
            before = self._last.get(finding.name)
            if before is None and finding.serving:
                self._last[finding.name] = finding
                continue
            if before is None or before.standing is not finding.standing:
                log.warning("health %s %s: %s", finding.name, finding.standing.value.upper(), finding.detail)
            self._last[finding.name] = finding

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


async def database_reachable(
    database: Database, most_seconds: float, answer_within: float, pause: float = FIRST_RETRY_SECONDS
) -> None:
    """Return once ``database`` answers; until then try again after a pause doubling up to ``most_seconds``.

    A try that gets no answer within ``answer_within`` seconds (a database behind a firewall that drops) counts
    as failed, and the next waits for it rather than start another beside it. A failure that is no outage (a
    wrong password, no such database) is raised at once: waiting cannot mend it. Each kind of outage is one log
    line per window (``gateway.failures``), not one per try.
    """
    figures = HealthFigures(database)
    attempt: asyncio.Future[None] | None = None
    while True:
        if attempt is None or attempt.done():
            attempt = asyncio.ensure_future(asyncio.to_thread(figures.ping))
        try:
            async with asyncio.timeout(answer_within):  # not wait_for: it may swallow a cancellation on 3.11
                await asyncio.shield(attempt)
        except TimeoutError:
            DATABASE.failed(Outage.UNREACHABLE, "start", TimeoutError(f"no answer within {answer_within:g} s"))
        except Exception as error:
            if database_outage(error, "start") is None:
                raise
        else:
            DATABASE.recovered()
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, most_seconds)
