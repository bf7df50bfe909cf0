"""A regional node in its own process whose clock is off the machine's by a number of seconds: clock-skew tests.

    python -m tests.skewed_node <node.yaml> <seconds ahead (negative: behind)>

It serves as ``share-gateway serve`` does, with every reading of its clock (the
time it signs into forwarded inquiries, its log, its grants) moved by the offset,
and says the same readiness line. It stops gracefully on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

from share_gateway.config import NodeConfig
from share_gateway.gateway import utc_now
from share_gateway.node import start_node


async def serve(config_path: Path, seconds: float) -> None:
    offset = timedelta(seconds=seconds)

    def clock() -> datetime:
        return utc_now() + offset

    config = NodeConfig.load(config_path)
    node = await start_node(config, clock=clock)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    print(f"node {config.region} listening: mTLS port {node.port} (clock {seconds:+g} s)", flush=True)
    await stop.wait()
    await node.stop()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), float(sys.argv[2])))
