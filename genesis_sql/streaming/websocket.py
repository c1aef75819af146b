"""WebSocketStreamingGenerator: a model's rows to every connected WebSocket client, one JSON message per row.

The server (``websockets``) runs on an event loop in a thread of its own and binds 127.0.0.1 unless told
otherwise. Every client gets every row published while it is connected, as a text message holding one
JSON object (encoded as in :mod:`genesis_sql.streaming.encoding`); messages clients send are read and
ignored.

Slow clients. Each client has a bounded queue of ``client_queue_size`` messages, fed by the stream and
emptied by a sender task of its own, so a slow client never holds up the others. The policy:

- when a client's queue is full, its **oldest** queued messages are dropped to make room: the client
  stays connected and keeps receiving the freshest rows, in order, with gaps. Drops are counted in
  ``stats.dropped`` and logged once per client;
- the stream never outruns its fastest client: it waits while every client's queue is more than half
  full, so the fastest reader drops nothing (a stream with one client delivers every row to it, at
  that client's pace when it is slower than the target rate);
- each client's kernel send buffer is capped at ``send_buffer_bytes``, so a client that stops reading
  is detected after that much in flight rather than after megabytes of stale rows;
- on ``stop()``, queues drain for up to ``drain_timeout`` seconds; what is still queued then is counted
  as dropped, and clients are closed with code 1001 (going away).

With no client connected, rows are generated and published to nobody, like a radio.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from genesis_sql.errors import IntegrationError, InvalidArgumentError, MissingDependencyError
from genesis_sql.streaming.config import StreamingConfig
from genesis_sql.streaming.encoding import RowEncoder
from genesis_sql.streaming.sink import SinkStreamingGenerator

if TYPE_CHECKING:
    from genesis_sql.generation.plan import GenerationPlan
    from genesis_sql.streaming.encoding import EncodedBatch
    from genesis_sql.streaming.generator import Database

log = logging.getLogger(__name__)

STARTUP_SECONDS = 10.0


def _serve():
    try:
        from websockets.asyncio.server import serve
    except ImportError as exc:
        raise MissingDependencyError("Streaming to WebSocket clients needs websockets: "
                                     "pip install 'genesis-sql[websocket]'.") from exc
    return serve


@dataclass(eq=False)
class _Client:
    """One connected client: its connection, queue and counters (touched only on the event loop)."""

    connection: Any
    queue: collections.deque
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    dropped: int = 0


class WebSocketStreamingGenerator(SinkStreamingGenerator):
    """Streams a model's rows to WebSocket clients.

    Args:
        con: A DuckDB connection with genesis installed, or a database path.
        model: The model name.
        config: What to stream (rate, limits, seed, conditions).
        host: Interface to listen on; loopback unless you mean to serve other machines.
        port: TCP port; 0 picks a free one (see ``address`` after ``start_server``).
        client_queue_size: Messages queued per client before the oldest are dropped.
        send_buffer_bytes: Kernel send buffer per client connection.
        drain_timeout: Seconds ``stop`` lets clients catch up before closing them.
    """

    def __init__(self, con: Database, model: str, config: StreamingConfig | None = None, *,
                 host: str = "127.0.0.1", port: int = 8765, client_queue_size: int = 1000,
                 send_buffer_bytes: int = 65_536, drain_timeout: float = 5.0) -> None:
        super().__init__(con, model, config)
        self.host = host
        self.port = port
        self.client_queue_size = client_queue_size
        self.send_buffer_bytes = send_buffer_bytes
        self.drain_timeout = drain_timeout
        self.address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._server = None
        self._clients: set[_Client] = set()
        self._room: asyncio.Event | None = None

    @property
    def slice_limit(self) -> int:
        """A quarter of a client queue, so one slice never overflows a client that keeps up."""
        return max(1, self.client_queue_size // 4)

    @property
    def destination(self) -> str:
        """``ws://host:port``."""
        host, port = self.address or (self.host, self.port)
        return f"ws://{host}:{port}"

    @property
    def clients(self) -> int:
        """Clients connected now."""
        return len(self._clients)

    # -- server --------------------------------------------------------------------------------------
    def start_server(self) -> tuple[str, int]:
        """Listen for clients (idempotent); returns the bound ``(host, port)``.

        Raises:
            IntegrationError: The address cannot be bound (in use, not local ...).
        """
        if self._server is not None:
            return self.address
        if isinstance(self.client_queue_size, bool) or not isinstance(self.client_queue_size, int) \
                or self.client_queue_size < 1:
            raise InvalidArgumentError(f"client_queue_size must be a whole number of messages of at least 1. "
                                       f"Got {self.client_queue_size!r}.")
        serve = _serve()
        loop = asyncio.new_event_loop()
        started: dict[str, Any] = {}
        ready = threading.Event()

        async def listen() -> Any:
            self._room = asyncio.Event()
            return await serve(self._handle, self.host, self.port, compression=None)

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                started["server"] = loop.run_until_complete(listen())
            except Exception as exc:  # reported to start_server's caller as an IntegrationError
                started["error"] = exc
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=run, name="genesis-websocket", daemon=True)
        thread.start()
        if not ready.wait(STARTUP_SECONDS) or "error" in started:
            thread.join(STARTUP_SECONDS)
            cause = started.get("error")
            raise IntegrationError(f"Cannot serve WebSocket clients on {self.host}:{self.port}: "
                                   f"{cause or 'the server did not start'}. Pick another port (0 for any free one) "
                                   "or stop what holds this one.") from cause
        self._loop, self._loop_thread, self._server = loop, thread, started["server"]
        self.address = started["server"].sockets[0].getsockname()[:2]
        log.info("WebSocket server listening on %s", self.destination)
        return self.address

    async def _handle(self, connection: Any) -> None:
        sock = connection.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer_bytes)
        client = _Client(connection, collections.deque(maxlen=self.client_queue_size))
        self._clients.add(client)
        sender = asyncio.ensure_future(self._pump(client))
        try:
            async for _ in connection:
                pass
        except Exception as exc:  # a client that goes away mid-frame is not the server's error
            log.debug("WebSocket client %s: %s", connection.remote_address, exc)
        finally:
            sender.cancel()
            self._clients.discard(client)
            self._count_dropped(client, len(client.queue))
            self._room.set()

    async def _pump(self, client: _Client) -> None:
        low = self.client_queue_size // 2
        try:
            while True:
                while client.queue:
                    await client.connection.send(client.queue.popleft(), text=True)
                    client.sent += 1
                    self.stats.delivered += 1
                    if len(client.queue) <= low:
                        self._room.set()
                client.wake.clear()
                await client.wake.wait()
        except Exception as exc:  # the connection closed under us; _handle cleans up
            log.debug("WebSocket client %s stopped receiving: %s", client.connection.remote_address, exc)

    def _count_dropped(self, client: _Client, count: int) -> None:
        if count <= 0:
            return
        if not client.dropped:
            log.warning("WebSocket client %s is too slow: dropping its oldest messages (queue of %d)",
                        client.connection.remote_address, self.client_queue_size)
        client.dropped += count
        self.stats.dropped += count

    async def _publish(self, messages: list[bytes], *, wait_for_room: bool) -> int:
        for client in self._clients:
            self._count_dropped(client, len(client.queue) + len(messages) - self.client_queue_size)
            client.queue.extend(messages)
            client.wake.set()
        low = self.client_queue_size // 2
        while wait_for_room and self._clients and all(len(c.queue) > low for c in self._clients):
            self._room.clear()
            await self._room.wait()
        return len(self._clients)

    async def _drain(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(client.queue for client in self._clients) and loop.time() < deadline:
            await asyncio.sleep(0.01)

    async def _close_server(self) -> None:
        for client in list(self._clients):
            self._count_dropped(client, len(client.queue))
            client.queue.clear()
        self._server.close()
        await self._server.wait_closed()

    def _call(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's loop from another thread; stop() interrupts the wait."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        while True:
            try:
                return future.result(timeout=0.1)
            except concurrent.futures.TimeoutError:
                if self._stop.is_set():
                    future.cancel()
                    return None

    # -- publishing ----------------------------------------------------------------------------------
    def broadcast(self, data: Any) -> int:
        """Send ``data`` to every connected client (call it from any thread but the server's loop).

        Args:
            data: An Arrow table or record batch (one JSON message per row), text or bytes (one message
                as is), or any JSON-able value (one message of its JSON).

        Returns:
            How many clients it was queued for.
        """
        self.start_server()
        return asyncio.run_coroutine_threadsafe(self._publish(_messages(data), wait_for_room=False),
                                                self._loop).result()

    # -- sink hooks ----------------------------------------------------------------------------------
    def _open(self, plan: GenerationPlan) -> None:
        self.start_server()

    def _send(self, batch: EncodedBatch) -> bool:
        self._call(self._publish(batch.messages, wait_for_room=True))
        return True

    def _close(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._drain(self.drain_timeout), self._loop).result()

    def _shutdown(self) -> None:
        if self._server is None:
            return
        asyncio.run_coroutine_threadsafe(self._close_server(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join()
        self._server = self._loop = self._loop_thread = None
        log.info("WebSocket server on %s closed", self.destination)


def _messages(data: Any) -> list[bytes]:
    """``broadcast`` input as messages."""
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
        encoder = RowEncoder(table.schema)
        try:
            return encoder.encode(table).messages
        finally:
            encoder.close()
    if isinstance(data, str):
        return [data.encode("utf-8")]
    if isinstance(data, (bytes, bytearray)):
        return [bytes(data)]
    try:
        return [json.dumps(data, separators=(",", ":"), allow_nan=False).encode("utf-8")]
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"broadcast() takes an Arrow table or batch, text, bytes or a JSON-able value; "
                                   f"{type(data).__name__} cannot be sent: {exc}") from exc

