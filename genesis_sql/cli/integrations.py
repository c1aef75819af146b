"""``genesis dbt-package``: where the genesis dbt package lives, for a project's packages.yml."""
from __future__ import annotations

import click

from genesis_sql.cli._base import cli


@cli.command("dbt-package")
def dbt_package() -> None:
    """Print the folder of the genesis dbt package (use it as `- local: PATH` in packages.yml)."""
    from genesis_sql.integrations.dbt import PACKAGE_DIR

    click.echo(str(PACKAGE_DIR))
