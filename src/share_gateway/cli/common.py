"""What several verb groups share: the one-line error, the options of a client call, channels and key rings.

Light at import, like every module of the package: what a command needs from grpc, the ``v1`` stubs or
cryptography it imports when it runs, so that ``share-gateway --help`` does not pay for it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import grpc

    from share_gateway.crypto.keys import KeyRing
    from share_gateway.domain.catalog_text import Language

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""Where a verb group adds its commands (what ``add_subparsers`` returns)."""


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""


def language(args: argparse.Namespace) -> Language:
    """The language of a command's views: its ``--lang``, else the global one, else the locale's."""
    from share_gateway.cli.messages import default_language
    from share_gateway.domain.catalog_text import Language

    chosen = getattr(args, "lang", None)
    return Language(chosen) if chosen else default_language()


def client_options(parser: argparse.ArgumentParser, *, node_required: bool = True) -> None:
    """The options of every command that calls a node over mTLS (``--node`` checked by the command itself where
    the parser also has subcommands, which argparse would otherwise ask it of)."""
    parser.add_argument("--node", required=node_required, help="host:port of the node's mTLS port")
    parser.add_argument("--identity", type=Path, help="directory holding tls.crt, tls.key and ca.crt")
    parser.add_argument("--ca", type=Path, help="CA certificate (defaults to the identity's ca.crt)")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline of the call in seconds (default: 10)")


def channel(args: argparse.Namespace) -> grpc.aio.Channel:
    """A channel to ``--node`` with the caller's ``--identity`` (or only ``--ca``: no client certificate)."""
    from share_gateway.client import credentials, open_channel

    identity: Path | None = args.identity
    ca = args.ca or (identity / "ca.crt" if identity else None)
    if ca is None:
        raise CommandError("give --identity DIR (tls.crt, tls.key, ca.crt) or at least --ca")
    cert = identity / "tls.crt" if identity else None
    key = identity / "tls.key" if identity else None
    return open_channel(args.node, credentials(cert, key, ca))


def assignments(pairs: Sequence[str], what: str) -> dict[str, str]:
    """``NAME=VALUE`` pairs as a mapping; ``what`` names the option in the error."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CommandError(f"{what} wants NAME=VALUE, not {pair!r}")
        values[name] = value
    return values


def authority_ring(path: Path) -> KeyRing:
    """The federation authority's key in force, which signs catalogs and manifests: the pinned ``authority.pub``, or
    the key its rotations (``rotations/`` beside it) lead to."""
    from share_gateway.federation.authority_rotation import authority_keys

    return authority_keys(path)


def node_keys(specs: Sequence[str]) -> KeyRing | None:
    """The nodes' signing keys given as ``--node-key REGION=signing.pub``; None (nothing to verify with) if none."""
    from share_gateway.crypto.keys import KeyRing, VerifyingKey
    from share_gateway.domain.key_names import node_key_name

    if not specs:
        return None
    return KeyRing(
        VerifyingKey.from_pem(node_key_name(region), path.read_bytes())
        for region, path in (_region_key(spec) for spec in specs)
    )


def _region_key(spec: str) -> tuple[str, Path]:
    region, sep, path = spec.partition("=")
    if not sep:
        raise CommandError(f"--node-key wants REGION=PATH to the node's signing.pub, not {spec!r}")
    return region, Path(path)
