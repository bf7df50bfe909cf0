"""``outbox list|redeliver``: what this node still owes its peers, and sending a dead letter again.

Operator verbs on the node's own database (running or not), like ``grant``: a
dead letter is a delivery a peer refused for a reason that cannot change (see
``domain.deliveries``); once its cause is fixed an operator makes it due again,
and the node's log says who did and why.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, language

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands

MAX_REASON = 1000


def add_commands(commands: Commands) -> None:
    outbox = commands.add_parser("outbox", help="deliveries to peers still owed, dead letters").add_subparsers(
        dest="outbox", required=True
    )
    listing = outbox.add_parser("list", help="undelivered deliveries, oldest first")
    listing.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    listing.add_argument("--dead", action="store_true", help="only dead letters (refused for a reason that stays)")
    listing.add_argument("--peer", metavar="REGION", help="only deliveries to this peer")
    listing.add_argument("--limit", type=int, default=1000, help="at most this many (default: 1000)")
    listing.set_defaults(run=cmd_outbox_list)
    again = outbox.add_parser("redeliver", help="make a dead letter due again, once its cause is fixed")
    again.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    again.add_argument("seq", type=int, nargs="*", help="the delivery's number, as outbox list prints it (repeat)")
    again.add_argument(
        "--peer", metavar="REGION", help="every dead letter to this peer (after a rollout that refused them all)"
    )
    again.add_argument("--reason", required=True, help="why it may succeed now (logged)")
    again.add_argument("--operator", help="who asks (logged; default: the user running the command)")
    again.set_defaults(run=cmd_outbox_redeliver)


def cmd_outbox_list(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.cli.views import outbox_view
    from share_gateway.config import NodeConfig

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    with node_store(NodeConfig.load(args.config), migrated=True) as store:
        rows = store.outbox.undelivered(args.peer, args.dead, args.limit)
    show(outbox_view(rows, args.dead, language(args)))


def cmd_outbox_redeliver(args: argparse.Namespace) -> None:
    from share_gateway.cli.console import show
    from share_gateway.cli.database import node_store
    from share_gateway.config import NodeConfig
    from share_gateway.domain.errors import DomainError
    from share_gateway.gateway.dead_letters import redeliver

    reason = args.reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise CommandError(f"--reason must say why, in at most {MAX_REASON} characters")
    if bool(args.seq) == bool(args.peer):
        raise CommandError("name the dead letters by SEQ, or all of one peer's with --peer")
    operator = args.operator or _user()
    config = NodeConfig.load(args.config)
    now = datetime.now(UTC)
    with node_store(config, migrated=True) as store:
        seqs = args.seq or [d.seq for d in store.outbox.undelivered(args.peer, dead_only=True)]
        if not seqs:
            raise CommandError(f"no dead letter to {args.peer} is in the outbox")
        try:
            revived = redeliver(store, config.region, seqs, now, operator, reason)
        except DomainError as error:
            raise CommandError(str(error)) from error
    for dead in revived:
        show(f"delivery {dead.seq} of {dead.kind.value} {dead.record_id} to {dead.peer} is due again")


def _user() -> str:
    """Who runs the command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError) as error:
        raise CommandError("name who asks with --operator: the user running the command has no name") from error
