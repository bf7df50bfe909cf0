"""The node's use cases, apart from gRPC and the database: servicers convert and delegate here.

``NodeRuntime`` holds what they share (threads, callers, the event log);
``RecordRegistry`` serves agencies, ``InquiryDesk`` serves requesters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from share_gateway.catalog import SignedCatalog
from share_gateway.config import (
    FederationSettings,
    LogSettings,
    ProcedureSettings,
    QuotaSettings,
    RevocationWatchSettings,
    TlsMaterial,
    TrustSettings,
)
from share_gateway.domain.events import EventKind
from share_gateway.domain.policy import Policy, Principal
from share_gateway.domain.trust_expiry import TrustMaterial
from share_gateway.federation.manifest import SignedManifest
from share_gateway.federation.peers import PeerClients
from share_gateway.gateway.activity import ActivityDesk
from share_gateway.gateway.audit import AuditDesk
from share_gateway.gateway.certificates import CertificateGuard, RevocationSettings
from share_gateway.gateway.consents import ConsentDesk
from share_gateway.gateway.dead_letters import DeliveryReview
from share_gateway.gateway.debtors import DebtorDesk
from share_gateway.gateway.disputes import DisputeDesk
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.grants import GrantDesk
from share_gateway.gateway.history import InquiryHistory
from share_gateway.gateway.inquiries import Answer, InquiryDesk, InquiryRequest
from share_gateway.gateway.leadership import Leadership
from share_gateway.gateway.listings import ListingDesk
from share_gateway.gateway.outbox import Courier, CourierSettings
from share_gateway.gateway.quotas import QuotaDesk
from share_gateway.gateway.receipts import ReceiptProofs
from share_gateway.gateway.refusals import Refusals
from share_gateway.gateway.registry import RecordRegistry
from share_gateway.gateway.repair import RepairDesk, RevocationFeed
from share_gateway.gateway.repair_peers import RepairIntake
from share_gateway.gateway.restore import RestoreGuard
from share_gateway.gateway.revocation_watch import RevocationWatch
from share_gateway.gateway.runtime import Clock, NodeRuntime, utc_now
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.gateway.sweeper import DisclosureSweeper
from share_gateway.gateway.telemetry import Recorder
from share_gateway.gateway.trust_expiry import TrustExpiry, trust_materials
from share_gateway.gateway.trust_live import TrustWatch
from share_gateway.gateway.witness import Cosigner
from share_gateway.store.repositories import Store

__all__ = ["Answer", "Clock", "Gateway", "InquiryDesk", "InquiryRequest", "NodeRuntime", "RecordRegistry", "utc_now"]


@dataclass
class Gateway:
    """One node's use cases over one catalog, and the sequencer of its log."""

    runtime: NodeRuntime
    catalog: SignedCatalog
    log_settings: LogSettings = field(default_factory=LogSettings)
    manifest: SignedManifest | None = None
    # This node's TLS material, presented to peers as its client certificate.
    peer_tls: TlsMaterial | None = None
    courier_settings: CourierSettings = field(default_factory=CourierSettings)
    procedures: ProcedureSettings = field(default_factory=ProcedureSettings)
    revocation_settings: RevocationSettings = field(default_factory=RevocationSettings)
    federation_settings: FederationSettings = field(default_factory=FederationSettings)
    refusal_window_seconds: float = 60.0
    quota_settings: QuotaSettings = field(default_factory=QuotaSettings)
    revocation_watch_settings: RevocationWatchSettings = field(default_factory=RevocationWatchSettings)
    trust_settings: TrustSettings = field(default_factory=TrustSettings)
    # Who may administer this node's grants (identity URIs); empty: any certificate with the administrator role.
    administrators: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.policy = Policy(self.catalog.catalog)
        # What the use cases count as they work; the api layer's metrics read it at scrape time.
        self.recorder = Recorder()
        # The authority's certificate revocation list in force: checked on every mTLS call.
        # Refused calls (a peer's, a revoked certificate's), logged without letting a caller flood the log.
        self.refusals = Refusals(self.runtime, timedelta(seconds=self.refusal_window_seconds))
        self.certificates = CertificateGuard(self.runtime, self.refusals, self.revocation_settings)
        # Newer manifests, catalogs and revocation lists installed while the node runs (one watcher for the three).
        self.trust_watch = TrustWatch(self.runtime, self, self.certificates, self.revocation_settings)
        self.log = self.runtime.store.log
        peers = () if self.manifest is None else self.manifest.manifest.peers_of(self.runtime.region)
        self.federation = (
            None
            if self.manifest is None or self.peer_tls is None
            else FederationDesk(
                self.runtime,
                self.manifest,
                self.catalog,
                PeerClients(self.peer_tls, lambda: self.certificates.revoked, self.recorder.peer_call),
                self.policy,
                peer_timeout=self.federation_settings.peer_timeout_seconds,
                clock_skew=self.federation_settings.clock_skew,
            )
        )
        self.courier = None if self.federation is None else Courier(self.federation, self.courier_settings)
        # Warnings before the manifest or a certificate expires: for health, metrics and (housekeeping) the log.
        self.trust = TrustExpiry(self.runtime, self.trust_materials, self.trust_settings.expiry_horizon)
        wake = None if self.courier is None else self.courier.loop.wake
        # Revocations and listings go to the peers only through a courier; records are queued regardless.
        delivered_to = peers if self.courier is not None else ()
        procedures = self.procedures
        calendar = procedures.calendar()
        self.listings = ListingDesk(
            self.runtime,
            self.catalog.catalog,
            calendar,
            procedures.revoked_listing_removal_working_days,
            delivered_to,
            wake,
            procedures.sweep_interval_seconds,
            deadlines=procedures.repair_deadlines(),
        )
        self.registry = RecordRegistry(self.runtime, self.catalog, self.policy, self.listings, peers, wake)
        self.cosigner = (
            None
            if self.federation is None or not self.log_settings.sequencer
            else Cosigner(
                self.federation,
                self.log,
                self.log_settings.witness_interval_seconds,
                on_answer=None if self.courier is None else self.courier.peer_back,
                on_cosigned=self.recorder.witness_cosigned,
                on_asked=self.recorder.witness_asked,
            )
        )
        self.repairs = RepairDesk(
            self.runtime,
            self.catalog.catalog,
            calendar,
            procedures.repair_deadlines(),
            self.listings,
            delivered_to,
            wake,
        )
        self.disputes = DisputeDesk(
            self.runtime, self.catalog.catalog, self.registry, procedures.dispute_answer_days, delivered_to, wake
        )
        self.debtors = DebtorDesk(self.runtime, self.catalog.catalog, calendar, self.registry)
        self.revocations = RevocationFeed(self.runtime)
        # The same feed pushed as it grows (every process wakes its own watchers), and its acknowledgements.
        self.revocation_watch = RevocationWatch(self.runtime, self.revocation_watch_settings)
        self.sweeper = DisclosureSweeper(
            self.runtime, self.catalog.catalog, self.procedures.sweep_interval_seconds, calendar
        )
        self.consents = ConsentDesk(
            self.runtime,
            () if self.peer_tls is None else (self.peer_tls.ca,),
            self.federation_settings.clock_skew,
            lambda: self.certificates.revoked,
            delivered_to,
            wake,
        )
        self.repairs.consents = self.consents
        self.disputes.consents = self.consents
        self.repair_intake = RepairIntake(self.repairs, self.federation, self.disputes)
        # Every inquiry, local or a peer's, spends its requester's quotas first (harvesting_suspected: .quotas).
        self.quotas = QuotaDesk(
            self.runtime, self.catalog.catalog, self.refusals, self.quota_settings, recorder=self.recorder
        )
        self.inquiries = InquiryDesk(
            self.runtime,
            self.policy,
            self.federation,
            quotas=self.quotas,
            consents=self.consents,
            recorder=self.recorder,
        )
        self.history = InquiryHistory(self.runtime, self.policy, self.log_settings.history_days, self.federation)
        self.audit = AuditDesk(self.runtime, self.log)
        # The officers' overview, aggregated here; the witnesses are the manifest's in force when asked.
        self.activity = ActivityDesk(self.audit, self._cosigner_names)
        # Administrators' changes to who may do what, each an event (AdminService).
        self.grants = GrantDesk(self.runtime, self.catalog.catalog, self.refusals, frozenset(self.administrators))
        self.receipts = ReceiptProofs(self.runtime)
        self.deliveries = DeliveryReview(self.runtime)
        self.sequencer = Sequencer(
            self.log,
            self.runtime.signing_key,
            self.runtime.off_loop,
            self.runtime.clock,
            SequencerSettings(
                interval=self.log_settings.integrate_interval_seconds,
                checkpoint_interval=self.log_settings.checkpoint_interval_seconds,
                checkpoint_leaves=self.log_settings.checkpoint_every_leaves,
            ),
        )
        # A node restored behind what its witnesses cosigned serves nothing and signs nothing until acknowledged.
        self.restore = None if self.federation is None else RestoreGuard(self.federation)
        if self.restore is not None:
            restore = self.restore
            self.sequencer.held = lambda: restore.refusing
            if self.cosigner is not None:
                self.cosigner.asks = restore.asks_cosignature
        # The loops one process of the region runs: the one holding the leader lock.
        singletons = [self.sweeper.loop, self.listings.loop, self.quotas.loop, self.trust.loop]
        self.leadership = Leadership(
            self.runtime.store.database.url,
            singletons + ([] if self.cosigner is None else [self.cosigner.loop]),
            self.sequencer,
            self.log_settings.leader_retry_seconds,
        )

    def start(self) -> None:
        if self.log_settings.sequencer:
            self.leadership.start()  # the singleton loops run while this process leads the region
        self.refusals.loop.start()
        self.revocation_watch.loop.start()
        if self.courier is not None:
            self.courier.loop.start()
        if self.restore is not None:
            self.restore.loop.start()
        if self.trust_watch.watching:
            self.trust_watch.loop.start()

    @property
    def store(self) -> Store:
        return self.runtime.store

    def trust_materials(self) -> tuple[TrustMaterial, ...]:
        """The trust material in force: the manifest federation traffic is checked against, the catalog, the
        revocation list, this node's TLS certificate and the federation CA."""
        manifest = self.manifest_in_force()
        tls = None if self.peer_tls is None else (self.peer_tls.certificate, self.peer_tls.ca)
        return trust_materials(self.catalog, manifest, self.certificates.in_force, tls)

    # --- trust material in force (gateway.trust_live puts a newer one in force) -------------------

    @property
    def catalog_in_force(self) -> SignedCatalog:
        return self.catalog

    def manifest_in_force(self) -> SignedManifest | None:
        return self.federation.manifest if self.federation is not None else self.manifest

    def _cosigner_names(self) -> frozenset[str]:
        """The key names of every witness the manifest in force lists for this node's log."""
        if self.manifest is None or self.runtime.region not in self.manifest.manifest.nodes:
            return frozenset()
        witnesses = self.manifest.manifest.witnesses_of(self.runtime.region)
        return frozenset(key.name for witness in witnesses for key in witness.keys)

    def put_manifest(self, signed: SignedManifest) -> None:
        """Federation traffic reads the manifest at each call: peers' keys, addresses and pins follow at once.

        The regions records and revocations are queued for were fixed at start: a region the new manifest
        adds receives deliveries after a restart (the channels and checks of a known region follow now).
        """
        self.manifest = signed
        if self.federation is not None:
            self.federation.manifest = signed

    def put_catalog(self, signed: SignedCatalog) -> None:
        """Every use case reads the newer catalog from its next call (already swept and installed in the store).

        All on the caller's thread without a pause: a call reads the old catalog or the new one per desk.
        """
        self.catalog, self.policy = signed, Policy(signed.catalog)
        catalog = signed.catalog
        for desk in (self.listings, self.repairs, self.disputes, self.debtors, self.grants):
            desk.catalog = catalog
        self.registry.catalog, self.registry.policy = signed, self.policy
        self.inquiries.policy = self.history.policy = self.policy
        self.quotas.follow(catalog)
        self.sweeper.follow(catalog)
        if self.federation is not None:
            self.federation.follow(signed, self.policy)
        if self.history.peers is not None:
            self.history.peers.policy = Policy(catalog)

    async def install_trust_material(self, admin: Principal, artefact: str, document: bytes) -> tuple[int, bool]:
        """An administrator's newer trust material (AdminService), admitted as grants are: the version in force
        after it, and whether it was new."""
        await self.grants.admit(admin, EventKind.TRUST_MATERIAL_REFUSED, "InstallTrustMaterial")
        return await self.trust_watch.install_pushed(admin.uri, artefact, document)

    async def close(self, sequencer_seconds: float | None = None) -> None:
        """Commit every pending event, integrate and checkpoint them if leading (for at most ``sequencer_seconds``:
        the rest waits for the next sequencer), then release the threads."""
        await self.leadership.end_campaign()
        for worker in (
            self.restore,
            self.courier,
            self.cosigner,
            self.sweeper,
            self.listings,
            self.trust_watch,
            self.quotas,
            self.revocation_watch,
            self.trust,
        ):
            if worker is not None:
                await worker.loop.stop()
        if self.courier is not None:
            await self.courier.release()  # the other replicas deliver what it held at once
        await self.quotas.leases.close()
        await self.refusals.close()  # after the server stopped: no refusal comes after it
        await self.runtime.event_log.drain()
        if self.federation is not None:
            await self.federation.clients.close()
        if self.leadership.leads:
            await self.sequencer.stop(sequencer_seconds)
        await self.leadership.release()
        await self.runtime.close()
