"""The authority's key rotation, as TUF rotates its root: the key in force signs a statement naming the next key,
and the next signs it too; a verifier pinning the first key follows the chain and trusts only its end. The rule is
the project's (issue 13; TUF's root rotation is the model) (unverified)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from share_gateway.catalog import AUTHORITY_KEY_NAME
from share_gateway.crypto.keys import SigningKey
from share_gateway.crypto.note import sign_note
from share_gateway.federation.authority_rotation import (
    AuthorityRotation,
    AuthorityRotationInvalid,
    authority_keys,
    follow_rotations,
    sign_rotation,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEYS = [SigningKey.generate(AUTHORITY_KEY_NAME) for _ in range(3)]


def rotation(sequence: int, old: SigningKey, new: SigningKey) -> bytes:
    return sign_rotation(
        AuthorityRotation(sequence, old.verifying_key, new.verifying_key, NOW + timedelta(days=sequence)), old, new
    )


def test_a_verifier_pinning_the_first_key_follows_each_rotation_to_the_key_in_force() -> None:
    chain = [rotation(1, KEYS[0], KEYS[1]), rotation(2, KEYS[1], KEYS[2])]
    assert follow_rotations(KEYS[0].verifying_key, []) == KEYS[0].verifying_key
    assert follow_rotations(KEYS[0].verifying_key, chain[:1]) == KEYS[1].verifying_key
    assert follow_rotations(KEYS[0].verifying_key, chain) == KEYS[2].verifying_key
    assert AuthorityRotation.parse(note_text(chain[0])) == AuthorityRotation(
        1, KEYS[0].verifying_key, KEYS[1].verifying_key, NOW + timedelta(days=1)
    )


def note_text(document: bytes) -> str:
    return document.decode().split("\n\n")[0] + "\n"


def test_a_rotation_not_signed_by_both_keys_or_out_of_order_is_refused() -> None:
    pinned = KEYS[0].verifying_key
    statement = AuthorityRotation(1, KEYS[0].verifying_key, KEYS[1].verifying_key, NOW)
    only_old = sign_note(statement.text(), KEYS[0]).encode()
    only_new = sign_note(statement.text(), KEYS[1]).encode()
    for chain, why in (
        ([only_old], "new key"),  # the new key's holder never showed it holds it
        ([only_new], "rotation 1"),  # anyone can name a key; only the key in force hands over
        ([rotation(2, KEYS[0], KEYS[1])], "not rotation 1"),
        ([rotation(1, KEYS[1], KEYS[2])], "rotation 1"),  # not from the pinned key
        ([rotation(1, KEYS[0], KEYS[1]), rotation(2, KEYS[0], KEYS[2])], "rotation 2"),  # the retired key again
    ):
        with pytest.raises(AuthorityRotationInvalid, match=why):
            follow_rotations(pinned, chain)
    with pytest.raises(AuthorityRotationInvalid):
        sign_rotation(statement, KEYS[0], KEYS[2])


def test_the_ring_from_the_pinned_file_holds_only_the_key_in_force(tmp_path: Path) -> None:
    pinned = tmp_path / "authority.pub"
    pinned.write_bytes(KEYS[0].verifying_key.to_pem())
    assert set(authority_keys(pinned)) == {KEYS[0].key_id}
    (tmp_path / "rotations").mkdir()
    (tmp_path / "rotations/0001.signed").write_bytes(rotation(1, KEYS[0], KEYS[1]))
    assert set(authority_keys(pinned)) == {KEYS[1].key_id}, "the old key signs nothing that is accepted"
