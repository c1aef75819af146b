"""``genesis privacy-budget``: the epsilon each source table has spent on DP fits, and setting its limit."""
from __future__ import annotations

import click

from genesis_sql.cli._base import cli, database
from genesis_sql.cli._output import print_table
from genesis_sql.privacy import set_limit


@cli.command("privacy-budget")
@click.option("--limit", "limit", nargs=2, default=None, metavar="SOURCE EPSILON",
              help="Set the total epsilon DP fits may spend on a source table, e.g. --limit benefits 5.")
@click.pass_context
def privacy_budget_command(ctx: click.Context, limit: tuple[str, str] | None) -> None:
    """Show epsilon spent and the limit per source table (after setting --limit, when given)."""
    with database(ctx) as con:
        if limit:
            source, epsilon = limit
            try:
                value = float(epsilon)
            except ValueError:
                value = epsilon
            set_limit(con, source, value)
        print_table(con.sql("SELECT * FROM genesis_privacy_budget()").to_arrow_table())
