"""Grants as logged acts, the pure rules: what an act must name, and the event it is (issue 13 item 4; unverified:
DOMAIN.md gives no source that a grant change itself be logged, only that inquiries be recorded with who, when,
what and why, Credit Reporting Industry Regulation Art. 22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.events import Event, EventKind
from share_gateway.domain.grant_acts import (
    Act,
    added_events,
    changed_event,
    check_document,
    check_new_end,
    revoked_event,
)
from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.domain.principals import ROLE_PREFIX, Role, roles_of

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACT = Act("110000", "sgw://person/110000198001010019", "京信用办〔2026〕9号")
INQUIRE = Grant(GrantRole.INQUIRE, "loan_underwriting", NOW - timedelta(days=1))


@pytest.mark.parametrize("document", ["", "   ", "x" * 201, "a\x00b", "a\ud800"])
def test_every_act_names_a_storable_document_of_at_most_200_characters(document: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_document(document)
    assert [v.field for v in refused.value.violations] == ["document"]


def test_a_document_of_200_characters_is_enough() -> None:
    check_document("文" * 200)


def test_a_changed_grant_ends_after_it_starts_and_in_the_future() -> None:
    check_new_end(INQUIRE, None, NOW)
    check_new_end(INQUIRE, NOW + timedelta(seconds=1), NOW)
    for until in (INQUIRE.valid_from, NOW):
        with pytest.raises(InvalidInput) as refused:
            check_new_end(INQUIRE, until, NOW)
        assert [v.field for v in refused.value.violations] == ["until"]


def test_each_act_is_an_event_naming_actor_document_grant_and_scope() -> None:
    submit = Grant(GrantRole.SUBMIT, "tax_arrears", NOW)
    added = added_events(ACT, ["e1", "e2"], NOW, "91110000MA0000001L", [(7, INQUIRE), (8, submit)])
    assert [e.kind for e in added] == [EventKind.GRANT_ADDED, EventKind.GRANT_ADDED]
    assert [e.purpose for e in added] == ["loan_underwriting", ""], "an inquiry grant's purpose is searchable"
    assert added[1].details["scope"] == "tax_arrears"
    ended = Grant(INQUIRE.role, INQUIRE.scope, INQUIRE.valid_from, NOW + timedelta(days=3))
    changed = changed_event(ACT, "e3", NOW, 7, "91110000MA0000001L", INQUIRE, ended)
    assert (changed.details["previous_valid_until"], changed.details["valid_until"]) == (
        "none",
        "2026-12-04T09:00:00.000000Z",
    )
    revoked = revoked_event(ACT, "e4", NOW, 7, "91110000MA0000001L", INQUIRE)
    for event in (*added, changed, revoked):
        assert (event.actor, event.details["document"], event.details["via"]) == (
            ACT.actor,
            ACT.document,
            "admin_service",
        )
        assert Event.from_bytes(event.canonical_bytes()) == event, "canonical and verifiable like every event"
    assert revoked.details["grant_id"] == "7"


def test_the_administrator_role_is_read_from_its_certificate_uri() -> None:
    assert roles_of([f"{ROLE_PREFIX}administrator"]) == frozenset({Role.ADMINISTRATOR})
    assert roles_of([f"{ROLE_PREFIX}admin"]) == frozenset()
