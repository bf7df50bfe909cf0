"""Part 4, inquiry: the full inquiry path with the log on against the same path with it off."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import make_url

from bench.harness import Result, median_ratio, ratio_line, spawn, stop
from bench.inquiry_path import AGENCY, BANK, REGION, _measure, _seed, bank_inquiries, serve_node
from bench.log.support import goal
from share_gateway.config import NodeConfig
from share_gateway.devkit import create_federation


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


def run(args: argparse.Namespace, directory: Path) -> None:
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
    requests = bank_inquiries(layout.client("bank").directory, subjects)
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
                measured = asyncio.run(_measure(layout, port, requests, "full", args.seconds, args.concurrency))
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
        f"(the log costs {100 * (1 - ratio):.0f}%); goal >= 0.90: {goal(ratio >= 0.90)}"
    )
