"""``repair`` and ``revocations``: the subject applies for credit repair, the recording agency decides, and
requesters read the revocations of records they received."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from share_gateway.cli.common import channel, client_options, node_keys

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import common_pb2, inquiry_pb2


def add_commands(commands: Commands) -> None:
    repair = commands.add_parser("repair", help="credit repair: the subject applies, the recording agency decides")
    steps = repair.add_subparsers(dest="repair", required=True)
    applying = steps.add_parser("apply", help="apply for repair of a record about you (at its origin node)")
    client_options(applying)
    applying.add_argument("--record-id", required=True, help="the record to repair, as its origin named it")
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
        client_options(step)
        step.add_argument("application_id", help="the application's id, as apply and list print it")
        if name in {"approve", "reject"}:
            step.add_argument("--reason", required=True, help="stated in the decision, the log and the revocation")
        step.set_defaults(run=cmd_repair)
    listing = steps.add_parser("list", help="open applications about your records (the recording agency)")
    client_options(listing)
    listing.add_argument("--overdue", action="store_true", help="only those past their reply or decision date")
    listing.set_defaults(run=cmd_repair)

    revocations = commands.add_parser("revocations", help="revoked records you received, to delete (requesters)")
    client_options(revocations)
    revocations.add_argument("--after", type=int, default=0, help="feed position already read (default: start)")
    revocations.add_argument("--limit", type=int, default=0, help="at most this many (default: the node's, 100)")
    revocations.add_argument(
        "--node-key",
        action="append",
        default=[],
        metavar="REGION=signing.pub",
        help="a node's public signing key: verify the revocations it signed (repeat; default: nothing verified)",
    )
    revocations.set_defaults(run=cmd_revocations)


async def _repair(args: argparse.Namespace) -> list[common_pb2.RepairApplication]:
    """One repair step: the subject applies or reads its application; the recording agency accepts, decides, lists."""
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc

    async with channel(args) as node:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(node)
        registry = registry_pb2_grpc.RegistryServiceStub(node)
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
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import repair_view, repairs_view

    applications = asyncio.run(_repair(args))
    show(repairs_view(applications) if args.repair == "list" else repair_view(applications[0]))


async def _revocations(args: argparse.Namespace) -> inquiry_pb2.ListRevocationsResponse:
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    async with channel(args) as node:
        return await inquiry_pb2_grpc.InquiryServiceStub(node).ListRevocations(
            inquiry_pb2.ListRevocationsRequest(after=args.after, limit=args.limit), timeout=args.timeout
        )


def cmd_revocations(args: argparse.Namespace) -> None:
    """The requester's "changes since": records it received that it must now delete."""
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import revocations_view

    show(revocations_view(asyncio.run(_revocations(args)).revocations, node_keys(args.node_key)))
