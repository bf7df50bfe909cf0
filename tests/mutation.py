"""Mutation testing of the pure core (``domain/``, ``crypto/``, ``ledger/``) against ``tests/unit``, with mutmut.

Not part of CI: it answers "would a test notice if this line were wrong?", which
takes minutes per folder, not seconds. Name modules or folders to mutate only
those (``ledger/verify.py``, ``ledger``); with none, the whole core. Results
stay in ``mutants/`` between runs, so the table that ends every run shows each
module tested so far::

    .venv/bin/python tests/mutation.py ledger/verify.py domain/listings.py
    .venv/bin/python tests/mutation.py --survivors ledger  # after adding tests: rerun what lived
    .venv/bin/python tests/mutation.py --table        # only print the table
    .venv/bin/mutmut results                          # the surviving mutants by name
    .venv/bin/mutmut show <mutant name>               # one mutant as a diff

mutmut's configuration (scope, tests, what it copies) is ``[tool.mutmut]`` in
``pyproject.toml``. The score is mutmut's own: killed (or timed out) out of
every mutant not skipped, so a mutant no unit test reaches counts against it.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.stats import collect_stat, status_by_exit_code

PACKAGE = Path("src/share_gateway")
SCOPE = ("domain", "crypto", "ledger")


def modules() -> list[Path]:
    """Every module in scope that can hold a mutant, in a stable order."""
    return sorted(p for folder in SCOPE for p in (PACKAGE / folder).glob("*.py") if p.name != "__init__.py")


def mutant_glob(argument: str) -> str:
    """``ledger/verify.py`` or ``src/share_gateway/ledger`` as the mutmut name pattern of its mutants."""
    relative = Path(argument.removeprefix(f"{PACKAGE}/").removesuffix("/").removesuffix(".py"))
    if relative.parts[0] not in SCOPE or not (
        (PACKAGE / relative).is_dir() or (PACKAGE / relative).with_suffix(".py").is_file()
    ):
        raise SystemExit(f"{argument}: not a module or folder of {', '.join(SCOPE)} under {PACKAGE}")
    return "share_gateway." + ".".join(relative.parts) + ".*"


def survivors(patterns: list[str]) -> list[str]:
    """The mutants matching ``patterns`` that no test killed yet (a test added since cannot revive a killed one)."""
    names = []
    for path in modules():
        data = SourceFileMutationData(path=path)
        data.load()
        names += [
            name
            for name, code in data.exit_code_by_key.items()
            if status_by_exit_code[code] not in ("killed", "timeout")
            and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
        ]
    return names


def table() -> str:
    """One line per module with results: killed/total and the score, then the sum."""
    lines = [f"{'module':<28} {'killed':>7} {'survived':>8} {'no test':>7} {'timeout':>7} {'score':>12}"]
    killed_sum = tested_sum = 0
    for path in modules():
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key or None in data.exit_code_by_key.values():
            continue  # not run yet, or only partly
        stat = collect_stat(data)
        killed, tested = stat.killed + stat.timeout, stat.total - stat.skipped
        killed_sum, tested_sum = killed_sum + killed, tested_sum + tested
        name = str(path.relative_to(PACKAGE))
        lines.append(
            f"{name:<28} {stat.killed:>7} {stat.survived:>8} {stat.no_tests:>7} {stat.timeout:>7}"
            f" {killed:>4}/{tested:<4} {100 * killed / tested:3.0f}%"
        )
    if tested_sum:
        lines.append(f"{'all of the above':<61} {killed_sum:>4}/{tested_sum:<4} {100 * killed_sum / tested_sum:3.0f}%")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help="modules or folders, such as ledger/verify.py or domain")
    parser.add_argument("--survivors", action="store_true", help="rerun only the mutants no test killed before")
    parser.add_argument("--table", action="store_true", help="print the table of earlier runs; mutate nothing")
    arguments = parser.parse_args()
    os.chdir(Path(__file__).resolve().parents[1])  # mutmut reads pyproject.toml and writes mutants/ here
    if not arguments.table:
        patterns = [mutant_glob(target) for target in arguments.targets] or [f"share_gateway.{f}.*" for f in SCOPE]
        if arguments.survivors:
            patterns = survivors(patterns)
            if not patterns:
                raise SystemExit("no surviving mutants there: run without --survivors first")
        # mutmut reruns the mutants it is named; its own process, as its command line would run it.
        subprocess.run([sys.executable, "-m", "mutmut", "run", *patterns], check=True)
    print(table())


if __name__ == "__main__":
    main()
