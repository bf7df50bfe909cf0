"""``grant add|change|revoke|list``: what institutions may do, each change an act in the node's log.

With ``--node`` and an administrator's ``--identity`` the verbs call AdminService on a running node: the
administrator is the act's actor. With ``--config`` they write the node's database directly, for bootstrapping
a node before it serves (``grant_offline``): the same events, the node itself as actor and the operator named.
Every change names the ``--document`` that authorised it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, channel, client_options

if TYPE_CHECKING:
    from google.protobuf import timestamp_pb2
    from rich.table import Table

    from share_gateway.cli.common import Commands
    from share_gateway.v1 import admin_pb2


def _where(parser: argparse.ArgumentParser, *, writes: bool = True) -> None:
    """A running node (``--node``, ``--identity``) or, offline, the node's configuration (``--config``)."""
    client_options(parser, node_required=False)
    parser.add_argument("--config", type=Path, help="offline, before the node serves: the node's node.yaml")
    if writes:
        parser.add_argument(
            "--document", required=True, help="the legal or administrative document authorising the act"
        )
        parser.add_argument("--operator", help="offline only: who runs this (default: the login name)")


def add_commands(commands: Commands) -> None:
    grant = commands.add_parser("grant", help="what institutions may do").add_subparsers(dest="grant", required=True)
    add = grant.add_parser("add", help="register an institution and grant it purposes or record types")
    _where(add)
    add.add_argument("--institution", required=True, help="USCC of the institution")
    add.add_argument("--kind", help="register the institution as this catalog requester kind (bank, utility, ...)")
    add.add_argument("--name", help="the institution's name, when registering it")
    add.add_argument(
        "--inquire", action="append", default=[], metavar="PURPOSE", help="a purpose it may inquire for (repeat)"
    )
    add.add_argument(
        "--submit", action="append", default=[], metavar="RECORD_TYPE", help="a record type it may submit (repeat)"
    )
    add.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="the grants end (default: never)")
    add.set_defaults(run=cmd_grant_add)
    change = grant.add_parser("change", help="give a grant a new end")
    _where(change)
    change.add_argument("grant_id", type=int, help="the grant's id, as add and list print it")
    end = change.add_mutually_exclusive_group(required=True)
    end.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="it ends at the start of this day")
    end.add_argument("--no-end", action="store_true", help="it no longer ends")
    change.set_defaults(run=cmd_grant_change)
    listing = grant.add_parser("list", help="every grant, revoked ones too")
    _where(listing, writes=False)
    listing.add_argument("--institution", help="only this institution's grants (USCC)")
    listing.set_defaults(run=cmd_grant_list)
    revoke = grant.add_parser("revoke", help="revoke a grant from now on")
    _where(revoke)
    revoke.add_argument("grant_id", type=int, help="the grant's id, as add and list print it")
    revoke.set_defaults(run=cmd_grant_revoke)


def _offline(args: argparse.Namespace) -> bool:
    """Whether the command writes the database (``--config``) rather than calling a node (``--node``)."""
    if (args.config is None) == (args.node is None):
        raise CommandError("give either --node HOST:PORT with --identity DIR, or --config node.yaml (offline)")
    return args.config is not None


def day_start(day: date | None) -> datetime | None:
    """The start of ``day``, UTC: when a grant given ``--until day`` ends."""
    return None if day is None else datetime.combine(day, datetime.min.time(), UTC)


GrantLine = tuple[int, str, str, str, str, "datetime | None", "datetime | None"]


def grant_table(rows: list[GrantLine]) -> Table:
    from share_gateway.cli.console import table

    return table(
        ["id", "institution", "kind", "may", "scope", "valid until", "revoked"],
        [
            (
                grant_id,
                institution,
                kind,
                role,
                scope,
                until.date() if until else "—",
                revoked.strftime("%Y-%m-%d %H:%M") if revoked else "",
            )
            for grant_id, institution, kind, role, scope, until, revoked in rows
        ],
    )


