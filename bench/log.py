"""The verifiable log's costs, each against a baseline measured in the same run.

1. appends: sustained appends per second with integration on. Many concurrent
   appenders (asyncio tasks) call ``NodeRuntime.event_log.append`` with
   realistic inquiry events (a bank's loan-underwriting inquiry disclosing five
   records, citing the purpose's and each record type's legal basis) while a
   ``Sequencer`` integrates and checkpoints beside them, on SQLite with
   ``synchronous`` FULL and NORMAL and on PostgreSQL. Baseline: the same appends
   with the sequencer off. Two rates: appends/s while appending, and leaves/s
   end to end (until the last event is integrated and checkpointed, which is
   what can be sustained). Every appended event must end up a leaf under a
   signed checkpoint, or the run fails. Goal: >= 10k appends/s.
2. verify: whole-log verification (``ledger.audit.audit_log``) in leaves per
   second over a log of ``--leaves`` events with a signed checkpoint; the
   report must be ok. Baseline: SHA-256 leaf hashes of the same bodies with
   hashlib alone. Goal: >= 200k leaves/s.
3. proof: inclusion-proof generation (``LogStore.inclusion_proof``) at
   ``--proof-leaves`` leaves, median and p99 over random indexes; every proof
   equals the baseline's and a sample verifies against ``LogStore.root``.
   Baseline: ``ledger.tree.inclusion_proof`` over an in-memory dict of every
   node. The tree's nodes are computed with the sequencer's own ``Frontier``
   and bulk-inserted into ``log_nodes`` (proofs read nothing else), so a
   million leaves take seconds instead of the minutes integrating a million
   events would. Timing stops after ``--proof-seconds`` when proofs are slow.
   Goal: < 2 ms per proof.
4. inquiry: the full-path inquiry benchmark of ``bench.inquiry_path`` with the
   log on (``log.sequencer: true``) versus off, alternating which runs first,
   each run on a fresh copy of the same seeded database. Goal: the log costs
   the inquiry path no more than 10% (QPS ratio >= 0.90).

Each part prints its figures, the baseline's, their ratio and whether the
goal is met; a part that loses or corrupts work fails the run. The defaults
take about 5 minutes on a 2-core machine:

    python -m bench.log [--part appends,verify,proof,inquiry] [--appends 40000] [--appenders 256]
                        [--leaves 200000] [--proof-leaves 1000000] [--proofs 2000] [--proof-seconds 20]
                        [--records 10000] [--seconds 8] [--rounds 2] [--no-postgres | --postgres-url URL]
                        [--verify-postgres] [--proof-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from importlib import resources
from multiprocessing.connection import Connection
from pathlib import Path

import yaml
from sqlalchemy import make_url

from bench.harness import (
    Result,
    median_ratio,
    postgres_reachable,
    postgres_schema,
    ratio_line,
    spawn,
    spawn_with_pipe,
    stop,
)
from bench.inquiry_path import AGENCY, BANK, REGION, _measure, _seed, serve_node
from share_gateway.config import LogSettings, NodeConfig, node_key_name
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import create_federation
from share_gateway.domain.canonical import canonical_json
from share_gateway.domain.errors import Citation
from share_gateway.domain.events import DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.gateway.runtime import NodeRuntime, utc_now
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.ledger.audit import audit_log
from share_gateway.ledger.checkpoint import Checkpoint, open_checkpoint
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, inclusion_proof
from share_gateway.ledger.verify import verify_inclusion
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from share_gateway.synthetic import Population

PARTS = ("appends", "verify", "proof", "inquiry")
ORIGIN = node_key_name(REGION)
PURPOSE = "loan_underwriting"
RECORDS_PER_INQUIRY = 5
DEFAULT_POSTGRES = os.environ.get("SHARE_GATEWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class BenchmarkFailed(SystemExit):
    """The benchmark lost or corrupted work: its figures would be meaningless."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailed(f"FAILED: {message}")


