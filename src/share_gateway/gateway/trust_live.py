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
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from share_gateway.catalog import SignedCatalog, open_catalog
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.conformance import SweepReport
from share_gateway.domain.errors import DomainError, InvalidState
from share_gateway.domain.trust_expiry import Artefact
from share_gateway.federation.manifest import ManifestInvalid, SignedManifest, open_manifest
from share_gateway.gateway.certificates import CertificateGuard, RevocationSettings
from share_gateway.gateway.conformance import ConformanceSweep
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.trust_files import WatchedFile, installed, refused

log = logging.getLogger(__name__)

# What a document that fails its checks raises: the reason the alarm gives.
REFUSALS = (DomainError, VerificationError)


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
        raise InvalidState(f"rollback refused: {what} version {version} is not newer than version {in_force} in force")


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

    @property
    def watching(self) -> bool:
        return self.settings.authority is not None

    def load(self) -> None:
        """One look at every watched file (from a store thread, or before the node serves): the catalog first,
        so a manifest pinning it follows in the same look; then the revocation list."""
        if self.settings.authority is not None:
            if (catalog := self._catalog.changed()) is not None:
                self._take(Artefact.CATALOG, catalog, str(self.settings.catalog), self.install_catalog)
            if (manifest := self._manifest.changed()) is not None:
                self._take(Artefact.MANIFEST, manifest, str(self.settings.manifest), self.install_manifest)
        self.certificates.load()

    async def refresh(self) -> None:
        await self.runtime.off_loop(self.load)

    def _take(
        self, artefact: Artefact, found: tuple[bytes, str], source: str, install: Callable[[bytes], int | None]
    ) -> None:
        document, digest = found
        try:
            version = install(document)
        except REFUSALS as error:
            refused(self.runtime, artefact, digest, source, error)
            return
        if version is not None:
            installed(self.runtime, artefact, version, digest, source)

    def push(self, artefact: Artefact, document: bytes, source: str) -> int | None:
        """Install pushed bytes (an administrator's call; from a store thread): the version put in force, None if
        it is the one in force already; a refusal raises after its alarm is logged."""
        install = {
            Artefact.MANIFEST: self.install_manifest,
            Artefact.CATALOG: self.install_catalog,
            Artefact.REVOCATION_LIST: self._install_revocation_list,
        }[artefact]
        digest = _digest(document)
        try:
            version = install(document)
        except REFUSALS as error:
            refused(self.runtime, artefact, digest, source, error)
            raise
        if version is not None:
            installed(self.runtime, artefact, version, digest, source)
        return version

    # --- the checks, as at start --------------------------------------------------------------

    def _authority(self) -> KeyRing:
        if self.settings.authority is None:
            raise VerificationError("this node holds no authority key to verify trust material with")
        return self.settings.authority

    def install_manifest(self, document: bytes) -> int | None:
        """Verify a manifest and put it in force; its version, or None if it is the one in force."""
        signed = open_manifest(document, self._authority())
        current = self.holder.manifest_in_force()
        if current is not None:
            if signed.digest == current.digest:
                return None
            _newer("manifest", signed.manifest.version, current.manifest.version)
        check_manifest(signed, self.runtime.region, self.holder.catalog_in_force.digest)
        store = self.runtime.store
        store.write(lambda tx: store.trust.install_manifest(tx, signed, self.runtime.clock()))
        self.holder.put_manifest(signed)
        return signed.manifest.version

    def install_catalog(self, document: bytes) -> int | None:
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
            raise InvalidState(f"catalog version {signed.catalog.version} is pinned by no manifest this node holds")
        log_sweep(ConformanceSweep(self.runtime).install(signed))
        self.holder.put_catalog(signed)
        self._manifest.forget()
        return signed.catalog.version

    def _pins(self) -> set[str]:
        """The catalog digests the manifest in force and a verified manifest in the watched file pin."""
        current = self.holder.manifest_in_force()
        pins = set() if current is None else {current.manifest.catalog_digest}
        path = self.settings.manifest
        if path is not None and path.exists():
            with contextlib.suppress(*REFUSALS):  # its own look refuses it, with its alarm
                pins.add(open_manifest(path.read_bytes(), self._authority()).manifest.catalog_digest)
        return pins

    def _install_revocation_list(self, document: bytes) -> int | None:
        if not self.certificates.install(document):
            return None
        in_force = self.certificates.in_force
        assert in_force is not None
        return in_force.revocation_list.version


def _digest(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()
