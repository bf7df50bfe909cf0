"""Registering institutions and their grants: every change an act in the log, in the transaction that makes it.

Administrators change the registry over AdminService (``GrantDesk``, certificates carrying the
administrator role). Before a node serves, its operator may enrol offline (``enrol``, ``change_grant``,
``revoke_grant`` on the node's database: ``grant ... --config``, the demo's and the tests' setup); that
writes the same events, with the node itself as actor and the operator named beside it (``operator_act``).
Nothing changes grants unlogged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import FieldViolation, InvalidInput, InvalidState, NotFound, Refused
from share_gateway.domain.events import Event, EventKind
from share_gateway.domain.grant_acts import (
    MAX_DOCUMENT,
    MAX_NAME,
    Act,
    added_events,
    changed_event,
    check_document,
    check_new_end,
    registered_event,
    revoked_event,
    text_violations,
)
from share_gateway.domain.identifiers import validate_uscc
from share_gateway.domain.policy import Denial, Grant, GrantRole, Principal, check_registration
from share_gateway.domain.principals import Identity, IdentityKind, Role
from share_gateway.gateway.refusals import Refusals
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.grants import GrantRow
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork

R = TypeVar("R")
Work = Callable[[UnitOfWork], tuple[R, list[Event]]]


def _ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def operator_act(region: str, document: str, operator: str = "") -> Act:
    """An act of the node's operator, offline: the node is the actor (no certificate of the operator's own
    speaks here), the operator's name is written beside it."""
    return Act(region, Identity(IdentityKind.NODE, region).uri, document, via="offline", operator=operator)


def _enrolment(
    store: Store, act: Act, institution: str, grants: Sequence[Grant], now: datetime, kind: str | None, name: str
) -> Work[list[int]]:
    """Register the institution's kind (when given) and add its grants; an event per step."""

    def work(tx: UnitOfWork) -> tuple[list[int], list[Event]]:
        events = []
        if kind:
            store.grants.register(tx, institution, kind, name or institution, now)
            events.append(registered_event(act, _ids(1)[0], now, institution, kind, name or institution))
        elif grants and store.grants.kind_of(tx, institution) is None:
            raise InvalidState(f"institution {institution} is not registered: register it first")
        ids = [store.grants.add(tx, institution, grant, now) for grant in grants]
        events += added_events(act, _ids(len(ids)), now, institution, list(zip(ids, grants, strict=True)))
        store.events.append(tx, events)
        return ids, events

    return work


def _current(store: Store, tx: UnitOfWork, grant_id: int) -> GrantRow:
    row = store.grants.row(tx, grant_id)
    if row is None:
        raise NotFound(f"there is no grant {grant_id}")
    if row.revoked_at is not None:
        raise InvalidState(f"grant {grant_id} was revoked already")
    return row


def _change(store: Store, act: Act, grant_id: int, until: datetime | None, now: datetime) -> Work[GrantRow]:
    def work(tx: UnitOfWork) -> tuple[GrantRow, list[Event]]:
        row = _current(store, tx, grant_id)
        check_new_end(row.grant, until, now)
        store.grants.change_end(tx, grant_id, until)
        changed = replace(row, grant=replace(row.grant, valid_until=until))
        event = changed_event(act, _ids(1)[0], now, grant_id, row.institution, row.grant, changed.grant)
        store.events.append(tx, [event])
        return changed, [event]

    return work


def _revocation(store: Store, act: Act, grant_id: int, now: datetime) -> Work[GrantRow]:
    def work(tx: UnitOfWork) -> tuple[GrantRow, list[Event]]:
        row = _current(store, tx, grant_id)
        store.grants.revoke(tx, grant_id, now)
        event = revoked_event(act, _ids(1)[0], now, grant_id, row.institution, row.grant)
        store.events.append(tx, [event])
        return replace(row, revoked_at=now), [event]

    return work


def enrol(
    store: Store,
    institution: str,
    grants: Sequence[Grant],
    now: datetime,
    kind: str | None = None,
    name: str = "",
    *,
    act: Act,
) -> list[int]:
    """Register the institution's kind (when given) and add its grants, with their events, in one transaction;
    the grants' ids. An institution must be registered (now or before) to hold a grant."""
    check_document(act.document)
    return store.write(_enrolment(store, act, institution, grants, now, kind, name))[0]


def change_grant(store: Store, grant_id: int, until: datetime | None, now: datetime, *, act: Act) -> GrantRow:
    """Give a grant a new end (None: none), with its event, in one transaction."""
    check_document(act.document)
    return store.write(_change(store, act, grant_id, until, now))[0]


def revoke_grant(store: Store, grant_id: int, now: datetime, *, act: Act) -> GrantRow:
    """Revoke a grant from ``now`` on, with its event, in one transaction."""
    check_document(act.document)
    return store.write(_revocation(store, act, grant_id, now))[0]


def _check_institution(institution: str, violations: list[FieldViolation]) -> None:
    try:
        validate_uscc(institution, "institution")
    except InvalidInput as error:
        violations.extend(error.violations)


