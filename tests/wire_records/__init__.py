"""Recorded peer calls (``tests/data/wire``): what each PeerService call is, shared by the recorder and the test."""

from __future__ import annotations

from share_gateway.domain.deliveries import DeliveryKind

# The call that carries each kind of delivery the outbox sends: a new kind needs its call recorded too.
DELIVERED_BY = {
    DeliveryKind.RECORD: "Publish",
    DeliveryKind.REVOCATION: "Revoke",
    DeliveryKind.LISTING: "ShareListing",
    DeliveryKind.CONSENT_REVOCATION: "ShareConsentRevocation",
    DeliveryKind.DISPUTE: "ShareDispute",
}
# What each call carries, for the index a reader opens.
WHAT = {
    "Inquire": "a forwarded inquiry signed by the asking node (with the subject's signed consent)",
    "Publish": "a nationally shared record: the origin's signed statement with every field opened",
    "Witness": "the origin's signed checkpoint to cosign (c2sp.org/tlog-witness), answered with a cosignature",
    "Revoke": "the origin's signed revocation of a record it repaired",
    "ShareListing": "the origin's signed listing, in force",
    "GetHistory": "a subject's history request signed by the subject's node, answered with a signed page",
    "ShareConsentRevocation": "the asking node's signed consent revocation",
    "ForwardRepair": "a repair application signed by the intake node, to the record's origin",
    "ShareDispute": "the origin's signed dispute mark, open",
    "GetWitnessed": "a node asking at start for the newest checkpoint of its log this peer cosigned (restore guard)",
}
