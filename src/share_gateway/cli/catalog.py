"""``catalog sign|verify|show|sweep``: the signed catalog of purposes and record types."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, authority_ring, channel
from share_gateway.cli.messages import language_option

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import catalog_pb2


def add_commands(commands: Commands) -> None:
    catalog = commands.add_parser("catalog", help="the signed catalog").add_subparsers(dest="catalog", required=True)
    show = catalog.add_parser("show", help="print a signed catalog (a file or a node's)")
    show.add_argument("document", type=Path, nargs="?", help="a signed catalog file (or give --node)")
    show.add_argument("--authority", type=Path, required=True, help="authority.pub")
    show.add_argument("--node", help="host:port of a node's mTLS port: print the catalog it serves")
    show.add_argument("--ca", type=Path, help="CA certificate (defaults to the identity's ca.crt)")
    show.add_argument("--identity", type=Path, help="directory holding tls.crt, tls.key and ca.crt")
    show.add_argument("--timeout", type=float, default=10.0, help="deadline of the call in seconds (default: 10)")
    language_option(show)
    show.set_defaults(run=cmd_catalog_show)
    sign = catalog.add_parser("sign", help="sign a catalog YAML (default: the sample) with the authority key")
    sign.add_argument("catalog", type=Path, nargs="?", help="the catalog YAML (default: the sample catalog)")
    sign.add_argument("--authority-key", type=Path, required=True, help="the authority's private key (PEM)")
    sign.add_argument("--out", type=Path, required=True, help="where to write the signed catalog")
    sign.set_defaults(run=cmd_catalog_sign)
    verify = catalog.add_parser("verify", help="verify a signed catalog")
    verify.add_argument("document", type=Path, help="the signed catalog file")
    verify.add_argument("--authority", type=Path, required=True, help="authority.pub")
    verify.set_defaults(run=cmd_catalog_verify)
    sweep = catalog.add_parser("sweep", help="check a node's records against its installed catalog, quarantine misfits")
    sweep.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    sweep.set_defaults(run=cmd_catalog_sweep)


def cmd_catalog_sign(args: argparse.Namespace) -> None:
    from share_gateway.catalog import AUTHORITY_KEY_NAME, sample_catalog_text, sign_catalog
    from share_gateway.cli.console import show
    from share_gateway.crypto.keys import SigningKey
    from share_gateway.domain.errors import CatalogInvalid

    text = args.catalog.read_text(encoding="utf-8") if args.catalog else sample_catalog_text()
    try:
        signed = sign_catalog(text, SigningKey.load(AUTHORITY_KEY_NAME, args.authority_key))
    except CatalogInvalid as error:
        raise CommandError(f"catalog refused:\n{error}") from error
    args.out.write_bytes(signed)
    show(f"signed catalog written to {args.out}")


def cmd_catalog_verify(args: argparse.Namespace) -> None:
    from share_gateway.catalog import open_catalog
    from share_gateway.cli.console import show
    from share_gateway.crypto.errors import VerificationError
    from share_gateway.domain.errors import CatalogInvalid

    try:
        signed = open_catalog(args.document.read_bytes(), authority_ring(args.authority))
    except (VerificationError, CatalogInvalid) as error:
        raise CommandError(f"catalog refused: {error}") from error
    show(f"catalog version {signed.catalog.version} verifies; digest {signed.digest}")


def cmd_catalog_show(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.catalog import open_catalog
    from share_gateway.cli.catalog_view import catalog_view
    from share_gateway.cli.console import show
    from share_gateway.domain.catalog_text import Language

    if args.node:
        document = asyncio.run(_get_catalog(args)).signed_document
    elif args.document:
        document = args.document.read_bytes()
    else:
        raise CommandError("give a signed catalog file or --node")
    catalog = open_catalog(document, authority_ring(args.authority)).catalog
    show(catalog_view(catalog, Language(args.lang)))


def cmd_catalog_sweep(args: argparse.Namespace) -> None:
    """Check every active record against the installed catalog again; quarantine and report what it no longer admits."""
    from share_gateway.catalog import open_catalog
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.crypto.keys import SigningKey
    from share_gateway.gateway.conformance import ConformanceSweep
    from share_gateway.gateway.runtime import NodeRuntime

    config = NodeConfig.load(args.config)
    with node_store(config, migrated=True) as store:
        document = store.trust.catalog()
        if document is None:
            raise CommandError("this node has no catalog installed yet: start it once with `serve`")
        signed = open_catalog(document, authority_ring(config.authority_key))
        runtime = NodeRuntime(config.region, SigningKey.load(config.key_name, config.signing_key), store)
        try:
            report = ConformanceSweep(runtime).sweep_installed(signed)
        finally:
            runtime.executor.shutdown()
    show(report.describe())


async def _get_catalog(args: argparse.Namespace) -> catalog_pb2.GetCatalogResponse:
    from share_gateway.v1 import catalog_pb2, catalog_pb2_grpc

    async with channel(args) as node:
        return await catalog_pb2_grpc.CatalogServiceStub(node).GetCatalog(
            catalog_pb2.GetCatalogRequest(), timeout=args.timeout
        )
