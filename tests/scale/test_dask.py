"""Partitioned generation on a real Dask cluster (scheduler and two worker processes started by the test
with Dask's own CLI, on loopback): the parts equal the single-process output, conditions included, even
when a worker is killed mid-job; a scheduler without workers is a clear error."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

import genesis_sql
from genesis_sql.distributed.jobs import generate_distributed, part_ranges
from genesis_sql.errors import DistributedError, InvalidArgumentError
from tests.conftest import read_csv_sql

DASK = str(Path(sys.executable).with_name("dask"))
pytestmark = pytest.mark.slow


def start_scheduler(folder: Path) -> tuple[subprocess.Popen, str]:
    info = folder / "scheduler.json"
    process = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                "--scheduler-file", str(info)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if info.exists() and info.stat().st_size:
            return process, json.loads(info.read_text())["address"]
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the Dask scheduler did not start")


def start_worker(address: str) -> subprocess.Popen:
    return subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                             "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    scheduler, address = start_scheduler(tmp_path_factory.mktemp("dask"))
    workers = [start_worker(address) for _ in range(2)]
    yield address, workers
    stop(*workers, scheduler)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    connection = duckdb.connect(str(tmp_path_factory.mktemp("db") / "shop.duckdb"))
    genesis_sql.install(connection)
    connection.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    genesis_sql.fit(connection, "workers", "SELECT * FROM benefits", method="copula")
    yield connection
    connection.close()


def parts_of(folder: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(path) for path in sorted(folder.glob("part-*.parquet"))])


def checksum(table: pa.Table) -> str:
    return hashlib.sha256(str(table.to_pydict()).encode()).hexdigest()


@pytest.mark.parametrize("condition", [None, "age > 50 AND state = 93"])
def test_parts_equal_the_single_process_output(cluster, con, tmp_path: Path, condition: str | None) -> None:
    result = generate_distributed(con, "workers", 200_000, scheduler=cluster[0], destination=str(tmp_path / "out"),
                                  partitions=3, seed=7, condition=condition)
    single = genesis_sql.generate(con, "workers", 200_000, seed=7, condition=condition)
    assert result.rows == 200_000 and [p.rows for p in result.parts] == [65_536, 65_536, 68_928]
    assert checksum(parts_of(tmp_path / "out")) == checksum(single)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"part-{i:05d}.parquet" for i in range(3)]
    block = con.execute("SELECT content FROM genesis.lineage WHERE block_type = 'transform' "
                        "ORDER BY seq DESC LIMIT 1").fetchall()[0][0]
    assert [p["sha256"] for p in json.loads(block)["params"]["parts"]] == [p.sha256 for p in result.parts]
    assert con.execute("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]


def test_a_killed_worker_changes_nothing(con, tmp_path: Path) -> None:
    scheduler, address = start_scheduler(tmp_path)
    workers = [start_worker(address) for _ in range(2)]
    out = tmp_path / "out"
    try:
        finished: list = []
        job = threading.Thread(target=lambda: finished.append(generate_distributed(
            con, "workers", 600_000, scheduler=address, destination=str(out), partitions=9, seed=3)))
        job.start()
        deadline = time.monotonic() + 300
        while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        job.join(timeout=600)
        assert finished, "the job did not finish after a worker was killed"
    finally:
        stop(*workers, scheduler)
    assert checksum(parts_of(out)) == checksum(genesis_sql.generate(con, "workers", 600_000, seed=3))
    assert sorted(p.name for p in out.iterdir()) == [f"part-{i:05d}.parquet" for i in range(9)]


def test_a_scheduler_without_workers_is_a_clear_error(con, tmp_path: Path) -> None:
    scheduler, address = start_scheduler(tmp_path)
    try:
        with pytest.raises(DistributedError, match="no workers after 2 s"):
            generate_distributed(con, "workers", 1000, scheduler=address, destination=str(tmp_path / "out"),
                                 partitions=2, seed=1, worker_wait=2)
    finally:
        stop(scheduler)
    assert not list((tmp_path / "out").glob("part-*"))


def test_parts_are_cut_on_the_batch_grid() -> None:
    assert part_ranges(200_000, 3) == [(0, 65_536), (65_536, 65_536), (131_072, 68_928)]
    assert part_ranges(30_000, 5) == [(0, 30_000)]
    assert len(part_ranges(10**8, 16)) == 16 and sum(c for _, c in part_ranges(10**8, 16)) == 10**8
    with pytest.raises(InvalidArgumentError):
        part_ranges(10, 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_parts_go_to_an_s3_bucket(con, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    s3 = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(name, value)
    scheduler, address = start_scheduler(tmp_path)
    worker = start_worker(address)
    try:
        import boto3

        for _ in range(100):
            try:
                boto3.client("s3").create_bucket(Bucket="lake")
                break
            except Exception:  # noqa: BLE001 - the server is still starting
                time.sleep(0.2)
        result = generate_distributed(con, "workers", 140_000, scheduler=address, destination="s3://lake/synthetic",
                                      partitions=2, seed=2, condition="age > 40")
        filesystem, _ = pafs.FileSystem.from_uri("s3://lake/synthetic")
        names = sorted(info.path for info in filesystem.get_file_info(pafs.FileSelector("lake/synthetic")))
        assert names == ["lake/synthetic/part-00000.parquet", "lake/synthetic/part-00001.parquet"]
        written = pa.concat_tables([pq.read_table(name, filesystem=filesystem) for name in names])
    finally:
        stop(worker, scheduler, s3)
    assert result.rows == 140_000
    assert checksum(written) == checksum(genesis_sql.generate(con, "workers", 140_000, seed=2, condition="age > 40"))
