"""Certificate revocation lists at a node: installed only forward, put in force without a restart, and each
revoked certificate's refusals logged once per window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from share_gateway.catalog import sample_catalog_text, sign_catalog
from share_gateway.crypto.errors import UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.pki import certificate_fingerprint
from share_gateway.devkit import Layout
from share_gateway.domain.errors import InvalidState, Unauthenticated
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.revocation_list import (
    RevocationList,
    RevokedCertificate,
    open_revocation_list,
    sign_revocation_list,
)
from share_gateway.gateway.certificates import CertificateGuard, RevocationSettings
from share_gateway.gateway.refusals import Refusals
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store import schema
from share_gateway.store.database import migrate, open_database
from share_gateway.store.repositories import Store
from tests.federation import OK, REGIONS, UNAVAILABLE, Nodes, federated, statuses

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
AUTHORITY = SigningKey.generate("share-gateway-authority")
RING = KeyRing([AUTHORITY.verifying_key])
BANK = Identity(IdentityKind.INSTITUTION, "91110000MA0000001L")
BANK_CERTIFICATE = "ab" * 32
REVOKED = RevokedCertificate(BANK_CERTIFICATE, "", "key compromise", NOW)


def signed(version: int, *revoked: RevokedCertificate, issued: datetime = NOW) -> bytes:
    return sign_revocation_list(RevocationList(version, issued, revoked), AUTHORITY)


def test_a_revocation_list_is_installed_only_forward(store: Store) -> None:
    def install(document: bytes) -> bool:
        opened = open_revocation_list(document, RING)
        return store.write(lambda tx: store.trust.install_revocation_list(tx, opened, NOW))

    assert install(signed(1))
    assert install(signed(2, REVOKED))
    assert not install(signed(2, REVOKED))  # the same document again: nothing new
    with pytest.raises(InvalidState, match="older"):
        install(signed(1))
    with pytest.raises(InvalidState, match="different revocation list version 2"):
        install(signed(2, REVOKED, issued=NOW + timedelta(seconds=1)))
    assert store.trust.revocation_list_version() == 2
    assert store.trust.revocation_list() == signed(2, REVOKED)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'upgraded.db'}"
    url: str = request.getfixturevalue("fresh_postgres")
    return url


def test_the_upgrade_to_revocation_lists_keeps_the_trust_material_already_installed(database_url: str) -> None:
    database = open_database(database_url)
    try:
        migrate(database, "0007")
        document = sign_catalog(sample_catalog_text(), AUTHORITY)
        with database.writer.begin() as connection:
            connection.execute(
                insert(schema.catalogs).values(version=1, digest="cd" * 32, document=document, installed_at=NOW)
            )
        migrate(database)
        store = Store(database)
        assert store.trust.catalog() == document
        assert store.trust.revocation_list_version() is None
        opened = open_revocation_list(signed(1), RING)
        assert store.write(lambda tx: store.trust.install_revocation_list(tx, opened, NOW))
        with database.reader.connect() as connection:
            assert connection.execute(select(schema.revocation_lists.c.version)).scalars().all() == [1]
    finally:
        database.dispose()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[NodeRuntime]:
    database = open_database(f"sqlite:///{tmp_path / 'node.db'}")
    migrate(database)
    yield NodeRuntime("110000", SigningKey.generate("share-gateway/node/110000"), Store(database), clock=lambda: NOW)
    database.dispose()


def refusals(runtime: NodeRuntime) -> list[Event]:
    events = (Event.from_bytes(body) for _, body in runtime.store.events.read())
    return [event for event in events if event.kind is EventKind.CERTIFICATE_REFUSED]


async def test_a_revoked_certificate_is_refused_and_logged_at_once_then_once_per_window(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'node.db'}")
    migrate(database)
    now = [NOW]
    runtime = NodeRuntime("110000", SigningKey.generate("share-gateway/node/110000"), Store(database), lambda: now[0])
    guard = CertificateGuard(runtime, Refusals(runtime, timedelta(seconds=60)), RevocationSettings(RING))
    try:
        guard.install(signed(2, REVOKED))
        assert BANK_CERTIFICATE in guard.revoked
        for second in (0, 1, 59):
            now[0] = NOW + timedelta(seconds=second)
            with pytest.raises(Unauthenticated, match="revoked by the federation authority"):
                await guard.refuse(BANK, BANK_CERTIFICATE)
        await runtime.event_log.drain()
        [first] = refusals(runtime)
        assert (first.actor, first.outcome, first.reason) == (BANK.uri, Outcome.DENIED, "CERTIFICATE_REVOKED")
        assert first.details["fingerprint"] == BANK_CERTIFICATE
        assert (first.details["revocation_list"], first.details["count"]) == ("2", "1")
        now[0] = NOW + timedelta(seconds=60)
        assert await guard.refusals.log_ended() == 1
        held = refusals(runtime)[1]
        assert (held.details["count"], held.details["fingerprint"]) == ("2", BANK_CERTIFICATE)  # the two held back
    finally:
        await runtime.close()
        database.dispose()


async def test_a_newer_list_is_put_in_force_from_the_watched_file_or_the_database(
    runtime: NodeRuntime, tmp_path: Path
) -> None:
    watched = tmp_path / "revocations.signed"
    watched.write_bytes(signed(1))
    guard = CertificateGuard(runtime, Refusals(runtime, timedelta(seconds=60)), RevocationSettings(RING, watched))
    guard.load()
    assert (guard.revoked, runtime.store.trust.revocation_list_version()) == (frozenset(), 1)
    watched.write_bytes(signed(2, REVOKED))
    await guard.refresh()
    assert guard.revoked == {BANK_CERTIFICATE}
    # Another process (the install command, another replica) installed version 3 in the database.
    other = RevokedCertificate("01" * 32, "", "superseded", NOW)
    opened = open_revocation_list(signed(3, REVOKED, other), RING)
    runtime.store.write(lambda tx: runtime.store.trust.install_revocation_list(tx, opened, NOW))
    await guard.refresh()
    assert guard.revoked == {BANK_CERTIFICATE, "01" * 32}


async def test_an_older_or_foreign_list_never_replaces_the_one_in_force(runtime: NodeRuntime, tmp_path: Path) -> None:
    watched = tmp_path / "revocations.signed"
    watched.write_bytes(signed(2, REVOKED))
    guard = CertificateGuard(runtime, Refusals(runtime, timedelta(seconds=60)), RevocationSettings(RING, watched))
    guard.load()
    with pytest.raises(InvalidState, match="older"):
        guard.install(signed(1))
    with pytest.raises(UnknownKey):
        guard.install(sign_revocation_list(RevocationList(3, NOW), SigningKey.generate("share-gateway-authority")))
    # Rolled back on disk: logged and ignored; the list in force stays.
    watched.write_bytes(signed(1))
    await guard.refresh()
    assert guard.revoked == {BANK_CERTIFICATE}
    assert guard.in_force is not None
    assert guard.in_force.revocation_list.version == 2


async def test_a_node_calls_no_peer_whose_pinned_certificate_is_revoked(layout: Layout, nodes: Nodes) -> None:
    """grpcio does not show a client the server's certificate; what it can check is the one the manifest pins."""
    asker, stolen = nodes[REGIONS[0]], REGIONS[2]
    pinned = certificate_fingerprint((layout.node_dir(stolen) / "tls.crt").read_bytes())
    revoked = RevocationList(2, NOW, (RevokedCertificate(pinned, "", "node key stolen", NOW),))
    await asker.gateway.runtime.off_loop(
        asker.gateway.certificates.install, sign_revocation_list(revoked, layout.authority())
    )
    answer = await federated(layout, asker)
    assert statuses(answer) == {REGIONS[0]: OK, REGIONS[1]: OK, stolen: UNAVAILABLE}
    assert "revoked" in next(r.detail for r in answer.regions if r.region == stolen)
