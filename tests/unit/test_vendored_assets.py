"""The browser files committed as built are the ones their NOTICE names, byte for byte (by SHA-256), and each is
the version the npm lockfile beside the console's package.json pins."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pytest

CONSOLE = Path(str(resources.files("share_gateway.console")))
NOTICES = [CONSOLE / "static" / "vendor" / "NOTICE", Path(__file__).parents[1] / "data" / "axe" / "NOTICE"]


def listed(notice: Path) -> list[tuple[Path, str, str, str]]:
    """(file, package, version, sha256) for each file the NOTICE lists."""
    text = notice.read_text()
    entries = re.findall(
        r"^(\S+\.js)(?::[^\n]*)?\n(?:.*\n)*?\s+package:\s+(\S+) (\S+),.*\n(?:.*\n)*?\s+sha256:\s+([0-9a-f]{64})",
        text,
        re.MULTILINE,
    )
    return [(notice.parent / name, package, version, digest) for name, package, version, digest in entries]


@pytest.mark.parametrize("notice", NOTICES, ids=lambda p: p.parent.name)
def test_each_vendored_file_is_the_one_its_notice_names(notice: Path) -> None:
    entries = listed(notice)
    assert entries, f"{notice} lists no file"
    lock = json.loads((CONSOLE / "assets" / "package-lock.json").read_text())["packages"]
    for path, package, version, digest in entries:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path.name} is not the file {notice} names"
        assert lock[f"node_modules/{package}"]["version"] == version, f"the lockfile pins another {package}"
        assert version in path.name
    names = {path.name for path, *_ in entries}
    assert names == {p.name for p in notice.parent.glob("*.js")}, "a vendored file without its notice"
