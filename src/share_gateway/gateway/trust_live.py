"""Live trust material: a newer manifest, catalog or revocation list put in force at a running node.

One watcher (``TrustWatch.loop``) looks at the three files the node is
configured with; the admin call ``InstallTrustMaterial`` hands it pushed
bytes. Either way a document passes the checks a node makes at start: the
authority's signature, a version strictly newer than the one in force (an
older or equal one is a rollback, as TUF refuses it), for a manifest the
region listed and the catalog pinned, for a catalog a manifest that pins it
and the conformance sweep before it counts as installed. Only then is it
installed in the store and put in force by replacing one reference: a call
in flight keeps what it read, the next call reads the new one. Each
installation is a ``trust_material_installed`` event; a refusal leaves the
old one in force and is a ``trust_material_refused`` event (the alarm an
officer finds), once per distinct refused file.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from share_gateway.catalog import SignedCatalog, open_catalog
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.conformance import SweepReport
from share_gateway.domain.errors import DomainError, InvalidInput, InvalidState
from share_gateway.domain.trust_expiry import Artefact
from share_gateway.federation.manifest import SignedManifest, open_manifest
from share_gateway.federation.manifest_keys import ManifestInvalid
from share_gateway.gateway.certificates import CertificateGuard, RevocationSettings
from share_gateway.gateway.conformance import ConformanceSweep
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.trust_files import WatchedFile, document_digest, installed_event, refused, say_installed
from share_gateway.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# What a document that fails its checks raises: the reason the alarm gives.
REFUSALS = (DomainError, VerificationError)
# The kinds an administrator may push (certificates are not pushed: each node holds its own).
PUSHABLE = (Artefact.MANIFEST, Artefact.CATALOG, Artefact.REVOCATION_LIST)
# The machine reason of a refused older or equal version.
ROLLBACK = "TRUST_MATERIAL_ROLLBACK"


class TrustHolder(Protocol):
    """The gateway as the watcher sees it: what is in force, and how a newer one is put in force."""

    @property
    def catalog_in_force(self) -> SignedCatalog: ...

    def manifest_in_force(self) -> SignedManifest | None: ...

    def put_manifest(self, signed: SignedManifest) -> None: ...

    def put_catalog(self, signed: SignedCatalog) -> None: ...


def check_manifest(signed: SignedManifest, region: str, catalog_digest: str) -> None:
    """A manifest a node may serve under: it lists the node's region and pins the catalog the node holds."""
    if signed.manifest.catalog_digest != catalog_digest:
        raise ManifestInvalid(
            f"manifest version {signed.manifest.version} pins catalog {signed.manifest.catalog_digest[:12]}…, "
            f"this node holds {catalog_digest[:12]}…"
        )
    if region not in signed.manifest.nodes:
        raise ManifestInvalid(f"manifest version {signed.manifest.version} does not list region {region}")


def log_sweep(report: SweepReport | None) -> None:
    """A newer catalog was installed: say what its sweep quarantined (a warning, so operators see it)."""
    if report is not None:
        log.log(logging.WARNING if report.record_ids else logging.INFO, "conformance sweep: %s", report.describe())


def _newer(what: str, version: int, in_force: int) -> None:
    if version <= in_force:
        raise InvalidState(
            f"rollback refused: {what} version {version} is not newer than version {in_force} in force", ROLLBACK
        )