def _goal(met: bool) -> str:
    return "met" if met else "NOT MET"


# --- realistic events ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _RecordType:
    name: str
    subject_kinds: frozenset[SubjectKind]
    fields: tuple[str, ...]
    citation: Citation


class InquiryEvents:
    """Events of allowed inquiries as ``InquiryDesk`` logs them.

    A bank asks about a subject for loan underwriting and is disclosed five
    records, each with the fields the sample catalog deems necessary for the
    purpose, citing the purpose's legal basis and each record type's.
    """

    def __init__(self, seed: int = 1, subjects: int = 256) -> None:
        self._rng = random.Random(seed)
        text = (resources.files("share_gateway.catalog") / "sample.yaml").read_text(encoding="utf-8")
        catalog = yaml.safe_load(text)
        self._purpose = Citation(f"purpose/{PURPOSE}", catalog["purposes"][PURPOSE]["legal_basis"])
        self._types = [
            _RecordType(
                name,
                frozenset(SubjectKind(kind) for kind in spec["subject_kinds"]),
                tuple(spec["necessity"][PURPOSE]),
                Citation(f"record_type/{name}", spec["legal_basis"]),
            )
            for name, spec in catalog["record_types"].items()
            if "subject_kinds" in spec and PURPOSE in spec.get("necessity", {})
        ]
        population = Population(seed=seed, today=date.today())
        self._subjects = [Subject(s.kind, s.identifier) for s in population.subjects(subjects, regions=[REGION])]
        self._templates: list[tuple[Event, bytes, bytes]] = []

    def _id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def event(self) -> Event:
        subject = self._rng.choice(self._subjects)
        eligible = [t for t in self._types if subject.kind in t.subject_kinds]
        chosen = [self._rng.choice(eligible) for _ in range(RECORDS_PER_INQUIRY)]
        return Event(
            event_id=self._id(),
            kind=EventKind.INQUIRY,
            at=datetime.now(UTC),
            node=REGION,
            actor=BANK.uri,
            outcome=Outcome.ALLOWED,
            subject=subject,
            purpose=PURPOSE,
            citations=tuple(dict.fromkeys([self._purpose, *(t.citation for t in chosen)])),
            records=tuple(DisclosedRecord(self._id(), t.name, REGION, t.fields) for t in chosen),
            details={"consent_reference": "A-1"},
        )

    def events(self, count: int) -> list[Event]:
        """``count`` new events with their canonical bytes computed, as the inquiry path has them when it appends.

        (It signs the receipt over those bytes first; ``Event`` caches them.)
        """
        events = [self.event() for _ in range(count)]
        for event in events:
            event.canonical_bytes()
        return events

    def _template(self, n: int, templates: int = 64) -> tuple[Event, bytes, bytes]:
        while len(self._templates) < templates:
            event = self.event()
            self._templates.append((event, event.canonical_bytes(), event.event_id.encode()))
        return self._templates[n % templates]

    def bodies(self, count: int) -> Iterator[bytes]:
        """Canonical bytes of ``count`` distinct events, fast: a template's bytes with another event id."""
        for n in range(count):
            _, body, old_id = self._template(n)
            yield body.replace(old_id, self._id().encode(), 1)

    def clones(self, count: int) -> Iterator[Event]:
        """``count`` distinct events, fast: a template with another id, its canonical bytes set by substitution.

        Encoding an event costs ~70 us here; substituting the id in the
        template's bytes gives the same bytes (checked for each template).
        """
        for n in range(count):
            template, body, old_id = self._template(n)
            event_id = self._id()
            event = dataclasses.replace(template, event_id=event_id)
            event.__dict__["_bytes"] = body.replace(old_id, event_id.encode(), 1)  # Event caches its bytes there
            if n < len(self._templates):
                _check(canonical_json(event.to_json()) == event.canonical_bytes(), "a cloned event's bytes differ")
            yield event


