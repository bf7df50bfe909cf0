"""The catalog conformance sweep: a newer catalog is installed only after every active record was checked against it.

Records the new version no longer admits are quarantined (kept, never
disclosed), each with a RECORD_QUARANTINED event giving the reasons, in
batches so a large store never holds one long transaction. The catalog row
and the CATALOG_SWEPT report are then written in one transaction: a version
counts as installed only once swept, so a sweep interrupted halfway runs
again on the next start and picks up the records quarantined before.
"""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.catalog import SignedCatalog
from share_gateway.domain.conformance import (
    Quarantined,
    SweepReport,
    describe_violations,
    nonconformities,
    quarantine_reason,
)
from share_gateway.domain.errors import FieldViolation
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.gateway.runtime import NodeRuntime, node_principal, record_ref
from share_gateway.store.unit_of_work import UnitOfWork

BATCH = 500


@dataclass
class ConformanceSweep:
    runtime: NodeRuntime

    def install(self, signed: SignedCatalog, installed: Event | None = None) -> SweepReport | None:
        """Install the catalog, sweeping first if it is newer than the one installed; the report if a sweep ran.

        The first catalog of a node, or the same version again, needs no sweep; an
        older one is refused by the store before anything changes. ``installed``: the event of a newer catalog
        installed at a running node, written with the sweep's report.
        """
        store = self.runtime.store
        previous = store.trust.catalog_version()
        if previous is None or signed.catalog.version <= previous:
            store.write(lambda tx: store.trust.install_catalog(tx, signed, self.runtime.clock()))
            return None
        report = self._sweep(signed, resume=True)
        swept, now = self._swept(report, "installed"), self.runtime.clock()

        def install(tx: UnitOfWork) -> None:
            # Not new if another replica installed it meanwhile: its report is logged, and our quarantines are.
            if store.trust.install_catalog(tx, signed, now):
                store.events.append(tx, [swept] if installed is None else [swept, installed])

        store.write(install)
        return report

    def sweep_installed(self, signed: SignedCatalog) -> SweepReport:
        """Check every active record against the installed catalog again (an operator's sweep), and log the report."""
        report = self._sweep(signed, resume=False)
        self.runtime.store.append([self._swept(report, "requested")])
        return report

    def _sweep(self, signed: SignedCatalog, *, resume: bool) -> SweepReport:
        records, catalog = self.runtime.store.records, signed.catalog
        reason = quarantine_reason(catalog.version)
        before = tuple(records.quarantined_because(reason)) if resume else ()
        checked, after = 0, ("", "")
        quarantined: list[Quarantined] = []
        while batch := records.active(after, BATCH):
            # Keyed by (origin, id): two regions' records may share an id.
            found = {(r.origin_region, r.record_id): v for r in batch if (v := nonconformities(catalog, r))}
            changes = [
                (change_status(r, RecordStatus.QUARANTINED), self._quarantined(r, signed, faults))
                for r in batch
                if (faults := found.get((r.origin_region, r.record_id)))
            ]
            if changes:
                written = self._quarantine(changes, reason)
                quarantined += [Quarantined(r.record_id, found[r.origin_region, r.record_id]) for r in written]
            checked += len(batch)
            after = (batch[-1].record_id, batch[-1].origin_region)
        return SweepReport(catalog.version, signed.digest, checked + len(before), tuple(quarantined), before)

    def _quarantine(self, changes: list[tuple[Record, Event]], reason: str) -> list[Record]:
        """Write quarantined records, each with its event, in one transaction; return the records written (a
        record changed meanwhile stays as it is)."""
        return self.runtime.store.write(lambda tx: self.runtime.change_statuses(tx, changes, reason))

    def _quarantined(self, record: Record, signed: SignedCatalog, reasons: tuple[FieldViolation, ...]) -> Event:
        return self.runtime.event(
            EventKind.RECORD_QUARANTINED,
            node_principal(self.runtime.region),
            Outcome.ALLOWED,
            subject=record.subject,
            records=(record_ref(record),),
            details={
                "catalog_version": str(signed.catalog.version),
                "catalog_digest": signed.digest,
                "reasons": describe_violations(reasons),
            },
        )

    def _swept(self, report: SweepReport, trigger: str) -> Event:
        return self.runtime.event(
            EventKind.CATALOG_SWEPT,
            node_principal(self.runtime.region),
            Outcome.ALLOWED,
            details={**report.event_details(), "trigger": trigger},
        )
