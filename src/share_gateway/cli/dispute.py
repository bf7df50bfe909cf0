"""``dispute``: the subject disputes a record it believes wrong (异议); the recording agency answers it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from share_gateway.cli.common import channel, client_options, language
from share_gateway.cli.records import record_options, record_request

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import common_pb2


def add_commands(commands: Commands) -> None:
    dispute = commands.add_parser("dispute", help="disputes about wrong records: the subject files, the agency answers")
    steps = dispute.add_subparsers(dest="dispute", required=True)
    filing = steps.add_parser("file", help="dispute a record about you (at any node: carried to its origin)")
    client_options(filing)
    filing.add_argument("--record-id", required=True, help="the record, as its origin named it")
    filing.add_argument("--claim", required=True, help="what is wrong, and why")
    filing.set_defaults(run=cmd_dispute)
    mine = steps.add_parser("mine", help="your disputes filed at this node")
    client_options(mine)
    mine.set_defaults(run=cmd_dispute)
    listing = steps.add_parser("list", help="open disputes about your records (the recording agency)")
    client_options(listing)
    listing.add_argument("--overdue", action="store_true", help="only those past their answer day")
    listing.set_defaults(run=cmd_dispute)
    reject = steps.add_parser("reject", help="the record stands: answer why (the recording agency)")
    client_options(reject)
    reject.add_argument("dispute_id", help="the dispute's id, as list prints it")
    reject.add_argument("--answer", required=True, help="why the record stands")
    reject.set_defaults(run=cmd_dispute)
    correct = steps.add_parser(
        "correct", help="the record was wrong: record it again corrected; the old one is revoked everywhere"
    )
    client_options(correct)
    correct.add_argument("dispute_id", help="the dispute's id, as list prints it")
    correct.add_argument("--answer", required=True, help="what was corrected")
    record_options(correct)
    correct.set_defaults(run=cmd_dispute)


async def _dispute(args: argparse.Namespace) -> list[common_pb2.Dispute]:
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc

    async with channel(args) as node:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(node)
        registry = registry_pb2_grpc.RegistryServiceStub(node)
        match args.dispute:
            case "file":
                filed = await inquiry.FileDispute(
                    inquiry_pb2.FileDisputeRequest(record_id=args.record_id, claim=args.claim), timeout=args.timeout
                )
                return [filed.dispute]
            case "mine":
                mine = await inquiry.ListMyDisputes(inquiry_pb2.ListMyDisputesRequest(), timeout=args.timeout)
                return list(mine.disputes)
            case "list":
                listed = await registry.ListDisputes(
                    registry_pb2.ListDisputesRequest(overdue_only=args.overdue), timeout=args.timeout
                )
                return list(listed.disputes)
        request = registry_pb2.AnswerDisputeRequest(dispute_id=args.dispute_id, answer=args.answer)
        if args.dispute == "correct":
            request.correction.CopyFrom(await record_request(args, node))
        answered = await registry.AnswerDispute(request, timeout=args.timeout)
        return [answered.dispute]


def cmd_dispute(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.repair_views import dispute_view, disputes_view

    disputes = asyncio.run(_dispute(args))
    lang = language(args)
    show(disputes_view(disputes, lang) if args.dispute in {"list", "mine"} else dispute_view(disputes[0], lang))
