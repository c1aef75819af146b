"""``genesis serve``: one process owns the database and serves it over the Postgres wire protocol and HTTP."""
from __future__ import annotations

import os

import click

from genesis_sql.cli._base import cli, stop_on_sigterm
from genesis_sql.errors import InvalidArgumentError

TOKEN_ENV = "GENESIS_TOKEN"


def _address(value: str, option: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:5433`` for IPv6) as (host, port)."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise InvalidArgumentError(f"{option} takes HOST:PORT, such as 127.0.0.1:8050. Got {value!r}.")
    return host, int(port)


@cli.command("serve")
@click.option("--pg", "pg_address", default="127.0.0.1:5433", show_default=True, metavar="HOST:PORT",
              help="Where the Postgres wire endpoint listens.")
@click.option("--http", "http_address", default="127.0.0.1:8050", show_default=True, metavar="HOST:PORT",
              help="Where the HTTP API and the dashboard listen.")
@click.option("--users", "users_file", type=click.Path(dir_okay=False),
              help="Postgres users, one 'name:password' (or SCRAM verifier) per line; default "
                   "GENESIS_PG_USER / GENESIS_PG_PASSWORD.")
@click.option("--no-auth", is_flag=True,
              help="No Postgres password and no HTTP token (both addresses must be loopback).")
@click.option("--allow-fit", is_flag=True, help="Allow fitting models (genesis_fit, POST /v1/fit).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False),
              help="TLS certificate (PEM) for both endpoints.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="Its private key (PEM).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Also answer HTTP requests for this host name (needed when binding 0.0.0.0).")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000_000, show_default=True,
              help="Most rows one query or request may return.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=300.0,
              show_default=True, help="Seconds after which a query is interrupted.")
@click.pass_context
def serve_command(ctx: click.Context, pg_address: str, http_address: str, users_file: str | None, no_auth: bool,
                  allow_fit: bool, tls_cert: str | None, tls_key: str | None, allowed_hosts: tuple[str, ...],
                  max_rows: int, timeout_s: float) -> None:
    """Serve the database to BI tools (Postgres wire) and HTTP clients until Ctrl-C or SIGTERM.

    The HTTP API needs the token in GENESIS_TOKEN (sent as 'Authorization: Bearer ...') unless --no-auth;
    a non-loopback HTTP address needs a token. The server is read-only except for lineage and, with
    --allow-fit, fitting.
    """
    from genesis_sql.quality._optional import require

    require("flask")
    from genesis_sql.server import check_bind, create_app
    from genesis_sql.server.db import open_serving_connection
    from genesis_sql.server.security import LOOPBACK_HOSTS, host_name
    from genesis_sql.server.serving import HttpServer

    pg_host, pg_port = _address(pg_address, "--pg")
    http_host, http_port = _address(http_address, "--http")
    token = None if no_auth else (os.environ.get(TOKEN_ENV) or None)
    if no_auth and not {host_name(pg_host), host_name(http_host)} <= LOOPBACK_HOSTS:
        raise InvalidArgumentError("--no-auth serves anyone who can connect: keep --pg and --http on 127.0.0.1.")
    check_bind(http_host, token, server="the HTTP API", setting=TOKEN_ENV)
    from genesis_sql.server.pgwire import PgServer, load_users

    users = None if no_auth else load_users(users_file)
    # PgServer.start() creates the synthetic.* views and then locks the configuration itself.
    con = open_serving_connection(ctx.obj["db"], lock_configuration=False)
    servers: list = []
    try:
        app = create_app({"CONNECTION": con, "DATABASE": ctx.obj["db"], "TOKEN": token, "BIND_HOST": http_host,
                          "ALLOWED_HOSTS": allowed_hosts, "ALLOW_FIT": allow_fit, "MAX_ROWS": max_rows,
                          "QUERY_TIMEOUT": timeout_s})
        http = HttpServer(app, http_host, http_port, tls_cert=tls_cert, tls_key=tls_key)
        servers.append(http)
        pg = PgServer(con, pg_host, pg_port, users=users, no_auth=no_auth, allow_fit=allow_fit,
                      tls_cert=tls_cert, tls_key=tls_key, max_rows=max_rows, timeout_s=timeout_s)
        pg.start()
        servers.append(pg)
        http.start()
        pg_bound = ":".join(str(part) for part in pg.address)
        click.echo(f"genesis serve: postgres://{pg_bound} and {http.url}/ (database {ctx.obj['db']}"
                   f"{'; HTTP token required' if token else ''})", err=True)
        stop_on_sigterm()
        _wait_for_interrupt()
    finally:
        for server in reversed(servers):
            server.stop()
        con.close()
    click.echo("stopped", err=True)


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM (raised as KeyboardInterrupt by ``stop_on_sigterm``)."""
    import threading

    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
