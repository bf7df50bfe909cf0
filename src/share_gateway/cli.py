"""The ``share-gateway`` command: run a node, make PKI, sign catalogs, manage grants, call a node."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import grpc

from share_gateway.audit_cli import AuditFailed, add_audit_commands
from share_gateway.catalog import AUTHORITY_KEY_NAME, open_catalog, sample_catalog_text, sign_catalog
from share_gateway.client import (
    credentials,
    open_channel,
    subject_from_text,
    typed_value,
)
from share_gateway.config import NodeConfig, node_key_name
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.devkit import (
    MANIFEST_DAYS,
    Layout,
    add_client,
    add_node,
    init_authority,
    sign_sample_catalog,
    write_manifest,
)
from share_gateway.domain.errors import CatalogInvalid, DomainError, InvalidInput
from share_gateway.domain.policy import Grant, GrantRole, check_registration
from share_gateway.domain.principals import Identity, Role
from share_gateway.federation.manifest import SignedManifest, open_manifest
from share_gateway.gateway.grants import enrol, revoke_grant
from share_gateway.ledger.verify import ProofError
from share_gateway.store.database import migrate, open_database
from share_gateway.store.repositories import Store
from share_gateway.tables import render_table
from share_gateway.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    inquiry_pb2,
    inquiry_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
)
from share_gateway.views import (
    answer_view,
    listing_view,
    listings_view,
    record_view,
    repair_view,
    repairs_view,
    revocations_view,
    rpc_error_view,
)

log = logging.getLogger("share_gateway")


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


# --- serve ------------------------------------------------------------------


async def _serve(config: NodeConfig) -> None:
    from share_gateway.node import start_node  # noqa: PLC0415 - keep client commands light

    node = await start_node(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    public = f", public port {node.public_port}" if node.public_port else ""
    log.info("node %s serving mTLS on port %d%s", config.region, node.port, public)
    print(f"node {config.region} listening: mTLS port {node.port}{public}", flush=True)
    await stop.wait()
    log.info("node %s stopping", config.region)
    await node.stop()


def cmd_serve(args: argparse.Namespace) -> None:
    asyncio.run(_serve(NodeConfig.load(args.config)))


async def _sequence(config: NodeConfig) -> None:
    from share_gateway.node import run_sequencer  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"sequencer of node {config.region} running", flush=True)
    await run_sequencer(config, stop)


def cmd_sequencer(args: argparse.Namespace) -> None:
    asyncio.run(_sequence(NodeConfig.load(args.config)))


# --- pki --------------------------------------------------------------------


def _client_spec(text: str) -> tuple[str, Identity]:
    name, _, uri = text.partition("=")
    if not uri:
        raise CommandError(f"--client wants NAME=sgw://institution/<USCC> or NAME=sgw://person/<ID>, not {text!r}")
    try:
        return name, Identity.from_uri(uri)
    except DomainError as error:
        raise CommandError(str(error)) from error


def _next_manifest_version(layout: Layout) -> int:
    if not layout.manifest.exists():
        return 1
    return (
        open_manifest(layout.manifest.read_bytes(), _authority_ring(layout.authority_public_key)).manifest.version + 1
    )


def cmd_pki_init(args: argparse.Namespace) -> None:
    layout = Layout(args.dir)
    now = datetime.now(UTC)
    if not layout.authority_key.exists():
        init_authority(layout, now)
        sign_sample_catalog(layout)
        print(f"federation authority and CA created in {args.dir}")
    for region in args.region:
        add_node(layout, region, now, listen=f"127.0.0.1:{args.base_port}" if args.base_port else "127.0.0.1:0")
        print(f"node {region}: {layout.node_config(region)}")
        if args.base_port:
            args.base_port += 1
    if args.region:
        version = _next_manifest_version(layout)
        write_manifest(layout, version, now + timedelta(days=MANIFEST_DAYS))
        print(f"federation manifest version {version}: {layout.manifest}")
    roles: dict[str, list[Role]] = {}
    for spec in args.role:
        name, _, role = spec.partition("=")
        try:
            roles.setdefault(name, []).append(Role(role))
        except ValueError as error:
            raise CommandError(f"--role wants NAME={'|'.join(Role)}, not {spec!r}") from error
    for spec in args.client:
        name, identity = _client_spec(spec)
        files = add_client(layout, name, identity, now, roles.get(name, ()))
        extra = f" with roles {', '.join(roles[name])}" if name in roles else ""
        print(f"client {name} ({identity.uri}){extra}: {files.directory}")


# --- catalog ----------------------------------------------------------------


def _authority_ring(path: Path) -> KeyRing:
    return KeyRing([VerifyingKey.from_pem(AUTHORITY_KEY_NAME, path.read_bytes())])


def cmd_catalog_sign(args: argparse.Namespace) -> None:
    text = args.catalog.read_text(encoding="utf-8") if args.catalog else sample_catalog_text()
    try:
        signed = sign_catalog(text, SigningKey.load(AUTHORITY_KEY_NAME, args.authority_key))
    except CatalogInvalid as error:
        raise CommandError(f"catalog refused:\n{error}") from error
    args.out.write_bytes(signed)
    print(f"signed catalog written to {args.out}")


def cmd_catalog_verify(args: argparse.Namespace) -> None:
    try:
        signed = open_catalog(args.document.read_bytes(), _authority_ring(args.authority))
    except (VerificationError, CatalogInvalid) as error:
        raise CommandError(f"catalog refused: {error}") from error
    print(f"catalog version {signed.catalog.version} verifies; digest {signed.digest}")


def cmd_catalog_show(args: argparse.Namespace) -> None:
    if args.node:
        document = asyncio.run(_get_catalog(args)).signed_document
    elif args.document:
        document = args.document.read_bytes()
    else:
        raise CommandError("give a signed catalog file or --node")
    catalog = open_catalog(document, _authority_ring(args.authority)).catalog
    print(f"catalog version {catalog.version} — {catalog.authority}\n")
    print(
        render_table(
            ["purpose", "requester kinds", "consent", "reaches"],
            [
                (
                    p.name,
                    ", ".join(sorted(p.requester_kinds)),
                    "yes" if p.consent_required else "no",
                    ", ".join(sorted(p.reaches)),
                )
                for p in catalog.purposes.values()
            ],
        )
    )
    print()
    print(
        render_table(
            ["record type", "category", "disclosure", "fields", "severities"],
            [
                (t.name, t.category.value, t.disclosure.value, len(t.fields), ", ".join(t.severity_periods) or "—")
                for t in catalog.record_types.values()
            ],
        )
    )


def cmd_catalog_sweep(args: argparse.Namespace) -> None:
    """Check every active record against the installed catalog again; quarantine and report what it no longer admits."""
    from share_gateway.gateway.conformance import ConformanceSweep  # noqa: PLC0415 - keep client commands light
    from share_gateway.gateway.runtime import NodeRuntime  # noqa: PLC0415

    config = NodeConfig.load(args.config)
    store = _store(args.config)
    document = store.trust.catalog()
    if document is None:
        raise CommandError("this node has no catalog installed yet: start it once with `serve`")
    signed = open_catalog(document, _authority_ring(config.authority_key))
    runtime = NodeRuntime(config.region, SigningKey.load(config.key_name, config.signing_key), store)
    try:
        report = ConformanceSweep(runtime).sweep_installed(signed)
    finally:
        runtime.executor.shutdown()
        store.database.dispose()
    print(report.describe())


async def _get_catalog(args: argparse.Namespace) -> catalog_pb2.GetCatalogResponse:
    async with _channel(args) as channel:
        return await catalog_pb2_grpc.CatalogServiceStub(channel).GetCatalog(
            catalog_pb2.GetCatalogRequest(), timeout=args.timeout
        )


# --- federation ---------------------------------------------------------------


def cmd_federation_sign(args: argparse.Namespace) -> None:
    """Re-sign the manifest of a development federation, one version up."""
    layout = Layout(args.dir)
    version = args.version or _next_manifest_version(layout)
    endpoints = dict(_assignment(spec, "--endpoint") for spec in args.endpoint)
    write_manifest(layout, version, datetime.now(UTC) + timedelta(days=args.days), endpoints)
    print(f"federation manifest version {version} written to {layout.manifest}")


def _assignment(spec: str, flag: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep:
        raise CommandError(f"{flag} wants NAME=VALUE, not {spec!r}")
    return name, value


def _open_manifest(args: argparse.Namespace) -> SignedManifest:
    try:
        return open_manifest(args.manifest.read_bytes(), _authority_ring(args.authority))
    except (VerificationError, DomainError) as error:
        raise CommandError(f"manifest refused: {error}") from error


def cmd_federation_verify(args: argparse.Namespace) -> None:
    signed = _open_manifest(args)
    manifest = signed.manifest
    try:
        manifest.require_current(datetime.now(UTC))
    except DomainError as error:
        raise CommandError(str(error)) from error
    nodes = len(manifest.nodes)
    print(f"manifest version {manifest.version} verifies; {nodes} nodes; expires {manifest.expires:%Y-%m-%d}")


def cmd_federation_show(args: argparse.Namespace) -> None:
    manifest = _open_manifest(args).manifest
    print(f"manifest version {manifest.version}, expires {manifest.expires:%Y-%m-%d %H:%M} UTC")
    print(f"catalog digest {manifest.catalog_digest}")
    print(
        render_table(
            ["region", "endpoint", "signing key id", "TLS certificate SHA-256"],
            [
                (n.region, n.endpoint, n.signing_key.key_id.hex(), n.tls_fingerprint[:16] + "…")
                for n in manifest.nodes.values()
            ],
        )
    )


# --- grants -----------------------------------------------------------------


def _store(config_path: Path) -> Store:
    config = NodeConfig.load(config_path)
    database = open_database(config.database)
    migrate(database)
    return Store(database)


def cmd_grant_add(args: argparse.Namespace) -> None:
    config = NodeConfig.load(args.config)
    catalog = open_catalog(config.catalog.read_bytes(), _authority_ring(config.authority_key)).catalog
    store = _store(args.config)
    now = datetime.now(UTC)
    until = datetime.combine(args.until, datetime.min.time(), UTC) if args.until else None
    scopes = [(GrantRole.INQUIRE, p) for p in args.inquire] + [(GrantRole.SUBMIT, t) for t in args.submit]
    try:
        check_registration(catalog, args.institution, args.kind, [Grant(r, s, now, until) for r, s in scopes])
    except InvalidInput as error:
        raise CommandError(f"refused: {error}") from error
    grants = [Grant(role, scope, now, until) for role, scope in scopes]
    try:
        grant_ids = enrol(store, args.institution, grants, now, args.kind, args.name or args.institution)
    except DomainError as error:
        raise CommandError(f"{error}: register it with --kind") from error
    if args.kind:
        print(f"institution {args.institution} registered as {args.kind}")
    for grant_id, (role, scope) in zip(grant_ids, scopes, strict=True):
        print(f"grant {grant_id}: {args.institution} may {role.value} {scope}")


def cmd_grant_list(args: argparse.Namespace) -> None:
    rows = _store(args.config).grants.rows(args.institution)
    print(
        render_table(
            ["id", "institution", "kind", "may", "scope", "valid until", "revoked"],
            [
                (
                    r.grant_id,
                    r.institution,
                    r.institution_kind,
                    r.grant.role.value,
                    r.grant.scope,
                    r.grant.valid_until.date() if r.grant.valid_until else "—",
                    r.revoked_at.strftime("%Y-%m-%d %H:%M") if r.revoked_at else "",
                )
                for r in rows
            ],
        )
    )


def cmd_grant_revoke(args: argparse.Namespace) -> None:
    try:
        revoke_grant(_store(args.config), args.grant_id, datetime.now(UTC))
    except DomainError as error:
        raise CommandError(str(error)) from error
    print(f"grant {args.grant_id} revoked")


# --- client calls -----------------------------------------------------------


def _channel(args: argparse.Namespace) -> grpc.aio.Channel:
    identity: Path | None = args.identity
    ca = args.ca or (identity / "ca.crt" if identity else None)
    if ca is None:
        raise CommandError("give --identity DIR (tls.crt, tls.key, ca.crt) or at least --ca")
    cert = identity / "tls.crt" if identity else None
    key = identity / "tls.key" if identity else None
    return open_channel(args.node, credentials(cert, key, ca))


def _parse_assignments(pairs: Sequence[str], what: str) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CommandError(f"{what} wants NAME=VALUE, not {pair!r}")
        values[name] = value
    return values


async def _submit(args: argparse.Namespace) -> registry_pb2.SubmitRecordResponse:
    async with _channel(args) as channel:
        catalog = await catalog_pb2_grpc.CatalogServiceStub(channel).GetCatalog(
            catalog_pb2.GetCatalogRequest(), timeout=args.timeout
        )
        types = {t.name: {f.name: f.type for f in t.fields} for t in catalog.record_types}.get(args.type, {})
        request = registry_pb2.SubmitRecordRequest(
            request_id=args.request_id or f"cli-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}",
            record_type=args.type,
            subject=subject_from_text(args.subject),
            fields={n: typed_value(types.get(n), v) for n, v in _parse_assignments(args.field, "--field").items()},
            severity=args.severity or "",
        )
        if args.document:
            request.legal_document.CopyFrom(
                common_pb2.LegalDocument(**_parse_assignments(args.document.split(","), "--document"))
            )
        if args.disclosure_days is not None:
            request.disclosure_days = args.disclosure_days
        return await registry_pb2_grpc.RegistryServiceStub(channel).SubmitRecord(request, timeout=args.timeout)


def cmd_submit(args: argparse.Namespace) -> None:
    record = asyncio.run(_submit(args)).record
    print("recorded " + record_view(record))


async def _inquire(args: argparse.Namespace) -> inquiry_pb2.InquireResponse:
    async with _channel(args) as channel:
        return await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(
            inquiry_pb2.InquireRequest(
                subject=subject_from_text(args.subject),
                purpose=args.purpose,
                consent_reference=args.consent or "",
                record_types=args.record_type,
            ),
            timeout=args.timeout,
        )


def cmd_inquire(args: argparse.Namespace) -> None:
    print(answer_view(asyncio.run(_inquire(args)), _node_keys(args.node_key)))


def _node_keys(specs: Sequence[str]) -> KeyRing | None:
    """The nodes' signing keys given as ``--node-key REGION=signing.pub``; None (nothing to verify with) if none."""
    if not specs:
        return None
    return KeyRing(
        VerifyingKey.from_pem(node_key_name(region), path.read_bytes())
        for region, path in (_region_key(spec) for spec in specs)
    )


