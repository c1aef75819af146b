"""The core commands: demo, fit, generate, sql, models, drop."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pyarrow as pa

from genesis_sql.api import fit, generate_stream
from genesis_sql.catalog import drop_model
from genesis_sql.cli._base import cli, database
from genesis_sql.cli._output import (
    MAX_PRINTED_ROWS,
    STDOUT_FORMATS,
    first_rows,
    print_table,
    stdout_is_terminal,
    write_batches,
    write_stdout,
)
from genesis_sql.connection import GenesisConnection
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.lineage.fingerprint import BatchFingerprint
from genesis_sql.lineage.record import record_generation
from genesis_sql.sql.statements import validate_query

# Generations of at least this many rows draw a progress bar on stderr.
PROGRESS_ROWS = 200_000


def _column_types(pairs: tuple[str, ...]) -> dict[str, str] | None:
    result = {}
    for pair in pairs:
        name, sep, kind = pair.partition("=")
        if not sep or not name or not kind:
            raise InvalidArgumentError(f"--column-type takes COLUMN=KIND, e.g. zip=categorical. Got {pair!r}.")
        result[name] = kind
    return result or None


def _public_bounds(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(f"--public-bounds takes JSON such as '{{\"age\": [18, 99]}}': {exc}") from exc


@cli.command("fit")
@click.argument("model")
@click.option("--sql", "source_sql", required=True, help="The training query, e.g. \"SELECT * FROM customers\".")
@click.option("--method", default="auto", show_default=True, help="auto, copula, ...")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of fitting.")
@click.option("--column-type", "column_type", multiple=True, metavar="COL=KIND", help="Override a detected kind.")
@click.option("--sequence-key", default=None, help="Entity id column of a sequence model.")
@click.option("--sequence-index", default=None, help="Order column of a sequence model.")
@click.option("--holdout", default=None, type=float, help="Fraction of rows kept out of training, e.g. 0.2.")
@click.option("--epsilon", default=None, type=float, help="Privacy budget of --method dp (default 1).")
@click.option("--delta", default=None, type=float, help="delta of --method dp (default 1e-6).")
@click.option("--public-bounds", "public_bounds", default=None,
              help="Declared domains of --method dp as JSON, e.g. '{\"age\": [18, 99]}'.")
@click.option("--pii-consistent", "pii_consistent", is_flag=True,
              help="Keep repeats of personal values: one fake per generated person over their rows.")
@click.pass_context
def fit_command(ctx: click.Context, model: str, source_sql: str, method: str, seed: int, column_type: tuple[str, ...],
                sequence_key: str | None, sequence_index: str | None, holdout: float | None, epsilon: float | None,
                delta: float | None, public_bounds: str | None, pii_consistent: bool) -> None:
    """Fit MODEL on the rows of --sql and store it (a new version if MODEL exists)."""
    stages = ("reading", "detecting", "fitting", "storing")
    with database(ctx) as con, click.progressbar(length=len(stages), label=f"fit {model}", file=sys.stderr) as bar:
        summary = fit(con, model, source_sql, method=method, seed=seed, column_types=_column_types(column_type),
                      holdout=holdout, sequence_key=sequence_key, sequence_index=sequence_index,
                      progress=lambda stage: bar.update(1), epsilon=epsilon, delta=delta,
                      public_bounds=_public_bounds(public_bounds), pii_consistent=pii_consistent)
        bar.update(len(stages))
    click.echo(str(summary))


@cli.command("generate")
@click.argument("model")
@click.argument("n", type=int)
@click.option("--seed", default=None, type=int, help="Same seed, same rows (drawn and reported when omitted).")
@click.option("--where", "condition", default=None, help="A SQL condition every row satisfies, e.g. \"age > 50\".")
@click.option("--out", "out", default=None,
              help="Write to FILE.parquet, FILE.csv or FILE.jsonl instead of printing (with --cluster: a folder "
                   "or an s3:// prefix for the Parquet parts).")
@click.option("--cluster", default=None, help="Generate on the Dask cluster at this scheduler address "
                                              "(tcp://HOST:8786), one Parquet part per partition under --out.")
@click.option("--partitions", default=8, show_default=True, type=int, help="Parts of a --cluster job.")
@click.option("--format", "fmt", type=click.Choice(STDOUT_FORMATS), default=None,
              help="How rows go to stdout without --out: csv (the default for a pipe or a file: every row), jsonl, "
                   f"or table (the default on a terminal: the first {MAX_PRINTED_ROWS:,} rows).")
@click.pass_context
def generate_command(ctx: click.Context, model: str, n: int, seed: int | None, condition: str | None,
                     out: str | None, cluster: str | None, partitions: int, fmt: str | None) -> None:
    """Generate N rows of MODEL: to stdout in batches (every row as CSV for a pipe or a file, a preview on a
    terminal), or to --out."""
    if cluster is not None:
        _generate_on_cluster(ctx, model, n, seed, condition, out, cluster, partitions)
        return
    if out is not None and fmt is not None:
        raise InvalidArgumentError(f"--format {fmt} is for stdout; --out takes its format from the file name "
                                   "(.parquet, .csv or .jsonl).")
    with database(ctx) as con:
        fmt = fmt or (None if out is not None else "table" if stdout_is_terminal() else "csv")
        preview = fmt == "table"
        plan, batches = generate_stream(con, model, n, seed=seed, condition=condition,
                                        batch_size=min(MAX_PRINTED_ROWS, max(n, 1)) if preview else 65_536)
        if plan.seed_was_drawn:
            click.echo(f"seed: {plan.seed}", err=True)
        if preview:
            shown = first_rows(batches, MAX_PRINTED_ROWS)
            print_table(shown if shown is not None else pa.table({}), total=plan.n,
                        how_to_write_all=f"write them all with --out FILE.parquet|.csv|.jsonl, or redirect: "
                                         f"genesis generate {model} {n} ... > rows.csv")
            return
        if out is None:
            write_stdout(batches, fmt)
            return
        show = n >= PROGRESS_ROWS
        with click.progressbar(length=n, label=f"generate {model}", file=sys.stderr, hidden=not show) as bar:
            written = BatchFingerprint(con)
            rows = write_batches(con, written.wrap(batches), Path(out), on_batch=bar.update)
        record_generation(con, plan, written.result(), destination=out)
        click.echo(f"wrote {rows:,} rows of {plan.ref} (seed {plan.seed}) to {out}", err=True)


def _generate_on_cluster(ctx: click.Context, model: str, n: int, seed: int | None, condition: str | None,
                         out: str | None, cluster: str, partitions: int) -> None:
    """``generate --cluster``: the parts are made by the cluster's workers, never here."""
    from genesis_sql.distributed.jobs import generate_distributed

    if out is None:
        raise InvalidArgumentError("--cluster writes Parquet parts: give --out FOLDER or --out s3://bucket/prefix.")
    with database(ctx) as con:
        result = generate_distributed(con, model, n, scheduler=cluster, destination=out, partitions=partitions,
                                      seed=seed, condition=condition)
    click.echo(f"wrote {result.rows:,} rows of {result.plan.ref} (seed {result.plan.seed}) in "
               f"{len(result.parts)} parts to {out}", err=True)


