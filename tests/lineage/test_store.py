from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from genesis_sql.errors import CatalogError, LineageError
from genesis_sql.lineage import BlockDraft, LineageChain, store

# A writer the way the CLI writes: open (retrying a held lock), append a few blocks, close, repeat.
# Both writers wait at a start gate (a file each) so that neither finishes before the other has started,
# and pause between sessions for longer than connect_with_retry's longest wait, so that they interleave.
WRITER = """
import pathlib, random, sys, time
from genesis_sql._db import connect_with_retry
from genesis_sql.lineage import LineageChain
path, name, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
gate = pathlib.Path(path).parent
(gate / f"ready-{name}").touch()
while len(list(gate.glob("ready-*"))) < 2:
    time.sleep(0.01)
written = 0
while written < total:
    con = connect_with_retry(path, retry_seconds=120)
    try:
        chain = LineageChain(con)
        for _ in range(min(random.randint(10, 50), total - written)):
            chain.add_transform_block("append", {"writer": name, "n": written})
            written += 1
    finally:
        con.close()
    time.sleep(random.uniform(0.3, 0.5))  # longer than the other writer's longest lock retry: it gets a turn
"""

# Writes a data row, then its block, forever: killed at a random moment, possibly between the two.
CRASHER = """
import sys
import duckdb
from genesis_sql.lineage import LineageChain, RowsFingerprint
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS outputs (n INTEGER)")
chain = LineageChain(con)
n = 0
print("ready", flush=True)
while True:
    con.execute("INSERT INTO outputs VALUES (?)", [n])
    chain.add_generation_block(model="m", version=1, content_hash="c" * 64, n=n, seed=0, conditions=None,
                               fingerprint=RowsFingerprint(n, "d" * 64),
                               destination="outputs")
    n += 1
"""


def test_appends_are_atomic_and_linked(con):
    chain = LineageChain(con)
    first, second = chain.append(BlockDraft("transform", {"a": 1}), BlockDraft("transform", {"b": 2}))
    assert (first.seq, second.seq) == (1, 2) and second.previous_hash == first.hash
    with pytest.raises(LineageError, match="Nothing to append"):
        chain.append()
    with pytest.raises(LineageError, match="only finite numbers"):
        chain.append(BlockDraft("transform", {"ok": 1}), BlockDraft("transform", {"bad": float("nan")}))
    assert len(chain) == 3


def test_threads_appending_through_cursors_never_fork_the_chain(con):
    def write(name: str) -> None:
        chain = LineageChain(con)
        for n in range(25):
            chain.add_transform_block("append", {"writer": name, "n": n})

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chain = LineageChain(con)
    assert chain.verify().ok and len(chain) == 101


@pytest.mark.slow
def test_two_processes_appending_500_blocks_each_give_one_linear_chain(db_path):
    env = {**os.environ, "GENESIS_LOCK_RETRY_SECONDS": "120"}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), name, "500"], env=env)
               for name in ("a", "b")]
    for writer in writers:
        assert writer.wait(timeout=300) == 0
    with duckdb.connect(str(db_path)) as con:
        chain = LineageChain(con)
        report = chain.verify()
        assert report.ok and report.blocks == 1001, report
        params = [block.payload["params"] for block in chain.blocks() if block.block_type == "transform"]
    order = [p["writer"] for p in params]
    for name in ("a", "b"):
        assert [p["n"] for p in params if p["writer"] == name] == list(range(500))
    switches = sum(1 for x, y in zip(order, order[1:]) if x != y)
    assert switches >= 2, "the writers never interleaved, so the test proved nothing"


def test_a_writer_killed_mid_append_leaves_a_valid_chain(db_path):
    crasher = subprocess.Popen([sys.executable, "-c", CRASHER, str(db_path)], stdout=subprocess.PIPE, text=True)
    assert crasher.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    crasher.send_signal(signal.SIGKILL)
    crasher.wait(timeout=30)
    with duckdb.connect(str(db_path)) as con:
        assert LineageChain(con).verify().ok
        outputs = con.sql("SELECT count(*) FROM outputs").fetchall()[0][0]
        recorded = con.sql("SELECT count(*) FROM genesis.lineage WHERE block_type = 'generation'").fetchall()[0][0]
    # The kill may fall between a data row and its block, leaving that one row unrecorded.
    assert outputs - recorded in (0, 1) and recorded > 0


def test_a_database_without_the_catalog_is_named(tmp_path):
    with duckdb.connect(str(tmp_path / "plain.duckdb")) as con:
        with pytest.raises(CatalogError, match="run genesis_sql.install"):
            LineageChain(con).verify()
        with pytest.raises(CatalogError, match="run genesis_sql.install"):
            LineageChain(con).add_transform_block("x")


def test_read_batches_streams_in_seq_order(con, make_chain):
    make_chain(20)
    batches = list(store.read_batches(con, batch_size=6))
    assert [len(b) for b in batches] == [6, 6, 6, 3]
    assert [row[0] for batch in batches for row in batch] == list(range(21))
    assert json.loads(batches[0][1][6])["params"] == {"i": 0, "note": "café ☕", "ratio": 0.0}