def _region_key(spec: str) -> tuple[str, Path]:
    region, sep, path = spec.partition("=")
    if not sep:
        raise CommandError(f"--node-key wants REGION=PATH to the node's signing.pub, not {spec!r}")
    return region, Path(path)


# --- credit repair and revocations --------------------------------------------


async def _repair(args: argparse.Namespace) -> list[common_pb2.RepairApplication]:
    """One repair step: the subject applies or reads its application; the recording agency accepts, decides, lists."""
    async with _channel(args) as channel:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(channel)
        registry = registry_pb2_grpc.RegistryServiceStub(channel)
        match args.repair:
            case "apply":
                applied = await inquiry.ApplyForRepair(
                    inquiry_pb2.ApplyForRepairRequest(
                        record_id=args.record_id, evidence=args.evidence, commitment=args.commitment
                    ),
                    timeout=args.timeout,
                )
                return [applied.application]
            case "show":
                got = await inquiry.GetRepairApplication(
                    inquiry_pb2.GetRepairApplicationRequest(application_id=args.application_id), timeout=args.timeout
                )
                return [got.application]
            case "accept":
                accepted = await registry.AcceptRepair(
                    registry_pb2.AcceptRepairRequest(application_id=args.application_id), timeout=args.timeout
                )
                return [accepted.application]
            case "approve" | "reject":
                decided = await registry.DecideRepair(
                    registry_pb2.DecideRepairRequest(
                        application_id=args.application_id, approve=args.repair == "approve", reason=args.reason
                    ),
                    timeout=args.timeout,
                )
                return [decided.application]
        listed = await registry.ListRepairApplications(
            registry_pb2.ListRepairApplicationsRequest(overdue_only=args.overdue), timeout=args.timeout
        )
        return list(listed.applications)


