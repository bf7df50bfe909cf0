"""``grant add|list|revoke``: what institutions may do, written straight to a node's database."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, authority_ring

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands


def add_commands(commands: Commands) -> None:
    grant = commands.add_parser("grant", help="what institutions may do").add_subparsers(dest="grant", required=True)
    add = grant.add_parser("add", help="register an institution and grant it purposes or record types")
    add.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    add.add_argument("--institution", required=True, help="USCC of the institution")
    add.add_argument("--kind", help="register the institution as this catalog requester kind (bank, utility, ...)")
    add.add_argument("--name", help="the institution's name, when registering it")
    add.add_argument(
        "--inquire", action="append", default=[], metavar="PURPOSE", help="a purpose it may inquire for (repeat)"
    )
    add.add_argument(
        "--submit", action="append", default=[], metavar="RECORD_TYPE", help="a record type it may submit (repeat)"
    )
    add.add_argument(
        "--until",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the grants end at the start of this day, UTC (default: no end)",
    )
    add.set_defaults(run=cmd_grant_add)
    listing = grant.add_parser("list", help="every grant, revoked ones too")
    listing.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    listing.add_argument("--institution", help="only this institution's grants (USCC)")
    listing.set_defaults(run=cmd_grant_list)
    revoke = grant.add_parser("revoke", help="revoke a grant from now on")
    revoke.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    revoke.add_argument("grant_id", type=int, help="the grant's id, as add and list print it")
    revoke.set_defaults(run=cmd_grant_revoke)


def cmd_grant_add(args: argparse.Namespace) -> None:
    from share_gateway.catalog import open_catalog
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.errors import DomainError, InvalidInput
    from share_gateway.domain.policy import Grant, GrantRole, check_registration
    from share_gateway.gateway.grants import enrol

    config = NodeConfig.load(args.config)
    catalog = open_catalog(config.catalog.read_bytes(), authority_ring(config.authority_key)).catalog
    now = datetime.now(UTC)
    until = datetime.combine(args.until, datetime.min.time(), UTC) if args.until else None
    scopes = [(GrantRole.INQUIRE, p) for p in args.inquire] + [(GrantRole.SUBMIT, t) for t in args.submit]
    grants = [Grant(role, scope, now, until) for role, scope in scopes]
    try:
        check_registration(catalog, args.institution, args.kind, grants)
    except InvalidInput as error:
        raise CommandError(f"refused: {error}") from error
    with node_store(config, migrated=True) as store:
        try:
            grant_ids = enrol(store, args.institution, grants, now, args.kind, args.name or args.institution)
        except DomainError as error:
            raise CommandError(f"{error}: register it with --kind") from error
    if args.kind:
        show(f"institution {args.institution} registered as {args.kind}")
    for grant_id, (role, scope) in zip(grant_ids, scopes, strict=True):
        show(f"grant {grant_id}: {args.institution} may {role.value} {scope}")


def cmd_grant_list(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show, table
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig

    with node_store(NodeConfig.load(args.config), migrated=True) as store:
        rows = store.grants.rows(args.institution)
    show(
        table(
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
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.errors import DomainError
    from share_gateway.gateway.grants import revoke_grant

    with node_store(NodeConfig.load(args.config), migrated=True) as store:
        try:
            revoke_grant(store, args.grant_id, datetime.now(UTC))
        except DomainError as error:
            raise CommandError(str(error)) from error
    show(f"grant {args.grant_id} revoked")
