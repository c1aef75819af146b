"""``genesis federated ...``: train one copula across sites that keep their rows.

``simulate`` splits a table over in-process sites (tests, experiments); ``aggregate`` and ``site`` run
the real thing on Flower, one process per site, each site's rows in its own DuckDB file (``--db``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import click

from genesis_sql.cli._base import cli, database, stop_on_sigterm


@cli.group()
def federated() -> None:
    """Federated training: sites share sums of statistics, never rows."""


@federated.command()
@click.argument("sql")
@click.option("--name", required=True, help="Model name to register the aggregate under.")
@click.option("--sites", "n_sites", default=3, show_default=True, help="How many sites to split the rows over.")
@click.option("--non-iid", "column", default=None, help="Split by this column's values (Dirichlet shares) "
                                                         "instead of at random.")
@click.option("--seed", default=0, show_default=True, help="Seed of the split and the fit.")
@click.option("--epsilon", type=float, default=None, help="Record-level DP of the shared statistics.")
@click.option("--min-sites", default=2, show_default=True, help="Fewest surviving sites to aggregate.")
@click.option("--max-dropouts", type=int, default=None, help="Dropouts tolerated (default: (sites - 1) // 2).")
@click.pass_context
def simulate(ctx: click.Context, sql: str, name: str, n_sites: int, column: str | None, seed: int,
             epsilon: float | None, min_sites: int, max_dropouts: int | None) -> None:
    """Split the rows of SQL over in-process sites and train across them (secure aggregation included)."""
    from genesis_sql.federated import FederatedTrainingSimulator

    with database(ctx) as con:
        sim = FederatedTrainingSimulator(n_sites=n_sites, seed=seed, min_sites=min_sites, max_dropouts=max_dropouts)
        if column:
            sim.setup_non_iid(con, sql, column=column)
        else:
            sim.setup_from_data(con, sql)
        summary = sim.simulate_training(con, name, method="copula", epsilon=epsilon)
        sent = sum(sum(v for k, v in t.items() if k.endswith("_up")) for t in sim.exchange.traffic.values())
    click.echo(f"{summary} | {sim.generator.info['rounds']} rounds, {sent / n_sites / 1024:.0f} KiB sent per site")


@federated.command()
@click.option("--name", required=True, help="Model name to register the aggregate under (in --db).")
@click.option("--sites", "n_sites", required=True, type=int, help="How many sites to wait for.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the SuperLink listens on.")
@click.option("--port", default=9093, show_default=True, help="Port of the SuperLink.")
@click.option("--seed", default=0, show_default=True)
@click.option("--epsilon", type=float, default=None, help="Record-level DP of the shared statistics.")
@click.option("--min-sites", default=2, show_default=True)
@click.option("--max-dropouts", type=int, default=None, help="Dropouts tolerated (default: (sites - 1) // 2).")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for the run.")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Folder for the Flower app, state and logs (a temporary one by default).")
@click.pass_context
def aggregate(ctx: click.Context, name: str, n_sites: int, host: str, port: int, seed: int, epsilon: float | None,
              min_sites: int, max_dropouts: int | None, timeout: float, workdir: str | None) -> None:
    """Start a Flower SuperLink, wait for the sites, train and register the model in --db."""
    from genesis_sql.federated import deploy

    stop_on_sigterm()
    db = str(Path(ctx.obj["db"]).resolve())
    with database(ctx):
        pass  # the catalog exists before the run (the ServerApp registers into it)
    with tempfile.TemporaryDirectory(prefix="genesis-federated-") as scratch:
        folder = Path(workdir or scratch)
        link = deploy.start_superlink(folder, port, host)
        try:
            report = deploy.run_aggregation(folder, f"{host}:{port}", db=db, model=name, sites=n_sites, seed=seed,
                                            epsilon=epsilon, min_sites=min_sites, max_dropouts=max_dropouts,
                                            timeout=timeout)
        finally:
            link.terminate()
            link.wait(timeout=30)
    click.echo(f"{report['model']}@{report['version']}: copula on {report['rows']:,.0f} rows from "
               f"{len(report['sites'])} sites in {report['rounds']} rounds ({report['seconds']:.1f}s)")


@federated.command()
@click.option("--superlink", required=True, help="The aggregator's SuperLink, host:port.")
@click.option("--sql", required=True, help="The SELECT giving this site's training rows (in --db).")
@click.option("--site", "site_name", required=True, help="This site's name.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of this SuperNode's own API.")
@click.option("--port", default=9094, show_default=True, help="Port of this SuperNode's own API.")
@click.option("--privacy-budget", default=10.0, show_default=True, help="Most epsilon this site spends in total.")
@click.option("--workdir", type=click.Path(file_okay=False), default=None, help="Folder for logs.")
@click.pass_context
def site(ctx: click.Context, superlink: str, sql: str, site_name: str, host: str, port: int, privacy_budget: float,
         workdir: str | None) -> None:
    """Serve this site (a Flower SuperNode) until stopped; its rows never leave --db."""
    from genesis_sql.federated import deploy

    stop_on_sigterm()
    db = str(Path(ctx.obj["db"]).resolve())
    folder = Path(workdir or tempfile.mkdtemp(prefix="genesis-site-"))
    node = deploy.start_site(folder, superlink, db=db, site=site_name, sql=sql, port=port,
                             privacy_budget=privacy_budget, host=host)
    click.echo(f"site {site_name} serving {db} to {superlink} (logs in {folder}); Ctrl-C stops it", err=True)
    try:
        node.wait()
    except KeyboardInterrupt:
        node.terminate()
        node.wait(timeout=30)
