"""Benchmark: federated copula training, fidelity against the centralised copula and cost per round.

    .venv/bin/python bench/federated.py                  # fidelity grid + simulator throughput
    .venv/bin/python bench/federated.py --flower         # also the Flower deployment and a FedAvg baseline
    .venv/bin/python bench/federated.py --quick          # Benefits only, one split

Fidelity (issue 18): diamonds, Benefits and MedExp split over 3 and 10 sites, IID and non-IID (Dirichlet
shares of one categorical column per site), each federated model (secure aggregation, no DP) against the
centralised copula fitted on the same rows; the figure is the quality report's overall
(``genesis_sql.evaluate``, same real rows, same evaluation seed). Target: federated >= centralised - 0.02.

Cost: rounds per second and bytes per site per round (messages both ways, as JSON) for 3 and 10 sites, in
the in-process simulator with secure aggregation against the same protocol with plaintext sums
(``ModelAggregator``) in the same process; with ``--flower``, the same fit across processes on Flower
(SuperLink and SuperNodes on loopback) against a hand-written Flower FedAvg ServerApp on the same
deployment exchanging a model of the same size for the same number of rounds (Flower's own examples
download their data sets, which this machine cannot). Compare ratios: absolute times move with the load
(the 1-minute load average is printed).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

import genesis_sql
from genesis_sql.federated import FederatedTrainingSimulator

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GRID = {"diamonds": "cut", "Benefits": "joblost", "MedExp": "health"}
TARGET = 0.02

FEDAVG_APP = '''"""A hand-written FedAvg on Flower: the baseline of bench/federated.py."""
import json
import time

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

client_app = ClientApp()
server_app = ServerApp()


@client_app.train()
def train(message: Message, context: Context) -> Message:
    weights = message.content["model"].to_numpy_ndarrays()[0]
    update = weights + np.random.default_rng().normal(0.0, 0.01, weights.size)
    content = RecordDict({"model": ArrayRecord([update]), "metrics": MetricRecord({"num-examples": 1000})})
    return Message(content, reply_to=message)


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    config = context.run_config
    size, rounds, sites = int(config["size"]), int(config["rounds"]), int(config["sites"])
    while len(list(grid.get_node_ids())) < sites:
        time.sleep(0.5)
    nodes = sorted(grid.get_node_ids())
    weights = np.zeros(size)
    started = time.perf_counter()
    for _ in range(rounds):
        messages = [Message(RecordDict({"model": ArrayRecord([weights])}), dst_node_id=node, message_type="train")
                    for node in nodes]
        replies = [r for r in grid.send_and_receive(messages) if not r.has_error()]
        total = sum(r.content["metrics"]["num-examples"] for r in replies)
        weights = sum(r.content["model"].to_numpy_ndarrays()[0] * r.content["metrics"]["num-examples"]
                      for r in replies) / total
    seconds = time.perf_counter() - started
    with open(config["report"], "w") as out:
        json.dump({"rounds": rounds, "seconds": seconds, "bytes_per_site_round": 2 * 8 * size}, out)
'''


def load(con: duckdb.DuckDBPyConnection, name: str) -> str:
    table = name.lower()
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv('{DATA / (name + '.csv')}', header = true)")
    return f"SELECT * FROM {table}"


def fidelity(datasets: list[str], site_counts: list[int], splits: list[str]) -> list[bool]:
    """Federated vs centralised overall quality on the grid; one line per cell."""
    held = []
    print(f"{'data':<9} {'sites':>5} {'split':<8} {'federated':>9} {'central':>8} {'diff':>7}  fit s (fed / central)")
    for name in datasets:
        con = duckdb.connect()
        genesis_sql.install(con)
        sql = load(con, name)
        started = time.perf_counter()
        genesis_sql.fit(con, "central", sql, method="copula", seed=0)
        central_seconds = time.perf_counter() - started
        central = genesis_sql.evaluate(con, "central", sql).overall
        for n_sites in site_counts:
            for split in splits:
                sim = FederatedTrainingSimulator(n_sites=n_sites, seed=0)
                sim.setup_from_data(con, sql) if split == "iid" else sim.setup_non_iid(con, sql, column=GRID[name])
                started = time.perf_counter()
                sim.simulate_training(con, "fed", method="copula")
                fed_seconds = time.perf_counter() - started
                fed = genesis_sql.evaluate(con, "fed", sql).overall
                held.append(fed >= central - TARGET)
                print(f"{name:<9} {n_sites:>5} {split:<8} {fed:>9.3f} {central:>8.3f} {fed - central:>+7.3f}  "
                      f"{fed_seconds:.1f} / {central_seconds:.1f}{'' if held[-1] else '  MISSED'}", flush=True)
        con.close()
    return held


def simulator_cost(site_counts: list[int]) -> dict[int, dict[str, float]]:
    """Rounds/s and bytes per site per round in the simulator, secure against plaintext sums."""
    con = duckdb.connect()
    genesis_sql.install(con)
    sql = load(con, "Benefits")
    out = {}
    for n_sites in site_counts:
        figures = {}
        for secure in (True, False):
            sim = FederatedTrainingSimulator(n_sites=n_sites, seed=0, secure=secure)
            sim.setup_from_data(con, sql)
            started = time.perf_counter()
            sim.simulate_training(con, "fed_cost")
            seconds = time.perf_counter() - started
            rounds = sim.generator.info["rounds"]
            traffic = sum(sum(t.values()) for t in sim.exchange.traffic.values()) / n_sites / rounds
            figures["secure" if secure else "plain"] = (rounds / seconds, traffic)
        out[n_sites] = figures
        (s_rate, s_bytes), (p_rate, p_bytes) = figures["secure"], figures["plain"]
        print(f"simulator {n_sites:>2} sites: secure {s_rate:.2f} rounds/s, {s_bytes / 1024:.0f} KiB/site/round; "
              f"plaintext {p_rate:.2f} rounds/s, {p_bytes / 1024:.0f} KiB/site/round; secure/plain time "
              f"{p_rate / s_rate:.2f}x, bytes {s_bytes / p_bytes:.2f}x", flush=True)
    con.close()
    return out


def flower_cost(site_counts: list[int]) -> None:
    """The same fit on Flower, and a FedAvg ServerApp on the same deployment, same rounds and vector size."""
    from genesis_sql.federated import deploy

    for n_sites in site_counts:
        with tempfile.TemporaryDirectory(prefix="genesis-bench-") as scratch:
            work = Path(scratch)
            source = duckdb.connect()
            load(source, "Benefits")
            source.execute("CREATE TABLE numbered AS SELECT *, row_number() OVER () AS r FROM benefits")
            for k in range(n_sites):
                site = duckdb.connect(str(work / f"site{k}.duckdb"))
                site.register("part", source.sql(f"SELECT * EXCLUDE (r) FROM numbered WHERE r % {n_sites} = {k}")
                              .to_arrow_table())
                site.execute("CREATE TABLE rows AS SELECT * FROM part")
                site.close()
            port = deploy.free_port()
            processes = [deploy.start_superlink(work, port)]
            try:
                for k in range(n_sites):
                    processes.append(deploy.start_site(work, f"127.0.0.1:{port}", db=str(work / f"site{k}.duckdb"),
                                                       site=f"site_{k}", sql="SELECT * FROM rows",
                                                       port=deploy.free_port()))
                ours = deploy.run_aggregation(work, f"127.0.0.1:{port}", db=str(work / "agg.duckdb"), model="fed",
                                              sites=n_sites, timeout=3600)
                rounds = ours["rounds"]
                per_site = sum(sum(t.values()) for t in ours["traffic"].values()) / n_sites / rounds
                app = work / "fedavg"
                app.mkdir()
                (app / "pyproject.toml").write_text(
                    deploy._PYPROJECT.format(module="fedavg_app").split("[tool.flwr.app.config]")[0]
                    + '[tool.flwr.app.config]\nsize = 1\nrounds = 1\nsites = 1\nreport = ""\n')
                (app / "fedavg_app.py").write_text(FEDAVG_APP)
                size = int(per_site / 2 / 8)
                report = work / "fedavg.json"
                deploy.submit(work, f"127.0.0.1:{port}", app, {"size": size, "rounds": rounds, "sites": n_sites,
                                                               "report": str(report)}, 3600)
                fedavg = json.loads(report.read_text())
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=60)
        ours_rate, base_rate = rounds / ours["seconds"], fedavg["rounds"] / fedavg["seconds"]
        print(f"flower {n_sites:>2} sites: genesis {ours_rate:.3f} rounds/s, {per_site / 1024:.0f} KiB/site/round; "
              f"FedAvg {base_rate:.3f} rounds/s, {fedavg['bytes_per_site_round'] / 1024:.0f} KiB/site/round; "
              f"time ratio {base_rate / ours_rate:.2f}x", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Benefits only, 3 sites, both splits")
    parser.add_argument("--flower", action="store_true", help="also run the Flower deployment (slow)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    datasets = ["Benefits"] if args.quick else list(GRID)
    counts = [3] if args.quick else [3, 10]
    held = fidelity(datasets, counts, ["iid", "non-iid"])
    simulator_cost([3, 10])
    if args.flower:
        flower_cost([3, 10])
    print(f"fidelity target held in {sum(held)} of {len(held)} cells; load average {os.getloadavg()[0]:.1f}")
    return 0 if all(held) else 1


if __name__ == "__main__":
    sys.exit(main())
