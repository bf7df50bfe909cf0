""" "Who looked at me": what a subject is shown of the inquiries about it, and the page a region signs.

What the subject sees of each inquiry is decided here, once, for every region:

* A person who looked is shown masked. The resident ID number keeps its first six digits (the division
  code: where the number was issued) and its last four (sequence code and check digit); the eight digits
  of the birth date are replaced by ``*``, as ``110105********002X``. The birth date is what narrows a
  number to one person: with it hidden, thousands of numbers share what is shown, yet a subject who knows
  who it dealt with can still recognise them. The certificate URI is masked the same way.
* An institution is shown by its USCC (public by law) and the name the node registered for it.
* A refused inquiry shows the refusal's reason code, which the node chose; the purpose is shown only if
  it is one of the catalog's, because a refused purpose may be any text the caller typed.

A region's page of a subject's history travels signed (``HistoryPage``), so the asking node relays only
what that region's key vouches for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import Refused
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.policy import Denial, Policy

HISTORY_PAGE_TYPE = "application/vnd.share-gateway.history-page+json"
HISTORY_PAGE_FORMAT = 1
# What a masked part of an identifier is replaced by.
MASK = "*"
# Resident ID numbers: the division code before the birth date, the sequence code and check digit after it.
_KEPT_BEFORE, _KEPT_AFTER = 6, 4
_SCHEME = "sgw://"


def mask_resident_id(number: str) -> str:
    """``110105198001010021`` → ``110105********0021``: the birth date hidden (see the module docstring)."""
    if len(number) <= _KEPT_BEFORE + _KEPT_AFTER:
        return MASK * len(number)
    return number[:_KEPT_BEFORE] + MASK * (len(number) - _KEPT_BEFORE - _KEPT_AFTER) + number[-_KEPT_AFTER:]


@dataclass(frozen=True, slots=True)
class ShownActor:
    """Who looked, as the subject may see it."""

    kind: str
    identifier: str
    uri: str
    name: str = ""


def shown_actor(uri: str, names: dict[str, str]) -> ShownActor:
    """The actor of a logged inquiry as shown to the subject: persons masked, institutions named.

    ``names`` maps USCCs to the names the node registered. Anything not of the ``sgw://<kind>/<id>`` form is
    shown fully masked: the log holds only certificate identities, so it would be a sign of damage.
    """
    kind, _, identifier = uri.removeprefix(_SCHEME).partition("/")
    if not uri.startswith(_SCHEME) or not identifier or "/" in identifier:
        return ShownActor("unknown", MASK * 8, MASK * 8)
    if kind == "person":
        masked = mask_resident_id(identifier)
        return ShownActor(kind, masked, f"{_SCHEME}person/{masked}")
    if kind == "institution":
        return ShownActor(kind, identifier, uri, names.get(identifier, ""))
    return ShownActor(kind, identifier, uri)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One inquiry about the subject, as the subject is shown it."""

    at: datetime
    actor: ShownActor
    # A purpose of the catalog; empty when a refused inquiry named none.
    purpose: str
    outcome: str
    # The refusal's reason code (empty when allowed): never the caller's own words.
    reason: str
    node: str
    leaf_index: int

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_instant(self.at),
            "actor": {"kind": self.actor.kind, "id": self.actor.identifier, "uri": self.actor.uri},
            "name": self.actor.name,
            "purpose": self.purpose,
            "outcome": self.outcome,
            "reason": self.reason,
            "node": self.node,
            "leaf": self.leaf_index,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HistoryEntry:
        actor = raw["actor"]
        leaf = raw["leaf"]
        if not isinstance(leaf, int) or leaf < 0:
            raise ValueError("a leaf index is a non-negative integer")
        return cls(
            parse_instant(raw["at"]),
            ShownActor(str(actor["kind"]), str(actor["id"]), str(actor["uri"]), str(raw["name"])),
            str(raw["purpose"]),
            str(raw["outcome"]),
            str(raw["reason"]),
            str(raw["node"]),
            leaf,
        )


def history_entry(body: bytes, leaf_index: int, purposes: frozenset[str], names: dict[str, str]) -> HistoryEntry:
    """The entry a logged inquiry event (its canonical bytes) becomes for its subject."""
    doc = parse_json(body)
    try:
        denied = doc["outcome"] != "allowed"
        return HistoryEntry(
            at=parse_instant(doc["at"]),
            actor=shown_actor(doc["actor"], names),
            purpose=doc["purpose"] if doc["purpose"] in purposes else "",
            outcome=doc["outcome"],
            reason=doc.get("reason", "") if denied else "",
            node=doc["node"],
            leaf_index=leaf_index,
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed event: {error!r}") from error


def institution_of(uri: str) -> str | None:
    """The USCC of an ``sgw://institution/<USCC>`` actor, else None (to look its name up)."""
    prefix = f"{_SCHEME}institution/"
    return uri[len(prefix) :] if uri.startswith(prefix) else None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One region's page of a subject's history, newest first, signed by that region's node.

    ``below`` is the log size the page was read against (entries of later leaves are left to a later
    call), so every page of one reading states the same ``total``; ``more`` says older entries remain.
    """

    region: str
    request_digest: str
    entries: tuple[HistoryEntry, ...]
    total: int
    below: int
    more: bool

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": HISTORY_PAGE_FORMAT,
                "region": self.region,
                "request_digest": self.request_digest,
                "entries": [e.to_json() for e in self.entries],
                "total": self.total,
                "below": self.below,
                "more": self.more,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> HistoryPage:
        raw: dict[str, Any] = parse_json(data)
        try:
            if raw["v"] != HISTORY_PAGE_FORMAT:
                raise ValueError(f"unknown history page format {raw['v']!r}")
            page = cls(
                str(raw["region"]),
                str(raw["request_digest"]),
                tuple(HistoryEntry.from_json(e) for e in raw["entries"]),
                int(raw["total"]),
                int(raw["below"]),
                bool(raw["more"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed history page: {error!r}") from error
        if page.to_bytes() != data:
            raise ValueError("history page bytes are not canonical")
        return page


def require_self_only(policy: Policy, purpose: str) -> None:
    """A history is read only through a purpose for reading one's own (an unknown purpose is the policy's to refuse)."""
    definition = policy.catalog.purposes.get(purpose)
    if definition is not None and not definition.self_only:
        raise Refused(Denial.NOT_SELF_ONLY, f"{purpose} is not a purpose for reading one's own history")