def _info_row(info: admin_pb2.GrantInfo) -> GrantLine:
    until = info.valid_until.ToDatetime(UTC) if info.HasField("valid_until") else None
    revoked = info.revoked_at.ToDatetime(UTC) if info.HasField("revoked_at") else None
    return info.grant_id, info.institution, info.institution_kind, info.role, info.scope, until, revoked


def _timestamp(day: date) -> timestamp_pb2.Timestamp:
    from google.protobuf import timestamp_pb2

    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.combine(day, datetime.min.time(), UTC))
    return stamp


async def _add(args: argparse.Namespace) -> list[str]:
    from share_gateway.v1 import admin_pb2, admin_pb2_grpc

    said = []
    async with channel(args) as node:
        stub = admin_pb2_grpc.AdminServiceStub(node)
        if args.kind:
            await stub.RegisterInstitution(
                admin_pb2.RegisterInstitutionRequest(
                    institution=args.institution, kind=args.kind, name=args.name or "", document=args.document
                ),
                timeout=args.timeout,
            )
            said.append(f"institution {args.institution} registered as {args.kind}")
        if args.inquire or args.submit:
            request = admin_pb2.AddGrantRequest(
                institution=args.institution, inquire=args.inquire, submit=args.submit, document=args.document
            )
            if args.until:
                request.until.CopyFrom(_timestamp(args.until))
            added = await stub.AddGrant(request, timeout=args.timeout)
            said += [f"grant {g.grant_id}: {g.institution} may {g.role} {g.scope}" for g in added.grants]
    return said


def cmd_grant_add(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show

    if not (args.kind or args.inquire or args.submit):
        raise CommandError("give --kind to register, or --inquire / --submit to grant")
    if _offline(args):
        from share_gateway.cli.grant_offline import add_offline

        said = add_offline(args)
    else:
        import asyncio

        said = asyncio.run(_add(args))
    for line in said:
        show(line)


async def _change(args: argparse.Namespace) -> admin_pb2.ChangeGrantResponse:
    from share_gateway.v1 import admin_pb2, admin_pb2_grpc

    request = admin_pb2.ChangeGrantRequest(grant_id=args.grant_id, document=args.document, no_end=args.no_end)
    if args.until:
        request.until.CopyFrom(_timestamp(args.until))
    async with channel(args) as node:
        response: admin_pb2.ChangeGrantResponse = await admin_pb2_grpc.AdminServiceStub(node).ChangeGrant(
            request, timeout=args.timeout
        )
        return response


def cmd_grant_change(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show

    if _offline(args):
        from share_gateway.cli.grant_offline import change_offline

        change_offline(args)
    else:
        import asyncio

        asyncio.run(_change(args))
    show(f"grant {args.grant_id} now ends {args.until.isoformat() if args.until else 'never'}")


async def _revoke(args: argparse.Namespace) -> admin_pb2.RevokeGrantResponse:
    from share_gateway.v1 import admin_pb2, admin_pb2_grpc

    async with channel(args) as node:
        response: admin_pb2.RevokeGrantResponse = await admin_pb2_grpc.AdminServiceStub(node).RevokeGrant(
            admin_pb2.RevokeGrantRequest(grant_id=args.grant_id, document=args.document), timeout=args.timeout
        )
        return response


def cmd_grant_revoke(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show

    if _offline(args):
        from share_gateway.cli.grant_offline import revoke_offline

        revoke_offline(args)
    else:
        import asyncio

        asyncio.run(_revoke(args))
    show(f"grant {args.grant_id} revoked")


async def _list(args: argparse.Namespace) -> admin_pb2.ListGrantsResponse:
    from share_gateway.v1 import admin_pb2, admin_pb2_grpc

    async with channel(args) as node:
        response: admin_pb2.ListGrantsResponse = await admin_pb2_grpc.AdminServiceStub(node).ListGrants(
            admin_pb2.ListGrantsRequest(institution=args.institution or ""), timeout=args.timeout
        )
        return response


def cmd_grant_list(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show

    if _offline(args):
        from share_gateway.cli.grant_offline import list_offline

        show(grant_table(list_offline(args)))
    else:
        import asyncio

        show(grant_table([_info_row(info) for info in asyncio.run(_list(args)).grants]))
