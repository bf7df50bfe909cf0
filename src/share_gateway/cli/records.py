"""``submit``: an agency records a decision about a subject at its node."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from share_gateway.cli.common import assignments, channel, client_options, language
from share_gateway.cli.messages import say

if TYPE_CHECKING:
    import grpc

    from share_gateway.cli.common import Commands
    from share_gateway.v1 import registry_pb2


def add_commands(commands: Commands) -> None:
    submit = commands.add_parser("submit", help="submit a record (agencies)")
    client_options(submit)
    record_options(submit)
    submit.set_defaults(run=cmd_submit)


def record_options(submit: argparse.ArgumentParser) -> None:
    """The options that describe a record in full: for a submission, and for a correction on a dispute."""
    submit.add_argument("--type", required=True, help="the record type, as the catalog names it")
    submit.add_argument("--subject", required=True, help="legal_entity:<USCC> or individual:<resident ID>")
    submit.add_argument(
        "--field", action="append", default=[], metavar="NAME=VALUE", help="a field of the record type (repeat)"
    )
    submit.add_argument(
        "--document",
        help="the legal document the record rests on: "
        "number=..,issuer=..,kind=..,issued_on=YYYY-MM-DD,effective_on=YYYY-MM-DD",
    )
    submit.add_argument("--severity", help="one of the record type's severity levels, where the catalog sets them")
    submit.add_argument(
        "--disclosure-days", type=int, help="days of disclosure within the severity's range (default: its maximum)"
    )
    submit.add_argument(
        "--settled-on",
        metavar="YYYY-MM-DD",
        help="the day the conduct ended (the debt was settled), for a type whose period runs from it (loan_default)",
    )
    submit.add_argument(
        "--request-id", help="chosen by the agency: a retry with the same id records once (default: a new one)"
    )


async def record_request(args: argparse.Namespace, node: grpc.aio.Channel) -> registry_pb2.SubmitRecordRequest:
    """The record the options describe, each field typed as the node's catalog defines it."""
    from share_gateway.client import subject_from_text, typed_value
    from share_gateway.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2, registry_pb2

    catalog = await catalog_pb2_grpc.CatalogServiceStub(node).GetCatalog(
        catalog_pb2.GetCatalogRequest(), timeout=args.timeout
    )
    types = {t.name: {f.name: f.type for f in t.fields} for t in catalog.record_types}.get(args.type, {})
    request = registry_pb2.SubmitRecordRequest(
        request_id=args.request_id or f"cli-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}",
        record_type=args.type,
        subject=subject_from_text(args.subject),
        fields={n: typed_value(types.get(n), v) for n, v in assignments(args.field, "--field").items()},
        severity=args.severity or "",
    )
    if args.document:
        request.legal_document.CopyFrom(common_pb2.LegalDocument(**assignments(args.document.split(","), "--document")))
    if args.disclosure_days is not None:
        request.disclosure_days = args.disclosure_days
    if args.settled_on:
        request.settled_on = args.settled_on
    return request


async def _submit(args: argparse.Namespace) -> registry_pb2.SubmitRecordResponse:
    from share_gateway.v1 import registry_pb2_grpc

    async with channel(args) as node:
        request = await record_request(args, node)
        return await registry_pb2_grpc.RegistryServiceStub(node).SubmitRecord(request, timeout=args.timeout)


def cmd_submit(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import record_view

    record = asyncio.run(_submit(args)).record
    lang = language(args)
    show(record_view(record, lead=say("recorded_lead", lang), language=lang))
