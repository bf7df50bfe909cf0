"""``listing``: the seriously-untrustworthy list. The recording agency proposes, notifies, hears the party's
objection and confirms; the party sees its listings and objects. The courts' list's own verbs (performance,
correction) are in ``cli.debtor_list``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from share_gateway.cli.common import channel, client_options, language
from share_gateway.cli.debtor_list import add_steps

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands
    from share_gateway.v1 import common_pb2


def add_commands(commands: Commands) -> None:
    listing = commands.add_parser(
        "listing", help="the lists: propose, hear, list; the courts' list: performance and correction"
    )
    steps = listing.add_subparsers(dest="listing", required=True)
    proposing = steps.add_parser("propose", help="propose listing the subject of one of your records")
    client_options(proposing)
    proposing.add_argument("--record-id", required=True, help="your record whose subject the listing is about")
    proposing.add_argument("--list", default="serious_untrustworthy", help="a list of the published catalog")
    proposing.add_argument("--document", required=True, help="number of the proposal document")
    proposing.add_argument("--reason", required=True, help="the facts and grounds of the proposal")
    proposing.add_argument("--removal-conditions", required=True, help="what ends the listing early")
    proposing.add_argument("--remedies", required=True, help="how the party may object, seek review or sue")
    proposing.set_defaults(run=cmd_listing)
    for name, text in (
        ("notify", "the party was told the reasons, basis and its rights (opens its objection window)"),
        ("uphold", "the party's objection holds: the proposal ends"),
        ("dismiss", "the party's objection fails: the listing may go ahead"),
        ("confirm", "list the party (after its window closed, or its objection was dismissed)"),
    ):
        step = steps.add_parser(name, help=text)
        client_options(step)
        step.add_argument("listing_id", help="the listing's id, as propose and list print it")
        step.add_argument("--document", required=True, help="number of this step's document")
        step.add_argument("--reason", required=True, help="why, as this step's document states it")
        step.set_defaults(run=cmd_listing)
    objecting = steps.add_parser("object", help="object to a listing about you, within your window")
    client_options(objecting)
    objecting.add_argument("listing_id", help="the listing's id, as mine prints it")
    objecting.add_argument("--statement", required=True, help="your statement and evidence")
    objecting.set_defaults(run=cmd_listing)
    showing = steps.add_parser("show", help="one listing (the recording agency or the party)")
    client_options(showing)
    showing.add_argument("listing_id", help="the listing's id")
    showing.set_defaults(run=cmd_listing)
    mine = steps.add_parser("mine", help="every listing about you this node holds")
    client_options(mine)
    mine.set_defaults(run=cmd_listing)
    listing_all = steps.add_parser("list", help="open listings on your records (the recording agency)")
    client_options(listing_all)
    listing_all.add_argument("--overdue", action="store_true", help="only those with a late step")
    listing_all.set_defaults(run=cmd_listing)
    # The courts' list of dishonest judgment debtors: its own verbs (performance, correction).
    add_steps(steps)


async def _listing(args: argparse.Namespace) -> list[common_pb2.Listing]:
    """One listing step: the recording agency proposes, notifies, reviews, confirms; the party objects."""
    from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc

    async with channel(args) as node:
        inquiry = inquiry_pb2_grpc.InquiryServiceStub(node)
        registry = registry_pb2_grpc.RegistryServiceStub(node)
        match args.listing:
            case "propose":
                proposed = await registry.ProposeListing(
                    registry_pb2.ProposeListingRequest(
                        record_id=args.record_id,
                        list_name=args.list,
                        document=args.document,
                        reason=args.reason,
                        removal_conditions=args.removal_conditions,
                        remedies=args.remedies,
                    ),
                    timeout=args.timeout,
                )
                return [proposed.listing]
            case "notify":
                told = await registry.NotifyListing(
                    registry_pb2.NotifyListingRequest(
                        listing_id=args.listing_id, document=args.document, reason=args.reason
                    ),
                    timeout=args.timeout,
                )
                return [told.listing]
            case "uphold" | "dismiss":
                reviewed = await registry.ReviewObjection(
                    registry_pb2.ReviewObjectionRequest(
                        listing_id=args.listing_id,
                        upheld=args.listing == "uphold",
                        document=args.document,
                        reason=args.reason,
                    ),
                    timeout=args.timeout,
                )
                return [reviewed.listing]
            case "confirm":
                confirmed = await registry.ConfirmListing(
                    registry_pb2.ConfirmListingRequest(
                        listing_id=args.listing_id, document=args.document, reason=args.reason
                    ),
                    timeout=args.timeout,
                )
                return [confirmed.listing]
            case "object":
                objected = await inquiry.ObjectToListing(
                    inquiry_pb2.ObjectToListingRequest(listing_id=args.listing_id, statement=args.statement),
                    timeout=args.timeout,
                )
                return [objected.listing]
            case "show":
                got = await registry.GetListing(
                    registry_pb2.GetListingRequest(listing_id=args.listing_id), timeout=args.timeout
                )
                return [got.listing]
            case "mine":
                mine = await inquiry.ListMyListings(inquiry_pb2.ListMyListingsRequest(), timeout=args.timeout)
                return list(mine.listings)
        listed = await registry.ListListings(
            registry_pb2.ListListingsRequest(overdue_only=args.overdue), timeout=args.timeout
        )
        return list(listed.listings)


def cmd_listing(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.console import show
    from share_gateway.cli.views import listing_view, listings_view

    listings = asyncio.run(_listing(args))
    lang = language(args)
    show(listings_view(listings, lang) if args.listing in {"list", "mine"} else listing_view(listings[0], lang))