# --- storage ------------------------------------------------------------------


def _database_context(url: str | None, directory: Path, name: str) -> AbstractContextManager[str]:
    """A fresh SQLite file in ``directory``, or a throwaway schema on the PostgreSQL server at ``url``."""
    if url is None:
        return nullcontext(f"sqlite:///{directory / name}.db")
    return postgres_schema(url)


def _open(url: str, synchronous: str = "FULL") -> Database:
    database = open_database(url, sqlite_synchronous=synchronous)
    try:
        migrate(database)
    except BaseException:
        database.dispose()
        raise
    return database


def _sequencer(log: LogStore, key: SigningKey, runtime: NodeRuntime) -> Sequencer:
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


def _check_checkpointed(log: LogStore, key: SigningKey, leaves: int) -> None:
    """Every one of ``leaves`` events is a leaf, under a signed checkpoint whose root is the stored tree's."""
    size = log.size()
    _check(size == leaves, f"{leaves} events appended but the log has {size} leaves")
    _check(log.pending() == 0, "events are left unintegrated")
    latest = log.latest_checkpoint()
    _check(latest is not None and latest.size == size, f"no checkpoint covers all {size} leaves")
    assert latest is not None
    checkpoint = open_checkpoint(latest.note, KeyRing([key.verifying_key]), ORIGIN)
    _check(checkpoint.root == log.root(size), "the checkpoint's root is not the stored tree's")


# --- 1. appends -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AppendRun:
    result: Result  # append latencies; ``seconds`` is the appending phase
    total_seconds: float  # until every event is integrated and checkpointed (the appending phase without sequencer)
    backlog: int  # events not yet integrated when the last append returned

    @property
    def end_to_end(self) -> float:
        return self.result.calls / self.total_seconds


def _sequencer_process(pipe: Connection, argument: tuple[str, str, bytes]) -> None:
    """A sequencer in a process of its own, as ``share-gateway sequencer`` runs one; stops when told."""
    url, synchronous, key_pem = argument

    async def main() -> None:
        database = _open(url, synchronous)
        key = SigningKey.from_pem(ORIGIN, key_pem)
        runtime = NodeRuntime(REGION, key, Store(database))
        sequencer = _sequencer(LogStore(database), key, runtime)
        sequencer.start()
        pipe.send(0)  # ready (spawn() reads a port; any number will do)
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await sequencer.stop()
        await runtime.close()
        database.dispose()
        pipe.send(sequencer.alarm or "")

    asyncio.run(main())


async def _append_run(
    name: str,
    url: str,
    synchronous: str,
    events: Sequence[Event],
    appenders: int,
    sequencer_on: bool,
    own_process: bool = False,
) -> AppendRun:
    database = _open(url, synchronous)
    try:
        key = SigningKey.generate(ORIGIN)
        store = Store(database)
        runtime = NodeRuntime(REGION, key, store)
        log = LogStore(database)
        sequencer = _sequencer(log, key, runtime)
        latencies: list[float] = []
        queue = iter(events)

        async def appender() -> None:
            for event in queue:  # one iterator shared by every task: each event is appended once
                started = time.perf_counter()
                await runtime.event_log.append(event)
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        child = None
        if own_process:
            child, pipe = spawn_with_pipe(_sequencer_process, (url, synchronous, key.to_pem()))
            pipe.recv()  # ready
        elif sequencer_on:
            sequencer.start()
        await asyncio.gather(*(appender() for _ in range(appenders)))
        appended = time.perf_counter()
        backlog = log.pending() if sequencer_on or own_process else len(events)
        if child is not None:
            pipe.send("stop")
            alarm = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            _check(not alarm, f"{name}: the sequencer raised an alarm: {alarm}")
            stop(child)
        elif sequencer_on:
            await sequencer.stop()
        finished = time.perf_counter()
        await runtime.close()
        stored = store.count("events")
        _check(stored == len(events), f"{name}: {len(events)} appends returned but {stored} events are stored")
        if sequencer_on or own_process:
            _check(sequencer.alarm is None, f"{name}: the sequencer raised an alarm: {sequencer.alarm}")
            _check_checkpointed(log, key, len(events))
        result = Result(name, len(latencies), appended - began, latencies, unit="appends/s")
        return AppendRun(result, finished - began, backlog)
    finally:
        database.dispose()


