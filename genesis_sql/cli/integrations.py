"""Commands that connect genesis to other tools: ``genesis dbt-package`` (where the dbt package lives)
and ``genesis kafka-dev`` (a local Kafka-protocol broker for trying ``genesis stream --kafka``)."""
from __future__ import annotations

import signal

import click

from genesis_sql.cli._base import cli, stop_on_sigterm


@cli.command("dbt-package")
def dbt_package() -> None:
    """Print the folder of the genesis dbt package (use it as `- local: PATH` in packages.yml)."""
    from genesis_sql.integrations.dbt import PACKAGE_DIR

    click.echo(str(PACKAGE_DIR))


@cli.command("kafka-dev")
def kafka_dev() -> None:
    """Run a local Kafka-protocol broker (librdkafka's mock cluster) for trying `genesis stream --kafka`.

    Prints the bootstrap address and serves until Ctrl-C or SIGTERM. It keeps messages in memory and is
    for trying things out, not for production.
    """
    from genesis_sql.streaming.mock_broker import MockKafkaBroker

    stop_on_sigterm()
    with MockKafkaBroker() as bootstrap:
        click.echo(bootstrap, nl=True)
        click.echo(f"try: genesis stream MODEL --kafka {bootstrap} --topic MODEL --max-rows 1000   (Ctrl-C stops)",
                   err=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
