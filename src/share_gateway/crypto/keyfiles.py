"""Secrets at rest: private keys written 0600 from their first byte, in directories only their owner can enter,
and checked before a node uses them.

A key written with the default umask and tightened afterwards is readable by
anyone for a moment, and for ever if the process dies in between; so a key is
written into a new file opened with mode 0600 (``O_EXCL``: never an existing
file whose mode would stay) and renamed into place. Directories made on the way
are 0700.

A node refuses a key that others may read. One exception is how Kubernetes
mounts a Secret with ``fsGroup``: read-only, readable by a group the process
belongs to. That is accepted, with a warning.
"""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700


class KeyExposed(Exception):
    """A private key that others than its owner may read or change: the node does not start on it."""


def private_directory(directory: Path) -> None:
    """Create ``directory`` and every missing parent with mode 0700 (an existing one is left as it is).

    ``Path.mkdir(parents=True, mode=...)`` gives the mode to the last directory only, as ``mkdir -p`` does.
    """
    missing: list[Path] = []
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for each in reversed(missing):
        try:
            os.mkdir(each, PRIVATE_DIRECTORY_MODE)
        except FileExistsError:
            continue


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only, from the first byte, replacing the file at once."""
    private_directory(path.parent)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def check_private_key(path: Path) -> str | None:
    """Raise ``KeyExposed`` if others may read or change the key at ``path``; return a warning for the one mode
    accepted although a group reads it (read-only, the group one of the process's own), else None."""
    status = path.stat()
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077 == 0:
        return None
    own_groups = {os.getegid(), *os.getgroups()}
    mounted_secret = mode & 0o277 == 0o040 and status.st_gid in own_groups
    if not mounted_secret:
        raise KeyExposed(
            f"private key {path} has mode {mode:04o}: others than its owner may read or change it "
            f"(chmod 600 {path}, or a read-only mode 0440 for a group of this process)"
        )
    return f"private key {path} is readable by group {status.st_gid} (mode {mode:04o}), as a mounted secret is"