def appends(args: argparse.Namespace, directory: Path) -> None:
    generator = InquiryEvents(seed=11)
    started = time.perf_counter()
    events = generator.events(args.appends)
    size = statistics.mean(len(e.canonical_bytes()) for e in events[:1000])
    print(
        f"\n== 1. appends: {args.appends} inquiry events ({size / 1000:.1f} kB each, built in "
        f"{time.perf_counter() - started:.1f} s) by {args.appenders} concurrent appenders ==",
        flush=True,
    )
    backends: list[tuple[str, str | None, str]] = [("SQLite FULL", None, "FULL"), ("SQLite NORMAL", None, "NORMAL")]
    if args.postgres_url is not None:
        backends.append(("PostgreSQL", args.postgres_url, "FULL"))
    for label, server, synchronous in backends:
        runs: dict[bool, AppendRun] = {}
        for sequencer_on in (False, True):
            name = f"{label}, sequencer {'on' if sequencer_on else 'off'}"
            with _database_context(server, directory, f"appends-{label.replace(' ', '-')}-{sequencer_on}") as url:
                runs[sequencer_on] = asyncio.run(
                    _append_run(name, url, synchronous, events, args.appenders, sequencer_on)
                )
            print("  " + runs[sequencer_on].result.line(), flush=True)
        on, off = runs[True], runs[False]
        print(
            f"  {'':<28} {on.end_to_end:>9.0f} leaves/s end to end: {args.appends} appended, integrated and "
            f"checkpointed in {on.total_seconds:.2f} s (backlog {on.backlog} when appends ended, drained in "
            f"{on.total_seconds - on.result.seconds:.2f} s)"
        )
        print(
            f"  ratio on/off ({label}): appends/s {on.result.qps / off.result.qps:.2f}x, end to end "
            f"{on.end_to_end / off.end_to_end:.2f}x, p50 {on.result.percentile(50) / off.result.percentile(50):.2f}x, "
            f"p99 {on.result.percentile(99) / off.result.percentile(99):.2f}x; every append is a checkpointed leaf",
            flush=True,
        )
        print(f"  goal >= 10000 appends/s sustained with integration on ({label}): {_goal(on.end_to_end >= 10_000)}")
        name = f"{label}, sequencer process"
        with _database_context(server, directory, f"appends-{label.replace(' ', '-')}-process") as url:
            apart = asyncio.run(_append_run(name, url, synchronous, events, args.appenders, False, own_process=True))
        print("  " + apart.result.line(), flush=True)
        print(
            f"  {'':<28} {apart.end_to_end:>9.0f} leaves/s end to end with the sequencer in its own process "
            f"(share-gateway sequencer); ratio to sequencer off {apart.end_to_end / off.end_to_end:.2f}x; "
            f"goal: {_goal(apart.end_to_end >= 10_000)}",
            flush=True,
        )


