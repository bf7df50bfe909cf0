"""Text a database can hold: the rule every stored string meets, checked before anything is written.

PostgreSQL refuses NUL in text, and no database driver can encode a lone
UTF-16 surrogate as UTF-8. Either, let into a transaction, fails it: the
whole group commit of everyone's events with it. So a request carrying one
is refused up front, and text kept for the log (a refused caller's purpose)
is made storable by escaping those characters.
"""

from __future__ import annotations

import re

# NUL, and the surrogate code points, which Python strings may hold but UTF-8 cannot encode.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored (the first offending character, described), or None if it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    character = found.group()
    what = "a NUL character" if character == "\x00" else f"a lone surrogate U+{ord(character):04X}"
    return f"contains {what} (at position {found.start()}), which cannot be stored"


def storable(text: str) -> str:
    """``text`` with every unstorable character escaped as ``\\xNN`` / ``\\uNNNN``: what a log may keep of it."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if m.group() != "\x00" else "\\x00", text)
