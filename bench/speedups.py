"""Bench-only switches: issue 17's speed-ups of the federated path put back the way they were, to measure each.

``bench.federated --ab SPEEDUP`` runs each round's nodes with and without
the speed-up (the two in alternating order) and prints what it bought.

``nonce``: a peer keeps a forwarded inquiry's nonce in a transaction (and an
fsync) of its own before answering, as before issue 17, instead of in the
group commit of the answer's event.

``statements``: the asking node verifies the signature of every record
statement a peer relays, every time, instead of once per statement.

Nothing of the project imports this module; a node calls ``take_out`` only in
a bench's child process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection

from bench.inquiry_path import serve_node
from share_gateway.crypto.disclosure import Disclosure, OpenedStatements, VerifiedDisclosure, verify_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.federation.messages import PeerInquiry
from share_gateway.gateway import answers
from share_gateway.gateway.federation import FederationDesk

SPEEDUPS = ("nonce", "statements")


def _verified_every_time(
    disclosure: Disclosure, keys: KeyRing, opened: OpenedStatements | None = None
) -> VerifiedDisclosure:
    return verify_disclosure(disclosure, keys)


@asynccontextmanager
async def _nonce_kept_first(self: FederationDesk, accepted: PeerInquiry) -> AsyncIterator[None]:
    await self.require_fresh(
        accepted.origin, accepted.origin, accepted.catalog_digest, accepted.at, accepted.nonce, "inquiry"
    )
    yield


def take_out(speedup: str) -> None:
    """Serve, in this process, without ``speedup`` (see the module docstring)."""
    if speedup == "nonce":
        FederationDesk.answering_once = _nonce_kept_first  # type: ignore[method-assign]
    elif speedup == "statements":
        setattr(answers, "verify_disclosure", _verified_every_time)  # noqa: B010 - the module's own global
    else:
        raise ValueError(f"no such speed-up: {speedup}")


def serve_node_without(pipe: Connection, argument: tuple[str, str]) -> None:
    """A node without a speed-up (``(config path, speed-up)``): the B side of ``--ab`` (bench-only)."""
    config_path, speedup = argument
    take_out(speedup)
    serve_node(pipe, config_path)
