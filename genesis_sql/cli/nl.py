"""The natural-language commands: ask, describe, mcp."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pyarrow as pa

from genesis_sql.cli._base import cli, database
from genesis_sql.cli._output import print_table, write_batches
from genesis_sql.nl.describe import ColumnDescription


@cli.command("ask")
@click.argument("request")
@click.option("--yes", is_flag=True, help="Run without asking when the whole request was understood.")
@click.option("--seed", default=None, type=int, help="Same seed, same rows (drawn when omitted).")
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="Write to FILE.parquet, FILE.csv or FILE.jsonl instead of printing.")
@click.pass_context
def ask_command(ctx: click.Context, request: str, yes: bool, seed: int | None, out: str | None) -> None:
    """Read REQUEST ("1000 workers over 50 in California"), print the SQL and its reading, then run it.

    It runs with --yes, or after you confirm; a reading with words it did not understand is always
    confirmed interactively, never run on --yes alone.
    """
    from genesis_sql.api import generate_stream
    from genesis_sql.lineage.fingerprint import BatchFingerprint
    from genesis_sql.lineage.record import record_generation
    from genesis_sql.nl.ask import ask

    with database(ctx) as con:
        result = ask(con, request)
        click.echo(result.sql or "-- no SQL: no model identified")
        click.echo(result.reading(), err=True)
        if not result.sql:
            sys.exit(1)
        if not (yes and not result.needs_confirmation) and not click.confirm("Run it?", default=False, err=True):
            click.echo("not run", err=True)
            sys.exit(1)
        if out is None:
            print_table(result.rows(seed=seed))
            return
        plan, batches = generate_stream(con, result.model, result.n, seed=seed,
                                        condition=" AND ".join(result.conditions) or None)
        written = BatchFingerprint(con)
        rows = write_batches(con, written.wrap(batches), Path(out))
        record_generation(con, plan, written.result(), destination=out)
        click.echo(f"wrote {rows:,} rows of {plan.ref} (seed {plan.seed}) to {out}", err=True)


@cli.command("describe")
@click.argument("model")
@click.option("--prompt", is_flag=True, help="Print the compact text for an LLM prompt instead of a table.")
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
@click.option("--max-tokens", default=4000, show_default=True, help="Token budget of --prompt.")
@click.pass_context
def describe_command(ctx: click.Context, model: str, prompt: bool, as_json: bool, max_tokens: int) -> None:
    """Describe MODEL's columns: kinds, PII, ranges, values, labels, descriptions and rules."""
    from genesis_sql.nl.describe import describe_model
    from genesis_sql.nl.prompt import render_context

    with database(ctx) as con:
        description = describe_model(con, model)
        if prompt:
            click.echo(render_context([description], max_tokens))
        elif as_json:
            click.echo(json.dumps(description.to_dict(), default=str, indent=2))
        else:
            print_table(pa.Table.from_pylist([_flat(c) for c in description.columns]))


def _flat(column: ColumnDescription) -> dict[str, object]:
    """One column's description as printable text cells."""
    data = column.to_dict()
    return {"name": data["name"], "sql_type": data["sql_type"], "kind": data["kind"], "pii": data["pii"] or "",
            "null_share": data["null_share"], "min": None if data["min"] is None else str(data["min"]),
            "max": None if data["max"] is None else str(data["max"]),
            "values": ", ".join(str(v["value"]) for v in data["values"][:10])
            + (" ..." if len(data["values"]) > 10 or data["other_values"] else ""),
            "labels": ", ".join(f"{v['value']}={v['label']}" for v in data["labels"]),
            "description": data["description"] or "", "rules": "; ".join(data["rules"])}


@cli.command("mcp")
@click.option("--max-rows", default=10_000, show_default=True, help="Most rows one generate call returns.")
@click.pass_context
def mcp_command(ctx: click.Context, max_rows: int) -> None:
    """Serve the database's models to LLM agents over the Model Context Protocol (stdio)."""
    from genesis_sql.nl.mcp_server import serve_stdio

    serve_stdio(ctx.obj["db"], max_rows=max_rows)
