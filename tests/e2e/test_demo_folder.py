"""Issue 14 ("`demo --dir` deletes an existing folder's contents without asking"): the demo empties only a folder
it made itself (the marker it writes), and refuses any other non-empty folder before touching it."""

from __future__ import annotations

from pathlib import Path

import pytest

from share_gateway.cli.common import CommandError
from share_gateway.cli.demo_federation import MARKER, claim_folder
from tests.e2e.conftest import run


def test_the_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    """On the old code the folder's files were deleted and the demo ran in it."""
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter-1.md").write_text("months of work")
    result = run("demo", "--dir", str(folder), "--records", "4", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not made by the demo" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["chapter-1.md"]
    assert (folder / "chapter-1.md").read_text() == "months of work"


def test_the_demo_takes_a_new_or_empty_folder_and_empties_its_own(tmp_path: Path) -> None:
    new = tmp_path / "new" / "demo"
    claim_folder(new)
    assert [p.name for p in new.iterdir()] == [MARKER]
    (new / "nodes").mkdir()
    (new / "nodes" / "old.db").write_text("an earlier run")
    claim_folder(new)
    assert [p.name for p in new.iterdir()] == [MARKER], "an earlier demo's folder is emptied"
    empty = tmp_path / "empty"
    empty.mkdir()
    claim_folder(empty)
    assert (empty / MARKER).is_file()


def test_the_demo_refuses_a_file_as_its_folder(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("kept")
    with pytest.raises(CommandError, match="is a file"):
        claim_folder(file)
    assert file.read_text() == "kept"
