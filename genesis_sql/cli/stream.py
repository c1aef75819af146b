"""``genesis stream``: a model's rows into Kafka, WebSocket clients or rotating files, with a live progress line.

The command loads the model, then releases the database file while it streams (other ``genesis``
commands can use it meanwhile) and opens it again when the stream stops, to record its lineage block.
Ctrl-C stops the stream cleanly: Kafka is flushed, files are closed, clients are drained.

With ``--cluster`` the rows (``--max-rows`` of them) are produced to Kafka by the tasks of a Dask job
(:mod:`genesis_sql.distributed.stream`), like ``genesis generate --cluster``.
"""
from __future__ import annotations

import click
from click.core import ParameterSource

from genesis_sql.cli._base import cli, database, stop_on_sigterm
from genesis_sql.errors import InvalidArgumentError
from genesis_sql.streaming.config import StreamingConfig, StreamingStats
from genesis_sql.streaming.files import FORMATS, FileStreamingGenerator
from genesis_sql.streaming.kafka import KafkaStreamingGenerator
from genesis_sql.streaming.sink import SinkStreamingGenerator
from genesis_sql.streaming.websocket import WebSocketStreamingGenerator

# Seconds between redraws of the progress line.
PROGRESS_SECONDS = 0.5


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(f"-X takes KEY=VALUE, e.g. security.protocol=SASL_SSL. Got {pair!r}.")
        settings[key.strip()] = value
    return settings


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InvalidArgumentError(f"--websocket takes HOST:PORT, e.g. 127.0.0.1:8765. Got {text!r}.")
    return host, int(port)


def _progress(stats: StreamingStats) -> str:
    return (f"{stats.total_samples:,} rows | {stats.samples_per_second():,.0f} rows/s | delivered {stats.delivered:,}"
            f" | errors {stats.errors + stats.failed} | dropped {stats.dropped:,}")


@cli.command("stream")
@click.argument("model")
@click.option("--kafka", "bootstrap", default=None, metavar="BOOTSTRAP",
              help="Kafka bootstrap servers, host:port[,...].")
@click.option("--topic", default=None, help="Kafka topic (with --kafka).")
@click.option("--key", "key_column", default=None, help="Column whose value keys each Kafka message.")
@click.option("-X", "--producer-config", "producer_config", multiple=True, metavar="KEY=VALUE",
              help="librdkafka setting passed through, e.g. -X security.protocol=SASL_SSL.")
@click.option("--websocket", default=None, metavar="HOST:PORT", help="Serve WebSocket clients on HOST:PORT.")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False), help="Write rotating files into DIR.")
@click.option("--format", "fmt", default="parquet", show_default=True, type=click.Choice(sorted(FORMATS)),
              help="File format with --out.")
@click.option("--rotate-rows", default=1_000_000, show_default=True, type=int, help="Rows per file with --out.")
@click.option("--rate", default=None, type=float,
              help="Target rows per second (as fast as possible when omitted; with --cluster, of the whole job).")
@click.option("--max-rows", default=None, type=int, help="Stop after N rows (endless when omitted; Ctrl-C stops).")
@click.option("--where", "condition", default=None, help="A SQL condition every row satisfies, e.g. \"age > 50\".")
@click.option("--seed", default=None, type=int, help="Seed of the stream (drawn and reported when omitted).")
@click.option("--batch-size", default=10_000, show_default=True, type=int, help="Rows generated per batch.")
@click.option("--cluster", default=None, metavar="SCHEDULER",
              help="Produce the rows from the Dask cluster at this scheduler address (tcp://HOST:8786), one task "
                   "per partition; needs --kafka, --topic and --max-rows.")
