"""A manifest node's keys as the manifest writes them: each key with its period, oldest first (formats 3 and 4).

A key replaced by a rotation stays listed with the instant it retired, so what it signed before keeps verifying;
format 4 writes each key also as a C2SP verifier key (``vkey``), checked against the key on reading.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from share_gateway.crypto.cosignature import CosignerKey
from share_gateway.crypto.keys import KeyPeriod, VerifyingKey
from share_gateway.domain.errors import DomainError
from share_gateway.domain.events import format_instant, parse_instant


class ManifestInvalid(DomainError):
    """The manifest does not parse, or breaks a rule of its format."""


@dataclass(frozen=True)
class EarlierKey:
    """A key a node used before a rotation, and when it was in force (format 3)."""

    key: VerifyingKey
    period: KeyPeriod

    def __post_init__(self) -> None:
        if self.period.until is None:
            raise ManifestInvalid(f"the earlier key {self.key.key_id.hex()} needs the instant it was retired")


@dataclass(frozen=True)
class PublishedKey:
    """One key of the federation as an outsider takes it: whose, what for, the C2SP verifier key, when in force."""

    region: str
    # "log": signs the node's checkpoints, statements and receipts (type 0x01); "witness": cosigns (type 0x04).
    role: str
    vkey: str
    period: KeyPeriod


def key_b64(key: VerifyingKey) -> str:
    return base64.b64encode(key.raw).decode()


def log_vkey(key: VerifyingKey) -> str:
    return key.verifier_key


def witness_vkey(key: VerifyingKey) -> str:
    return CosignerKey.of(key).verifier_key


def history_json(
    earlier: tuple[EarlierKey, ...],
    current: VerifyingKey,
    since: datetime | None,
    vkey: Callable[[VerifyingKey], str] | None,
) -> list[Any]:
    entries: list[dict[str, str]] = []
    for held in earlier:
        entry = {"key": key_b64(held.key)}
        if held.period.start is not None:
            entry["from"] = format_instant(held.period.start)
        entry["until"] = format_instant(held.period.until)  # type: ignore[arg-type]  # EarlierKey checks it
        if vkey is not None:
            entry["vkey"] = vkey(held.key)
        entries.append(entry)
    last = {"key": key_b64(current)}
    if since is not None:
        last["from"] = format_instant(since)
    if vkey is not None:
        last["vkey"] = vkey(current)
    return [*entries, last]


def check_sequence(region: str, name: str, earlier: tuple[EarlierKey, ...], since: datetime | None) -> None:
    """Earlier keys follow one another: each retired no later than the next came into force, oldest first."""
    ends = [e.period.until for e in earlier]
    starts = [e.period.start for e in earlier[1:]] + [since] if earlier else []
    for until, start in zip(ends, starts, strict=True):
        if until is None or (start is not None and start < until):
            raise ManifestInvalid(f"nodes.{region}.{name}: a key came into force before the one before it retired")
    if any(a is not None and b is not None and b <= a for a, b in pairwise(ends)):
        raise ManifestInvalid(f"nodes.{region}.{name}: earlier keys are listed oldest first")


def public_key(region: str, body: Mapping[str, str], name: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(body[name], validate=True))
    except (binascii.Error, ValueError) as error:
        raise ManifestInvalid(f"nodes.{region}.{name} is not an Ed25519 public key") from error


def read_history(
    region: str, body: Mapping[str, Any], name: str, key_name: str, vkey: Callable[[VerifyingKey], str] | None
) -> tuple[VerifyingKey, datetime | None, tuple[EarlierKey, ...]]:
    """A list of keys oldest first, the last in force (no ``until``): the current key, since when, the earlier.

    In format 4 (``vkey`` given) each entry's verifier key must be the one its key and name make.
    """
    fields = {"key", "from", "until"} | ({"vkey"} if vkey is not None else set())
    entries = body[name]
    if not isinstance(entries, list) or not entries:
        raise ManifestInvalid(f"nodes.{region}.{name} lists at least the key in force")
    held: list[tuple[VerifyingKey, KeyPeriod]] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - fields or (vkey is not None and "vkey" not in entry):
            with_vkey = " with vkey" if vkey is not None else ""
            raise ManifestInvalid(f"nodes.{region}.{name}[{position}] is key, from and until{with_vkey}")
        start = parse_instant(entry["from"]) if "from" in entry else None
        until = parse_instant(entry["until"]) if "until" in entry else None
        if (until is None) != (position == len(entries) - 1):
            raise ManifestInvalid(f"nodes.{region}.{name}: only the last key, the one in force, has no until")
        key = VerifyingKey(key_name, public_key(region, entry, "key"))
        if vkey is not None and entry["vkey"] != vkey(key):
            raise ManifestInvalid(f"nodes.{region}.{name}[{position}].vkey is not the verifier key of its key")
        held.append((key, KeyPeriod(start, until)))
    current, since = held[-1][0], held[-1][1].start
    return current, since, tuple(EarlierKey(key, period) for key, period in held[:-1])
