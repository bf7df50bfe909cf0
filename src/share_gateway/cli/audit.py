"""``share-gateway audit``: what compliance officers run, on a node's database or over gRPC, or offline."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from share_gateway.cli import audit_offline, audit_redact

if TYPE_CHECKING:
    import grpc

    from share_gateway.cli.common import Commands
    from share_gateway.crypto.keys import KeyRing
    from share_gateway.v1 import compliance_pb2


class AuditFailed(Exception):
    """The log or a proof did not verify: the message says where."""


def add_commands(commands: Commands) -> None:
    audit = commands.add_parser("audit", help="review and verify the accountability log").add_subparsers(
        dest="audit", required=True
    )
    audit_offline.add_commands(audit)
    audit_redact.add_commands(audit)
    checkpoint = audit.add_parser(
        "checkpoint",
        help="fetch the node's latest signed checkpoint, verify it and keep it (for audit verify --checkpoint)",
    )
    _officer_options(checkpoint)
    checkpoint.add_argument("--out", type=Path, required=True, help="where to keep it (the signed note, as published)")
    checkpoint.add_argument("--force", action="store_true", help="replace --out if it exists")
    checkpoint.add_argument("--region", help="the region whose log it must be (default: the one it names)")
    audit_offline.trust_options(checkpoint, "required with --manifest")
    checkpoint.set_defaults(run=cmd_checkpoint)
    search = audit.add_parser("search", help="search the log (compliance officers)")
    _officer_options(search)
    _filter_options(search)
    search.add_argument(
        "--details", action="store_true", help="also each event's details (a grant's document, id and scope, ...)"
    )
    search.set_defaults(run=cmd_search)
    prove = audit.add_parser("prove", help="fetch and verify an inclusion or consistency proof")
    _officer_options(prove)
    prove.add_argument("--node-key", required=True, help="REGION=signing.pub")
    prove.add_argument("--event-id", help="the entry to prove, by its event id")
    prove.add_argument("--leaf", type=int, help="the entry to prove, by its leaf index")
    prove.add_argument(
        "--consistency", type=int, metavar="FROM_SIZE", help="prove the log extends its checkpoint of this size"
    )
    prove.add_argument("--tree-size", type=int, default=0, help="a published checkpoint's size (default: latest)")
    prove.add_argument(
        "--out",
        type=Path,
        help="write the proof: an inclusion proof as a C2SP .tlog-proof, a consistency proof as a "
        "share-gateway/tlog-consistency@v1 file (both verify offline with audit verify-proof)",
    )
    prove.set_defaults(run=cmd_prove)
    export = audit.add_parser(
        "export",
        help="export events with proofs as an offline-verifiable bundle; for --subject or --requester alone "
        "(with --since/--until at most) the bundle also proves it holds every event about them",
    )
    _officer_options(export)
    _filter_options(export)
    export.set_defaults(limit=0)  # every matching event: a complete export is never cut short
    export.add_argument("--out", type=Path, required=True, help="where to write the bundle (JSON)")
    export.set_defaults(run=cmd_export)


def _officer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--node", required=True, help="host:port of the node's mTLS port")
    parser.add_argument(
        "--identity", type=Path, required=True, help="the officer's directory: tls.crt, tls.key, ca.crt"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline of each call in seconds (default: 30)")


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--actor", "--requester", dest="actor", help="sgw://institution/<USCC>: who acted")
    parser.add_argument("--subject", help="USCC or resident ID the events are about")
    parser.add_argument("--purpose", help="only events of this catalog purpose")
    parser.add_argument("--outcome", choices=["allowed", "denied"], help="only allowed or only denied events")
    parser.add_argument("--kind", help="inquiry, record_submitted, audit, ...")
    parser.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="only events logged from the start of this day, UTC (ISO 8601 date)",
    )
    parser.add_argument(
        "--until",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="only events logged before the start of this day, UTC (ISO 8601 date)",
    )
    parser.add_argument("--limit", type=int, default=100, help="at most this many events (export: all by default)")


def _node_key(spec: str) -> tuple[str, KeyRing]:
    """``REGION=signing.pub``: the log's origin (its key name) and a ring with its key."""
    from share_gateway.crypto.keys import KeyRing, VerifyingKey
    from share_gateway.domain.key_names import node_key_name

    region, sep, path = spec.partition("=")
    if not sep:
        raise AuditFailed(f"--node-key wants REGION=PATH to the node's signing.pub, not {spec!r}")
    name = node_key_name(region)
    return name, KeyRing([VerifyingKey.from_pem(name, Path(path).read_bytes())])