# --- 2. verify --------------------------------------------------------------------


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
    _check(head.size == leaves, f"integrated {head.size} leaves of {leaves}")
    key = SigningKey.generate(ORIGIN)
    log.add_checkpoint(head.size, head.root, Checkpoint(ORIGIN, head.size, head.root).sign(key), datetime.now(UTC))
    return bodies, key


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _verify_on(label: str, url: str, leaves: int) -> float:
    print(f"\n== 2. verify: audit_log over {leaves} leaves on {label} ==", flush=True)
    database = _open(url)
    try:
        bodies, key = _build_log(database, InquiryEvents(seed=22), leaves)
        log = LogStore(database)
        hashing = _timed(lambda: [hashlib.sha256(b"\x00" + body).digest() for body in bodies])
        reports = []
        audit = _timed(lambda: reports.append(audit_log(log, KeyRing([key.verifying_key]), ORIGIN)))
        report = reports[0]
        _check(report.ok, f"the audit found {len(report.findings)} problems, first: {report.first}")
        _check(report.checked == leaves, f"the audit checked {report.checked} leaves of {leaves}")
        _check(len(report.checkpoints) == 1, "the audit did not verify the checkpoint")
        reading = _timed(lambda: [log.leaves(s, min(s + 65_536, leaves)) for s in range(0, leaves, 65_536)])
        print(f"  {'raw SHA-256 leaf hashes':<36} {leaves / hashing:>9.0f} leaves/s   ({hashing:.2f} s)")
        print(
            f"  {'audit_log (whole log)':<36} {leaves / audit:>9.0f} leaves/s   ({audit:.2f} s; report ok, "
            f"{report.checked} leaves, {len(report.checkpoints)} checkpoint)"
        )
        print(f"  {'  of which LogStore.leaves alone':<36} {leaves / reading:>9.0f} leaves/s   ({reading:.2f} s)")
        print(
            f"  ratio audit/raw hashing: {hashing / audit:.2f}x the rate ({audit / hashing:.1f}x the time); "
            f"goal >= 200000 leaves/s: {_goal(leaves / audit >= 200_000)}",
            flush=True,
        )
        return leaves / audit
    finally:
        database.dispose()


def verify(args: argparse.Namespace, directory: Path) -> None:
    _verify_on("SQLite", f"sqlite:///{directory / 'verify.db'}", args.leaves)
    if args.verify_postgres and args.postgres_url is not None:
        with postgres_schema(args.postgres_url) as url:
            _verify_on("PostgreSQL", url, args.leaves)


# --- 3. proof ---------------------------------------------------------------------


def _insert_nodes(database: Database, rows: list[tuple[int, int, bytes]]) -> None:
    marker = "?" if database.is_sqlite else "%s"
    with database.writer.begin() as connection:
        connection.exec_driver_sql(
            f"INSERT INTO log_nodes (level, idx, hash) VALUES ({marker}, {marker}, {marker})",
            rows,
        )


def _build_tree(database: Database, leaves: int, chunk: int = 100_000) -> tuple[dict[NodeId, bytes], bytes]:
    """Store the tree of ``leaves`` realistic events' leaf hashes as integration would; return all nodes and root."""
    generator = InquiryEvents(seed=33)
    frontier = Frontier(0, [])
    nodes: dict[NodeId, bytes] = {}
    started = time.perf_counter()
    rows: list[tuple[int, int, bytes]] = []
    for body in generator.bodies(leaves):
        for node, value in frontier.append(leaf_hash(body)):
            nodes[node] = value
            rows.append((node.level, node.index, value))
        if frontier.size % chunk == 0 or frontier.size == leaves:
            _insert_nodes(database, rows)
            rows = []
            print(f"    built {frontier.size}/{leaves} leaves ({time.perf_counter() - started:.1f} s)", flush=True)
    return nodes, frontier.root


def _timed_proofs(
    name: str, indexes: Sequence[int], make: Callable[[int], list[bytes]], budget: float
) -> tuple[Result, list[list[bytes]]]:
    """Make the proof of each index in turn, timing each, until done or ``budget`` seconds have passed."""
    latencies: list[float] = []
    made: list[list[bytes]] = []
    began = time.perf_counter()
    for index in indexes:
        before = time.perf_counter()
        made.append(make(index))
        latencies.append((time.perf_counter() - before) * 1000)
        if before - began > budget:
            break
    return Result(name, len(made), time.perf_counter() - began, latencies, unit="proofs/s"), made


