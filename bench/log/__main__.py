"""``python -m bench.log``: read the options, then run each chosen part in order (see ``bench.log``)."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bench.log
from bench.harness import postgres_reachable
from bench.log import appends, index, inquiry, proof, verify

PARTS: dict[str, Callable[[argparse.Namespace, Path], None]] = {
    "appends": appends.run,
    "verify": verify.run,
    "proof": proof.run,
    "inquiry": inquiry.run,
    "index": index.run,
}
DEFAULT_POSTGRES = os.environ.get("SHARE_GATEWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.log", description=bench.log.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    parser.add_argument("--index-leaves", type=int, default=50_000, help="leaves integrated with the index (part 5)")
    parser.add_argument("--index-subjects", type=int, default=10_000, help="subjects the events are about (part 5)")
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
        for part, run in PARTS.items():
            if part in parts:
                run(args, Path(directory))
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
