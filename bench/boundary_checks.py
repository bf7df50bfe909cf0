"""Bench-only switches: checks taken out of one node process, to measure what they cost.

``bench.federated --ab CHECKS`` interleaves rounds of nodes with the checks
and nodes without them, so their cost is measured against the same moment of
the same machine; ``bench.inquiry_path --ab CHECKS`` switches one node process
between the two (``take_out`` and what it returns), so both sides also share
the process, its database and its caches.

``boundary``: the checks issue 10 added at the trust boundaries. Without them, as before issue 10:

* a caller is identified from its certificate alone: no revocation-list
  lookup and no node-role check (``api.auth``);
* a peer's answer is believed once its receipt and signatures verify and it is
  about the subject: no check of the origin's own key, of the record type or
  of the purpose's fields, and no look for revocations kept here
  (``gateway.answers``, ``store.revocations``).

``consent-quota``: the checks issue 11 added for the requester. Without them,
an inquiry goes to its answer without spending quotas, and a consent is read
without its signature, chain, validity or withdrawal being checked (the policy
still needs one where the purpose does). ``consent`` and ``quota`` take out one
half each, to tell what each costs.

Nothing of the project imports this module; a node calls ``take_out`` only in
a bench's child process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc

from share_gateway.api import auth, compliance, inquiry, peer, registry
from share_gateway.crypto.consent import SignedConsent, subject_identity
from share_gateway.crypto.disclosure import Disclosure, RecordStatement, verify_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.consent import Consent, ConsentStatement
from share_gateway.domain.errors import Citation
from share_gateway.domain.events import DisclosedRecord
from share_gateway.domain.policy import Principal
from share_gateway.gateway import Gateway
from share_gateway.gateway.answers import Asked, RelayRules, UntrustedAnswer
from share_gateway.gateway.consents import ConsentDesk
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.inquiries import InquiryDesk
from share_gateway.store.revocations import Revocations

Context = grpc.aio.ServicerContext[Any, Any]


async def _calling_principal(gateway: Gateway, context: Context) -> Principal:
    verified = auth.certified_caller(context)
    return await gateway.runtime.principal(verified.identity, verified.roles)


async def _calling_peer(gateway: Gateway, context: Context) -> tuple[FederationDesk, str]:
    verified = auth.certified_caller(context)
    federation = gateway.federation
    assert federation is not None
    region = verified.identity.identifier
    federation.admit(region, verified.fingerprint)
    return federation, region


def _signatures_and_subject_only(
    self: RelayRules, keys: KeyRing, key_ids: dict[str, bytes], region: str, disclosure: Disclosure, asked: Asked
) -> tuple[DisclosedRecord, tuple[Citation, ...], RecordStatement]:
    verified = verify_disclosure(disclosure, keys)
    statement = verified.statement
    if statement.subject != asked.subject:
        raise UntrustedAnswer(f"record {statement.record_id} is about another subject")
    record = DisclosedRecord(
        statement.record_id, statement.record_type, statement.origin_region, tuple(verified.fields)
    )
    return record, (), statement


CHECKS = ("boundary", "consent-quota", "consent", "quota")


def take_out(checks: str) -> Callable[[], None]:
    """Serve, in this process, without ``checks`` (see the module docstring); call what it returns to put them
    back (one node process can then switch between the two)."""
    if checks == "boundary":
        patches: list[tuple[object, str, object]] = [
            *((servicer, "calling_principal", _calling_principal) for servicer in (inquiry, registry, compliance)),
            (peer, "calling_peer", _calling_peer),
            (RelayRules, "_checked", _signatures_and_subject_only),
            (Revocations, "revoked_among", _none_revoked),
        ]
    elif checks in ("consent-quota", "consent", "quota"):
        quota: list[tuple[object, str, object]] = [(InquiryDesk, "_admitted", InquiryDesk._answer)]
        consent: list[tuple[object, str, object]] = [
            (ConsentDesk, "open", _unverified),
            (ConsentDesk, "open_aside", _unverified_aside),
            (ConsentDesk, "require_not_revoked", _not_looked_up),
        ]
        patches = {"consent-quota": quota + consent, "consent": consent, "quota": quota}[checks]
    else:
        raise ValueError(f"no such checks: {checks}")
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)

    def put_back() -> None:
        for owner, name, original in originals:
            setattr(owner, name, original)

    return put_back


def _none_revoked(self: Revocations, records: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    return set()


_READ: dict[bytes, Consent] = {}


def _unverified(self: ConsentDesk, signed: SignedConsent) -> Consent:
    """The consent as its statement reads, read once per statement (as the checked side remembers its own)."""
    consent = _READ.get(signed.statement)
    if consent is None:
        statement = ConsentStatement.from_bytes(signed.statement)
        signer = statement.requester if statement.attested else subject_identity(statement.subject).uri
        consent = _READ[signed.statement] = Consent(signed.consent_id, statement, signer)
    return consent


async def _unverified_aside(self: ConsentDesk, signed: SignedConsent) -> Consent:
    return _unverified(self, signed)


async def _not_looked_up(self: ConsentDesk, consent: Consent) -> None:
    return None
