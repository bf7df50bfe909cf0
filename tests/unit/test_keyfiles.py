"""Which key modes a node accepts: its owner's alone; a read-only mounted secret of its own group, with a warning."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from share_gateway.crypto.keyfiles import KeyExposed, check_private_key, write_private


def key(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "signing.key"
    write_private(path, b"-----BEGIN PRIVATE KEY-----\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_key_only_its_owner_reads_is_accepted_silently(tmp_path: Path, mode: int) -> None:
    assert check_private_key(key(tmp_path, mode)) is None


def test_a_read_only_key_its_own_group_reads_is_accepted_with_a_warning(tmp_path: Path) -> None:
    path = key(tmp_path, 0o440)
    assert path.stat().st_gid in {os.getegid(), *os.getgroups()}
    warning = check_private_key(path)
    assert warning is not None
    assert "readable by group" in warning


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o640, 0o460, 0o660, 0o444, 0o450, 0o602])
def test_a_key_others_may_read_or_change_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(KeyExposed, match=f"mode {mode:04o}"):
        check_private_key(key(tmp_path, mode))


def test_written_private_replacing_a_readable_file(tmp_path: Path) -> None:
    """An existing file's loose mode never carries over to the key that replaces it."""
    path = tmp_path / "deep" / "er" / "tls.key"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_private(path, b"new")
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == (b"new", 0o600)
    assert [p.name for p in path.parent.iterdir()] == ["tls.key"], "no partial file left"


def test_missing_directories_are_made_0700(tmp_path: Path) -> None:
    write_private(tmp_path / "a" / "b" / "k.key", b"x")
    assert [stat.S_IMODE((tmp_path / d).stat().st_mode) for d in ("a", "a/b")] == [0o700, 0o700]
