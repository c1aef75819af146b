"""Every example in examples/ runs as a newcomer would run it, in a fresh folder (the dbt project has
its own tests in tests/integrations/test_dbt.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{command} exited {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_python_session(tmp_path: Path) -> None:
    out = run([sys.executable, str(EXAMPLES / "python_session.py"), str(tmp_path / "session.duckdb")], tmp_path)
    assert "1000 rows, 1000 of them over 50 and in California" in out
    assert "pushed into generators" in out and "overall" in out


def test_sqlalchemy_pandas(tmp_path: Path) -> None:
    out = run([sys.executable, str(EXAMPLES / "sqlalchemy_pandas.py"), str(tmp_path / "sa.duckdb")], tmp_path)
    assert "500 rows, 500 of them women over 55" in out


def test_streaming_kafka(tmp_path: Path) -> None:
    out = run([sys.executable, str(EXAMPLES / "streaming_kafka.py")], tmp_path)
    assert "read 5000 messages" in out


def test_lineage_audit(tmp_path: Path) -> None:
    out = run(["bash", str(EXAMPLES / "lineage_audit.sh"), str(tmp_path)], tmp_path)
    assert "audit ok" in out


def test_bi_over_postgres(tmp_path: Path) -> None:
    out = run(["bash", str(EXAMPLES / "bi_over_postgres.sh"), str(tmp_path)], tmp_path)
    assert "-> 10000|10000 (rows, matching)" in out and "refused as read-only" in out
