"""A slow link: a TCP proxy that holds every byte for ``delay`` seconds in each direction (this kernel has no
``netem``). It runs its own event loop in a thread, so a test on any loop (or none) sets its delay at any time.

The delay is a setting of the link, read while bytes wait: lowered, what waits goes on at once (in order), as on a
link whose congestion clears; a test never sleeps for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class DelayingProxy:
    """Listens on ``host`` (any free port) and forwards each connection to ``target``, ``delay`` seconds late."""

    def __init__(self, host: str, target: tuple[str, int]) -> None:
        self.host, self.target = host, target
        self.delay = 0.0
        self.connections = 0  # accepted so far: a test checks that its calls take this link
        self._loop = asyncio.new_event_loop()
        self._changed = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, name="delaying-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.Task[None]] = set()

    def start(self) -> int:
        """Start listening; the port."""
        self._thread.start()
        server = self._run(asyncio.start_server(self._serve, self.host, 0)).result()
        self._server = server
        return int(server.sockets[0].getsockname()[1])

    def set_delay(self, seconds: float) -> None:
        self._run(self._set_delay(seconds)).result()

    def close(self) -> None:
        if self._thread.is_alive():
            self._run(self._close()).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    async def _set_delay(self, seconds: float) -> None:
        self.delay = seconds
        self._changed.set()  # whoever waits looks again at its byte's due time
        self._changed = asyncio.Event()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._open):
            task.cancel()
        await asyncio.gather(*self._open, return_exceptions=True)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._open.add(task)
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(*self.target)
            except OSError:
                return  # the far end is unreachable: the client sees its connection closed
            pipes = [
                asyncio.create_task(self._pipe(client_reader, server_writer)),
                asyncio.create_task(self._pipe(server_reader, client_writer)),
            ]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
                server_writer.close()
        finally:
            client_writer.close()
            self._open.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Bytes read now are written ``delay`` seconds from now; the end of the stream too."""
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sending = asyncio.create_task(self._send(held, writer))
        try:
            while True:
                try:
                    chunk = await reader.read(1 << 16)
                except ConnectionError:
                    chunk = b""
                held.put_nowait((self._loop.time(), chunk))
                if not chunk:
                    break
            await sending
        finally:
            sending.cancel()

    async def _send(self, held: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter) -> None:
        while True:
            arrived, chunk = await held.get()
            while (wait := arrived + self.delay - self._loop.time()) > 0:
                with contextlib.suppress(TimeoutError):  # due, unless the delay changed meanwhile
                    await asyncio.wait_for(self._changed.wait(), wait)
            if not chunk:
                return
            writer.write(chunk)
            try:
                await writer.drain()
            except ConnectionError:
                return
