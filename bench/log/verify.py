"""Part 2, verify: whole-log verification (``audit_log``) in leaves per second, against hashing the leaves alone."""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import postgres_schema
from bench.log.events import InquiryEvents
from bench.log.support import ORIGIN, check, duration, goal, migrated_database
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.ledger.audit import audit_log
from share_gateway.ledger.checkpoint import Checkpoint
from share_gateway.store.database import Database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store


def _build_log(
    database: Database, generator: InquiryEvents, leaves: int, batch: int = 10_000, integrate_batch: int = 50_000
) -> tuple[list[bytes], SigningKey]:
    """Append ``leaves`` events in large batches, integrate them, publish a checkpoint; return their bodies."""
    store, log = Store(database), LogStore(database)
    bodies: list[bytes] = []
    started = time.perf_counter()
    for first in range(0, leaves, batch):
        events = list(generator.clones(min(batch, leaves - first)))
        store.append(events)
        bodies += [e.canonical_bytes() for e in events]
    appended = time.perf_counter()
    print(f"  appended {leaves} events in {appended - started:.1f} s (Store.append, {batch} a batch)")
    head = log.integrate(integrate_batch)
    while head.added:
        print(f"    integrated {head.size}/{leaves} ({time.perf_counter() - appended:.1f} s)", flush=True)
        head = log.integrate(integrate_batch)
    integrated = time.perf_counter()
    print(
        f"  integrated in {integrated - appended:.1f} s (LogStore.integrate, {integrate_batch} a batch: "
        f"{leaves / (integrated - appended):.0f} leaves/s)",
        flush=True,
    )
    check(head.size == leaves, f"integrated {head.size} leaves of {leaves}")
    key = SigningKey.generate(ORIGIN)
    log.add_checkpoint(head.size, head.root, Checkpoint(ORIGIN, head.size, head.root).sign(key), datetime.now(UTC))
    return bodies, key


def _verify_on(label: str, url: str, leaves: int) -> float:
    print(f"\n== 2. verify: audit_log over {leaves} leaves on {label} ==", flush=True)
    database = migrated_database(url)
    try:
        bodies, key = _build_log(database, InquiryEvents(seed=22), leaves)
        log = LogStore(database)
        hashing = duration(lambda: [hashlib.sha256(b"\x00" + body).digest() for body in bodies])
        reports = []
        audit = duration(lambda: reports.append(audit_log(log, KeyRing([key.verifying_key]), ORIGIN)))
        report = reports[0]
        check(report.ok, f"the audit found {len(report.findings)} problems, first: {report.first}")
        check(report.checked == leaves, f"the audit checked {report.checked} leaves of {leaves}")
        check(len(report.checkpoints) == 1, "the audit did not verify the checkpoint")
        reading = duration(lambda: [log.leaves(s, min(s + 65_536, leaves)) for s in range(0, leaves, 65_536)])
        print(f"  {'raw SHA-256 leaf hashes':<36} {leaves / hashing:>9.0f} leaves/s   ({hashing:.2f} s)")
        print(
            f"  {'audit_log (whole log)':<36} {leaves / audit:>9.0f} leaves/s   ({audit:.2f} s; report ok, "
            f"{report.checked} leaves, {len(report.checkpoints)} checkpoint)"
        )
        print(f"  {'  of which LogStore.leaves alone':<36} {leaves / reading:>9.0f} leaves/s   ({reading:.2f} s)")
        print(
            f"  ratio audit/raw hashing: {hashing / audit:.2f}x the rate ({audit / hashing:.1f}x the time); "
            f"goal >= 200000 leaves/s: {goal(leaves / audit >= 200_000)}",
            flush=True,
        )
        return leaves / audit
    finally:
        database.dispose()


def run(args: argparse.Namespace, directory: Path) -> None:
    _verify_on("SQLite", f"sqlite:///{directory / 'verify.db'}", args.leaves)
    if args.verify_postgres and args.postgres_url is not None:
        with postgres_schema(args.postgres_url) as url:
            _verify_on("PostgreSQL", url, args.leaves)
