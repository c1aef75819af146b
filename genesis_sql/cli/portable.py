"""``genesis export`` and ``genesis import``: one model version as one portable file, and back."""
from __future__ import annotations

import click

from genesis_sql.cli._base import cli, database


@cli.command("export")
@click.argument("model")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def export_command(ctx: click.Context, model: str, path: str) -> None:
    """Write MODEL (m or m@N) to PATH: its state as data, content hash and signed fit block."""
    from genesis_sql.distributed.portable import export_model

    with database(ctx) as con:
        export_model(con, model, path)
    click.echo(f"exported {model} to {path}", err=True)


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", default=None, help="Store it under this model name (default: its own).")
@click.option("--trusted-key", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Require a fit block signed by this public key (default: GENESIS_LINEAGE_PUBKEY, if set).")
@click.pass_context
def import_command(ctx: click.Context, path: str, name: str | None, trusted_key: str | None) -> None:
    """Verify the model file at PATH and store it as the next version of its name."""
    from genesis_sql.distributed.portable import import_model

    with database(ctx) as con:
        record = import_model(con, path, name=name, trusted_key_path=trusted_key)
    click.echo(f"imported {record.ref} (content {record.content_hash[:16]})")
