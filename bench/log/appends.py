"""Part 1, appends: sustained appends per second with integration on, against the same appends without it.

The sequencer runs beside the appenders, then in a process of its own (as
``share-gateway sequencer`` runs it); every appended event must end up a leaf
under a signed checkpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from bench.harness import Result, spawn_with_pipe, stop
from bench.inquiry_path import REGION
from bench.log.events import InquiryEvents
from bench.log.support import (
    ORIGIN,
    check,
    check_checkpointed,
    database_context,
    gateway_sequencer,
    goal,
    migrated_database,
)
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.events import Event
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store


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
        database = migrated_database(url, synchronous)
        key = SigningKey.from_pem(ORIGIN, key_pem)
        runtime = NodeRuntime(REGION, key, Store(database))
        sequencer = gateway_sequencer(LogStore(database), key, runtime)
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
    database = migrated_database(url, synchronous)
    try:
        key = SigningKey.generate(ORIGIN)
        store = Store(database)
        runtime = NodeRuntime(REGION, key, store)
        log = LogStore(database)
        sequencer = gateway_sequencer(log, key, runtime)
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
            check(not alarm, f"{name}: the sequencer raised an alarm: {alarm}")
            stop(child)
        elif sequencer_on:
            await sequencer.stop()
        finished = time.perf_counter()
        await runtime.close()
        stored = store.count("events")
        check(stored == len(events), f"{name}: {len(events)} appends returned but {stored} events are stored")
        if sequencer_on or own_process:
            check(sequencer.alarm is None, f"{name}: the sequencer raised an alarm: {sequencer.alarm}")
            check_checkpointed(log, key, len(events))
        result = Result(name, len(latencies), appended - began, latencies, unit="appends/s")
        return AppendRun(result, finished - began, backlog)
    finally:
        database.dispose()


def run(args: argparse.Namespace, directory: Path) -> None:
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
            with database_context(server, directory, f"appends-{label.replace(' ', '-')}-{sequencer_on}") as url:
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
        print(f"  goal >= 10000 appends/s sustained with integration on ({label}): {goal(on.end_to_end >= 10_000)}")
        name = f"{label}, sequencer process"
        with database_context(server, directory, f"appends-{label.replace(' ', '-')}-process") as url:
            apart = asyncio.run(_append_run(name, url, synchronous, events, args.appenders, False, own_process=True))
        print("  " + apart.result.line(), flush=True)
        print(
            f"  {'':<28} {apart.end_to_end:>9.0f} leaves/s end to end with the sequencer in its own process "
            f"(share-gateway sequencer); ratio to sequencer off {apart.end_to_end / off.end_to_end:.2f}x; "
            f"goal: {goal(apart.end_to_end >= 10_000)}",
            flush=True,
        )