@click.option("--partitions", default=8, show_default=True, type=int, help="Parts of a --cluster stream.")
@click.pass_context
def stream_command(ctx: click.Context, model: str, bootstrap: str | None, topic: str | None, key_column: str | None,
                   producer_config: tuple[str, ...], websocket: str | None, out: str | None, fmt: str,
                   rotate_rows: int, rate: float | None, max_rows: int | None, condition: str | None,
                   seed: int | None, batch_size: int, cluster: str | None, partitions: int) -> None:
    """Stream MODEL's rows into Kafka (--kafka/--topic), WebSocket clients (--websocket) or files (--out);
    with --cluster, from the tasks of a Dask job into Kafka."""
    chosen = [flag for flag, value in (("--kafka", bootstrap), ("--websocket", websocket), ("--out", out)) if value]
    if len(chosen) != 1:
        raise click.UsageError(
            "Choose one destination: --kafka BOOTSTRAP --topic T, --websocket HOST:PORT or --out DIR.")
    if bootstrap and not topic:
        raise click.UsageError("--kafka needs --topic.")
    if cluster is not None:
        _stream_on_cluster(ctx, model, cluster, partitions, bootstrap, topic, key_column, producer_config, max_rows,
                           rate, condition, seed)
        return
    config = StreamingConfig(batch_size=batch_size, max_rows=max_rows, rate=rate, seed=seed, conditions=condition)
    db = ctx.obj["db"]
    if bootstrap:
        sink: SinkStreamingGenerator = KafkaStreamingGenerator(
            db, model, config, bootstrap_servers=bootstrap, topic=topic, key_column=key_column,
            producer_config=_settings(producer_config))
    elif websocket:
        host, port = _host_port(websocket)
        sink = WebSocketStreamingGenerator(db, model, config, host=host, port=port)
    else:
        sink = FileStreamingGenerator(db, model, config, directory=out, format=fmt, rotate_rows=rotate_rows)
    plan = sink.prepare()
    if plan.seed_was_drawn:
        click.echo(f"seed: {plan.seed}", err=True)
    stop_on_sigterm()
    sink.start_streaming()
    click.echo(f"streaming {plan.ref} to {sink.destination} (Ctrl-C or SIGTERM stops)", err=True)
    try:
        while not sink.wait(PROGRESS_SECONDS):
            click.echo(f"\r{_progress(sink.stats)}", nl=False, err=True)
    except KeyboardInterrupt:
        click.echo("\rstopping ...", nl=False, err=True)
    finally:
        stats = sink.stop()
        click.echo(f"\r{_progress(stats)}", err=True)
    click.echo(f"streamed {stats.total_samples:,} rows of {plan.ref} (seed {plan.seed}) to {sink.destination} "
               f"in {stats.elapsed:.1f} s")


def _stream_on_cluster(ctx: click.Context, model: str, cluster: str, partitions: int, bootstrap: str | None,
                       topic: str, key_column: str | None, producer_config: tuple[str, ...], max_rows: int | None,
                       rate: float | None, condition: str | None, seed: int | None) -> None:
    """``stream --cluster``: the rows are made and produced by the cluster's workers, never here."""
    from genesis_sql.distributed.stream import ROW_HEADER, stream_distributed

    if not bootstrap:
        raise click.UsageError("--cluster streams to Kafka: give --kafka BOOTSTRAP --topic T.")
    if max_rows is None:
        raise click.UsageError("--cluster streams a bounded number of rows: give --max-rows N.")
    if ctx.get_parameter_source("batch_size") is ParameterSource.COMMANDLINE:
        raise click.UsageError("--batch-size is for a single-process stream; a --cluster stream makes each part "
                               "in batches of 65,536 rows.")
    with database(ctx) as con:
        result = stream_distributed(con, model, max_rows, scheduler=cluster, bootstrap_servers=bootstrap, topic=topic,
                                    partitions=partitions, seed=seed, condition=condition, key_column=key_column,
                                    rate=rate, producer_config=_settings(producer_config))
    click.echo(f"streamed {result.rows:,} rows of {result.plan.ref} (seed {result.plan.seed}) in {len(result.parts)} "
               f"parts to {result.destination} (job {result.job}; deduplicate on the {ROW_HEADER} header)")
