"""Trust material: the authority-signed catalogs, federation manifests and certificate revocation lists this
node installed, newest last.

Signed documents only move forward (rollback protection, as TUF does): an
older version, or another document of the version installed, is refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, func, insert, select

from share_gateway.catalog import SignedCatalog
from share_gateway.domain.errors import InvalidState
from share_gateway.federation.manifest import SignedManifest
from share_gateway.federation.revocation_list import SignedRevocationList
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import TRUST_LOCK, UnitOfWork, lock


class TrustMaterial:
    def __init__(self, database: Database) -> None:
        self.database = database

    def install_catalog(self, tx: UnitOfWork, signed: SignedCatalog, now: datetime) -> bool:
        """Install a verified catalog; True if this version is new here (the caller logs its sweep in ``tx``)."""
        return _install(tx, schema.catalogs, "catalog", signed.catalog.version, signed.digest, signed.document, now)

    def install_manifest(self, tx: UnitOfWork, signed: SignedManifest, now: datetime) -> bool:
        """Install a verified federation manifest; True if this version is new here."""
        return _install(tx, schema.manifests, "manifest", signed.manifest.version, signed.digest, signed.document, now)

    def install_revocation_list(self, tx: UnitOfWork, signed: SignedRevocationList, now: datetime) -> bool:
        """Install a verified certificate revocation list; True if this version is new here."""
        version = signed.revocation_list.version
        return _install(tx, schema.revocation_lists, "revocation list", version, signed.digest, signed.document, now)

    def revocation_list(self) -> bytes | None:
        """The newest installed certificate revocation list, as signed."""
        return self._newest(schema.revocation_lists)

    def revocation_list_version(self) -> int | None:
        """The newest installed list's version: what a node polls to see that another process installed one."""
        with self.database.reader.begin() as connection:
            version: int | None = connection.execute(select(func.max(schema.revocation_lists.c.version))).scalar()
        return version

    def catalog(self) -> bytes | None:
        """The newest installed catalog, as signed."""
        return self._newest(schema.catalogs)

    def catalog_version(self) -> int | None:
        with self.database.reader.begin() as connection:
            version: int | None = connection.execute(select(func.max(schema.catalogs.c.version))).scalar()
        return version

    def manifest(self) -> bytes | None:
        """The newest installed federation manifest, as signed."""
        return self._newest(schema.manifests)

    def _newest(self, table: Table) -> bytes | None:
        with self.database.reader.begin() as connection:
            document: bytes | None = connection.execute(
                select(table.c.document).order_by(table.c.version.desc()).limit(1)
            ).scalar()
            return document


def _install(
    tx: UnitOfWork, table: Table, what: str, version: int, digest: str, document: bytes, now: datetime
) -> bool:
    # Serialised with other processes installing (on PostgreSQL; SQLite has one writer): replicas started together
    # read "none installed" at once, and the second insert of the same version failed the second replica's start.
    lock(tx.connection, TRUST_LOCK)
    newest = tx.connection.execute(
        select(table.c.version, table.c.digest).order_by(table.c.version.desc()).limit(1)
    ).first()
    if newest is not None and newest.version > version:
        raise InvalidState(f"{what} version {version} is older than the installed version {newest.version}")
    if newest is not None and newest.version == version:
        if newest.digest != digest:
            raise InvalidState(f"a different {what} version {version} is already installed")
        return False
    tx.connection.execute(insert(table).values(version=version, digest=digest, document=document, installed_at=now))
    return True
