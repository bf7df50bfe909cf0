"""Part 3, proof: inclusion proofs read from the stored tree, against the same proofs over an in-memory dict."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import Result, postgres_schema
from bench.log.events import InquiryEvents
from bench.log.support import check, duration, goal, migrated_database
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, inclusion_proof
from share_gateway.ledger.verify import verify_inclusion
from share_gateway.store.database import Database
from share_gateway.store.log import LogStore


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
    database = migrated_database(url)
    try:
        started = time.perf_counter()
        nodes, tree_root = _build_tree(database, leaves)
        print(f"  built {leaves} leaves ({len(nodes)} stored nodes) in {time.perf_counter() - started:.1f} s")
        log = LogStore(database)
        stored_root = log.root(leaves)
        check(stored_root == tree_root, "the stored tree's root is not the one computed while building it")
        root_ms = statistics.median(1000 * duration(lambda: log.root(leaves)) for _ in range(3))
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
        check(stored_proofs == memory_proofs, "stored and in-memory proofs differ")
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
            f"{len(sample)} verified against LogStore.root; goal < 2 ms per proof: median {goal(median < 2)}, "
            f"p99 {goal(p99 < 2)}",
            flush=True,
        )
        return median
    finally:
        database.dispose()


def run(args: argparse.Namespace, directory: Path) -> None:
    _proof_on("SQLite", f"sqlite:///{directory / 'proof.db'}", args.proof_leaves, args.proofs, args.proof_seconds)
    if args.proof_postgres and args.postgres_url is not None:
        with postgres_schema(args.postgres_url) as url:
            _proof_on("PostgreSQL", url, args.proof_leaves, args.proofs, args.proof_seconds)
