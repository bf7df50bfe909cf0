"""The asking node's checks of a peer's answer (gateway/answers.py): one test per rule, each with the answer
a hostile region could send, and the answers an honest region sends, which pass."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from share_gateway.crypto.disclosure import Disclosure, disclose, seal_record
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.events import EVENT_MEDIA_TYPE, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import Policy
from share_gateway.domain.records import Record
from share_gateway.federation.manifest import Manifest, ManifestNode
from share_gateway.federation.peers import PeerAnswer
from share_gateway.gateway.answers import Asked, RelayRules, UntrustedAnswer
from tests.unit.records_support import CATALOG, NOW, PERSON, admit, penalty, text

ASKER, ANSWERING, THIRD = "110000", "310000", "440000"
KEYS = {region: SigningKey.generate(f"share-gateway/node/{region}") for region in (ASKER, ANSWERING, THIRD)}
MANIFEST = Manifest(
    1,
    NOW + timedelta(days=30),
    "cd" * 32,
    {r: ManifestNode(r, f"node-{r}:7443", k.verifying_key, "ab" * 32) for r, k in KEYS.items()},
)
POLICY = Policy(CATALOG)
SHARED = frozenset(name for name, kind in CATALOG.record_types.items() if kind.shared_nationwide)
RULES = RelayRules(POLICY, SHARED)
SUBJECT = Subject(SubjectKind.INDIVIDUAL, PERSON)
PURPOSE, CONSENT = "loan_underwriting", "AUTH-1"
ASKED = Asked("ab" * 32, SUBJECT, PURPOSE, CONSENT, frozenset())


def record(origin: str = ANSWERING, **changes: object) -> Record:
    facts = text("sold 40 cartons of expired milk")  # a field loan underwriting may not see
    return dataclasses.replace(admit(penalty(violation_facts=facts)), origin_region=origin, **changes)  # type: ignore[arg-type]


def disclosed(item: Record, signer: str | None = None, fields: frozenset[str] | None = None) -> Disclosure:
    """``item`` signed by ``signer`` (its origin by default), opening ``fields`` (the purpose's by default)."""
    opened = POLICY.rule_for(PURPOSE, item.record_type, CONSENT).fields if fields is None else fields
    return disclose(seal_record(item, KEYS[signer or item.origin_region]), opened)


def answer(*disclosures: Disclosure, region: str = ANSWERING, request_digest: str = ASKED.request_digest) -> PeerAnswer:
    receipt = Event(
        "e-1", EventKind.INQUIRY, NOW, region, "sgw://institution/x", Outcome.ALLOWED,
        details={"request_digest": request_digest},
    )  # fmt: skip
    return PeerAnswer(Envelope.seal(KEYS[region], EVENT_MEDIA_TYPE, receipt.canonical_bytes()), disclosures, ())


def refused(reply: PeerAnswer, asked: Asked = ASKED) -> str:
    with pytest.raises(UntrustedAnswer) as raised:
        RULES.check(MANIFEST, ASKER, ANSWERING, reply, asked, NOW.date())
    return str(raised.value)


def test_a_region_answering_with_its_own_records_and_copies_of_shared_records_is_believed() -> None:
    own = disclosed(record())
    copy = disclosed(record(THIRD, record_type="dishonest_judgment_debtor", record_id="rec-0002"))
    checked = RULES.check(MANIFEST, ASKER, ANSWERING, answer(own, copy), ASKED, NOW.date())
    assert [(r.origin_region, r.record_type) for r in checked.records] == [
        (ANSWERING, "administrative_penalty"),
        (THIRD, "dishonest_judgment_debtor"),
    ]
    assert checked.records[0].fields == tuple(sorted(POLICY.rule_for(PURPOSE, "administrative_penalty", "x").fields))
    # The citations are this node's own for what it relays, whatever text a peer sent.
    assert {c.rule for c in checked.citations} == {
        "record_type/administrative_penalty",
        "record_type/dishonest_judgment_debtor",
    }


def test_a_receipt_of_another_region_or_request_is_refused() -> None:
    assert "not signed by region" in refused(answer(region=THIRD))
    assert "not for this request" in refused(answer(request_digest="ef" * 32))


def test_a_record_signed_by_another_key_than_its_origins_is_refused() -> None:
    # Signed by the answering region, naming a third region as its origin: any key of the manifest is not enough.
    assert f"not signed by region {THIRD}, its origin" in refused(answer(disclosed(record(THIRD), signer=ANSWERING)))
    assert "its origin" in refused(answer(disclosed(record(ASKER), signer=THIRD)))


def test_a_record_naming_an_origin_outside_the_federation_is_refused() -> None:
    assert "its origin" in refused(answer(disclosed(record("120000"), signer=ANSWERING)))


def test_a_copy_of_another_regions_record_of_a_type_not_shared_nationwide_is_refused() -> None:
    assert "not shared nationwide" in refused(answer(disclosed(record(THIRD))))


def test_a_record_about_another_subject_is_refused() -> None:
    other = Subject(SubjectKind.INDIVIDUAL, "310104199003074561")
    assert "another subject" in refused(answer(disclosed(record(subject=other))))


def test_a_record_of_a_type_outside_the_catalog_or_not_asked_for_is_refused() -> None:
    assert "not in the catalog" in refused(answer(disclosed(record(record_type="gossip"), fields=frozenset())))
    narrow = dataclasses.replace(ASKED, record_types=frozenset({"dishonest_judgment_debtor"}))
    assert "not asked for" in refused(answer(disclosed(record())), narrow)


def test_fields_the_purpose_may_not_see_are_refused() -> None:
    item = record()
    assert "violation_facts" in refused(answer(disclosed(item, fields=frozenset(item.fields))))


def test_a_type_the_purpose_may_not_see_at_all_is_refused() -> None:
    utility = dataclasses.replace(ASKED, purpose="utility_connection")
    assert not POLICY.rule_for("utility_connection", "loan_default", "").lawful
    item = record(record_type="loan_default")
    assert "may not go out for utility_connection" in refused(answer(disclosed(item, fields=frozenset())), utility)


def test_one_bad_record_makes_the_whole_answer_untrusted() -> None:
    good, bad = disclosed(record()), disclosed(record(THIRD, record_id="rec-0002"), signer=ANSWERING)
    refused(answer(good, bad))


def test_a_copy_of_this_nodes_own_record_or_one_past_its_period_is_not_relayed_and_the_region_stays_ok() -> None:
    """An honest region may still hold them (this node may have withdrawn its record; a peer's sweep may lag)."""
    fresh = disclosed(record())
    own_copy = disclosed(record(ASKER, record_type="dishonest_judgment_debtor", record_id="rec-0003"))
    lapsed = disclosed(record(record_id="rec-0004", share_until=NOW.date()))
    checked = RULES.check(MANIFEST, ASKER, ANSWERING, answer(fresh, own_copy, lapsed), ASKED, NOW.date())
    assert checked.disclosures == (fresh,)
    assert [r.record_id for r in checked.records] == [record().record_id]


def test_a_record_whose_revocation_this_node_keeps_is_dropped() -> None:
    first, second = disclosed(record()), disclosed(record(record_id="rec-0005"))
    checked = RULES.check(MANIFEST, ASKER, ANSWERING, answer(first, second), ASKED, NOW.date())
    kept = RULES.without(checked, {(ANSWERING, "rec-0005")})
    assert (kept.disclosures, [r.record_id for r in kept.records]) == ((first,), [record().record_id])
    assert RULES.without(checked, set()) is checked


def test_a_copy_its_origin_signed_before_rotating_its_key_is_believed_and_one_signed_after_is_refused() -> None:
    """Key history: a statement stays verifiable by the key in force when it was recorded (issue 13) (unverified)."""
    old, new = KEYS[THIRD], SigningKey.generate(f"share-gateway/node/{THIRD}")
    debtor = record(THIRD, record_type="dishonest_judgment_debtor", record_id="rec-0002")
    rotated_at = debtor.recorded_at + timedelta(hours=1)
    nodes = {**MANIFEST.nodes, THIRD: MANIFEST.nodes[THIRD].rotated("signing", new.verifying_key, rotated_at)}
    rotated = dataclasses.replace(MANIFEST, version=2, nodes=nodes)
    opened = POLICY.rule_for(PURPOSE, debtor.record_type, CONSENT).fields
    before = disclose(seal_record(debtor, old), opened)
    checked = RULES.check(rotated, ASKER, ANSWERING, answer(before), ASKED, NOW.date())
    assert [r.origin_region for r in checked.records] == [THIRD]
    late = dataclasses.replace(debtor, recorded_at=rotated_at + timedelta(minutes=1))
    with pytest.raises(VerificationError, match="retired"):
        RULES.check(rotated, ASKER, ANSWERING, answer(disclose(seal_record(late, old), opened)), ASKED, NOW.date())
    assert RULES.check(rotated, ASKER, ANSWERING, answer(disclose(seal_record(late, new), opened)), ASKED, NOW.date())
