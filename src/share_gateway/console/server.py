"""Starting the console: a socket on 127.0.0.1, the URL with its one-time token printed, uvicorn serving until
interrupted, then every channel to the nodes closed."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from share_gateway.console.app import Console, create_app
from share_gateway.console.nodes import IdentityFiles, NodeLink
from share_gateway.console.proofs import load_manifest
from share_gateway.console.session import TOKEN_PARAMETER, Sessions

HOST = "127.0.0.1"


def _now() -> datetime:
    return datetime.now(UTC)


async def serve(
    nodes: Sequence[str], identity: Path, manifest: Path | None, authority: Path | None, port: int = 0
) -> None:
    """Serve the console for ``identity`` on ``HOST:port`` (any free port for 0) until stopped."""
    files = IdentityFiles(identity)
    trusted = None if manifest is None or authority is None else load_manifest(manifest, authority)
    console = Console(files, [NodeLink(address, files) for address in nodes], trusted, _now)
    sessions = Sessions()
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((HOST, port))
    # Listening before the URL is printed: a browser opened at once is queued, not refused.
    listening.listen(128)
    bound = listening.getsockname()[1]
    hosts = frozenset({f"{HOST}:{bound}", f"localhost:{bound}"})
    config = uvicorn.Config(create_app(console, sessions, hosts), log_level="warning", access_log=False)
    # An officer lands on the overview, anyone else on its own history (officer pages are 403 to it).
    landing = "/" if files.is_officer else "/me"
    print(f"console at http://{HOST}:{bound}{landing}?{TOKEN_PARAMETER}={sessions.token}", flush=True)
    print("the token works once: open the URL in your browser, which keeps the session", file=sys.stderr, flush=True)
    try:
        await uvicorn.Server(config).serve(sockets=[listening])
    finally:
        await console.close()
        listening.close()
