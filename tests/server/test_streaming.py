"""Generation over HTTP streams in batches: the server's memory does not grow with n."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

# Run in a fresh process, so that its peak RSS is the server's alone.
SCRIPT = r"""
import json, resource, sys, urllib.request
from genesis_sql.server import create_app
from genesis_sql.server.db import open_serving_connection
from genesis_sql.server.serving import HttpServer

con = open_serving_connection(sys.argv[1])
server = HttpServer(create_app({"CONNECTION": con, "BATCH_ROWS": 20_000}), "127.0.0.1", 0)
server.start()

def stream(n):
    request = urllib.request.Request(f"{server.url}/v1/models/diamonds/generate", data=json.dumps(
        {"n": n, "seed": 1}).encode(), headers={"Content-Type": "application/json", "Accept": "text/csv"})
    lines = 0
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
    return lines - 1

small = stream(100_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
large = stream(1_500_000)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
server.stop()
print(json.dumps({"small": small, "large": large, "growth_mb": (after - before) / 1024}))
"""


@pytest.mark.slow
def test_a_large_generation_streams_in_constant_memory(db_path, tmp_path):
    path = tmp_path / "stream.duckdb"
    shutil.copyfile(db_path, path)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["small"] == 100_000 and result["large"] == 1_500_000
    # 1.5M rows are about 120 MB as Arrow and 110 MB as CSV; streamed, the peak grows by far less.
    assert result["growth_mb"] < 60, result
