"""``federation sign|verify|show|fetch``: the signed federation manifest (which nodes, where, with which keys).

``fetch`` is the outsider's check: the trust material a node serves on its public port, verified with the
authority's key alone, and every key printed as a C2SP verifier key.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, authority_ring

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.devkit import Layout
    from share_gateway.federation.manifest import SignedManifest


def add_commands(commands: Commands) -> None:
    federation = commands.add_parser("federation", help="the signed federation manifest").add_subparsers(
        dest="federation", required=True
    )
    fsign = federation.add_parser("sign", help="sign the manifest of a development federation (pki init dir)")
    fsign.add_argument("--dir", type=Path, required=True, help="the federation's directory (made by pki init)")
    fsign.add_argument("--version", type=int, help="default: one above the current manifest")
    fsign.add_argument(
        "--days", type=int, default=90, help="days until it expires (default: 90, past the 30-day expiry warning)"
    )
    fsign.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="REGION=HOST:PORT",
        help="where peers reach a region's node (repeat; default: its configured address)",
    )
    fsign.set_defaults(run=cmd_federation_sign)
    rotate = federation.add_parser(
        "rotate-key", help="replace a node's signing or witness key in a development federation; re-sign the manifest"
    )
    rotate.add_argument("--federation", type=Path, required=True, help="the federation's directory (pki init)")
    rotate.add_argument("--region", required=True, help="the node whose key is replaced")
    rotate.add_argument(
        "--key", choices=("signing", "witness", "tls"), required=True, help="which of its keys (tls: its certificate)"
    )
    rotate.set_defaults(run=cmd_federation_rotate_key)
    authority = federation.add_parser(
        "rotate-authority",
        help="replace the authority key of a development federation: a rotation signed by the old key and the new",
    )
    authority.add_argument("--federation", type=Path, required=True, help="the federation's directory (pki init)")
    authority.set_defaults(run=cmd_federation_rotate_authority)
    for name, run, text in (
        ("verify", cmd_federation_verify, "verify a manifest's signature and expiry"),
        ("show", cmd_federation_show, "print a manifest's nodes"),
    ):
        command = federation.add_parser(name, help=text)
        command.add_argument("manifest", type=Path, help="the signed manifest file")
        command.add_argument("--authority", type=Path, required=True, help="authority.pub")
        command.set_defaults(run=run)

    fetch = federation.add_parser(
        "fetch", help="fetch a node's manifest, catalog, revocation list and verifier keys; verify them (public port)"
    )
    fetch.add_argument("--node", required=True, help="host:port of the node's public port (no client certificate)")
    fetch.add_argument(
        "--authority", type=Path, required=True, help="authority.pub: the one key trusted (rotations are followed)"
    )
    fetch.add_argument("--ca", type=Path, help="CA certificate proving the node's port (omit with --plaintext)")
    fetch.add_argument("--plaintext", action="store_true", help="the public port serves without TLS")
    fetch.add_argument("--out", type=Path, help="a directory to keep the verified documents in")
    fetch.add_argument("--timeout", type=float, default=10.0, help="deadline of the call in seconds (default: 10)")
    fetch.set_defaults(run=cmd_federation_fetch)


def cmd_federation_fetch(args: argparse.Namespace) -> None:
    import asyncio

    import grpc

    from share_gateway.catalog import AUTHORITY_KEY_NAME
    from share_gateway.cli.console import show
    from share_gateway.client import credentials, open_channel
    from share_gateway.crypto.keys import VerifyingKey
    from share_gateway.federation.published_trust import authority_in_force, verify_published_trust
    from share_gateway.v1 import trust_pb2, trust_pb2_grpc

    if args.ca is None and not args.plaintext:
        raise CommandError("give --ca (the port's TLS is proved by the federation CA) or --plaintext")

    async def fetch() -> trust_pb2.GetTrustMaterialResponse:
        node = (
            grpc.aio.insecure_channel(args.node)
            if args.plaintext
            else open_channel(args.node, credentials(None, None, args.ca))
        )
        async with node:
            stub = trust_pb2_grpc.TrustServiceStub(node)
            return await stub.GetTrustMaterial(trust_pb2.GetTrustMaterialRequest(), timeout=args.timeout)

    pinned = VerifyingKey.from_pem(AUTHORITY_KEY_NAME, args.authority.read_bytes())
    served = asyncio.run(fetch())
    authority = authority_in_force(pinned, served.authority_rotations)  # the pinned key alone, then its rotations
    listed = [(k.region, k.role, k.verifier_key) for k in served.keys]
    trust = verify_published_trust(
        served.signed_catalog, served.signed_manifest, served.signed_revocation_list, listed, authority
    )
    lines = [f"catalog version {trust.catalog.catalog.version}: signed by the authority"]
    if trust.manifest is not None:
        lines.append(f"manifest version {trust.manifest.manifest.version}: signed by the authority, pins that catalog")
    if trust.revocation_list is not None:
        lines.append(
            f"revocation list version {trust.revocation_list.revocation_list.version}: signed by the authority"
        )
    if served.authority_rotations:
        lines.append(f"authority key rotated {len(served.authority_rotations)} times since the pinned one")
    lines += [f"authority  {key.verifier_key}" for key in authority.values()]
    for key in trust.keys:
        until = "" if key.period.until is None else f"  (retired {key.period.until.isoformat()})"
        lines.append(f"{key.region} {key.role:<7} {key.vkey}{until}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, document in (
            ("catalog.signed", served.signed_catalog),
            ("manifest.signed", served.signed_manifest),
            ("revocations.signed", served.signed_revocation_list),
        ):
            if document:
                (args.out / name).write_bytes(document)
        lines.append(f"documents kept in {args.out}")
    show("\n".join(lines))


def next_manifest_version(layout: Layout) -> int:
    """One above the development federation's current manifest, or 1 if it has none yet."""
    from share_gateway.federation.manifest import open_manifest

    if not layout.manifest.exists():
        return 1
    return open_manifest(layout.manifest.read_bytes(), authority_ring(layout.authority_public_key)).manifest.version + 1


