"""What the log benchmark's parts share: failing the run, migrated databases, the gateway's sequencer, timing.

A part that loses or corrupts work raises ``BenchmarkFailed``: its figures
would be meaningless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from bench.harness import postgres_schema
from bench.inquiry_path import REGION
from share_gateway.config import LogSettings
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.key_names import node_key_name
from share_gateway.gateway.runtime import NodeRuntime, utc_now
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.ledger.checkpoint import open_checkpoint
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.log import LogStore

ORIGIN = node_key_name(REGION)


class BenchmarkFailed(SystemExit):
    """The benchmark lost or corrupted work: its figures would be meaningless."""


def check(condition: bool, message: str) -> None:
    """Fail the run when work was lost or corrupted."""
    if not condition:
        raise BenchmarkFailed(f"FAILED: {message}")


def goal(met: bool) -> str:
    """How each part's last line says whether its goal is met."""
    return "met" if met else "NOT MET"


def database_context(url: str | None, directory: Path, name: str) -> AbstractContextManager[str]:
    """A fresh SQLite file in ``directory``, or a throwaway schema on the PostgreSQL server at ``url``."""
    if url is None:
        return nullcontext(f"sqlite:///{directory / name}.db")
    return postgres_schema(url)


def migrated_database(url: str, synchronous: str = "FULL") -> Database:
    """The database at ``url`` with the schema migrated, as a node opens it; disposed again if migrating fails."""
    database = open_database(url, sqlite_synchronous=synchronous)
    try:
        migrate(database)
    except BaseException:
        database.dispose()
        raise
    return database


def gateway_sequencer(log: LogStore, key: SigningKey, runtime: NodeRuntime) -> Sequencer:
    """A sequencer as ``Gateway`` builds one, with the default log settings."""
    settings = LogSettings()
    return Sequencer(
        log,
        key,
        runtime.off_loop,
        utc_now,
        SequencerSettings(
            interval=settings.integrate_interval_seconds,
            checkpoint_interval=settings.checkpoint_interval_seconds,
            checkpoint_leaves=settings.checkpoint_every_leaves,
        ),
    )


def check_checkpointed(log: LogStore, key: SigningKey, leaves: int) -> None:
    """Every one of ``leaves`` events is a leaf, under a signed checkpoint whose root is the stored tree's."""
    size = log.size()
    check(size == leaves, f"{leaves} events appended but the log has {size} leaves")
    check(log.pending() == 0, "events are left unintegrated")
    latest = log.latest_checkpoint()
    check(latest is not None and latest.size == size, f"no checkpoint covers all {size} leaves")
    assert latest is not None
    checkpoint = open_checkpoint(latest.note, KeyRing([key.verifying_key]), ORIGIN)
    check(checkpoint.root == log.root(size), "the checkpoint's root is not the stored tree's")


def duration(work: Callable[[], object]) -> float:
    """Seconds ``work`` takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