@dataclass
class TrustWatch:
    runtime: NodeRuntime
    holder: TrustHolder
    certificates: CertificateGuard
    settings: RevocationSettings

    def __post_init__(self) -> None:
        self._manifest = WatchedFile(Artefact.MANIFEST, self.settings.manifest)
        self._catalog = WatchedFile(Artefact.CATALOG, self.settings.catalog)
        self.loop = Periodic("trust material watch", self.refresh, self.settings.poll_seconds)
        # One installation at a time (the watch's look, an administrator's push): two would both judge against
        # the same material in force, and a catalog's sweep must not run twice over.
        self._installing = threading.Lock()

    @property
    def watching(self) -> bool:
        return self.settings.authority is not None

    def load(self) -> None:
        """One look at every watched file (from a store thread, or before the node serves): the catalog first,
        so a manifest pinning it follows in the same look; then the revocation list."""
        with self._installing:
            self._load()

    def _load(self) -> None:
        if self.settings.authority is not None:
            if (catalog := self._catalog.changed()) is not None:
                self._take(Artefact.CATALOG, catalog, str(self.settings.catalog), self.install_catalog)
            if (manifest := self._manifest.changed()) is not None:
                self._take(Artefact.MANIFEST, manifest, str(self.settings.manifest), self.install_manifest)
        self.certificates.load()

    async def refresh(self) -> None:
        await self.runtime.off_loop(self.load)

    def _take(
        self, artefact: Artefact, found: tuple[bytes, str], source: str, install: Callable[[bytes, str], int | None]
    ) -> None:
        document, digest = found
        try:
            install(document, source)
        except REFUSALS as error:
            refused(self.runtime, artefact, digest, source, error)

    async def install_pushed(self, admin: str, artefact: str, document: bytes) -> tuple[int, bool]:
        """An administrator's document (AdminService): the version in force after it, and whether it was new.

        A document the authority did not sign, or that does not parse, is the caller's error (INVALID_ARGUMENT);
        a rollback or a manifest pinning another catalog is refused as the state forbids (FAILED_PRECONDITION).
        Either way the alarm is logged first and the material in force stays.
        """
        try:
            kind = Artefact(artefact)
        except ValueError:
            kind = None
        if kind not in PUSHABLE:
            raise InvalidInput.one("artefact", f"is one of {', '.join(a.value for a in PUSHABLE)}")
        assert kind is not None
        if not document:
            raise InvalidInput.one("document", "is empty")
        try:
            return await self.runtime.off_loop(self._push, kind, document, f"administrator {admin}")
        except VerificationError as error:
            raise InvalidInput.one("document", f"is not signed by the federation authority: {error}") from error
        except (InvalidInput, InvalidState):
            raise
        except DomainError as error:  # malformed: a manifest or catalog that breaks its format
            raise InvalidInput.one("document", str(error)) from error

    def _push(self, artefact: Artefact, document: bytes, source: str) -> tuple[int, bool]:
        install = {
            Artefact.MANIFEST: self.install_manifest,
            Artefact.CATALOG: self.install_catalog,
            Artefact.REVOCATION_LIST: self._install_revocation_list,
        }[artefact]
        with self._installing:
            try:
                version = install(document, source)
            except REFUSALS as error:
                refused(self.runtime, artefact, document_digest(document), source, error)
                raise
            return (self._version_in_force(artefact) if version is None else version), version is not None

    def _version_in_force(self, artefact: Artefact) -> int:
        if artefact is Artefact.MANIFEST:
            manifest = self.holder.manifest_in_force()
            return 0 if manifest is None else manifest.manifest.version
        if artefact is Artefact.CATALOG:
            return self.holder.catalog_in_force.catalog.version
        in_force = self.certificates.in_force
        return 0 if in_force is None else in_force.revocation_list.version

    # --- the checks, as at start --------------------------------------------------------------

    def _authority(self) -> KeyRing:
        if self.settings.authority is None:
            raise VerificationError("this node holds no authority key to verify trust material with")
        return self.settings.authority

    def install_manifest(self, document: bytes, source: str) -> int | None:
        """Verify a manifest and put it in force, its event in the installation's transaction; its version, or
        None if it is the one in force."""
        signed = open_manifest(document, self._authority())
        current = self.holder.manifest_in_force()
        if current is not None:
            if signed.digest == current.digest:
                return None
            _newer("manifest", signed.manifest.version, current.manifest.version)
        check_manifest(signed, self.runtime.region, self.holder.catalog_in_force.digest)
        store, version = self.runtime.store, signed.manifest.version
        event = installed_event(self.runtime, Artefact.MANIFEST, version, document_digest(document), source)

        def install(tx: UnitOfWork) -> None:
            if store.trust.install_manifest(tx, signed, self.runtime.clock()):
                store.events.append(tx, [event])

        store.write(install)
        self.holder.put_manifest(signed)
        say_installed(event)
        return version

    def install_catalog(self, document: bytes, source: str) -> int | None:
        """Verify a catalog, sweep the records against it, and put it in force; its version, or None if in force.

        A federation's nodes hold the catalog its manifest pins: the manifest in force or the one waiting in the
        watched file must pin this one, and that manifest is looked at again once the catalog is in force.
        """
        signed = open_catalog(document, self._authority())
        current = self.holder.catalog_in_force
        if signed.digest == current.digest:
            return None
        _newer("catalog", signed.catalog.version, current.catalog.version)
        pins = self._pins()
        if pins and signed.digest not in pins:
            raise InvalidState(
                f"catalog version {signed.catalog.version} is pinned by no manifest this node holds",
                "CATALOG_NOT_PINNED",
            )
        version = signed.catalog.version
        event = installed_event(self.runtime, Artefact.CATALOG, version, document_digest(document), source)
        log_sweep(ConformanceSweep(self.runtime).install(signed, event))
        self.holder.put_catalog(signed)
        say_installed(event)
        self._manifest.forget()
        return version

    def _pins(self) -> set[str]:
        """The catalog digests the manifest in force and a verified manifest in the watched file pin."""
        current = self.holder.manifest_in_force()
        pins = set() if current is None else {current.manifest.catalog_digest}
        path = self.settings.manifest
        if path is not None and path.exists():
            with contextlib.suppress(*REFUSALS):  # its own look refuses it, with its alarm
                pins.add(open_manifest(path.read_bytes(), self._authority()).manifest.catalog_digest)
        return pins

    def _install_revocation_list(self, document: bytes, source: str) -> int | None:
        if not self.certificates.install(document, source):
            return None
        in_force = self.certificates.in_force
        assert in_force is not None
        return in_force.revocation_list.version
