"""Grants as logged acts: who registered an institution or added, changed or revoked a grant, when, on what document.

An officer must be able to see who was authorised for what, when, and by whom: every change to the node's
registry of institutions and grants is one event in the same transaction as the change, its actor the
administrator (or, offline before a node serves, the node's operator), its ``document`` the legal or
administrative document that authorised the act. These are the pure rules: what a request must hold, and
the event each act is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from share_gateway.domain.errors import FieldViolation, InvalidInput
from share_gateway.domain.events import Event, EventKind, Outcome, format_instant
from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.domain.text import unstorable

MAX_DOCUMENT = 200
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Act:
    """Who changes the registry, at which node, and on what document (the event's actor and ``document``).

    ``via`` says how: ``admin_service`` for an administrator's certificate, ``offline`` for the node's operator
    writing the database before the node serves (the actor is then the node itself, the operator named beside).
    """

    node: str
    actor: str
    document: str
    via: str = "admin_service"
    operator: str = ""


def text_violations(field: str, text: str, longest: int, *, required: bool = True) -> list[FieldViolation]:
    """Why ``text`` cannot be a document reference or a name: blank (if required), too long, or not storable."""
    if required and not text.strip():
        return [FieldViolation(field, f"1 to {longest} characters, not blank")]
    if len(text) > longest:
        return [FieldViolation(field, f"is longer than {longest} characters")]
    why = unstorable(text)
    return [FieldViolation(field, why)] if why else []


def check_document(document: str) -> None:
    """Every act names the document that authorised it."""
    violations = text_violations("document", document, MAX_DOCUMENT)
    if violations:
        raise InvalidInput(violations)


def check_new_end(grant: Grant, until: datetime | None, now: datetime) -> None:
    """A changed grant still ends after it starts, and not in the past: to end a grant now, revoke it."""
    if until is None:
        return
    if until <= grant.valid_from:
        raise InvalidInput.one("until", "a grant must end after it starts")
    if until <= now:
        raise InvalidInput.one("until", "is not in the future: to end a grant now, revoke it")


def _day(at: datetime | None) -> str:
    return "" if at is None else format_instant(at)


def _event(act: Act, kind: EventKind, event_id: str, at: datetime, purpose: str, details: dict[str, str]) -> Event:
    base = {"document": act.document, "via": act.via}
    if act.operator:
        base["operator"] = act.operator
    return Event(
        event_id=event_id,
        kind=kind,
        at=at,
        node=act.node,
        actor=act.actor,
        outcome=Outcome.ALLOWED,
        purpose=purpose,
        details={**base, **{k: v for k, v in details.items() if v}},
    )


def registered_event(act: Act, event_id: str, at: datetime, institution: str, kind: str, name: str) -> Event:
    return _event(
        act,
        EventKind.INSTITUTION_REGISTERED,
        event_id,
        at,
        "",
        {"institution": institution, "kind": kind, "name": name},
    )


def grant_details(grant_id: int, institution: str, grant: Grant) -> dict[str, str]:
    """How an event names a grant: its id, holder, role, scope and period (the purpose also as the event's)."""
    return {
        "grant_id": str(grant_id),
        "institution": institution,
        "role": grant.role.value,
        "scope": grant.scope,
        "valid_from": _day(grant.valid_from),
        "valid_until": _day(grant.valid_until),
    }


def _purpose(grant: Grant) -> str:
    """An inquiry grant's purpose is the event's purpose: officers find who may inquire for it by purpose."""
    return grant.scope if grant.role is GrantRole.INQUIRE else ""


def added_events(
    act: Act, event_ids: Sequence[str], at: datetime, institution: str, added: Sequence[tuple[int, Grant]]
) -> list[Event]:
    return [
        _event(act, EventKind.GRANT_ADDED, event_id, at, _purpose(grant), grant_details(grant_id, institution, grant))
        for event_id, (grant_id, grant) in zip(event_ids, added, strict=True)
    ]


def changed_event(
    act: Act, event_id: str, at: datetime, grant_id: int, institution: str, before: Grant, after: Grant
) -> Event:
    details = grant_details(grant_id, institution, after) | {"previous_valid_until": _day(before.valid_until) or "none"}
    if after.valid_until is None:
        details["valid_until"] = "none"
    return _event(act, EventKind.GRANT_CHANGED, event_id, at, _purpose(after), details)


def revoked_event(act: Act, event_id: str, at: datetime, grant_id: int, institution: str, grant: Grant) -> Event:
    return _event(
        act, EventKind.GRANT_REVOKED, event_id, at, _purpose(grant), grant_details(grant_id, institution, grant)
    )
