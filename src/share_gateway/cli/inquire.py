"""``inquire``: a requester asks about a subject for a purpose, and checks what comes back."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from share_gateway.cli.common import channel, client_options, node_keys

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import inquiry_pb2


def add_commands(commands: Commands) -> None:
    inquire = commands.add_parser("inquire", help="ask about a subject for a purpose (requesters)")
    client_options(inquire)
    inquire.add_argument(
        "--subject", required=True, help="USCC, resident ID, legal_entity:<USCC> or individual:<resident ID>"
    )
    inquire.add_argument("--purpose", required=True, help="a purpose of the catalog you hold a grant for")
    inquire.add_argument("--consent", help="reference of the subject's consent, where the purpose requires it")
    inquire.add_argument(
        "--record-type", action="append", default=[], help="only records of this type (repeat; default: all)"
    )
    inquire.add_argument(
        "--node-key",
        action="append",
        default=[],
        metavar="REGION=signing.pub",
        help="a node's public signing key: verify what it signed (repeat; default: nothing verified)",
    )
    inquire.set_defaults(run=cmd_inquire)


async def _inquire(args: argparse.Namespace) -> inquiry_pb2.InquireResponse:
    from share_gateway.client import subject_from_text
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    async with channel(args) as node:
        return await inquiry_pb2_grpc.InquiryServiceStub(node).Inquire(
            inquiry_pb2.InquireRequest(
                subject=subject_from_text(args.subject),
                purpose=args.purpose,
                consent_reference=args.consent or "",
                record_types=args.record_type,
            ),
            timeout=args.timeout,
        )


def cmd_inquire(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import answer_view

    show(answer_view(asyncio.run(_inquire(args)), node_keys(args.node_key)))