@dataclass
class GrantDesk:
    """AdminService's use cases: only administrators change the registry, each act an event in its transaction.

    A non-administrator is refused (PERMISSION_DENIED) before anything is read or changed, and the refusal
    is logged as the act's kind, denied (counted per window, like every refused call). After a change this
    process forgets the institution's cached principal at once (``NodeRuntime.forget``); other replicas
    honour what they cached for at most ``principal_ttl`` seconds.
    """

    runtime: NodeRuntime
    catalog: Catalog
    refusals: Refusals
    # The administrators this node accepts (identity URIs, ``administrators`` in node.yaml); empty: any.
    administrators: frozenset[str] = frozenset()

    async def admit(self, admin: Principal, kind: EventKind, call: str, document: str = "") -> Act:
        """The act's author, once the certificate carries the administrator role (and names one this node
        accepts, where it names any); else refused, the refusal logged."""
        why = ""
        if Role.ADMINISTRATOR not in admin.roles:
            why = "institutions and grants are administered with an administrator's certificate"
        elif self.administrators and admin.uri not in self.administrators:
            why = f"{admin.uri} is not an administrator of this node"
        if why:
            caller = Identity.from_uri(admin.uri)
            await self.refusals.refused(kind, caller, Denial.NOT_AN_ADMINISTRATOR.value, why, call=call)
            raise Refused(Denial.NOT_AN_ADMINISTRATOR, why)
        return Act(self.runtime.region, admin.uri, document)

    async def _write(self, institution: str, work: Work[R]) -> tuple[R, list[Event]]:
        try:
            return await self.runtime.write(work)
        finally:
            self.runtime.forget(institution)

    async def register(self, admin: Principal, institution: str, kind: str, name: str, document: str) -> Event:
        """Register an institution as a catalog requester kind, or change its kind or name."""
        act = await self.admit(admin, EventKind.INSTITUTION_REGISTERED, "RegisterInstitution", document)
        violations: list[FieldViolation] = []
        _check_institution(institution, violations)
        if not kind:
            violations.append(FieldViolation("kind", "is required: a requester kind of the catalog"))
        elif kind not in self.catalog.requester_kinds:
            violations.append(FieldViolation("kind", f"{kind!r} is not a requester kind of the catalog"))
        violations += text_violations("name", name, MAX_NAME, required=False)
        violations += text_violations("document", document, MAX_DOCUMENT)
        if violations:
            raise InvalidInput(violations)
        now = self.runtime.clock()
        _, events = await self._write(
            institution, _enrolment(self.runtime.store, act, institution, [], now, kind, name)
        )
        return events[0]

    async def add(
        self,
        admin: Principal,
        institution: str,
        scopes: Sequence[tuple[GrantRole, str]],
        until: datetime | None,
        document: str,
    ) -> list[tuple[GrantRow, Event]]:
        """Grant a registered institution purposes to inquire for or record types to submit, from now on."""
        act = await self.admit(admin, EventKind.GRANT_ADDED, "AddGrant", document)
        now = self.runtime.clock()
        violations: list[FieldViolation] = []
        _check_institution(institution, violations)
        if not scopes:
            violations.append(FieldViolation("inquire", "name a purpose to inquire for or a record type to submit"))
        if until is not None and until <= now:
            violations.append(FieldViolation("until", "is not in the future"))
        violations += text_violations("document", document, MAX_DOCUMENT)
        if violations:
            raise InvalidInput(violations)
        grants = [Grant(role, scope, now, until) for role, scope in scopes]
        kind = (await self.runtime.read(self.runtime.store.grants.institution, institution))[0]
        if kind is None:
            raise InvalidState(f"institution {institution} is not registered: register it first")
        check_registration(self.catalog, institution, kind, grants)
        ids, events = await self._write(
            institution, _enrolment(self.runtime.store, act, institution, grants, now, None, "")
        )
        return [
            (GrantRow(grant_id, institution, kind, grant, None), event)
            for grant_id, grant, event in zip(ids, grants, events, strict=True)
        ]

    async def _grant_of(self, grant_id: int, document: str) -> GrantRow:
        """The grant a change names, once the request holds what it must (read before the write only to know
        whose cache to forget: the write reads it again)."""
        violations = text_violations("document", document, MAX_DOCUMENT)
        if grant_id <= 0:
            violations.append(FieldViolation("grant_id", "is required: the id AddGrant and ListGrants give"))
        if violations:
            raise InvalidInput(violations)
        row = await self.runtime.read(self.runtime.store.grants.get, grant_id)
        if row is None:
            raise NotFound(f"there is no grant {grant_id}")
        return row

    async def change(
        self, admin: Principal, grant_id: int, until: datetime | None, document: str
    ) -> tuple[GrantRow, Event]:
        """Give a grant a new end (None: it no longer ends); a revoked grant stays revoked."""
        act = await self.admit(admin, EventKind.GRANT_CHANGED, "ChangeGrant", document)
        row = await self._grant_of(grant_id, document)
        changed, events = await self._write(
            row.institution, _change(self.runtime.store, act, grant_id, until, self.runtime.clock())
        )
        return changed, events[0]

    async def revoke(self, admin: Principal, grant_id: int, document: str) -> tuple[GrantRow, Event]:
        """Revoke a grant from now on: this process refuses the institution's next call that needed it."""
        act = await self.admit(admin, EventKind.GRANT_REVOKED, "RevokeGrant", document)
        row = await self._grant_of(grant_id, document)
        revoked, events = await self._write(
            row.institution, _revocation(self.runtime.store, act, grant_id, self.runtime.clock())
        )
        return revoked, events[0]

    async def grants(self, admin: Principal, institution: str) -> list[GrantRow]:
        """Every grant (of one institution, if named), revoked ones too."""
        await self.admit(admin, EventKind.REQUEST_REFUSED, "ListGrants")
        if institution:
            validate_uscc(institution, "institution")
        return await self.runtime.read(self.runtime.store.grants.rows, institution or None)
