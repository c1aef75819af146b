"""The dbt-duckdb plugin and the genesis dbt package, driven by the real dbt CLI on a copy of
examples/dbt_project (threads: 4, dbt's own transactions)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from genesis_sql.integrations.dbt import PACKAGE_DIR

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")

pytestmark = pytest.mark.slow


def dbt(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb*"))
    return copy


def test_example_builds_twice_keeping_one_model_version(project: Path) -> None:
    first = dbt(project, "build")
    assert first.returncode == 0, first.stdout[-3000:]
    second = dbt(project, "run")
    assert second.returncode == 0, second.stdout[-3000:]
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    try:
        import genesis_sql

        genesis_sql.install(con)
        assert con.execute("SELECT count(*) FROM genesis.models WHERE name = 'workers'").fetchall() == [(1,)]
        rows = con.execute("SELECT count(*), count(*) FILTER (WHERE age > 50 AND state = 93) "
                           "FROM older_california_workers").fetchall()
        assert rows == [(1000, 1000)]
        assert con.execute("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]
    finally:
        con.close()


def test_macro_package_installs_with_dbt_deps(project: Path) -> None:
    (project / "packages.yml").write_text(f"packages:\n  - local: {PACKAGE_DIR}\n")
    (project / "models" / "macro_workers.sql").write_text(
        "-- depends_on: {{ ref('workers_model') }}\n"
        "SELECT * FROM {{ genesis.generate('workers', 300, where=\"age > 50 AND sex = 'female'\", seed=3) }}\n")
    (project / "tests" / "macro_workers_match.sql").write_text(
        "SELECT 1 FROM (SELECT count(*) AS n, count(*) FILTER (WHERE age > 50 AND sex = 'female') AS ok "
        "FROM {{ ref('macro_workers') }}) WHERE n <> 300 OR ok <> 300\n")
    deps = dbt(project, "deps")
    assert deps.returncode == 0, deps.stdout[-3000:]
    built = dbt(project, "build")
    assert built.returncode == 0, built.stdout[-3000:]