def _filter(args: argparse.Namespace) -> compliance_pb2.EventFilter:
    from share_gateway.api.compliance import query_from_wire
    from share_gateway.v1 import compliance_pb2

    wire = compliance_pb2.EventFilter(
        actor=args.actor or "",
        subject_identifier=args.subject or "",
        purpose=args.purpose or "",
        outcome=args.outcome or "",
        kind=args.kind or "",
    )
    if args.since:
        wire.since.FromDatetime(datetime.combine(args.since, datetime.min.time(), UTC))
    if args.until:
        wire.until.FromDatetime(datetime.combine(args.until, datetime.min.time(), UTC))
    query_from_wire(wire)  # the same conversion the node applies: fail early on what it would refuse
    return wire


def _channel(args: argparse.Namespace) -> grpc.aio.Channel:
    from share_gateway.client import credentials, open_channel

    files = args.identity
    return open_channel(args.node, credentials(files / "tls.crt", files / "tls.key", files / "ca.crt"))


async def _search(args: argparse.Namespace) -> list[compliance_pb2.LoggedEvent]:
    from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc

    async with _channel(args) as channel:
        stub = compliance_pb2_grpc.ComplianceServiceStub(channel)
        found: list[compliance_pb2.LoggedEvent] = []
        request = compliance_pb2.SearchEventsRequest(filter=_filter(args), page_size=min(args.limit, 1000))
        while len(found) < args.limit:
            token = ""
            async for message in stub.SearchEvents(request, timeout=args.timeout):
                found += message.events
                token = message.next_page_token or token
            if not token:
                break
            request.page_token = token
        return found[: args.limit]


