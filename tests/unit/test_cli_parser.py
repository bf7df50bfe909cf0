"""The command line's parser: every option says what it is for, and building it imports nothing heavy."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from share_gateway.cli import build_parser


def _commands(parser: argparse.ArgumentParser, path: str = "share-gateway") -> Iterator[tuple[str, argparse.Action]]:
    """Every (command path, action) of the parser and of all its subcommands, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, subparser in action.choices.items():
                assert name in helped, f"{path} {name} has no help text"
                yield from _commands(subparser, f"{path} {name}")
        else:
            yield path, action


def test_every_option_and_argument_has_a_help_text() -> None:
    missing = [
        f"{path} {'/'.join(action.option_strings) or action.dest}"
        for path, action in _commands(build_parser())
        if not (action.help and action.help.strip()) or action.help == argparse.SUPPRESS
    ]
    assert not missing, f"options without a help text: {missing}"


def test_the_walk_sees_the_deepest_commands() -> None:
    """The walk must reach nested verbs, or the test above could pass by seeing nothing."""
    paths = {path for path, _ in _commands(build_parser())}
    assert {"share-gateway audit search", "share-gateway listing propose", "share-gateway grant add"} <= paths


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_audit_dates_say_their_format(option: str) -> None:
    actions = {
        action.option_strings[0]: action
        for path, action in _commands(build_parser())
        if path == "share-gateway audit search" and action.option_strings
    }
    assert actions[option].metavar == "YYYY-MM-DD"
    assert "UTC" in (actions[option].help or "")


@pytest.mark.parametrize("argv", [["--help"], ["inquire", "--help"], ["audit", "verify", "--help"]])
def test_help_imports_nothing_heavy(argv: list[str]) -> None:
    """``--help`` must stay fast: grpc, the stubs, SQLAlchemy, cryptography and rich load only when a command runs."""
    heavy = ("grpc", "share_gateway.v1", "sqlalchemy", "alembic", "cryptography", "rich", "pydantic", "yaml", "asyncio")
    probe = (
        "import contextlib, io, sys\n"
        "from share_gateway.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({argv!r})\n"
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.split() == []


def test_a_client_verb_imports_no_server_machinery(tmp_path: Path) -> None:
    """A verb making one RPC must start in well under a second: it loads grpc, the stubs, cryptography and rich, but
    not what only a node needs (SQLAlchemy, Alembic, psycopg, pydantic, YAML). The call itself fails (nothing
    listens, the CA is no certificate): only what the command imported on its way is looked at."""
    server_only = ("sqlalchemy", "alembic", "psycopg", "pydantic", "yaml")
    ca = tmp_path / "ca.crt"
    ca.write_text("not a certificate\n")
    argv = [
        "inquire",
        "--node",
        "127.0.0.1:9",
        "--ca",
        str(ca),
        "--subject",
        "91110000MA01ABCD1X",
        "--purpose",
        "credit_review",
        "--timeout",
        "5",
    ]
    probe = (
        "import sys\n"
        "from share_gateway.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code)\n"
        f"print(' '.join(m for m in {server_only!r} if m in sys.modules))\n"
        "print('grpc' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    exit_line, loaded, grpc_loaded = ran.stdout.splitlines()[-3:]
    assert exit_line == "exit 1", ran.stderr  # the command ran as far as its call
    assert grpc_loaded == "True"
    assert loaded.split() == []
