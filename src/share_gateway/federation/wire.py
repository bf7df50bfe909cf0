"""Signed payloads on the wire: envelopes, record disclosures and citations as ``common.proto`` carries them.

Nodes exchange these over PeerService, and clients receive the same shapes
from InquiryService, so the one conversion lives here, beside the federation
messages; ``api/convert`` handles the rest of the client contract. Conversion
never re-encodes a payload: signatures are checked over the bytes as received.
"""

from __future__ import annotations

from share_gateway.crypto.disclosure import Disclosure, FieldOpening
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.errors import Citation
from share_gateway.v1 import common_pb2 as pb


def envelope_to_wire(envelope: Envelope) -> pb.SignedEnvelope:
    return pb.SignedEnvelope(
        payload=envelope.payload,
        payload_type=envelope.payload_type,
        key_id=envelope.key_id.hex(),
        signature=envelope.signature,
    )


def envelope_from_wire(message: pb.SignedEnvelope) -> Envelope:
    """An envelope as received; a key id that is not hex names no key (and so verifies under none)."""
    try:
        key_id = bytes.fromhex(message.key_id)
    except ValueError:
        key_id = b""
    return Envelope(message.payload, message.payload_type, key_id, message.signature)


def disclosure_to_wire(disclosure: Disclosure) -> pb.RecordDisclosure:
    return pb.RecordDisclosure(
        statement=envelope_to_wire(disclosure.statement),
        fields=[pb.FieldDisclosure(name=o.name, value=o.value, salt=o.salt) for o in disclosure.fields],
    )


def disclosure_from_wire(message: pb.RecordDisclosure) -> Disclosure:
    return Disclosure(
        envelope_from_wire(message.statement),
        tuple(FieldOpening(f.name, f.value, f.salt) for f in message.fields),
    )


def citation_to_wire(citation: Citation) -> pb.Citation:
    return pb.Citation(rule=citation.rule, legal_basis=citation.legal_basis)


def citation_from_wire(message: pb.Citation) -> Citation:
    return Citation(message.rule, message.legal_basis)