def cmd_federation_sign(args: argparse.Namespace) -> None:
    """Re-sign the manifest of a development federation, one version up."""
    from share_gateway.cli.console import show
    from share_gateway.devkit import Layout, write_manifest

    layout = Layout(args.dir)
    version = args.version or next_manifest_version(layout)
    endpoints = dict(_assignment(spec, "--endpoint") for spec in args.endpoint)
    write_manifest(layout, version, datetime.now(UTC) + timedelta(days=args.days), endpoints)
    show(f"federation manifest version {version} written to {layout.manifest}")


def cmd_federation_rotate_key(args: argparse.Namespace) -> None:
    """The old key is retired now: it keeps verifying what it signed before, and nothing it signs after."""
    from share_gateway.cli.console import show
    from share_gateway.devkit import Layout
    from share_gateway.domain.errors import DomainError
    from share_gateway.rotation import rotate_key

    layout = Layout(args.federation)
    try:
        manifest = rotate_key(layout, args.region, args.key, datetime.now(UTC))
    except (ValueError, DomainError) as error:
        raise CommandError(str(error)) from error
    node = manifest.nodes[args.region]
    key = {"signing": node.signing_key, "witness": node.witness_key}.get(args.key)
    new = f"certificate {node.tls_fingerprint[:16]}…" if key is None else f"key {key.key_id.hex()}"
    show(
        f"region {args.region}: new {args.key} {new}; the old one is retired; "
        f"manifest version {manifest.version} written to {layout.manifest} (restart the node to use it)"
    )


def cmd_federation_rotate_authority(args: argparse.Namespace) -> None:
    """Verifiers keep the pinned authority.pub and follow the rotations beside it to the new key."""
    from share_gateway.cli.console import show
    from share_gateway.devkit import Layout
    from share_gateway.rotation import rotate_authority

    layout = Layout(args.federation)
    rotation = rotate_authority(layout, datetime.now(UTC))
    show(
        f"authority rotation {rotation.sequence}: new key {rotation.new_key.key_id.hex()}; the catalog, manifest and "
        f"revocation list are re-signed with it; verifiers keep {layout.authority_public_key} and follow "
        f"{layout.authority_public_key.parent / 'rotations'}"
    )


def _assignment(spec: str, flag: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep:
        raise CommandError(f"{flag} wants NAME=VALUE, not {spec!r}")
    return name, value


def _open_manifest(args: argparse.Namespace) -> SignedManifest:
    from share_gateway.crypto.errors import VerificationError
    from share_gateway.domain.errors import DomainError
    from share_gateway.federation.manifest import open_manifest

    try:
        return open_manifest(args.manifest.read_bytes(), authority_ring(args.authority))
    except (VerificationError, DomainError) as error:
        raise CommandError(f"manifest refused: {error}") from error


def cmd_federation_verify(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.domain.errors import DomainError

    signed = _open_manifest(args)
    manifest = signed.manifest
    try:
        manifest.require_current(datetime.now(UTC))
    except DomainError as error:
        raise CommandError(str(error)) from error
    nodes = len(manifest.nodes)
    show(f"manifest version {manifest.version} verifies; {nodes} nodes; expires {manifest.expires:%Y-%m-%d}")


def cmd_federation_show(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show, table
    from share_gateway.crypto.cosignature import CosignerKey

    manifest = _open_manifest(args).manifest
    show(f"manifest version {manifest.version}, expires {manifest.expires:%Y-%m-%d %H:%M} UTC")
    show(f"catalog digest {manifest.catalog_digest}")
    show(
        table(
            ["region", "endpoint", "signing key id", "witness key id", "TLS certificate SHA-256"],
            [
                (
                    n.region,
                    n.endpoint,
                    n.signing_key.key_id.hex(),
                    "none" if n.witness_key is None else CosignerKey.of(n.witness_key).key_id.hex(),
                    n.tls_fingerprint[:16] + "…",
                )
                for n in manifest.nodes.values()
            ],
        )
    )
    for n in manifest.nodes.values():  # key history (format 3): what each retired key still verifies
        earlier = [("signing", e, e.key.key_id) for e in n.earlier_signing]
        earlier += [("witness", e, CosignerKey.of(e.key).key_id) for e in n.earlier_witness]
        for kind, held, kid in earlier:
            until = "" if held.period.until is None else f"{held.period.until:%Y-%m-%d %H:%M} UTC"
            show(f"{n.region}: earlier {kind} key {kid.hex()}, retired {until}: verifies only what it signed before")
