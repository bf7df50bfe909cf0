"""A peer's answer to a forwarded inquiry, checked before any of it is relayed to the requester.

A region answers with the records it holds about the subject: its own, and the
copies it received of other regions' nationally shared records. The asking
node believes none of it until:

1. the receipt is signed by the answering region and is for this very request;

and each disclosure

2. verifies under the key of the origin region its statement names (from the
   manifest), not merely under some key of the federation; a record of another
   region than the one answering must be of a nationally shared type (only
   those are ever published to a peer);
3. is about the subject asked about;
4. is of a record type of the catalog and, when the request named types, of
   one of them;
5. opens only fields this node's own policy lets the purpose see: the rule the
   answering node applies (``Policy.rule_for``), applied again here.

and each dispute mark (a record shown "under dispute")

6. is signed by the answering region and about one of its own records relayed
   in this answer; a mark about another region's record is ignored (only a
   record's origin sets or clears it, and the asking node hears of another
   origin's disputes from that origin).

A region that breaks one rule is believed on nothing: ``UntrustedAnswer``
names the broken rule, and the caller reports the region ``invalid``.

A record an honest region may still hold is not relayed either, without
making the region invalid: a copy of this node's own record (this node
answers for its own records itself: a copy may be one it withdrew), one past
its disclosure period here (the peer's sweep may lag), and one whose origin's
revocation this node keeps (the caller drops those, from the store). A record is past its period for the end
the purpose honours: publication for the public scope, sharing for a purpose-bound answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from share_gateway.crypto.disclosure import Disclosure, OpenedStatements, RecordStatement, verify_disclosure
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, DisputeMark, copy_of
from share_gateway.domain.disputes import Dispute, DisputeState
from share_gateway.domain.errors import Citation
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Policy, unique_citations
from share_gateway.domain.records import RecordStatus, is_disclosable
from share_gateway.federation.manifest import Manifest
from share_gateway.federation.messages import digest
from share_gateway.federation.peers import PeerAnswer

# Verified statements kept at most (then all forgotten at once): some MB of statement bytes.
OPENED_MOST = 10_000


class UntrustedAnswer(VerificationError):
    """A peer's answer breaks a rule of what a region may relay: nothing of it is used."""


@dataclass(frozen=True, slots=True)
class Asked:
    """What the asking node forwarded, as far as the checks of the answers need it."""

    request_digest: str
    subject: Subject
    purpose: str
    consent_reference: str
    # Empty: every type the purpose may see.
    record_types: frozenset[str]


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    """What a region answered, every part of it checked: safe to relay, log and act on."""

    disclosures: tuple[Disclosure, ...]
    records: tuple[DisclosedRecord, ...]
    # This node's own citations for the records (a peer's citations are unsigned text).
    citations: tuple[Citation, ...]
    receipt_digest: str
    # The answering region's open disputes about its own records of this answer, from its signed marks.
    disputed: tuple[Dispute, ...] = ()