def _proof_on(label: str, url: str, leaves: int, proofs: int, budget: float) -> float:
    print(f"\n== 3. proof: inclusion proofs at {leaves} leaves on {label} ==", flush=True)
    database = _open(url)
    try:
        started = time.perf_counter()
        nodes, tree_root = _build_tree(database, leaves)
        print(f"  built {leaves} leaves ({len(nodes)} stored nodes) in {time.perf_counter() - started:.1f} s")
        log = LogStore(database)
        stored_root = log.root(leaves)
        _check(stored_root == tree_root, "the stored tree's root is not the one computed while building it")
        root_ms = statistics.median(1000 * _timed(lambda: log.root(leaves)) for _ in range(3))
        print(f"  LogStore.root({leaves}) (what each checkpoint and Frontier.load read): {root_ms:.2f} ms")
        rng = random.Random(3)
        indexes = [rng.randrange(leaves) for _ in range(proofs)]

        def stored(index: int) -> list[bytes]:
            return log.inclusion_proof(index, leaves)

        def in_memory(index: int) -> list[bytes]:
            return inclusion_proof(index, leaves, lambda ids: {node: nodes[node] for node in ids})

        _timed_proofs("warm-up", [rng.randrange(leaves) for _ in range(20)], stored, budget / 10)
        stored_result, stored_proofs = _timed_proofs("LogStore.inclusion_proof", indexes, stored, budget)
        timed = indexes[: stored_result.calls]
        memory_result, memory_proofs = _timed_proofs("tree.inclusion_proof (dict)", timed, in_memory, budget)
        _check(stored_proofs == memory_proofs, "stored and in-memory proofs differ")
        sample = list(zip(timed, stored_proofs, strict=True))[:200]
        for index, proof in sample:
            verify_inclusion(index, leaves, nodes[NodeId(0, index)], proof, stored_root)
        print("  " + memory_result.line())
        print("  " + stored_result.line())
        if stored_result.calls < proofs:
            print(f"  (timed {stored_result.calls} of {proofs} proofs: stopped at the {budget:g} s budget)")
        median, p99 = stored_result.percentile(50), stored_result.percentile(99)
        print(
            f"  ratio stored/in-memory: p50 {median / memory_result.percentile(50):.1f}x, "
            f"p99 {p99 / memory_result.percentile(99):.1f}x; all {stored_result.calls} proofs equal, "
            f"{len(sample)} verified against LogStore.root; goal < 2 ms per proof: median {_goal(median < 2)}, "
            f"p99 {_goal(p99 < 2)}",
            flush=True,
        )
        return median
    finally:
        database.dispose()


def proof(args: argparse.Namespace, directory: Path) -> None:
    _proof_on("SQLite", f"sqlite:///{directory / 'proof.db'}", args.proof_leaves, args.proofs, args.proof_seconds)
    if args.proof_postgres and args.postgres_url is not None:
        with postgres_schema(args.postgres_url) as url:
            _proof_on("PostgreSQL", url, args.proof_leaves, args.proofs, args.proof_seconds)


# --- 4. inquiry -------------------------------------------------------------------


def _variant(config_path: Path, settings: dict[str, object], seeded: Path, name: str, sequencer_on: bool) -> Path:
    """A node configuration of its own, on a fresh copy of the seeded database, with the log on or off."""
    copy = config_path.parent / f"{name}.db"
    shutil.copyfile(seeded, copy)
    for suffix in ("-wal", "-shm"):
        if Path(f"{seeded}{suffix}").exists():
            shutil.copyfile(f"{seeded}{suffix}", f"{copy}{suffix}")
    path = config_path.parent / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump({**settings, "database": f"sqlite:///{copy.name}", "log": {"sequencer": sequencer_on}})
    )
    return path


