"""The click group every ``genesis`` command hangs off, and the one place errors become exit codes."""
from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

import click
import duckdb

from genesis_sql._install import open_database
from genesis_sql.errors import GenesisError


class GenesisGroup(click.Group):
    """A group that prints GenesisError (and DuckDB errors) as one line and exits 1, unless --debug."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (GenesisError, duckdb.Error) as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            click.echo(f"Error: {type(exc).__name__}: {message}", err=True)
            sys.exit(1)


@click.group(cls=GenesisGroup)
@click.option("--db", "db_path", default="genesis.duckdb", show_default=True, envvar="GENESIS_DB",
              help="The DuckDB file to work in.")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, db_path: str, debug: bool) -> None:
    """genesis: synthetic data as a SQL citizen (DuckDB)."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db_path
    ctx.obj["debug"] = debug
    show_progress_logs()


# Loggers whose INFO lines a command-line user should see on stderr: the rules a fit found and the
# progress of long conditional generation.
PROGRESS_LOGGERS = ("genesis_sql.rules", "genesis_sql.conditions.sampling")


def show_progress_logs() -> None:
    """Print the PROGRESS_LOGGERS' INFO lines on stderr (once per process)."""
    for name in PROGRESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(getattr(h, "genesis_cli", False) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.genesis_cli = True
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)


@contextlib.contextmanager
def database(ctx: click.Context, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the group's database with genesis installed, retrying a held lock; close it afterwards."""
    with open_database(ctx.obj["db"], read_only=read_only, install_genesis=not read_only) as con:
        yield con


def stop_on_sigterm() -> None:
    """Make SIGTERM stop a long-running command the way Ctrl-C does (KeyboardInterrupt).

    Service managers stop processes with SIGTERM, and a process started in the background of a
    non-interactive shell ignores SIGINT; SIGTERM's default action would end it without the clean stop
    (flushed files, closed sockets, the lineage block) that Ctrl-C gives.
    """
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    """Console-script entry point."""
    cli(obj={})