def cmd_search(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show, table
    from share_gateway.domain.canonical import parse_json
    from share_gateway.domain.events import summarise

    rows = []
    for logged in asyncio.run(_search(args)):
        summary = summarise(logged.event)
        row: tuple[object, ...] = (
            logged.leaf_index,
            summary.at.strftime("%Y-%m-%d %H:%M:%S"),
            summary.kind,
            summary.actor.removeprefix("sgw://"),
            summary.subject_id or ("(redacted)" if logged.redacted else ""),
            summary.purpose,
            summary.outcome,
        )
        if args.details:
            details = parse_json(logged.event).get("details") or {}
            row += ("; ".join(f"{key}={value}" for key, value in sorted(details.items())),)
        rows.append(row)
    headers = ["leaf", "at (UTC)", "kind", "actor", "subject", "purpose", "outcome"]
    show(table(headers + (["details"] if args.details else []), rows))
    show(f"{len(rows)} event(s)")


Proofs: TypeAlias = (
    "tuple[compliance_pb2.GetInclusionProofResponse | None, compliance_pb2.GetConsistencyProofResponse | None]"
)


async def _prove(args: argparse.Namespace) -> Proofs:
    from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc

    async with _channel(args) as channel:
        stub = compliance_pb2_grpc.ComplianceServiceStub(channel)
        inclusion = None
        consistency = None
        if args.event_id or args.leaf is not None:
            request = compliance_pb2.GetInclusionProofRequest(tree_size=args.tree_size)
            if args.event_id:
                request.event_id = args.event_id
            else:
                request.leaf_index = args.leaf
            inclusion = await stub.GetInclusionProof(request, timeout=args.timeout)
        if args.consistency is not None:
            consistency = await stub.GetConsistencyProof(
                compliance_pb2.GetConsistencyProofRequest(from_size=args.consistency, to_size=args.tree_size),
                timeout=args.timeout,
            )
        return inclusion, consistency


def cmd_prove(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.common import CommandError
    from share_gateway.cli.console import show
    from share_gateway.ledger.checkpoint import TlogProof, open_checkpoint
    from share_gateway.ledger.hashing import leaf_hash
    from share_gateway.ledger.proof_files import ConsistencyProof
    from share_gateway.ledger.verify import verify_consistency, verify_inclusion

    if not (args.event_id or args.leaf is not None or args.consistency is not None):
        raise AuditFailed("name an entry (--event-id or --leaf) or --consistency FROM_SIZE")
    if args.out and (args.event_id or args.leaf is not None) and args.consistency is not None:
        raise CommandError("--out writes one proof: ask for the inclusion proof or the consistency proof, not both")
    origin, keys = _node_key(args.node_key)
    inclusion, consistency = asyncio.run(_prove(args))
    if inclusion is not None:
        checkpoint = open_checkpoint(inclusion.checkpoint, keys, origin)
        verify_inclusion(
            inclusion.leaf_index, checkpoint.size, leaf_hash(inclusion.event), list(inclusion.proof), checkpoint.root
        )
        show(f"leaf {inclusion.leaf_index} is in the log of size {checkpoint.size}, signed by {origin}: verified")
        if args.out:
            args.out.write_bytes(TlogProof.parse(inclusion.tlog_proof).encode())
            show(f"tlog-proof written to {args.out}")
    if consistency is not None:
        old = open_checkpoint(consistency.from_checkpoint, keys, origin)
        new = open_checkpoint(consistency.to_checkpoint, keys, origin)
        verify_consistency(old.size, new.size, old.root, new.root, list(consistency.proof))
        show(f"the log of size {new.size} extends the one of size {old.size}: verified")
        if args.out:
            written = ConsistencyProof(consistency.from_checkpoint, consistency.to_checkpoint, tuple(consistency.proof))
            args.out.write_bytes(written.encode())
            show(f"consistency proof written to {args.out} (verify it offline: share-gateway audit verify-proof)")


async def _export(args: argparse.Namespace) -> int:
    """Stream the bundle into ``--out`` piece by piece (any size); a node without the stream sends it whole."""
    import grpc

    from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc

    async with _channel(args) as channel:
        stub = compliance_pb2_grpc.ComplianceServiceStub(channel)
        request = compliance_pb2.StreamExportBundleRequest(filter=_filter(args), limit=args.limit)
        events = 0
        try:
            with args.out.open("wb") as out:
                async for piece in stub.StreamExportBundle(request, timeout=args.timeout):
                    out.write(piece.data)
                    events = piece.events or events
        except grpc.aio.AioRpcError as error:
            if error.code() is not grpc.StatusCode.UNIMPLEMENTED:
                raise
            whole = await stub.ExportBundle(
                compliance_pb2.ExportBundleRequest(filter=_filter(args), limit=args.limit), timeout=args.timeout
            )
            args.out.write_bytes(whole.bundle)
            events = whole.events
        return events


def cmd_export(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show

    events = asyncio.run(_export(args))
    show(f"{events} event(s) with their proofs written to {args.out}")
    with args.out.open("rb") as written:
        complete = written.read(16) == b'{"completeness":'
    if complete:
        show("the bundle proves it is complete: audit verify-bundle checks it holds every event about the key")
    else:
        show("completeness not proven: only an export for --subject or --requester alone (and a time range) proves it")


async def _latest_checkpoint(args: argparse.Namespace) -> bytes:
    from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc

    async with _channel(args) as channel:
        stub = compliance_pb2_grpc.ComplianceServiceStub(channel)
        answer = await stub.GetCheckpoint(compliance_pb2.GetCheckpointRequest(), timeout=args.timeout)
        return answer.checkpoint


def cmd_checkpoint(args: argparse.Namespace) -> None:
    """Fetch, verify with the key the manifest (or --node-key) gives for the log it names, and keep it."""
    import asyncio

    from share_gateway.cli.common import CommandError
    from share_gateway.cli.console import show
    from share_gateway.ledger.checkpoint import open_checkpoint_signed
    from share_gateway.ledger.cosignatures import check_cosignatures
    from share_gateway.ledger.proof_files import read_checkpoint

    if not args.node_key and not args.manifest:
        raise CommandError("give the node's key (--node-key REGION=signing.pub) or the federation's --manifest")
    if args.out.exists() and not args.force:
        raise CommandError(f"{args.out} exists: keep each checkpoint in a file of its own (or --force)")
    note = asyncio.run(_latest_checkpoint(args))
    origin = read_checkpoint(note, "the node's answer").origin
    region = origin.rsplit("/", 1)[-1]
    if args.region and args.region != region:
        raise AuditFailed(f"the node answered with a checkpoint of {origin}, not of region {args.region}")
    trust = audit_offline.trust_of(args, region)
    checkpoint, _ = open_checkpoint_signed(note, trust.keys, origin)
    cosigners = check_cosignatures(note, trust.witnesses).valid if trust.witnesses else frozenset()
    required = args.witnesses or 0  # the latest checkpoint is often not cosigned yet: demanded only when asked
    if len(cosigners) < required:
        raise AuditFailed(
            f"the checkpoint of size {checkpoint.size} is cosigned by {len(cosigners)} of the {required} "
            "witness(es) required: not kept (ask again once the witnesses have cosigned it)"
        )
    args.out.write_bytes(note)
    by = f", cosigned by {', '.join(sorted(cosigners))}" if cosigners else ""
    show(
        f"the checkpoint of {origin} of size {checkpoint.size} verifies (signed by its log key{by}); kept in "
        f"{args.out}: give it to audit verify --checkpoint later to prove the history was not rewritten"
    )