@cli.command("sql")
@click.argument("query")
@click.pass_context
def sql_command(ctx: click.Context, query: str) -> None:
    """Run QUERY with WHERE pushdown into genesis_generate(...) and print the result."""
    statement = validate_query(query, what="query")
    with database(ctx) as con:
        print_table(GenesisConnection(con).sql(statement).to_arrow_table())


@cli.command("models")
@click.pass_context
def models_command(ctx: click.Context) -> None:
    """List stored models, one row per version."""
    with database(ctx) as con:
        print_table(con.sql("SELECT * EXCLUDE (created_at, rules), len(rules) AS rules FROM genesis_models()")
                    .to_arrow_table())


@cli.command("drop")
@click.argument("model")
@click.pass_context
def drop_command(ctx: click.Context, model: str) -> None:
    """Remove MODEL (every version), or one version with MODEL@N."""
    with database(ctx) as con:
        count = drop_model(con, model)
    click.echo(f"dropped {count} version{'s' if count != 1 else ''} of {model}")


@cli.command("demo")
@click.option("--refit", is_flag=True, help="Fit the demo model again even if it is stored.")
@click.option("--rows", default=1000, show_default=True, help="How many synthetic rows to make.")
@click.pass_context
def demo_command(ctx: click.Context, refit: bool, rows: int) -> None:
    """The main job on the embedded default: real people table -> model -> SQL generation -> fidelity."""
    from genesis_sql.cli._demo import run_demo

    with database(ctx) as con:
        run_demo(con, refit=refit, rows=rows, echo=click.echo)


