"""The wire contract: protos lint clean with buf, and the committed generated code matches them."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PROTOS = REPOSITORY / "protos"
GENERATED = REPOSITORY / "src"


def test_buf_lint_is_clean() -> None:
    buf = PROTOS / "node_modules" / ".bin" / "buf"
    assert buf.exists(), "buf is missing: run `npm ci --prefix protos` (the README's test command does)"
    result = subprocess.run([str(buf), "lint"], cwd=PROTOS, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_is_current(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", PROTOS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in generate.generate(tmp_path)}
    committed = {
        p.relative_to(GENERATED): p.read_bytes()
        for p in (GENERATED / "share_gateway" / "v1").iterdir()
        if p.suffix in {".py", ".pyi"} and p.name != "__init__.py"
    }
    assert fresh, "protoc generated nothing"
    stale = sorted(str(name) for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, f"generated code is stale, run `python protos/generate.py`: {stale}"
