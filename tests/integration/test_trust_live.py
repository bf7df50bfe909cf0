"""Live trust material at a real node: a newer manifest, catalog or revocation list written where the node watches
is put in force without a restart, after the checks made at start; a refused one leaves the old one in force and
is an alarm in the log, once per distinct file.

Issue 13, item 5 ("Trust material needs a restart"); the checks themselves (signature, rollback as TUF refuses it,
the catalog conformance sweep) are those the node makes at start (unverified: DOMAIN.md names no live install).
Every look at the files but the load test's is the test's own call (``trust_watch.refresh``), never a wait.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from share_gateway.catalog import AUTHORITY_KEY_NAME, open_catalog, sample_catalog_text, sign_catalog
from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.pki import certificate_fingerprint
from share_gateway.devkit import Layout, administrator_identity, free_ports
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.federation.manifest import open_manifest, sign_manifest
from share_gateway.federation.revocation_list import RevokedCertificate, open_revocation_list, sign_revocation_list
from share_gateway.node import Node, start_node
from share_gateway.v1 import admin_pb2, admin_pb2_grpc, catalog_pb2, catalog_pb2_grpc, inquiry_pb2_grpc
from tests.conftest import channels_to, seed_grants
from tests.federation import OK, REGIONS, UNAVAILABLE, channel, events, federated, statuses
from tests.support import REGION, error_reason, field_violations, inquiry
from tests.waiting import eventually


def watched_config(node_config: NodeConfig, federation: Layout, tmp_path: Path, poll: float) -> NodeConfig:
    """The node's configuration over copies of the federation's trust material, which the test then replaces."""
    manifest, catalog, revocations = tmp_path / "manifest.signed", tmp_path / "catalog.signed", tmp_path / "rl.signed"
    shutil.copyfile(federation.manifest, manifest)
    shutil.copyfile(federation.catalog, catalog)
    shutil.copyfile(federation.revocation_list, revocations)
    return dataclasses.replace(
        node_config, revocation_poll_seconds=poll, manifest=manifest, catalog=catalog, revocation_list=revocations
    )


@pytest.fixture
async def node(node_config: NodeConfig, federation: Layout, tmp_path: Path) -> AsyncIterator[Node]:
    """A node watching its own copies, looking at them only when the test says (an hour between polls)."""
    started = await start_node(watched_config(node_config, federation, tmp_path, 3600.0))
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


def authority_ring(federation: Layout) -> KeyRing:
    return KeyRing([federation.authority().verifying_key])


def manifest(federation: Layout, version: int, catalog_digest: str | None = None, days: int = 400) -> bytes:
    """The federation's manifest at ``version``, signed by its authority (pinning ``catalog_digest`` if given)."""
    current = open_manifest(federation.manifest.read_bytes(), authority_ring(federation)).manifest
    renewed = dataclasses.replace(
        current,
        version=version,
        expires=datetime.now(UTC).replace(microsecond=0) + timedelta(days=days),
        catalog_digest=catalog_digest or current.catalog_digest,
    )
    return sign_manifest(renewed, federation.authority())


def catalog_v2(authority: SigningKey) -> bytes:
    return sign_catalog(sample_catalog_text().replace("version: 1", "version: 2", 1), authority)


def trust_events(node: Node, kind: EventKind) -> list[Event]:
    return [event for event in events(node) if event.kind is kind]


async def look(node: Node) -> list[Event]:
    """One look at the watched files; every event committed."""
    await node.gateway.trust_watch.refresh()
    await node.gateway.runtime.event_log.drain()
    return events(node)


async def test_a_newer_manifest_is_put_in_force_without_a_restart(node: Node, federation: Layout) -> None:
    gateway = node.gateway
    assert node.config.manifest is not None
    newer = manifest(federation, 2, days=500)
    node.config.manifest.write_bytes(newer)
    await look(node)
    in_force = gateway.manifest_in_force()
    assert in_force is not None
    assert in_force.manifest.version == 2
    assert gateway.store.trust.manifest() == newer
    # Health and metrics read the standings afresh: the new version and its expiry.
    [standing] = [s for s in gateway.trust.standings() if s.material.artefact.value == "manifest"]
    assert standing.material.identifier == "version 2"
    assert standing.material.expires == in_force.manifest.expires
    [event] = trust_events(node, EventKind.TRUST_MATERIAL_INSTALLED)
    assert (event.details["artefact"], event.details["version"], event.outcome) == ("manifest", "2", Outcome.ALLOWED)


