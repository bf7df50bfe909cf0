"""``inquire``: a requester asks about a subject for a purpose, checks what comes back, and proves its receipt;
``inquire watch-revocations`` prints the revocations of records it received as they happen."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, channel, client_options, language, node_keys

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.crypto.keys import KeyRing
    from share_gateway.v1 import inquiry_pb2


def add_commands(commands: Commands) -> None:
    inquire = commands.add_parser(
        "inquire",
        help="ask about a subject for a purpose (requesters); `inquire prove` proves an answer's receipt",
        description="Ask with --node, --identity, --subject and --purpose; or prove a receipt: inquire prove ID.",
    )
    # --node, --subject and --purpose are checked by cmd_inquire: `inquire prove` has options of its own.
    client_options(inquire, node_required=False)
    inquire.add_argument(
        "--subject", help="USCC, resident ID, legal_entity:<USCC> or individual:<resident ID> (required to inquire)"
    )
    inquire.add_argument("--purpose", help="a purpose of the catalog you hold a grant for (required to inquire)")
    inquire.add_argument(
        "--consent-file", type=Path, help="the subject's signed consent (`consent sign`), where the purpose needs it"
    )
    inquire.add_argument("--consent", help="a text reference only: refused where the purpose needs consent")
    inquire.add_argument(
        "--federation",
        action="store_true",
        help="ask every region of the federation (scope INQUIRY_SCOPE_FEDERATION): a table shows how each answered",
    )
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
    steps = inquire.add_subparsers(
        dest="step",
        metavar="{prove,watch-revocations}",
        help="prove a receipt, or watch the revocations of records you received, instead of inquiring",
    )
    prove = steps.add_parser(
        "prove", help="fetch, verify and save the log's inclusion proof of an event you made (an inquiry's receipt)"
    )
    prove.add_argument("event_id", metavar="EVENT_ID", help="the event's id: the inquiry id an answer shows")
    client_options(prove)
    prove.add_argument(
        "--node-key", required=True, metavar="REGION=signing.pub", help="the node's public signing key (signing.pub)"
    )
    prove.add_argument("--out", type=Path, required=True, help="where to write the proof (C2SP tlog-proof text)")
    prove.add_argument(
        "--bundle", type=Path, help="also write the event with its proof as a bundle `audit verify-bundle` checks"
    )
    prove.add_argument("--tree-size", type=int, default=0, help="a published checkpoint's size (default: latest)")
    prove.set_defaults(run=cmd_prove)
    watch = steps.add_parser(
        "watch-revocations",
        help="print each revocation of a record you received as the node keeps it (requesters); Ctrl-C stops",
    )
    client_options(watch)
    watch.add_argument("--after", type=int, default=0, help="the last position you received (default: the start)")
    watch.add_argument("--count", type=int, default=0, help="stop after this many (default: watch until stopped)")
    watch.add_argument("--ack", action="store_true", help="acknowledge each once printed: you deleted the record")
    watch.add_argument(
        "--node-key",
        action="append",
        default=[],
        metavar="REGION=signing.pub",
        help="a node's public signing key: verify the revocations it signed (repeat; default: nothing verified)",
    )
    watch.set_defaults(run=cmd_watch_revocations)


async def _inquire(args: argparse.Namespace) -> inquiry_pb2.InquireResponse:
    from share_gateway.client import consent_from_file, subject_from_text
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    request = inquiry_pb2.InquireRequest(
        subject=subject_from_text(args.subject),
        purpose=args.purpose,
        consent_reference=args.consent or "",
        record_types=args.record_type,
        scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION if args.federation else inquiry_pb2.INQUIRY_SCOPE_LOCAL,
    )
    if args.consent_file:
        try:
            request.consent.CopyFrom(consent_from_file(args.consent_file.read_bytes()))
        except (OSError, ValueError) as error:
            raise CommandError(f"{args.consent_file}: {error}") from error
    async with channel(args) as node:
        return await inquiry_pb2_grpc.InquiryServiceStub(node).Inquire(request, timeout=args.timeout)


def cmd_inquire(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import answer_view

    missing = [option for option in ("node", "subject", "purpose") if not getattr(args, option)]
    if missing:
        raise CommandError(f"inquire needs {', '.join('--' + m for m in missing)} (or: inquire prove EVENT_ID ...)")
    show(answer_view(asyncio.run(_inquire(args)), node_keys(args.node_key), language(args)))


async def _receipt_proof(args: argparse.Namespace) -> inquiry_pb2.GetReceiptProofResponse:
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    request = inquiry_pb2.GetReceiptProofRequest(event_id=args.event_id, tree_size=args.tree_size)
    async with channel(args) as node:
        stub = inquiry_pb2_grpc.InquiryServiceStub(node)
        response: inquiry_pb2.GetReceiptProofResponse = await stub.GetReceiptProof(request, timeout=args.timeout)
        return response


def cmd_prove(args: argparse.Namespace) -> None:
    """Verify the proof before saving it: a file that says "proof" must be one, under the node's own key."""
    import asyncio

    from share_gateway.cli.console import show, warn
    from share_gateway.cli.messages import say
    from share_gateway.domain.events import Event
    from share_gateway.domain.key_names import node_key_name
    from share_gateway.ledger.bundle import BundleEntry, encode_bundle
    from share_gateway.ledger.checkpoint import TlogProof

    lang = language(args)
    region = args.node_key.partition("=")[0]
    keys = node_keys([args.node_key])
    if keys is None:
        raise CommandError("--node-key REGION=signing.pub is required")
    origin = node_key_name(region)
    answer = asyncio.run(_receipt_proof(args))
    proof = TlogProof.parse(answer.tlog_proof)
    if answer.redacted:
        checkpoint = proof.verify_checkpoint(keys, origin)
        warn(say("redacted_stub", lang, event_id=args.event_id))
    else:
        if Event.from_bytes(answer.event).event_id != args.event_id:
            raise CommandError(f"the node proved another event than {args.event_id}")
        checkpoint = proof.verify(answer.event, keys, origin)
    args.out.write_bytes(proof.encode())
    show(say("proved_leaf", lang, event_id=args.event_id, index=proof.index, origin=origin, size=checkpoint.size))
    show(say("proof_written", lang, path=args.out))
    if not args.bundle:
        show(say("bundle_hint", lang))
    elif answer.redacted:
        warn(say("no_bundle", lang))
    else:
        args.bundle.write_bytes(encode_bundle(origin, [BundleEntry(proof.index, proof, event=answer.event)]))
        show(say("bundle_written", lang, bundle=args.bundle, node_key=args.node_key))


