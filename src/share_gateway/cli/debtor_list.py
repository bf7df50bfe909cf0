"""``listing`` verbs for the courts' list of dishonest judgment debtors (Fa Shi [2017] No. 7): the court that
made an entry reports performance and reviews correction applications; the listed party applies for one.

Registered under ``listing`` beside the seriously-untrustworthy list's steps (``cli.listing``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from share_gateway.cli.common import channel, client_options

if TYPE_CHECKING:
    from rich.console import Group
    from rich.text import Text

    from share_gateway.v1 import common_pb2, registry_pb2


def add_steps(steps: Any) -> None:
    """The courts' list verbs, as subcommands of ``listing``."""
    performed = steps.add_parser(
        "performed", help="courts' list: the debtor performed; the entry is deleted (the court that made it)"
    )
    client_options(performed)
    performed.add_argument("record_id", help="your entry (the dishonest_judgment_debtor record)")
    performed.add_argument("--on", required=True, help="the day the obligation was performed (YYYY-MM-DD)")
    performed.set_defaults(run=cmd_debtor_list)
    correct = steps.add_parser("correct", help="courts' list: apply to correct your entry (the listed party)")
    client_options(correct)
    correct.add_argument("--record-id", required=True, help="the entry, as its origin named it")
    correct.add_argument("--grounds", required=True, help="why the entry is wrong")
    correct.set_defaults(run=cmd_debtor_list)
    pending = steps.add_parser("corrections", help="courts' list: applications awaiting your review (the court)")
    client_options(pending)
    pending.add_argument("--overdue", action="store_true", help="only those past their review day")
    pending.set_defaults(run=cmd_debtor_list)
    mine = steps.add_parser("my-corrections", help="courts' list: your correction applications at this node")
    client_options(mine)
    mine.set_defaults(run=cmd_debtor_list)
    for name, text in (
        ("uphold-correction", "the entry was wrong: it is withdrawn and revoked everywhere"),
        ("dismiss-correction", "the entry stands: state why"),
    ):
        review = steps.add_parser(name, help=f"courts' list: {text} (the court)")
        client_options(review)
        review.add_argument("application_id", help="the application's id, as corrections prints it")
        review.add_argument("--reason", required=True, help="the review's reasons")
        review.set_defaults(run=cmd_debtor_list)


async def _run(args: argparse.Namespace) -> registry_pb2.ReportPerformanceResponse | list[Any]:
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc

    async with channel(args) as node:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(node)
        registry = registry_pb2_grpc.RegistryServiceStub(node)
        match args.listing:
            case "performed":
                return await registry.ReportPerformance(
                    registry_pb2.ReportPerformanceRequest(record_id=args.record_id, performed_on=args.on),
                    timeout=args.timeout,
                )
            case "correct":
                applied = await inquiry.ApplyForCorrection(
                    inquiry_pb2.ApplyForCorrectionRequest(record_id=args.record_id, grounds=args.grounds),
                    timeout=args.timeout,
                )
                return [applied.application]
            case "corrections":
                pending = await registry.ListCorrectionApplications(
                    registry_pb2.ListCorrectionApplicationsRequest(overdue_only=args.overdue), timeout=args.timeout
                )
                return list(pending.applications)
            case "my-corrections":
                mine = await inquiry.ListMyCorrections(inquiry_pb2.ListMyCorrectionsRequest(), timeout=args.timeout)
                return list(mine.applications)
        reviewed = await registry.ReviewCorrection(
            registry_pb2.ReviewCorrectionRequest(
                application_id=args.application_id, upheld=args.listing == "uphold-correction", reason=args.reason
            ),
            timeout=args.timeout,
        )
        return [reviewed.application]


def performance_view(response: registry_pb2.ReportPerformanceResponse) -> Text:
    from share_gateway.cli.console import line

    record = response.record
    late = " (LATE: after the deletion day)" if response.late else ""
    return line(
        f"entry {record.origin_region}/{record.record_id} deleted: performed {response.performed_on}, "
        f"due by {response.deletion_due}{late}"
    )


def correction_view(application: common_pb2.CorrectionApplication) -> Group:
    """One application: the grounds, the review day (and whether it passed) and the review."""
    from rich.console import Group

    from share_gateway.cli.console import line

    rows: list[tuple[str, str]] = [
        ("record", f"{application.origin_region}/{application.record_id}"),
        ("subject", application.subject.identifier),
        ("grounds", application.grounds),
        ("applied", application.applied_on),
        (
            "review due",
            f"{application.review_due} ({application.basis})" if application.basis else application.review_due,
        ),
    ]
    if application.reviewed_on:
        rows.append(("reviewed", application.reviewed_on))
    if application.reason:
        rows.append(("reasons", application.reason))
    if application.deletion_due:
        rows.append(("deleted by", application.deletion_due))
    if application.overdue:
        rows.append(("OVERDUE", "the review day passed"))
    header = f"correction {application.application_id}: {_state(application.state)}"
    return Group(line(header), *(line(f"  {name:<11} {value}") for name, value in rows))


def corrections_view(applications: Sequence[common_pb2.CorrectionApplication]) -> Group:
    from rich.console import Group, RenderableType

    from share_gateway.cli.console import line, table

    parts: list[RenderableType] = [line(f"{len(applications)} correction application(s)")]
    if applications:
        rows = [
            (a.application_id, a.record_id, _state(a.state), a.review_due, "yes" if a.overdue else "")
            for a in applications
        ]
        parts.append(table(["application", "record", "state", "review due", "overdue"], rows))
    return Group(*parts)


def _state(state: common_pb2.CorrectionState.ValueType) -> str:
    from share_gateway.v1 import common_pb2

    return common_pb2.CorrectionState.Name(state).removeprefix("CORRECTION_STATE_").lower()


def cmd_debtor_list(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show

    result = asyncio.run(_run(args))
    if not isinstance(result, list):
        show(performance_view(result))
    elif args.listing == "corrections":
        show(corrections_view(result))
    else:
        # The party reads each of its applications in full: the review's reasons included.
        show(*(correction_view(application) for application in result))
