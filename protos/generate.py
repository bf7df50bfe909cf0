"""Generate the Python modules and type stubs for the wire contract.

Run from anywhere: ``python protos/generate.py`` writes into ``src/``;
``--out DIR`` writes elsewhere (the staleness test compares the two).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

PROTOS = Path(__file__).resolve().parent
REPOSITORY = PROTOS.parent


def generate(out: Path) -> list[Path]:
    """Compile every .proto under protos/ into ``out``; return the files written."""
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    includes = str(resources.files("grpc_tools") / "_proto")
    out.mkdir(parents=True, exist_ok=True)
    plugin = shutil.which("protoc-gen-mypy", path=str(Path(sys.executable).parent))
    grpc_plugin = shutil.which("protoc-gen-mypy_grpc", path=str(Path(sys.executable).parent))
    if plugin is None or grpc_plugin is None:
        raise SystemExit("mypy-protobuf is not installed beside this Python")
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{includes}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy={plugin}",
        f"--plugin=protoc-gen-mypy_grpc={grpc_plugin}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(p for p in out.rglob("*") if p.suffix in {".py", ".pyi"} and p.name != "__init__.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPOSITORY / "src")
    for path in generate(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
