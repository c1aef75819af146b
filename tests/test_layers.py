"""The package's layers and the absence of import cycles, as declared in pyproject.toml ([tool.importlinter])."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_package_imports_a_layer_above_it_and_no_import_cycles() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists(), "import-linter is a test dependency: pip install 'genesis-sql[test]'"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([str(lint), "--no-cache", str(REPO / "pyproject.toml")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout
