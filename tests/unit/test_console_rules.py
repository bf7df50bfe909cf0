"""The console's small rules: which checkpoint an entry is proved under, and the one-time token's one use."""

from __future__ import annotations

from share_gateway.console.proofs import Verdict, check_entry, witnessed_size
from share_gateway.console.session import Sessions
from share_gateway.v1 import compliance_pb2


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
