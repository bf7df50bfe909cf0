"""What peers deliver here: their records' publications, revocations, listings and where disputes about them stand.

Each is taken only from its origin (signed with that region's key, for a
record of that region), verified, checked against the catalog in force here,
stored with the event that logs it in one transaction, and answered with this
node's signed receipt (``FederationDesk.acknowledge``). A publication and its
revocation may cross on the way: whichever comes second finds the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from share_gateway.crypto.disclosure import Disclosure, RecordStatement, SealedRecord, verify_disclosure
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.conformance import describe_violations, nonconformities
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, DisputeMark, copy_of
from share_gateway.domain.errors import Refused
from share_gateway.domain.events import DisclosedRecord, Event, EventKind
from share_gateway.domain.identifiers import validate_item_id
from share_gateway.domain.listings import LISTING_TYPE, Listing
from share_gateway.domain.policy import Denial
from share_gateway.domain.records import Record, RecordStatus
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.runtime import node_principal, record_ref
from share_gateway.store.records import publication_key
from share_gateway.store.unit_of_work import UnitOfWork


@dataclass
class PeerIntake:
    """Takes what a peer delivers; the federation desk verifies signatures and signs the receipts."""

    desk: FederationDesk

    async def receive(self, region: str, disclosure: Disclosure) -> Envelope:
        """Store a record a peer published (only its own, of a nationally shared type); return the signed receipt."""
        try:
            verified = verify_disclosure(disclosure, self.desk.manifest.manifest.keys)
        except VerificationError as error:
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the published record does not verify: {error}") from error
        statement = verified.statement
        validate_item_id(statement.record_id, "record.statement.record_id")
        # Any key the region signed records with (a courier redelivers statements signed before a rotation);
        # verify_disclosure has refused a retired key on a record dated after its retirement.
        node = self.desk.manifest.manifest.nodes.get(region)
        signed_by_region = node is not None and disclosure.statement.key_id in node.signing_keys
        if statement.origin_region != region or not signed_by_region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region publishes only its own records, signed with its key")
        if statement.record_type not in self.desk.shared_types or not verified.complete(self._required(statement)):
            raise Refused(Denial.NOT_SHARED, f"{statement.record_type} is not shared nationwide, or incomplete")
        publisher = node_principal(region)
        record = record_of(statement, verified.fields, publisher.uri)
        # A region still on an older catalog may publish what this one no longer admits: refused, retried
        # until the origin's own conformance sweep quarantines it (and its courier stops sending it).
        faults = nonconformities(self.desk.catalog.catalog, record)
        if faults:
            raise Refused(
                Denial.CATALOG_MISMATCH, f"the catalog in force no longer admits it: {describe_violations(faults)}"
            )
        sealed = SealedRecord(disclosure.statement, {o.name: o for o in disclosure.fields})
        return await self.desk.acknowledge(
            EventKind.RECORD_RECEIVED,
            region,
            record.subject,
            record_ref(record, tuple(sorted(record.fields))),
            disclosure.statement.payload,
            lambda event: self._keep_published(record, sealed, event),
        )

    def _keep_published(self, record: Record, sealed: SealedRecord, event: Event) -> None:
        """Store a published record with its event; a repeat logs only its event. A revocation its origin sent
        before the record itself (deliveries may cross) applies at once."""
        store = self.desk.runtime.store

        def keep(tx: UnitOfWork) -> None:
            stored = store.records.add(tx, record, sealed, publication_key(record.origin_region, record.record_id))
            store.events.append(tx, [event])  # holds the append lock: a crossing revocation waits for it
            if stored.record is record:
                held = store.revocations.held_status(tx, record.record_id, record.origin_region)
                if held is not None:
                    store.records.revoke_copy(tx, record.record_id, record.origin_region, held, event.at)

        store.write(keep)

    async def revoke(self, region: str, envelope: Envelope) -> Envelope:
        """Take a revocation its origin signed: stop disclosing any copy, keep it for the feed, sign a receipt."""
        revocation = self.desk.opened(region, envelope, REVOCATION_TYPE, Revocation.from_bytes, "revocation")
        validate_item_id(revocation.record_id, "revocation.record_id")
        if revocation.origin_region != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region revokes only its own records")
        if revocation.status not in (RecordStatus.REPAIRED, RecordStatus.WITHDRAWN):
            raise Refused(
                Denial.PEER_NOT_ADMITTED, f"a revocation ends disclosure; it cannot make a record {revocation.status}"
            )
        # The region's own record under that id: another region's record of the same id is not this one.
        copy = await self.desk.runtime.read(self.desk.runtime.store.records.get, region, revocation.record_id)
        if copy is not None and (
            copy.record.subject != revocation.subject or copy.record.record_type != revocation.record_type
        ):
            raise Refused(Denial.PEER_NOT_ADMITTED, "the revocation names another subject or type than the record")
        return await self.desk.acknowledge(
            EventKind.RECORD_REVOKED,
            region,
            revocation.subject,
            DisclosedRecord(revocation.record_id, revocation.record_type, region),
            envelope.payload,
            lambda event: self._keep_revocation(revocation, envelope, event),
            status=revocation.status.value,
        )

    async def receive_listing(self, region: str, envelope: Envelope) -> Envelope:
        """Take a listing its origin signed and keep it if newer; sign a receipt. A list applies nationwide, so
        listings of every record type arrive; one of a nationally shared type must rest on a record of that
        origin held here and about that record's subject (a record of another type never leaves its origin, which
        answers for the listing with its signature and its log)."""
        listing = self.desk.opened(region, envelope, LISTING_TYPE, Listing.from_bytes, "listing")
        validate_item_id(listing.listing_id, "listing.listing_id")
        validate_item_id(listing.record_id, "listing.record_id")
        if listing.origin_region != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region shares only its own listings")
        catalog = self.desk.policy.catalog
        if listing.record_type not in catalog.record_types or listing.list_name not in catalog.lists:
            raise Refused(Denial.NOT_SHARED, f"{listing.list_name} on {listing.record_type} is not of this catalog")
        if listing.record_type in self.desk.shared_types:
            # A listing stands on its origin's record where that record is shared: a region cannot list anyone.
            record = await self.desk.runtime.read(self.desk.runtime.store.records.get, region, listing.record_id)
            if record is None:
                raise Refused(
                    Denial.RECORD_NOT_HELD, f"record {listing.record_id} of region {region} is not held here (yet)"
                )
            if (record.record.subject, record.record.record_type) != (listing.subject, listing.record_type):
                raise Refused(Denial.LISTING_MISMATCH, "the listing names another subject or type than its record")
        return await self.desk.acknowledge(
            EventKind.LISTING_RECEIVED,
            region,
            listing.subject,
            DisclosedRecord(listing.record_id, listing.record_type, region),
            envelope.payload,
            lambda event: self._keep_listing(listing, event),
            listing_id=listing.listing_id,
            list=listing.list_name,
            state=listing.state.value,
            version=str(listing.version),
        )

    async def receive_dispute(self, region: str, envelope: Envelope) -> Envelope:
        """Take where a dispute about one of the region's own records stands, as that region signed it, and keep
        it if newer: this node's answers mark its copy "under dispute" while it is filed. No other region's word
        sets or clears it."""
        mark = self.desk.opened(region, envelope, DISPUTE_MARK_TYPE, DisputeMark.from_bytes, "dispute mark")
        validate_item_id(mark.dispute_id, "mark.dispute_id")
        validate_item_id(mark.record_id, "mark.record_id")
        if mark.origin_region != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region states disputes only about its own records")
        copy = await self.desk.runtime.read(self.desk.runtime.store.records.get, region, mark.record_id)
        if copy is not None and (copy.record.subject, copy.record.record_type) != (mark.subject, mark.record_type):
            raise Refused(Denial.PEER_NOT_ADMITTED, "the dispute names another subject or type than the record")
        return await self.desk.acknowledge(
            EventKind.DISPUTE_MARK_RECEIVED,
            region,
            mark.subject,
            DisclosedRecord(mark.record_id, mark.record_type, region),
            envelope.payload,
            lambda event: self._keep_dispute(mark, event),
            dispute_id=mark.dispute_id,
            state=mark.state.value,
            version=str(mark.version),
        )

    def _keep_dispute(self, mark: DisputeMark, event: Event) -> None:
        """Keep the region's statement if newer than the one held; the event is logged either way."""
        store = self.desk.runtime.store
        store.write_logged(lambda tx: store.disputes.receive(tx, copy_of(mark)), event)

    def _keep_revocation(self, revocation: Revocation, envelope: Envelope, event: Event) -> None:
        """Keep a peer's revocation of its own record for the feed and stop disclosing the local copy, if there
        is one; the event is logged either way, so every delivery, repeated or not, is accounted for."""
        store, origin = self.desk.runtime.store, revocation.origin_region

        def keep(tx: UnitOfWork) -> None:
            tx.serialise()  # against a publication of the record committing meanwhile
            store.revocations.keep(tx, revocation.record_id, origin, envelope, event.at)
            store.records.revoke_copy(tx, revocation.record_id, origin, revocation.status, event.at)
            store.events.append(tx, [event])

        store.write(keep)

    def _keep_listing(self, listing: Listing, event: Event) -> None:
        """Keep a peer's listing if newer than the copy held; the event is logged either way."""
        store = self.desk.runtime.store
        store.write_logged(lambda tx: store.listings.receive(tx, listing, event.at), event)

    def _required(self, statement: RecordStatement) -> frozenset[str]:
        """The fields the catalog in force here requires of the statement's type (none for a type it lacks)."""
        kind = self.desk.catalog.catalog.record_types.get(statement.record_type)
        return frozenset() if kind is None else frozenset(n for n, spec in kind.fields.items() if spec.required)


def record_of(statement: RecordStatement, fields: Mapping[str, str], publisher: str) -> Record:
    """A published record as the origin signed it: everything but the values is in the statement."""
    return Record(
        record_id=statement.record_id,
        record_type=statement.record_type,
        subject=statement.subject,
        origin_region=statement.origin_region,
        fields=dict(fields),
        legal_document=statement.legal_document,
        severity=statement.severity,
        decided_on=statement.decided_on,
        period_start=statement.period_start,
        period_days=statement.period_days,
        publish_until=statement.publish_until,
        share_until=statement.share_until,
        status=RecordStatus.ACTIVE,
        recorded_at=statement.recorded_at,
        version=statement.version,
        submitted_by=publisher,
        catalog_version=statement.catalog_version,
    )