def cmd_repair(args: argparse.Namespace) -> None:
    applications = asyncio.run(_repair(args))
    print(repairs_view(applications) if args.repair == "list" else repair_view(applications[0]))


async def _revocations(args: argparse.Namespace) -> inquiry_pb2.ListRevocationsResponse:
    async with _channel(args) as channel:
        return await inquiry_pb2_grpc.InquiryServiceStub(channel).ListRevocations(
            inquiry_pb2.ListRevocationsRequest(after=args.after, limit=args.limit), timeout=args.timeout
        )


def cmd_revocations(args: argparse.Namespace) -> None:
    """The requester's "changes since": records it received that it must now delete."""
    print(revocations_view(asyncio.run(_revocations(args)).revocations, _node_keys(args.node_key)))


# --- the seriously-untrustworthy list ------------------------------------------


async def _listing(args: argparse.Namespace) -> list[common_pb2.Listing]:
    """One listing step: the recording agency proposes, notifies, reviews, confirms; the party objects."""
    async with _channel(args) as channel:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(channel)
        registry = registry_pb2_grpc.RegistryServiceStub(channel)
        match args.listing:
            case "propose":
                proposed = await registry.ProposeListing(
                    registry_pb2.ProposeListingRequest(
                        record_id=args.record_id,
                        list_name=args.list,
                        document=args.document,
                        reason=args.reason,
                        removal_conditions=args.removal_conditions,
                        remedies=args.remedies,
                    ),
                    timeout=args.timeout,
                )
                return [proposed.listing]
            case "notify":
                told = await registry.NotifyListing(
                    registry_pb2.NotifyListingRequest(
                        listing_id=args.listing_id, document=args.document, reason=args.reason
                    ),
                    timeout=args.timeout,
                )
                return [told.listing]
            case "uphold" | "dismiss":
                reviewed = await registry.ReviewObjection(
                    registry_pb2.ReviewObjectionRequest(
                        listing_id=args.listing_id,
                        upheld=args.listing == "uphold",
                        document=args.document,
                        reason=args.reason,
                    ),
                    timeout=args.timeout,
                )
                return [reviewed.listing]
            case "confirm":
                confirmed = await registry.ConfirmListing(
                    registry_pb2.ConfirmListingRequest(
                        listing_id=args.listing_id, document=args.document, reason=args.reason
                    ),
                    timeout=args.timeout,
                )
                return [confirmed.listing]
            case "object":
                objected = await inquiry.ObjectToListing(
                    inquiry_pb2.ObjectToListingRequest(listing_id=args.listing_id, statement=args.statement),
                    timeout=args.timeout,
                )
                return [objected.listing]
            case "show":
                got = await registry.GetListing(
                    registry_pb2.GetListingRequest(listing_id=args.listing_id), timeout=args.timeout
                )
                return [got.listing]
            case "mine":
                mine = await inquiry.ListMyListings(inquiry_pb2.ListMyListingsRequest(), timeout=args.timeout)
                return list(mine.listings)
        listed = await registry.ListListings(
            registry_pb2.ListListingsRequest(overdue_only=args.overdue), timeout=args.timeout
        )
        return list(listed.listings)