async def test_an_older_manifest_is_a_rollback_refused_with_one_alarm(node: Node, federation: Layout) -> None:
    assert node.config.manifest is not None
    node.config.manifest.write_bytes(manifest(federation, 3))
    await look(node)
    node.config.manifest.write_bytes(manifest(federation, 2))
    await look(node)
    await look(node)  # the same bad file seen again raises no second alarm
    in_force = node.gateway.manifest_in_force()
    assert in_force is not None
    assert in_force.manifest.version == 3
    [alarm] = trust_events(node, EventKind.TRUST_MATERIAL_REFUSED)
    assert (alarm.details["artefact"], alarm.outcome) == ("manifest", Outcome.DENIED)
    assert "rollback" in (alarm.reason or "")
    # An equal version with other content is a rollback too.
    node.config.manifest.write_bytes(manifest(federation, 3, days=90))
    await look(node)
    assert len(trust_events(node, EventKind.TRUST_MATERIAL_REFUSED)) == 2
    assert node.gateway.manifest_in_force() is in_force


async def test_a_catalog_with_a_bad_signature_is_refused_and_the_old_one_stays(node: Node, federation: Layout) -> None:
    before = node.gateway.catalog_in_force
    node.config.catalog.write_bytes(catalog_v2(SigningKey.generate(AUTHORITY_KEY_NAME)))
    await look(node)
    assert node.gateway.catalog_in_force is before
    assert node.gateway.store.trust.catalog_version() == 1
    [alarm] = trust_events(node, EventKind.TRUST_MATERIAL_REFUSED)
    assert alarm.details["artefact"] == "catalog"


async def test_a_newer_catalog_is_swept_and_installed_with_the_manifest_pinning_it(
    node: Node, federation: Layout
) -> None:
    assert node.config.manifest is not None
    document = catalog_v2(federation.authority())
    digest = open_catalog(document, authority_ring(federation)).digest
    node.config.catalog.write_bytes(document)
    node.config.manifest.write_bytes(manifest(federation, 2, catalog_digest=digest))
    await look(node)
    gateway = node.gateway
    assert gateway.catalog_in_force.catalog.version == 2
    assert gateway.policy.catalog is gateway.catalog.catalog
    assert gateway.federation is not None
    assert gateway.federation.catalog_digest == digest
    in_force = gateway.manifest_in_force()
    assert in_force is not None
    assert in_force.manifest.catalog_digest == digest
    [swept] = trust_events(node, EventKind.CATALOG_SWEPT)
    assert (swept.details["catalog_version"], swept.details["trigger"]) == ("2", "installed")
    installed = {
        e.details["artefact"]: e.details["version"] for e in trust_events(node, EventKind.TRUST_MATERIAL_INSTALLED)
    }
    assert installed == {"catalog": "2", "manifest": "2"}
    # CatalogService publishes the catalog in force.
    async with channels_to(node.port, federation) as connect:
        published = await catalog_pb2_grpc.CatalogServiceStub(connect("bank")).GetCatalog(
            catalog_pb2.GetCatalogRequest(), timeout=30
        )
    assert (published.version, published.digest) == (2, digest)


async def test_a_manifest_written_before_the_catalog_it_pins_follows_the_catalog(
    node: Node, federation: Layout
) -> None:
    """The manifest is refused while the catalog it pins is not in force; once the catalog is, it is judged again."""
    assert node.config.manifest is not None
    document = catalog_v2(federation.authority())
    node.config.manifest.write_bytes(
        manifest(federation, 2, catalog_digest=open_catalog(document, authority_ring(federation)).digest)
    )
    await look(node)
    [alarm] = trust_events(node, EventKind.TRUST_MATERIAL_REFUSED)
    assert alarm.details["artefact"] == "manifest"
    node.config.catalog.write_bytes(document)
    await look(node)
    in_force = node.gateway.manifest_in_force()
    assert in_force is not None
    assert (in_force.manifest.version, node.gateway.catalog_in_force.catalog.version) == (2, 2)


