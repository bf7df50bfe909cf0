"""``repair`` and ``revocations``: the subject applies for credit repair, the recording agency decides, and
requesters read the revocations of records they received."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, channel, client_options, language, node_keys

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import common_pb2, inquiry_pb2


def add_commands(commands: Commands) -> None:
    repair = commands.add_parser("repair", help="credit repair: the subject applies, the recording agency decides")
    steps = repair.add_subparsers(dest="repair", required=True)
    applying = steps.add_parser("apply", help="apply for repair of a record about you (at any node)")
    client_options(applying)
    applying.add_argument("--record-id", required=True, help="the record to repair, as its origin named it")
    applying.add_argument("--evidence", required=True, help="proof the obligations were met (payment, court receipt)")
    applying.add_argument("--commitment", required=True, help="your credit commitment")
    applying.add_argument(
        "--mandate",
        help="for an agent: the subject's mandate, a consent file the subject signed for credit_repair "
        "(as `consent sign` writes it)",
    )
    applying.set_defaults(run=cmd_repair)
    for name, text in (
        ("show", "one application (its applicant or the recording agency)"),
        ("accept", "accept an application for examination (the recording agency)"),
        ("approve", "approve: the record stops being disclosed everywhere (the recording agency)"),
        ("reject", "reject, stating why and the remedy (the recording agency)"),
        ("extend", "extend a complex case's deadlines once, stating why (the recording agency)"),
    ):
        step = steps.add_parser(name, help=text)
        client_options(step)
        step.add_argument("application_id", help="the application's id, as apply and list print it")
        if name in {"approve", "reject", "extend"}:
            step.add_argument("--reason", required=True, help="stated in the decision, the log and the revocation")
        if name == "reject":
            step.add_argument(
                "--remedy", default="", help="the applicant's remedy (default: the catalog's for the type)"
            )
        if name == "extend":
            step.add_argument("--days", type=int, required=True, help="working days to extend by")
        if name == "show":
            step.add_argument(
                "--origin-region", default="", help="the region holding it, when applied through this node for another"
            )
        step.set_defaults(run=cmd_repair)
    notice = steps.add_parser("notice", help="the repair notice to serve with a decision (the recording agency)")
    client_options(notice)
    notice.add_argument("record_id", help="the record the decision made")
    notice.set_defaults(run=cmd_notice)
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


async def _repair(
    args: argparse.Namespace, mandate: inquiry_pb2.Consent | None = None
) -> list[common_pb2.RepairApplication]:
    """One repair step: the subject applies or reads its application; the recording agency accepts, decides, lists."""
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc

    async with channel(args) as node:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(node)
        registry = registry_pb2_grpc.RegistryServiceStub(node)
        match args.repair:
            case "apply":
                request = inquiry_pb2.ApplyForRepairRequest(
                    record_id=args.record_id, evidence=args.evidence, commitment=args.commitment
                )
                if mandate is not None:
                    request.mandate.CopyFrom(mandate)
                applied = await inquiry.ApplyForRepair(request, timeout=args.timeout)
                return [applied.application]
            case "show":
                got = await inquiry.GetRepairApplication(
                    inquiry_pb2.GetRepairApplicationRequest(
                        application_id=args.application_id, origin_region=args.origin_region
                    ),
                    timeout=args.timeout,
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
                        application_id=args.application_id,
                        approve=args.repair == "approve",
                        reason=args.reason,
                        remedy=getattr(args, "remedy", ""),
                    ),
                    timeout=args.timeout,
                )
                return [decided.application]
            case "extend":
                extended = await registry.ExtendRepair(
                    registry_pb2.ExtendRepairRequest(
                        application_id=args.application_id, working_days=args.days, reason=args.reason
                    ),
                    timeout=args.timeout,
                )
                return [extended.application]
        listed = await registry.ListRepairApplications(
            registry_pb2.ListRepairApplicationsRequest(overdue_only=args.overdue), timeout=args.timeout
        )
        return list(listed.applications)


def cmd_repair(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.repair_views import repair_view, repairs_view

    mandate = None
    if getattr(args, "mandate", None):
        from share_gateway.client import consent_from_file

        try:
            mandate = consent_from_file(Path(args.mandate).read_bytes())
        except (OSError, ValueError) as error:
            raise CommandError(f"{args.mandate}: {error}") from error
    applications = asyncio.run(_repair(args, mandate))
    lang = language(args)
    show(repairs_view(applications, lang) if args.repair == "list" else repair_view(applications[0], lang))


async def _notice(args: argparse.Namespace) -> common_pb2.RepairNotice:
    from share_gateway.v1 import registry_pb2, registry_pb2_grpc

    async with channel(args) as node:
        answer = await registry_pb2_grpc.RegistryServiceStub(node).GetRepairNotice(
            registry_pb2.GetRepairNoticeRequest(record_id=args.record_id), timeout=args.timeout
        )
        return answer.notice


def cmd_notice(args: argparse.Namespace) -> None:
    """The repair notice served with the decision (两书同达): when and how repair becomes possible."""
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.repair_views import notice_view

    show(notice_view(asyncio.run(_notice(args)), language(args)))


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

    show(revocations_view(asyncio.run(_revocations(args)).revocations, node_keys(args.node_key), language(args)))