class RelayRules:
    """The rules of the module docstring, for one catalog."""

    def __init__(self, policy: Policy, shared_types: frozenset[str]) -> None:
        self.policy = policy
        # The record types the catalog shares nationwide: the only ones a region holds copies of.
        self.shared_types = shared_types
        # The manifest last checked against, its key ring and each region's key id (computing them is a hash each),
        # and every key id each region signed its record statements with (earlier keys too: a record stays
        # verifiable after its origin rotates its key; verify_disclosure refuses a retired key on a newer one).
        self._trust: tuple[Manifest, KeyRing, dict[str, bytes]] | None = None
        self._statement_ids: dict[str, frozenset[bytes]] = {}
        # The record statements whose signatures held under that manifest's key ring: a region relays the same
        # statements answer after answer, and a signature verified once holds for the same bytes (a new manifest,
        # a new ring, starts afresh).
        self._opened: OpenedStatements = {}

    def _keys(self, manifest: Manifest) -> tuple[KeyRing, dict[str, bytes]]:
        if self._trust is None or self._trust[0] is not manifest:
            ids = {region: node.signing_key.key_id for region, node in manifest.nodes.items()}
            self._trust = (manifest, manifest.keys, ids)
            self._statement_ids = {region: frozenset(node.signing_keys) for region, node in manifest.nodes.items()}
            self._opened = {}
        if len(self._opened) >= OPENED_MOST:
            self._opened.clear()
        return self._trust[1], self._trust[2]

    def check(
        self, manifest: Manifest, here: str, region: str, answer: PeerAnswer, asked: Asked, today: date
    ) -> CheckedAnswer:
        """The answer of ``region`` to node ``here``, checked against the manifest and this node's policy, or
        ``VerificationError``; without the records this node does not relay (see the module docstring)."""
        keys, key_ids = self._keys(manifest)
        # 1. The receipt: the answering region's, for this request.
        receipt = answer.receipt
        if receipt.key_id != key_ids[region]:
            raise UntrustedAnswer(f"the receipt is not signed by region {region}")
        event = receipt.open(keys, EVENT_MEDIA_TYPE, Event.from_bytes)
        if event.node != region or event.details.get("request_digest") != asked.request_digest:
            raise UntrustedAnswer("the receipt is not for this request")
        kept: list[Disclosure] = []
        records: list[DisclosedRecord] = []
        citations: list[Citation] = []
        audience = self.policy.audience(asked.purpose)
        for disclosure in answer.disclosures:
            record, cited, statement = self._checked(keys, key_ids, region, disclosure, asked)
            ends = (statement.publish_until, statement.share_until)
            if record.origin_region == here or not is_disclosable(RecordStatus.ACTIVE, audience, *ends, today):
                continue
            kept.append(disclosure)
            records.append(record)
            citations.extend(cited)
        disputed = self._marks(keys, key_ids, region, answer, {(r.origin_region, r.record_id) for r in records})
        return CheckedAnswer(
            tuple(kept), tuple(records), unique_citations(citations), digest(receipt.payload), disputed
        )

    def _marks(
        self, keys: KeyRing, key_ids: dict[str, bytes], region: str, answer: PeerAnswer, relayed: set[tuple[str, str]]
    ) -> tuple[Dispute, ...]:
        """6. The open disputes the answering region signed about its own records relayed in this answer."""
        disputed = []
        for envelope in answer.disputes:
            if envelope.key_id != key_ids[region]:
                raise UntrustedAnswer(f"a dispute mark is not signed by region {region}")
            mark = envelope.open(keys, DISPUTE_MARK_TYPE, DisputeMark.from_bytes)
            if (
                mark.origin_region == region
                and (region, mark.record_id) in relayed
                and mark.state is DisputeState.FILED
            ):
                disputed.append(copy_of(mark))
        return tuple(disputed)

    def without(self, answer: CheckedAnswer, revoked: set[tuple[str, str]]) -> CheckedAnswer:
        """The answer without the records whose (origin, id) ``revoked`` names."""
        if not revoked:
            return answer
        pairs = [
            (disclosure, record)
            for disclosure, record in zip(answer.disclosures, answer.records, strict=True)
            if (record.origin_region, record.record_id) not in revoked
        ]
        return CheckedAnswer(
            tuple(d for d, _ in pairs),
            tuple(r for _, r in pairs),
            answer.citations,
            answer.receipt_digest,
            tuple(d for d in answer.disputed if (d.origin_region, d.record_id) not in revoked),
        )

    def _checked(
        self, keys: KeyRing, key_ids: dict[str, bytes], region: str, disclosure: Disclosure, asked: Asked
    ) -> tuple[DisclosedRecord, tuple[Citation, ...], RecordStatement]:
        # 2. Signed by the origin it names (the signature itself is checked under the manifest's keys).
        verified = verify_disclosure(disclosure, keys, self._opened)
        statement = verified.statement
        name = f"record {statement.record_id[:64]}"
        if disclosure.statement.key_id not in self._statement_ids.get(statement.origin_region, frozenset()):
            raise UntrustedAnswer(f"{name} is not signed by region {statement.origin_region[:16]}, its origin")
        if statement.origin_region != region and statement.record_type not in self.shared_types:
            raise UntrustedAnswer(f"{name} of region {statement.origin_region} is not shared nationwide")
        # 3. About the subject asked about.
        if statement.subject != asked.subject:
            raise UntrustedAnswer(f"{name} is about another subject")
        # 4. A type of the catalog, and one the request named.
        if statement.record_type not in self.policy.catalog.record_types:
            raise UntrustedAnswer(f"{name} is of type {statement.record_type[:64]!r}, not in the catalog")
        if asked.record_types and statement.record_type not in asked.record_types:
            raise UntrustedAnswer(f"{name} is of type {statement.record_type}, which was not asked for")
        # 5. Only the fields the purpose may see.
        decision = self.policy.rule_for(asked.purpose, statement.record_type, asked.consent_reference)
        if not decision.lawful:
            raise UntrustedAnswer(f"{name}: {statement.record_type} may not go out for {asked.purpose}")
        extra = set(verified.fields) - decision.fields
        if extra:
            raise UntrustedAnswer(f"{name} opens fields {asked.purpose} may not see: {', '.join(sorted(extra))[:200]}")
        record = DisclosedRecord(
            statement.record_id, statement.record_type, statement.origin_region, tuple(verified.fields)
        )
        return record, decision.citations, statement
