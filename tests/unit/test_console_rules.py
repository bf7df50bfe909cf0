"""The console's small rules: which checkpoint an entry is proved under, and the one-time token's one use."""

from __future__ import annotations

from share_gateway.console.oversight import listing_step, repair_step
from share_gateway.console.proofs import Verdict, check_entry, witnessed_size
from share_gateway.console.session import Sessions
from share_gateway.v1 import common_pb2, compliance_pb2


def witnessed(*sizes: int) -> list[compliance_pb2.WitnessedCheckpoint]:
    return [compliance_pb2.WitnessedCheckpoint(witness=f"w{i}", size=size) for i, size in enumerate(sizes)]


def test_an_entry_is_proved_under_the_checkpoint_most_witnesses_cosigned_that_covers_it() -> None:
    assert witnessed_size(3, witnessed(10, 10, 12)) == 10
    assert witnessed_size(3, witnessed(10, 12)) == 12  # a tie: the larger
    assert witnessed_size(10, witnessed(10, 12)) == 12  # leaf 10 is only in a tree of more than 10
    assert witnessed_size(12, witnessed(10, 12)) == 0  # none covers it yet: the latest
    assert witnessed_size(0, []) == 0


def test_nothing_verifies_without_a_manifest() -> None:
    check = check_entry(compliance_pb2.GetInclusionProofResponse(), None)
    assert check.verdict is Verdict.FAILED
    assert "--manifest" in check.reason


def test_the_token_opens_one_session_once() -> None:
    sessions = Sessions()
    assert sessions.exchange("wrong") is None
    session = sessions.exchange(sessions.token)
    assert session is not None
    assert sessions.exchange(sessions.token) is None
    csrf = sessions.csrf(session)
    assert csrf is not None
    assert sessions.form_is_genuine(session, csrf)
    assert not sessions.form_is_genuine(session, "forged")
    assert not sessions.form_is_genuine(None, csrf)
    assert sessions.csrf("another") is None


def test_oversight_puts_overdue_steps_first_then_the_nearest_deadline_and_undated_last() -> None:
    def application(ident: str, decision_due: str, overdue: str = "") -> common_pb2.RepairApplication:
        return common_pb2.RepairApplication(
            application_id=ident,
            state=common_pb2.REPAIR_STATE_ACCEPTED,
            decision_due=decision_due,
            result_due="2027-01-29",
            overdue=overdue,
        )

    steps = [
        repair_step("n", application("later", "2026-12-20")),
        repair_step("n", application("late", "2026-11-20", overdue="decision")),
        repair_step("n", application("sooner", "2026-12-10")),
    ]
    assert [s.ident for s in sorted(steps, key=lambda s: s.order)] == ["late", "sooner", "later"]
    decided = common_pb2.RepairApplication(state=common_pb2.REPAIR_STATE_APPROVED, result_due="2027-01-29")
    assert (repair_step("n", decided).due_what, repair_step("n", decided).due) == ("result", "2027-01-29")
    listed = [
        listing_step("n", common_pb2.Listing(listing_id="open-ended", state=common_pb2.LISTING_STATE_LISTED)),
        listing_step(
            "n",
            common_pb2.Listing(
                listing_id="notified", state=common_pb2.LISTING_STATE_NOTIFIED, objection_due="2026-12-09"
            ),
        ),
        listing_step(
            "n",
            common_pb2.Listing(
                listing_id="removal", state=common_pb2.LISTING_STATE_LISTED, removal_due="2026-12-01", overdue="removal"
            ),
        ),
    ]
    ordered = sorted(listed, key=lambda s: s.order)
    assert [(s.ident, s.due_what) for s in ordered] == [
        ("removal", "removal"),
        ("notified", "objection"),
        ("open-ended", "end"),
    ]
