"""A hostile region in its own process: with its own node certificate and signing key (both genuine, so every
signature verifies), it calls one peer's PeerService to squat ids and list companies it has no record about.

    python -m tests.hostile_region <federation dir> <region> <target port> <action> [arguments]

* ``squat <record id> <company>``: publish a record of its own under another region's record id;
* ``publish <record id> <company>``: publish a record of its own, honestly, under an id of its own;
* ``list <record id> <company>``: share a listing in force about the company, resting on its record
  ``<record id>`` (held by the peer or not) but naming the company given (its record's subject or not).

It prints one line: ``acknowledged`` or ``refused <reason>: <details>``.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import open_catalog
from share_gateway.crypto.disclosure import disclose, seal_record
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.key_names import node_key_name
from share_gateway.domain.listing_grounds import propose
from share_gateway.domain.listings import LISTING_TYPE, ListingState
from share_gateway.domain.records import Record, admit_record
from share_gateway.federation.wire import disclosure_to_wire, envelope_to_wire
from share_gateway.v1 import peer_pb2
from tests.federation import peer_call
from tests.support import debtor_request, entity

LIST = "serious_untrustworthy"
CONDUCT = "refuses_statutory_obligation"


class HostileRegion:
    def __init__(self, layout: Layout, region: str, target: int) -> None:
        self.layout, self.region, self.target = layout, region, target
        self.key = SigningKey.load(node_key_name(region), layout.node_dir(region) / "signing.key")
        self.catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([layout.authority().verifying_key])).catalog

    def record(self, record_id: str, company: str) -> Record:
        """A dishonest judgment debtor record of this region (shared nationwide), about ``company``."""
        draft = draft_from_wire(debtor_request(f"hostile-{uuid.uuid4()}", subject=entity(company)))
        return admit_record(
            self.catalog,
            draft,
            record_id=record_id,
            origin_region=self.region,
            submitted_by=f"sgw://institution/court-{self.region}",
            now=datetime.now(UTC),
        )

    async def publish(self, record_id: str, company: str) -> None:
        record = self.record(record_id, company)
        disclosure = disclose(seal_record(record, self.key), frozenset(record.fields))
        request = peer_pb2.PublishRequest(record=disclosure_to_wire(disclosure))
        await peer_call(self.layout, self.target, self.region).Publish(request, timeout=10)

    async def share_listing(self, record_id: str, company: str) -> None:
        """A listing in force resting on this region's record ``record_id``, naming ``company`` as its subject."""
        grounds = self.record(record_id, company)
        now = datetime.now(UTC)
        # Proposed as on a listable penalty, then put on the debtor record (a type whose listings a peer checks
        # against the record it holds): a hostile region signs whatever it likes.
        listable = replace(grounds, record_type="administrative_penalty", fields={"conduct_code": CONDUCT})
        proposed = propose(
            self.catalog,
            listable,
            LIST,
            listing_id=str(uuid.uuid4()),
            actor=grounds.submitted_by,
            document="失信决定书",
            reason="列入严重失信主体名单",
            removal_conditions="履行义务",
            remedies="行政复议",
            now=now,
            calendar=WorkingCalendar(),
        )
        listed = replace(
            proposed, record_type=grounds.record_type, state=ListingState.LISTED, listed_on=now.date(), version=2
        )
        signed = Envelope.seal(self.key, LISTING_TYPE, listed.to_bytes())
        request = peer_pb2.ShareListingRequest(listing=envelope_to_wire(signed))
        await peer_call(self.layout, self.target, self.region).ShareListing(request, timeout=10)


def _reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)
    for detail in () if status is None else status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return str(error.code())


async def main(root: Path, region: str, target: int, action: str, record_id: str, company: str) -> None:
    Subject.parse("legal_entity", company)  # a valid USCC, or the process fails before calling anyone
    hostile = HostileRegion(Layout(root), region, target)
    call = {"squat": hostile.publish, "publish": hostile.publish, "list": hostile.share_listing}[action]
    try:
        await call(record_id, company)
    except grpc.aio.AioRpcError as error:
        print(f"refused {_reason(error)}: {error.details()}", flush=True)
    else:
        print("acknowledged", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]))
