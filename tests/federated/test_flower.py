"""The real deployment: a Flower SuperLink and three SuperNodes as separate processes on loopback, each
site a DuckDB file, driven through ``genesis federated aggregate`` and ``genesis federated site``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import genesis_sql
from genesis_sql.federated.deploy import FLOWER_BIN_ENV, free_port
from tests.conftest import REPO, read_csv_sql

SITES = 3


def _flower_bin() -> str | None:
    candidates = (os.environ.get(FLOWER_BIN_ENV), str(REPO / ".venv-flower" / "bin"), str(Path(sys.executable).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "flwr").exists():
            return candidate
    return None


@pytest.mark.slow
def test_three_site_processes_train_a_registered_model(tmp_path):
    flower = _flower_bin()
    if flower is None:
        pytest.skip('Flower is not installed: pip install ".[federated]" in .venv-flower (see .ci/run)')
    source = duckdb.connect()
    source.execute(f"CREATE TABLE benefits AS SELECT *, row_number() OVER () AS genesis_row "
                   f"FROM ({read_csv_sql('Benefits')})")
    for k in range(SITES):
        con = duckdb.connect(str(tmp_path / f"site{k}.duckdb"))
        part = f"SELECT * EXCLUDE (genesis_row) FROM benefits WHERE genesis_row % {SITES} = {k}"
        con.register("part", source.sql(part).to_arrow_table())
        con.execute("CREATE TABLE workers AS SELECT * FROM part")
        con.close()
    env = {**os.environ, FLOWER_BIN_ENV: flower, "PYTHONPATH": str(REPO)}
    genesis = [sys.executable, "-c", "from genesis_sql.cli import main; main()"]
    port = free_port()
    aggregator = subprocess.Popen([*genesis, "--db", str(tmp_path / "agg.duckdb"), "federated", "aggregate",
                                   "--name", "workers_fed", "--sites", str(SITES), "--port", str(port),
                                   "--workdir", str(tmp_path / "link"), "--timeout", "2400"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sites = [subprocess.Popen([*genesis, "--db", str(tmp_path / f"site{k}.duckdb"), "federated", "site",
                               "--superlink", f"127.0.0.1:{port}", "--sql", "SELECT * FROM workers",
                               "--site", f"site_{k}", "--port", str(free_port()),
                               "--workdir", str(tmp_path / f"node{k}")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in range(SITES)]
    try:
        out, err = aggregator.communicate(timeout=2700)
    finally:
        for process in sites:
            process.terminate()
        for process in sites:
            process.wait(timeout=60)
    assert aggregator.returncode == 0, err[-2000:]
    assert "workers_fed@1" in out
    con = duckdb.connect(str(tmp_path / "agg.duckdb"))
    genesis_sql.install(con)
    assert con.sql("SELECT method, training_rows FROM genesis_models() WHERE name = 'workers_fed'").fetchall() == \
        [("copula", 4877)]
    rows = con.sql("SELECT count(*), min(age) FROM genesis_generate('workers_fed', 300, seed := 1, "
                   "condition := 'age > 50')").fetchall()[0]
    assert rows[0] == 300 and rows[1] > 50
    block = [json.loads(c) for (c,) in con.sql("SELECT content FROM genesis.lineage WHERE block_type = 'transform'")
             .fetchall()][-1]
    assert [s["site"] for s in block["params"]["sites"]] == [f"site_{k}" for k in range(SITES)]
    assert block["params"]["secure_aggregation"] is True
    for k in range(SITES):
        assert (tmp_path / f"site{k}.duckdb.site-key").exists()  # each site's identity key stays with it
    con.close()


class _ProcessPerMessage:
    """Sites as Flower runs them: a fresh DataSite for every message, restored from the state it exported
    after the previous one (as JSON), the identity key the only thing kept (in Flower, a key file)."""

    def __init__(self, sites) -> None:
        self.homes = {s.name: (s.config, s.con, s.sql, s.client.signing_key) for s in sites}
        self.states: dict[str, str] = {}
        self.failures: dict[str, str] = {}

    @property
    def sites(self) -> list[str]:
        return list(self.homes)

    def call(self, phase, payloads):
        from genesis_sql.federated import DataSite

        replies = {}
        for name, payload in payloads.items():
            config, con, sql, key = self.homes[name]
            site = DataSite(config, con, sql, signing_key=key)
            if name in self.states:
                site.restore_state(json.loads(self.states[name]))
            replies[name] = json.loads(json.dumps(site.handle(phase, json.loads(json.dumps(payload)))))
            self.states[name] = json.dumps(site.export_state())
        return replies


def test_sites_that_forget_everything_between_messages_but_their_state_train_the_same_model(benefits_con):
    from genesis_sql.catalog import load_model
    from genesis_sql.federated import FederatedGenerator, FederatedTrainingSimulator, SecureAggregator

    sim = FederatedTrainingSimulator(n_sites=3, seed=0)
    sites = sim.setup_from_data(benefits_con, "SELECT * FROM benefits")
    generator = FederatedGenerator(aggregator=SecureAggregator(), exchange=_ProcessPerMessage(sites), seed=0)
    generator.train(name="stateless")
    generator.register(benefits_con, "stateless")
    sim.simulate_training(benefits_con, "in_process")
    a, b = load_model(benefits_con, "stateless"), load_model(benefits_con, "in_process")
    assert a.state == b.state
    assert all((a.arrays[k] == b.arrays[k]).all() for k in b.arrays)
