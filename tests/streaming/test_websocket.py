"""WebSocketStreamingGenerator with real `websockets` clients: fast ones get everything, a slow one drops oldest."""
from __future__ import annotations

import asyncio
import json
import socket
import time

import pyarrow as pa
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import genesis_sql
from genesis_sql.errors import IntegrationError
from genesis_sql.lineage import LineageChain
from genesis_sql.streaming import StreamingConfig, WebSocketStreamingGenerator


def _uri(server: WebSocketStreamingGenerator) -> str:
    host, port = server.address
    return f"ws://{host}:{port}"


async def _connect(uri: str, *, slow: bool = False):
    if not slow:
        return await connect(uri, proxy=None)
    # A reader that barely reads: tiny receive buffers, so the server's queue for it fills.
    host, port = uri.removeprefix("ws://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return await connect(uri, proxy=None, sock=sock, max_queue=1)


async def _read_all(client, *, pause: float = 0.0) -> list[str]:
    received = []
    try:
        async for message in client:
            received.append(message)
            if pause:
                await asyncio.sleep(pause)
    except ConnectionClosed:
        pass
    return received


async def _wait_for_clients(server: WebSocketStreamingGenerator, count: int) -> None:
    deadline = time.monotonic() + 10
    while server.clients < count:
        assert time.monotonic() < deadline, "clients did not connect"
        await asyncio.sleep(0.02)


def test_fast_clients_get_every_row_while_a_slow_one_drops_its_oldest(con):
    rows = 4000
    config = StreamingConfig(batch_size=1000, max_rows=rows, seed=4, rate=4000)
    server = WebSocketStreamingGenerator(con, "diamonds", config, port=0, client_queue_size=50,
                                         send_buffer_bytes=4096, drain_timeout=2)
    server.start_server()

    async def scenario():
        fast = [await _connect(_uri(server)) for _ in range(3)]
        slow = await _connect(_uri(server), slow=True)
        await _wait_for_clients(server, 4)
        server.start_streaming()

        def finish():
            assert server.wait(60)
            return server.stop()

        return await asyncio.gather(asyncio.to_thread(finish), _read_all(slow, pause=0.01),
                                    *[_read_all(client) for client in fast])

    started = time.monotonic()
    stats, slow_got, *fast_got = asyncio.run(scenario())
    elapsed = time.monotonic() - started

    expected = [json.loads(json.dumps(row)) for row in genesis_sql.generate(con, "diamonds", rows, seed=4).to_pylist()]
    for received in fast_got:
        assert [json.loads(m) for m in received] == expected
    slow_rows = [json.loads(m) for m in slow_got]
    assert 0 < len(slow_rows) < rows
    positions = [expected.index(row) for row in slow_rows]
    assert positions == sorted(positions)  # in order, with gaps where the oldest were dropped
    assert stats.dropped == rows - len(slow_rows)
    assert stats.total_samples == rows and stats.delivered == 3 * rows + len(slow_rows)
    assert elapsed < 30  # the slow client (about 100 messages/s) did not pace the stream


def test_broadcast_sends_tables_values_and_text_to_every_client(con):
    server = WebSocketStreamingGenerator(con, "diamonds", port=0)
    server.start_server()

    async def scenario():
        clients = [await _connect(_uri(server)) for _ in range(2)]
        await _wait_for_clients(server, 2)
        assert await asyncio.to_thread(server.broadcast, pa.table({"a": [1, 2], "b": ["x", None]})) == 2
        await asyncio.to_thread(server.broadcast, {"event": "done", "at": 1.5})
        await asyncio.to_thread(server.broadcast, "plain text")
        got = [[await asyncio.wait_for(client.recv(), 10) for _ in range(4)] for client in clients]
        for client in clients:
            await client.close()
        return got

    try:
        got = asyncio.run(scenario())
    finally:
        server.stop()
    assert got[0] == got[1] == ['{"a":1,"b":"x"}', '{"a":2,"b":null}', '{"event":"done","at":1.5}', "plain text"]


def test_binds_loopback_by_default_and_a_taken_port_is_an_integration_error(con):
    first = WebSocketStreamingGenerator(con, "diamonds", port=0)
    host, port = first.start_server()
    try:
        assert host == "127.0.0.1"
        with pytest.raises(IntegrationError, match=f"Cannot serve WebSocket clients on 127.0.0.1:{port}"):
            WebSocketStreamingGenerator(con, "diamonds", port=port).start_server()
    finally:
        first.stop()


def test_stream_with_no_client_is_recorded_in_lineage(con):
    server = WebSocketStreamingGenerator(con, "diamonds", StreamingConfig(max_rows=500, seed=1), port=0)
    server.start_streaming()
    assert server.wait(30)
    stats = server.stop()
    payload = list(LineageChain(con).blocks())[-1].payload
    assert (stats.total_samples, stats.delivered, payload["n"]) == (500, 0, 500)
    assert payload["destination"].startswith("ws://127.0.0.1:")
