"""The README works as printed: after `genesis demo` (what `make demo` runs) in a fresh folder, every shell,
SQL and Python block runs without error, in order. A block is skipped only when the line before it says
``<!-- illustrative: WHY -->`` (it needs a system the tests cannot have, such as a SASL Kafka cluster)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>[a-z]*)\n(?P<body>.*?)\n```", re.DOTALL)
RUN = {"sh", "sql", "python"}
# Languages that are data, not commands (a profiles.yml, a JSON answer); any other fence is an error, so a
# command block cannot escape the test under another name (``bash``, ``console``, none).
SHOWN = {"yaml", "json"}
ILLUSTRATIVE = "<!-- illustrative:"
# SQL blocks run one statement at a time on a plain connection with genesis installed, as the README says.
RUN_SQL = """
import duckdb, genesis_sql, sys
con = genesis_sql.connect("genesis.duckdb").duckdb_connection
for statement in duckdb.extract_statements(sys.stdin.read()):
    con.execute(statement).fetchall()
"""

pytestmark = pytest.mark.slow


def blocks() -> list[tuple[str, str]]:
    """(language, text) of every block the test runs, in README order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [(m["lang"], m["body"]) for m in BLOCK.finditer(text)
            if m["lang"] in RUN and not m["before"].startswith(ILLUSTRATIVE)]


def test_every_fence_names_a_known_language() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    unknown = [m["lang"] or "(none)" for m in BLOCK.finditer(text) if m["lang"] not in RUN | SHOWN]
    assert not unknown, f"fences must be one of {sorted(RUN | SHOWN)}: {unknown}"


def test_every_block_runs_after_the_demo(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(command: list[str], stdin: str | None = None) -> None:
        done = subprocess.run(command, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, f"{command[:3]} {stdin or ''}\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}"

    run(["genesis", "demo"])
    for language, body in blocks():
        if language == "sh":
            run(["bash", "-euo", "pipefail", "-c", body])
        elif language == "sql":
            run([sys.executable, "-c", RUN_SQL], stdin=body)
        else:
            run([sys.executable, "-c", body])