def inquiry(args: argparse.Namespace, directory: Path) -> None:
    print(
        f"\n== 4. inquiry: full path with the log on vs off ({args.concurrency} concurrent, {args.seconds:g} s a run, "
        f"SQLite synchronous={args.inquiry_synchronous}) ==",
        flush=True,
    )
    root = directory / "federation"
    layout = create_federation(root, [REGION], {"bank": BANK, "agency": AGENCY}, datetime.now(UTC))
    config_path = layout.node_config(REGION)
    settings = {**yaml.safe_load(config_path.read_text()), "sqlite_synchronous": args.inquiry_synchronous}
    config_path.write_text(yaml.safe_dump(settings))
    started = time.perf_counter()
    config = NodeConfig.load(config_path)
    subjects = asyncio.run(_seed(config, args.records))
    seeded = Path(str(make_url(config.database).database))
    print(f"  seeded {args.records} records in {time.perf_counter() - started:.1f} s", flush=True)
    pairs: list[tuple[Result, Result]] = []
    for round_number in range(1, args.rounds + 1):
        results: dict[bool, Result] = {}
        order = (True, False) if round_number % 2 else (False, True)
        for sequencer_on in order:
            name = f"round{round_number}-{'on' if sequencer_on else 'off'}"
            variant = _variant(config_path, settings, seeded, name, sequencer_on)
            process, port = spawn(serve_node, str(variant))
            try:
                measured = asyncio.run(_measure(layout, port, subjects, False, args.seconds, args.concurrency))
            finally:
                stop(process)
            label = f"inquiry, log {'on' if sequencer_on else 'off'}"
            results[sequencer_on] = dataclasses.replace(measured, name=label)
            Path(config_path.parent / f"{name}.db").unlink()
        print(f"  round {round_number} ({'on first' if order[0] else 'off first'}):")
        print("    " + results[False].line())
        print("    " + results[True].line())
        print("    " + ratio_line(results[True], results[False]), flush=True)
        pairs.append((results[True], results[False]))
    ratio = median_ratio(pairs)
    print(
        f"  median QPS ratio log on/off over {len(pairs)} rounds: {ratio:.2f} "
        f"(the log costs {100 * (1 - ratio):.0f}%); goal >= 0.90: {_goal(ratio >= 0.90)}"
    )


# --- main -------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--appends", type=int, default=40_000, help="events appended per configuration (part 1)")
    parser.add_argument("--appenders", type=int, default=256, help="concurrent appending tasks (part 1)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="PostgreSQL server for part 1 (and options)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--leaves", type=int, default=200_000, help="leaves of the verified log (part 2)")
    parser.add_argument("--verify-postgres", action="store_true", help="part 2 on PostgreSQL too")
    parser.add_argument("--proof-leaves", type=int, default=1_000_000, help="leaves of the proved tree (part 3)")
    parser.add_argument("--proofs", type=int, default=2000, help="random inclusion proofs timed (part 3)")
    parser.add_argument("--proof-seconds", type=float, default=20.0, help="time budget for the timed proofs (part 3)")
    parser.add_argument("--proof-postgres", action="store_true", help="part 3 on PostgreSQL too")
    parser.add_argument("--records", type=int, default=10_000, help="records seeded (part 4)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per measured run (part 4)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent inquiries (part 4)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of log on and off (part 4)")
    parser.add_argument("--inquiry-synchronous", choices=["FULL", "NORMAL"], default="FULL")
    args = parser.parse_args()
    parts = [p.strip() for p in args.part.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.no_postgres:
        args.postgres_url = None
    elif (why := postgres_reachable(args.postgres_url)) is not None:
        print(f"PostgreSQL unreachable at {args.postgres_url} ({why}): its runs are skipped")
        args.postgres_url = None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-log-") as directory:
        for part in PARTS:
            if part in parts:
                {"appends": appends, "verify": verify, "proof": proof, "inquiry": inquiry}[part](args, Path(directory))
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