async def test_a_catalog_no_manifest_pins_is_refused(node: Node, federation: Layout) -> None:
    node.config.catalog.write_bytes(catalog_v2(federation.authority()))
    await look(node)
    assert node.gateway.catalog_in_force.catalog.version == 1
    [alarm] = trust_events(node, EventKind.TRUST_MATERIAL_REFUSED)
    assert "pinned by no manifest" in (alarm.reason or "")


async def test_a_node_under_load_refuses_a_revoked_certificate_from_its_next_call_and_nothing_else(
    node_config: NodeConfig, federation: Layout, tmp_path: Path
) -> None:
    """Issue 13's test: a new revocation list installed while others' inquiries run; the bank is refused from the
    first call after the list is in force, and no other call fails."""
    config = watched_config(node_config, federation, tmp_path, 0.05)
    node = await start_node(config)
    seed_grants(node.gateway.store)
    assert config.revocation_list is not None
    failures: list[grpc.aio.AioRpcError] = []
    stop = asyncio.Event()

    async def others() -> int:
        served = 0
        async with channel(federation, node.port, "twin_bank") as chan:
            stub = inquiry_pb2_grpc.InquiryServiceStub(chan)
            while not stop.is_set():
                try:
                    await stub.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=30)
                    served += 1
                except grpc.aio.AioRpcError as error:
                    failures.append(error)
        return served

    try:
        load = [asyncio.create_task(others()) for _ in range(4)]
        fingerprint = certificate_fingerprint(federation.client("bank").certificate.read_bytes())
        current = open_revocation_list(config.revocation_list.read_bytes(), authority_ring(federation))
        revoked = current.revocation_list.revoking(
            [RevokedCertificate(fingerprint, "", "key compromise", datetime.now(UTC))], datetime.now(UTC)
        )
        async with channel(federation, node.port, "bank") as chan:
            bank = inquiry_pb2_grpc.InquiryServiceStub(chan)
            await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=30)
            config.revocation_list.write_bytes(sign_revocation_list(revoked, federation.authority()))
            await eventually(lambda: fingerprint in node.gateway.certificates.revoked)
            for _ in range(3):  # the next call and every one after
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=30)
                assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
                assert "revoked" in (refused.value.details() or "")
        stop.set()
        served = await asyncio.gather(*load)
        assert failures == []
        assert all(count > 0 for count in served)
        await node.gateway.runtime.event_log.drain()
        installed = trust_events(node, EventKind.TRUST_MATERIAL_INSTALLED)
        assert [(e.details["artefact"], e.details["version"]) for e in installed][-1] == (
            "revocation_list",
            str(revoked.version),
        )
    finally:
        stop.set()
        await node.stop(grace=0)


# --- an administrator's push (AdminService.InstallTrustMaterial) ---------------------------------------------


def revoking_bank(federation: Layout, config: NodeConfig) -> bytes:
    """The next revocation list after the node's, revoking the bank's certificate."""
    assert config.revocation_list is not None
    fingerprint = certificate_fingerprint(federation.client("bank").certificate.read_bytes())
    current = open_revocation_list(config.revocation_list.read_bytes(), authority_ring(federation)).revocation_list
    entry = RevokedCertificate(fingerprint, "", "key compromise", datetime.now(UTC))
    return sign_revocation_list(current.revoking([entry], datetime.now(UTC)), federation.authority())


async def test_an_administrator_installs_a_revocation_list_by_a_call(node: Node, federation: Layout) -> None:
    document = revoking_bank(federation, node.config)
    async with channels_to(node.port, federation) as connect:
        admin = admin_pb2_grpc.AdminServiceStub(connect(f"admin-{REGION}"))
        request = admin_pb2.InstallTrustMaterialRequest(artefact="revocation_list", document=document)
        first = await admin.InstallTrustMaterial(request, timeout=30)
        again = await admin.InstallTrustMaterial(request, timeout=30)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(
                inquiry("loan_underwriting", consent="AUTH-1"), timeout=30
            )
    assert (first.version, first.installed, again.version, again.installed) == (2, True, 2, False)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    await node.gateway.runtime.event_log.drain()
    [event] = trust_events(node, EventKind.TRUST_MATERIAL_INSTALLED)
    assert event.details["source"] == f"administrator {administrator_identity(REGION).uri}"


