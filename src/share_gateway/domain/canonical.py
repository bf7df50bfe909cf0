"""Canonical JSON: the one byte encoding of everything we sign or log.

A subset of RFC 8785 (JCS) that needs no number formatting rules: keys sorted,
no insignificant white space, UTF-8, and only strings, integers, booleans,
null, lists and objects. Floats are refused, so the bytes never depend on a
float printer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

Json = None | bool | int | str | Sequence["Json"] | Mapping[str, "Json"]


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        raise TypeError(f"{path}: floats have no canonical form here")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be strings")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not canonical JSON")


_PLAIN = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> bool:
    """A fast walk for the common case of plain dicts, lists and scalars (the hot path logs every inquiry)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


def canonical_json(value: Json) -> bytes:
    """Encode ``value`` canonically; equal values always give equal bytes."""
    if not _plain(value):
        _check(value, "$")  # the slow walk names the offending path, or admits subclasses
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(data: bytes) -> Any:
    """Parse bytes that claim to be canonical JSON (floats refused)."""

    def no_float(text: str) -> float:
        raise ValueError(f"float {text!r} in canonical JSON")

    def no_constant(name: str) -> float:
        raise ValueError(f"{name} in canonical JSON")

    return json.loads(data.decode(), parse_float=no_float, parse_constant=no_constant)


def day_text(value: date | None) -> str:
    """A date as it is written in payloads and messages (ISO 8601), or empty for none."""
    return "" if value is None else value.isoformat()
