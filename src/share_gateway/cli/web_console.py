"""``share-gateway console``: the web console for one identity (cli/console.py is the terminal's output, not this)."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from share_gateway.cli.common import Commands


def add_commands(commands: Commands) -> None:
    console = commands.add_parser(
        "console",
        help="serve the web console on 127.0.0.1 for one identity (prints a URL with a one-time token)",
    )
    console.add_argument(
        "--node", action="append", required=True, help="host:port of a node's mTLS port (repeat: one per region)"
    )
    console.add_argument(
        "--identity", type=Path, required=True, help="the identity's directory: tls.crt, tls.key, ca.crt"
    )
    console.add_argument("--manifest", type=Path, help="the signed federation manifest: the keys proofs verify with")
    console.add_argument("--authority", type=Path, help="authority.pub, to verify the manifest (required with it)")
    console.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: any free one)")
    console.set_defaults(run=cmd_console)


def cmd_console(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.cli.common import CommandError
    from share_gateway.console.server import serve

    if args.manifest is not None and args.authority is None:
        raise CommandError("--manifest needs --authority (authority.pub) to verify it")
    for name in ("tls.crt", "tls.key", "ca.crt"):
        if not (args.identity / name).is_file():
            raise CommandError(f"{args.identity} holds no {name}: give an identity's directory (pki init writes them)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.node, args.identity, args.manifest, args.authority, args.port))
