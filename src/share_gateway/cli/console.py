"""Terminal output through rich: untrusted text made inert, tables, the progress bar, and where they print.

Most of what the commands print came from someone else: reasons, documents and field values from agencies,
names from registrations, error details from nodes and peers. Rich does not strip ESC or bidi controls and reads
``[...]`` as markup, so every such text passes through ``inert`` before it reaches rich; ``line``, ``table`` and
``show`` do that for their callers.
"""

from __future__ import annotations

import logging
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Table
from rich.text import Text

UNBOUNDED = 1_000_000
"""The width of a console that is not a terminal: a pipe or a file gets every value whole, never wrapped or cut."""

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_VISIBLE: dict[int, str] = {
    **{code: chr(0x2400 + code) for code in range(0x20)},  # C0, ESC included: the Control Pictures ␀ … ␟
    0x7F: "\u2421",  # DEL: ␡
    **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)},  # C1 (CSI 0x9b and friends): no pictures exist
    **{code: f"\\u{code:04x}" for code in _BIDI},  # bidi embeddings, overrides, isolates and marks
}


# Invisible or line-breaking characters beyond those: format characters (zero-width spaces and joiners, the byte
# order mark, tag characters), line and paragraph separators, lone surrogates (which no terminal can even be sent)
# and private-use characters. A value that looks like another, or a line that seems to end, shows what it holds.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})


class _Visible(dict[int, str]):
    """``str.translate`` table: the fixed pictures above, and an escape for every other character of those
    categories, found when first met (a table of every code point would be large and slow to build)."""

    def __missing__(self, code: int) -> str:
        character = chr(code)
        if unicodedata.category(character) not in _ESCAPED_CATEGORIES:
            shown = character  # kept as it is (None would delete it)
        else:
            shown = f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
        self[code] = shown
        return shown


_TABLE = _Visible(_VISIBLE)


def visible(value: object) -> str:
    """``value`` with every control, bidi, format and separator character shown as a symbol or an escape."""
    return str(value).translate(_TABLE)


def inert(value: object) -> str:
    """``value`` as rich markup that shows exactly its text: controls replaced by visible symbols, markup escaped.

    Nothing in the result moves the cursor, changes colours, reorders the line, or styles what follows.
    """
    text = visible(value)
    escaped = escape(text)
    # escape() doubles a lone trailing backslash so that markup appended later stays markup; nothing is ever
    # appended to a value here, and the doubled backslash would show. Dropping it cannot make markup live.
    return escaped[:-1] if text.endswith("\\") and not text.endswith("\\\\") else escaped


def line(value: object) -> Text:
    """One line of untrusted text, inert; a line break inside it shows as ␊ rather than starting a line."""
    return Text.from_markup(inert(value), emoji=False)


def labelled(rows: Iterable[tuple[str, object]], width: int) -> list[Text]:
    """``  label  value`` lines whose values start in one column, whatever the labels' script: a Chinese label
    takes two cells a character, so it is padded by its width on screen, not its length."""
    return [line(f"  {name}{' ' * max(1, width + 1 - cell_len(name))}{value}") for name, value in rows]


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A boxed table whose every cell is inert; a long value folds onto more lines, it is never cut."""
    grid = Table(box=box.SQUARE, highlight=False)
    for header in headers:
        grid.add_column(line(header), overflow="fold")
    for row in rows:
        grid.add_row(*(line(cell) for cell in row))
    return grid


def lines(text: str) -> Group:
    """Text of ours whose line breaks are meant: each line inert on its own."""
    return Group(*(line(part) for part in text.split("\n")))


def _console(file: TextIO) -> Console:
    """A terminal gets rich's width; anything else gets an unbounded one, so parsed output is never wrapped."""
    width = None if file.isatty() else UNBOUNDED
    return Console(file=file, width=width, highlight=False, emoji=False, markup=False)


def show(*parts: RenderableType | str) -> None:
    """Print to stdout, one part after another; a ``str`` is our own text (see ``lines``)."""
    _print(sys.stdout, parts)


def warn(*parts: RenderableType | str) -> None:
    """Print to stderr, as ``show`` does to stdout."""
    _print(sys.stderr, parts)


def _print(file: TextIO, parts: Sequence[RenderableType | str]) -> None:
    console = _console(file)
    for part in parts:
        console.print(lines(part) if isinstance(part, str) else part)


class InertLogFormatter(logging.Formatter):
    """Log lines whose message shows its controls: a peer's text in a warning cannot forge a line or send
    escapes to the operator's terminal (a traceback appended to it is ours and keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = visible(record.message)
        return super().formatMessage(record)


def log_to_stderr(verbose: bool) -> None:
    """Where the command and a node it runs log: stderr, INFO with ``verbose`` else WARNING, each message inert."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(InertLogFormatter("%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


class _Rate(ProgressColumn):
    """Steps per second, as the old progress line showed them (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "")


def progress_bar(label: str, unit: str) -> Progress:
    """A progress bar on stderr (stdout stays for the result): ``label``, the bar, done/total ``unit``, the rate."""
    return Progress(
        TextColumn(inert(label)),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(inert(f"{unit},")),
        _Rate(),
        console=Console(file=sys.stderr, highlight=False, emoji=False),
    )