async def test_a_pushed_document_that_fails_its_checks_is_refused_and_nothing_changes(
    node: Node, federation: Layout
) -> None:
    assert node.config.manifest is not None
    node.config.manifest.write_bytes(manifest(federation, 3))
    await look(node)
    in_force, catalog = node.gateway.manifest_in_force(), node.gateway.catalog_in_force
    async with channels_to(node.port, federation) as connect:
        admin = admin_pb2_grpc.AdminServiceStub(connect(f"admin-{REGION}"))

        async def push(artefact: str, document: bytes, caller: str = f"admin-{REGION}") -> grpc.aio.AioRpcError:
            stub = admin if caller == f"admin-{REGION}" else admin_pb2_grpc.AdminServiceStub(connect(caller))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.InstallTrustMaterial(
                    admin_pb2.InstallTrustMaterialRequest(artefact=artefact, document=document), timeout=30
                )
            return refused.value

        rollback = await push("manifest", manifest(federation, 2))
        forged = await push("catalog", catalog_v2(SigningKey.generate(AUTHORITY_KEY_NAME)))
        unknown = await push("tls_certificate", b"x")
        stranger = await push("revocation_list", revoking_bank(federation, node.config), caller="bank")
    assert (rollback.code(), error_reason(rollback)) == (grpc.StatusCode.FAILED_PRECONDITION, "TRUST_MATERIAL_ROLLBACK")
    assert forged.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "document" in field_violations(forged)
    assert "artefact" in field_violations(unknown)
    assert (stranger.code(), error_reason(stranger)) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AN_ADMINISTRATOR")
    assert node.gateway.manifest_in_force() is in_force
    assert node.gateway.catalog_in_force is catalog
    assert node.gateway.certificates.revoked == frozenset()
    await node.gateway.runtime.event_log.drain()
    # The documents' alarms, and the stranger's attempt as a refused call of the same kind.
    logged = trust_events(node, EventKind.TRUST_MATERIAL_REFUSED)
    assert [e.details["artefact"] for e in logged if "artefact" in e.details] == ["manifest", "catalog"]
    assert [e.reason for e in logged if "artefact" not in e.details] == ["NOT_AN_ADMINISTRATOR"]


# --- peers follow the manifest ---------------------------------------------------------------------------------


async def test_a_peer_moved_by_a_newer_manifest_is_asked_at_its_new_address(layout: Layout, tmp_path: Path) -> None:
    """A node's channel to a peer follows the endpoint of the manifest in force: moved to an address where nothing
    listens, the peer is unavailable; moved back, it answers again (no restart between)."""
    asker, moved = REGIONS[0], REGIONS[2]
    ring = KeyRing([layout.authority().verifying_key])
    watched = tmp_path / "asker-manifest.signed"
    shutil.copyfile(layout.manifest, watched)
    started: dict[str, Node] = {}

    def moving(version: int, endpoint: str) -> bytes:
        current = open_manifest(layout.manifest.read_bytes(), ring).manifest
        nodes = dict(current.nodes) | {moved: dataclasses.replace(current.nodes[moved], endpoint=endpoint)}
        return sign_manifest(dataclasses.replace(current, version=version, nodes=nodes), layout.authority())

    try:
        for region in REGIONS:
            config = NodeConfig.load(layout.node_config(region))
            if region == asker:
                config = dataclasses.replace(config, manifest=watched, revocation_poll_seconds=3600.0)
            started[region] = await start_node(config)
            seed_grants(started[region].gateway.store)
        assert statuses(await federated(layout, started[asker]))[moved] == OK
        home = open_manifest(layout.manifest.read_bytes(), ring).manifest.nodes[moved].endpoint
        watched.write_bytes(moving(2, f"127.0.0.1:{free_ports(1)[0]}"))
        await look(started[asker])
        assert statuses(await federated(layout, started[asker]))[moved] == UNAVAILABLE
        watched.write_bytes(moving(3, home))
        await look(started[asker])
        assert statuses(await federated(layout, started[asker]))[moved] == OK
    finally:
        for node in started.values():
            await node.stop(grace=0)