async def _watch_revocations(args: argparse.Namespace, keys: KeyRing | None) -> None:
    """Print each revocation as it comes (and acknowledge it with --ack); the stream's call has no deadline, each
    acknowledgement has --timeout. When the node ends the watch (UNAVAILABLE at shutdown), say where to resume."""
    import grpc

    from share_gateway.cli.console import line, show, warn
    from share_gateway.cli.messages import say
    from share_gateway.cli.views import revocations_view
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    cursor, seen, lang = args.after, 0, language(args)
    async with channel(args) as node:
        stub = inquiry_pb2_grpc.InquiryServiceStub(node)
        try:
            async for message in stub.WatchRevocations(inquiry_pb2.WatchRevocationsRequest(after=cursor)):
                show(revocations_view([message.entry], keys, lang))
                cursor, seen = message.entry.position, seen + 1
                if args.ack:
                    request = inquiry_pb2.AcknowledgeRevocationsRequest(cursor=cursor)
                    answer = await stub.AcknowledgeRevocations(request, timeout=args.timeout)
                    late = say("late_ack", lang) if answer.late else ""
                    show(line(say("acknowledged", lang, position=cursor, late=late)))
                if args.count and seen >= args.count:
                    return
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.UNAVAILABLE:
                warn(line(say("watch_ended", lang, position=cursor)))
            raise


def cmd_watch_revocations(args: argparse.Namespace) -> None:
    import asyncio

    asyncio.run(_watch_revocations(args, node_keys(args.node_key)))
