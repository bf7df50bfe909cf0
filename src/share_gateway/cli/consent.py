"""``consent``: sign a consent statement (the subject, or the requester attesting evidence it keeps), and, for a
subject, list the consents about it at a node and withdraw one (the withdrawal reaches every region)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from share_gateway.cli.common import CommandError, channel, client_options, language

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import inquiry_pb2


def add_commands(commands: Commands) -> None:
    consent = commands.add_parser(
        "consent", help="sign a subject's consent; list and withdraw the consents about you (subjects)"
    ).add_subparsers(dest="consent", required=True)
    sign = consent.add_parser(
        "sign",
        help="sign a consent statement with your certificate's key: as the subject, or --attested as the requester",
    )
    sign.add_argument("--identity", type=Path, required=True, help="the signer's directory (tls.crt, tls.key)")
    sign.add_argument("--subject", required=True, help="USCC, resident ID, legal_entity:<USCC> or individual:<ID>")
    sign.add_argument("--requester", required=True, help="the requester it is given to: sgw://institution/<USCC>")
    sign.add_argument("--purpose", action="append", required=True, help="a purpose it covers (repeat)")
    sign.add_argument(
        "--evidence", type=Path, required=True, help="the signed authorisation form: only its SHA-256 is signed"
    )
    sign.add_argument("--days", type=int, default=365, help="valid from now for this many days (default: 365)")
    sign.add_argument(
        "--attested", action="store_true", help="signed by the requester, attesting the evidence it keeps"
    )
    sign.add_argument("--out", type=Path, required=True, help="where to write the consent file")
    sign.set_defaults(run=cmd_consent_sign)

    listed = consent.add_parser("list", help="the consents about you the node registered")
    client_options(listed)
    listed.set_defaults(run=cmd_consent_list)

    revoke = consent.add_parser("revoke", help="withdraw one of your consents, at this node and every region")
    revoke.add_argument("consent_id", metavar="CONSENT_ID", help="the id `consent list` shows (32 hex digits)")
    client_options(revoke)
    revoke.set_defaults(run=cmd_consent_revoke)


def cmd_consent_sign(args: argparse.Namespace) -> None:
    import hashlib
    from datetime import UTC, datetime, timedelta

    from share_gateway.cli.console import show
    from share_gateway.cli.messages import say
    from share_gateway.client import consent_file
    from share_gateway.crypto.consent import sign_consent
    from share_gateway.domain.consent import ConsentStatement
    from share_gateway.domain.errors import InvalidInput
    from share_gateway.domain.identifiers import Subject
    from share_gateway.domain.principals import Identity

    if args.days < 1:
        raise CommandError("--days must be at least 1")
    kind, _, identifier = args.subject.rpartition(":")
    try:
        subject = Subject.parse(kind or _kind_of(identifier), identifier)
        Identity.from_uri(args.requester)
    except InvalidInput as error:
        raise CommandError(str(error)) from error
    now = datetime.now(UTC).replace(microsecond=0)
    statement = ConsentStatement(
        subject=subject,
        requester=args.requester,
        purposes=tuple(dict.fromkeys(args.purpose)),
        not_before=now,
        not_after=now + timedelta(days=args.days),
        evidence_sha256=hashlib.sha256(args.evidence.read_bytes()).hexdigest(),
        attested=args.attested,
    )
    signed = sign_consent(statement, (args.identity / "tls.key").read_bytes(), (args.identity / "tls.crt").read_bytes())
    args.out.write_bytes(consent_file(signed))
    show(say("consent_written", language(args), consent_id=signed.consent_id, path=args.out))


def _kind_of(identifier: str) -> str:
    from share_gateway.domain.errors import InvalidInput
    from share_gateway.domain.identifiers import Subject

    try:
        Subject.parse("individual", identifier)
    except InvalidInput:
        return "legal_entity"
    return "individual"


async def _list(args: argparse.Namespace) -> inquiry_pb2.ListMyConsentsResponse:
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    async with channel(args) as node:
        stub = inquiry_pb2_grpc.InquiryServiceStub(node)
        response: inquiry_pb2.ListMyConsentsResponse = await stub.ListMyConsents(
            inquiry_pb2.ListMyConsentsRequest(), timeout=args.timeout
        )
        return response


def cmd_consent_list(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import consents_view

    show(consents_view(asyncio.run(_list(args)).consents, language(args)))


async def _revoke(args: argparse.Namespace) -> inquiry_pb2.RevokeConsentResponse:
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

    async with channel(args) as node:
        stub = inquiry_pb2_grpc.InquiryServiceStub(node)
        response: inquiry_pb2.RevokeConsentResponse = await stub.RevokeConsent(
            inquiry_pb2.RevokeConsentRequest(consent_id=args.consent_id), timeout=args.timeout
        )
        return response


def cmd_consent_revoke(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.messages import say
    from share_gateway.cli.views import consents_view

    show(consents_view([asyncio.run(_revoke(args)).consent], language(args)))
    show(say("consent_withdrawn", language(args)))