def cmd_listing(args: argparse.Namespace) -> None:
    listings = asyncio.run(_listing(args))
    print(listings_view(listings) if args.listing in {"list", "mine"} else listing_view(listings[0]))


def _listing_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = commands.add_parser("listing", help="the seriously-untrustworthy list: propose, hear, list")
    steps = listing.add_subparsers(dest="listing", required=True)
    proposing = steps.add_parser("propose", help="propose listing the subject of one of your records")
    _client_options(proposing)
    proposing.add_argument("--record-id", required=True)
    proposing.add_argument("--list", default="serious_untrustworthy", help="a list of the published catalog")
    proposing.add_argument("--document", required=True, help="number of the proposal document")
    proposing.add_argument("--reason", required=True)
    proposing.add_argument("--removal-conditions", required=True, help="what ends the listing early")
    proposing.add_argument("--remedies", required=True, help="how the party may object, seek review or sue")
    proposing.set_defaults(run=cmd_listing)
    for name, text in (
        ("notify", "the party was told the reasons, basis and its rights (opens its objection window)"),
        ("uphold", "the party's objection holds: the proposal ends"),
        ("dismiss", "the party's objection fails: the listing may go ahead"),
        ("confirm", "list the party (after its window closed, or its objection was dismissed)"),
    ):
        step = steps.add_parser(name, help=text)
        _client_options(step)
        step.add_argument("listing_id")
        step.add_argument("--document", required=True, help="number of this step's document")
        step.add_argument("--reason", required=True)
        step.set_defaults(run=cmd_listing)
    objecting = steps.add_parser("object", help="object to a listing about you, within your window")
    _client_options(objecting)
    objecting.add_argument("listing_id")
    objecting.add_argument("--statement", required=True, help="your statement and evidence")
    objecting.set_defaults(run=cmd_listing)
    showing = steps.add_parser("show", help="one listing (the recording agency or the party)")
    _client_options(showing)
    showing.add_argument("listing_id")
    showing.set_defaults(run=cmd_listing)
    mine = steps.add_parser("mine", help="every listing about you this node holds")
    _client_options(mine)
    mine.set_defaults(run=cmd_listing)
    listing_all = steps.add_parser("list", help="open listings on your records (the recording agency)")
    _client_options(listing_all)
    listing_all.add_argument("--overdue", action="store_true", help="only those with a late step")
    listing_all.set_defaults(run=cmd_listing)


