"""Starting the Flower processes of a federation on this machine or a site's: SuperLink, SuperNodes, the run.

Everything binds to the given host (127.0.0.1 by default) on the given ports, and the Flower app (the
ServerApp and ClientApp of genesis_sql.federated.flower) is written into a work folder and submitted with
``flwr run``; no download is involved. The processes are Flower's own command-line programs, found next
to the Python running genesis (or on PATH), so they import this genesis_sql.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from genesis_sql.errors import FederatedError, MissingDependencyError

FLOWER_BIN_ENV = "GENESIS_FLOWER_BIN"
_APP_MODULE = "genesis_federated_app"
_PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "genesis-federated"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "genesis"

[tool.flwr.app.components]
serverapp = "{module}:server_app"
clientapp = "{module}:client_app"

[tool.flwr.app.config]
db = ""
model = ""
sites = 3
seed = 0
epsilon = 0.0
min-sites = 2
max-dropouts = -1
timeout = 300.0
report = ""
"""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def flower_program(name: str) -> str:
    """The path of one of Flower's programs (``flower-superlink``, ``flower-supernode``, ``flwr``): in
    ``$GENESIS_FLOWER_BIN`` (a virtual environment's bin folder with flwr), beside this Python, or on PATH."""
    candidates = [Path(os.environ[FLOWER_BIN_ENV]) / name] if os.environ.get(FLOWER_BIN_ENV) else []
    candidates.append(Path(sys.executable).parent / name)
    found = next((str(c) for c in candidates if c.exists()), None) or shutil.which(name)
    if not found:
        raise MissingDependencyError(f"{name} is not installed: pip install \"genesis-sql[federated]\" (flwr 1.42).")
    return found


def _environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    # Flower starts its helper programs (flower-superexec, flwr-serverapp ...) by name.
    env["PATH"] = os.pathsep.join([str(Path(flower_program("flwr")).parent), env.get("PATH", "")])
    env["FLWR_HOME"] = str(workdir / "flwr-home")
    env.setdefault("FLWR_DISABLE_UPDATE_CHECK", "1")
    return env


def _launcher(program: str) -> list[str]:
    """Flower's ``flower-<program>`` run by the Python that has flwr, through genesis's launcher (a longer
    allowance for the per-message processes to start: genesis_sql.federated._flower_launch)."""
    python = Path(flower_program(f"flower-{program}")).parent / "python"
    return [str(python), "-m", "genesis_sql.federated._flower_launch", program]


def _wait_for_port(host: str, port: int, process: subprocess.Popen, log: Path, seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FederatedError(f"A Flower process exited early (code {process.returncode}): "
                                 f"{log.read_text(errors='replace')[-800:]}")
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise FederatedError(f"A Flower process did not listen on {host}:{port} within {seconds:.0f}s.")


def start_superlink(workdir: Path, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    """A SuperLink serving its HTTP API on ``host:port`` (in-memory state, ClientApps as subprocesses)."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "superlink.log"
    process = subprocess.Popen([*_launcher("superlink"), "--insecure", "--host", host, "--port", str(port)],
                               stdout=log.open("w"), stderr=subprocess.STDOUT, env=_environment(workdir))
    _wait_for_port(host, port, process, log)
    return process


def start_site(workdir: Path, superlink: str, *, db: str, site: str, sql: str, port: int,
               privacy_budget: float = 10.0, host: str = "127.0.0.1") -> subprocess.Popen:
    """A SuperNode for one site: its rows come from ``sql`` in its DuckDB file ``db``."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"site-{site}.log"
    config = " ".join(f"{k}={json.dumps(v)}" for k, v in
                      {"db": str(db), "site": site, "sql": sql, "privacy-budget": float(privacy_budget)}.items())
    process = subprocess.Popen([*_launcher("supernode"), "--insecure", "--superlink", superlink,
                                "--host", host, "--port", str(port), "--node-config", config],
                               stdout=log.open("w"), stderr=subprocess.STDOUT, env=_environment(workdir))
    _wait_for_port(host, port, process, log)
    return process


def write_app(workdir: Path) -> Path:
    """The Flower app folder (pyproject and the module naming genesis's ServerApp and ClientApp)."""
    app = workdir / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "pyproject.toml").write_text(_PYPROJECT.format(module=_APP_MODULE))
    (app / f"{_APP_MODULE}.py").write_text(
        '"""genesis-sql federated training on Flower."""\n'
        "from genesis_sql.federated import flower\n\n"
        "# Assignments, not imports: Flower finds the components by reading this file.\n"
        "server_app = flower.server_app\nclient_app = flower.client_app\n")
    return app


def submit(workdir: Path, superlink: str, app: Path, config: dict[str, Any], timeout: float) -> None:
    """Run a Flower app folder on the SuperLink with run-config overrides, waiting for it to end."""
    home = workdir / "flwr-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[superlink]\ndefault = "genesis"\n\n[superlink.genesis]\n'
                                      f'address = "{superlink}"\ninsecure = true\n')
    overrides = " ".join(f"{k}={json.dumps(v)}" for k, v in config.items())
    log = workdir / "run.log"
    with log.open("w") as out:
        result = subprocess.run([flower_program("flwr"), "run", str(app), "genesis", "--run-config", overrides,
                                 "--stream"], stdout=out, stderr=subprocess.STDOUT, env=_environment(workdir),
                                timeout=timeout + 120)
    text = log.read_text(errors="replace")
    if result.returncode != 0:
        raise FederatedError(f"The Flower run failed: {text[-1500:]}")


def run_aggregation(workdir: Path, superlink: str, *, db: str, model: str, sites: int, seed: int = 0,
                    epsilon: float | None = None, min_sites: int = 2, max_dropouts: int | None = None,
                    timeout: float = 600.0) -> dict[str, Any]:
    """Submit the federated fit to the SuperLink, wait for it, and return its report (model, version,
    rounds, seconds, traffic per site)."""
    report = workdir / "report.json"
    report.unlink(missing_ok=True)
    config = {"db": str(Path(db).resolve()), "model": model, "sites": int(sites), "seed": int(seed),
              "epsilon": float(epsilon or 0.0), "min-sites": int(min_sites),
              "max-dropouts": -1 if max_dropouts is None else int(max_dropouts), "timeout": float(timeout),
              "report": str(report)}
    submit(workdir, superlink, write_app(workdir), config, timeout)
    if not report.exists():
        raise FederatedError(f"The federated run ended without registering a model; see {workdir / 'run.log'}.")
    return json.loads(report.read_text())