# --- demo -------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> None:
    from share_gateway.demo import run_demo  # noqa: PLC0415

    run_demo(args.dir, keep_running=args.keep_running, records_per_region=args.records)


# --- wiring -----------------------------------------------------------------


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--node", required=True, help="host:port of the node's mTLS port")
    parser.add_argument("--identity", type=Path, help="directory holding tls.crt, tls.key and ca.crt")
    parser.add_argument("--ca", type=Path, help="CA certificate (defaults to the identity's ca.crt)")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline of the call in seconds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="share-gateway", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run a regional node")
    serve.add_argument("--config", type=Path, required=True)
    serve.set_defaults(run=cmd_serve)

    sequencer = commands.add_parser("sequencer", help="run only the log's sequencer (with log.sequencer: false)")
    sequencer.add_argument("--config", type=Path, required=True)
    sequencer.set_defaults(run=cmd_sequencer)

    pki = commands.add_parser("pki", help="development PKI").add_subparsers(dest="pki", required=True)
    init = pki.add_parser("init", help="authority key, CA, signed sample catalog, node and client certificates")
    init.add_argument("--dir", type=Path, required=True)
    init.add_argument("--region", action="append", default=[], help="GB/T 2260 region code of a node (repeat)")
    init.add_argument("--client", action="append", default=[], help="NAME=sgw://institution/<USCC> (repeat)")
    init.add_argument("--role", action="append", default=[], help="NAME=compliance_officer: a role for a client")
    init.add_argument("--base-port", type=int, default=0, help="fixed mTLS ports from here (default: any free)")
    init.set_defaults(run=cmd_pki_init)

    catalog = commands.add_parser("catalog", help="the signed catalog").add_subparsers(dest="catalog", required=True)
    show = catalog.add_parser("show", help="print a signed catalog (a file or a node's)")
    show.add_argument("document", type=Path, nargs="?")
    show.add_argument("--authority", type=Path, required=True, help="authority.pub")
    show.add_argument("--node")
    show.add_argument("--ca", type=Path)
    show.add_argument("--identity", type=Path)
    show.add_argument("--timeout", type=float, default=10.0)
    show.set_defaults(run=cmd_catalog_show)
    sign = catalog.add_parser("sign", help="sign a catalog YAML (default: the sample) with the authority key")
    sign.add_argument("catalog", type=Path, nargs="?")
    sign.add_argument("--authority-key", type=Path, required=True)
    sign.add_argument("--out", type=Path, required=True)
    sign.set_defaults(run=cmd_catalog_sign)
    verify = catalog.add_parser("verify", help="verify a signed catalog")
    verify.add_argument("document", type=Path)
    verify.add_argument("--authority", type=Path, required=True, help="authority.pub")
    verify.set_defaults(run=cmd_catalog_verify)
    sweep = catalog.add_parser("sweep", help="check a node's records against its installed catalog, quarantine misfits")
    sweep.add_argument("--config", type=Path, required=True)
    sweep.set_defaults(run=cmd_catalog_sweep)

    federation = commands.add_parser("federation", help="the signed federation manifest").add_subparsers(
        dest="federation", required=True
    )
    fsign = federation.add_parser("sign", help="sign the manifest of a development federation (pki init dir)")
    fsign.add_argument("--dir", type=Path, required=True)
    fsign.add_argument("--version", type=int, help="default: one above the current manifest")
    fsign.add_argument("--days", type=int, default=30, help="days until it expires")
    fsign.add_argument("--endpoint", action="append", default=[], metavar="REGION=HOST:PORT")
    fsign.set_defaults(run=cmd_federation_sign)
    for name, run, text in (
        ("verify", cmd_federation_verify, "verify a manifest's signature and expiry"),
        ("show", cmd_federation_show, "print a manifest's nodes"),
    ):
        command = federation.add_parser(name, help=text)
        command.add_argument("manifest", type=Path)
        command.add_argument("--authority", type=Path, required=True, help="authority.pub")
        command.set_defaults(run=run)

    grant = commands.add_parser("grant", help="what institutions may do").add_subparsers(dest="grant", required=True)
    add = grant.add_parser("add")
    add.add_argument("--config", type=Path, required=True)
    add.add_argument("--institution", required=True, help="USCC of the institution")
    add.add_argument("--kind", help="register the institution as this catalog requester kind (bank, utility, ...)")
    add.add_argument("--name", help="the institution's name, when registering it")
    add.add_argument("--inquire", action="append", default=[], metavar="PURPOSE")
    add.add_argument("--submit", action="append", default=[], metavar="RECORD_TYPE")
    add.add_argument("--until", type=date.fromisoformat)
    add.set_defaults(run=cmd_grant_add)
    listing = grant.add_parser("list")
    listing.add_argument("--config", type=Path, required=True)
    listing.add_argument("--institution")
    listing.set_defaults(run=cmd_grant_list)
    revoke = grant.add_parser("revoke")
    revoke.add_argument("--config", type=Path, required=True)
    revoke.add_argument("grant_id", type=int)
    revoke.set_defaults(run=cmd_grant_revoke)

    submit = commands.add_parser("submit", help="submit a record (agencies)")
    _client_options(submit)
    submit.add_argument("--type", required=True)
    submit.add_argument("--subject", required=True, help="legal_entity:<USCC> or individual:<resident ID>")
    submit.add_argument("--field", action="append", default=[], metavar="NAME=VALUE")
    submit.add_argument("--document", help="number=..,issuer=..,kind=..,issued_on=YYYY-MM-DD,effective_on=YYYY-MM-DD")
    submit.add_argument("--severity")
    submit.add_argument("--disclosure-days", type=int)
    submit.add_argument("--request-id")
    submit.set_defaults(run=cmd_submit)

    inquire = commands.add_parser("inquire", help="ask about a subject for a purpose (requesters)")
    _client_options(inquire)
    inquire.add_argument("--subject", required=True)
    inquire.add_argument("--purpose", required=True)
    inquire.add_argument("--consent")
    inquire.add_argument("--record-type", action="append", default=[])
    inquire.add_argument("--node-key", action="append", default=[], metavar="REGION=signing.pub")
    inquire.set_defaults(run=cmd_inquire)

    repair = commands.add_parser("repair", help="credit repair: the subject applies, the recording agency decides")
    steps = repair.add_subparsers(dest="repair", required=True)
    applying = steps.add_parser("apply", help="apply for repair of a record about you (at its origin node)")
    _client_options(applying)
    applying.add_argument("--record-id", required=True)
    applying.add_argument("--evidence", required=True, help="proof the obligations were met (payment, court receipt)")
    applying.add_argument("--commitment", required=True, help="your credit commitment")
    applying.set_defaults(run=cmd_repair)
    for name, text in (
        ("show", "one application (its applicant or the recording agency)"),
        ("accept", "accept an application for examination (the recording agency)"),
        ("approve", "approve: the record stops being disclosed everywhere (the recording agency)"),
        ("reject", "reject, stating why (the recording agency)"),
    ):
        step = steps.add_parser(name, help=text)
        _client_options(step)
        step.add_argument("application_id")
        if name in {"approve", "reject"}:
            step.add_argument("--reason", required=True, help="stated in the decision, the log and the revocation")
        step.set_defaults(run=cmd_repair)
    listing = steps.add_parser("list", help="open applications about your records (the recording agency)")
    _client_options(listing)
    listing.add_argument("--overdue", action="store_true", help="only those past their reply or decision date")
    listing.set_defaults(run=cmd_repair)

    revocations = commands.add_parser("revocations", help="revoked records you received, to delete (requesters)")
    _client_options(revocations)
    revocations.add_argument("--after", type=int, default=0, help="feed position already read (default: start)")
    revocations.add_argument("--limit", type=int, default=0, help="at most this many (default: the node's, 100)")
    revocations.add_argument("--node-key", action="append", default=[], metavar="REGION=signing.pub")
    revocations.set_defaults(run=cmd_revocations)

    _listing_commands(commands)
    add_audit_commands(commands)

    demo = commands.add_parser("demo", help="start three regional nodes and run a guided scenario")
    demo.add_argument("--dir", type=Path, default=Path("demo-data"))
    demo.add_argument("--records", type=int, default=200, help="synthetic records per region")
    demo.add_argument("--keep-running", action="store_true", help="keep the nodes up for grpcurl")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        args.run(args)
    except CommandError as error:
        print(f"share-gateway: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    except (AuditFailed, ProofError) as error:
        print(f"share-gateway: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    except grpc.aio.AioRpcError as error:
        print(f"share-gateway: the node refused: {rpc_error_view(error)}", file=sys.stderr)
        raise SystemExit(1) from error
    except (DomainError, VerificationError, FileNotFoundError) as error:
        print(f"share-gateway: {error}", file=sys.stderr)
        raise SystemExit(1) from error


if __name__ == "__main__":
    main()
