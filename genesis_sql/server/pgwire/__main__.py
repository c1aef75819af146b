"""``python -m genesis_sql.server.pgwire --db PATH --pg HOST:PORT [--no-auth] [--users FILE]``.

Serves one database over the Postgres wire protocol until Ctrl-C or SIGTERM (``genesis serve`` is the
command users run; this entry point serves the endpoint alone).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from genesis_sql._db import connect_with_retry
from genesis_sql._install import install
from genesis_sql.errors import GenesisError
from genesis_sql.server.pgwire.auth import load_users
from genesis_sql.server.pgwire.server import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, PgServer


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 as ``[::1]:5433``) as (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesis_sql.server.pgwire", description=__doc__)
    parser.add_argument("--db", default="genesis.duckdb")
    parser.add_argument("--pg", type=parse_address, default=("127.0.0.1", 5433), metavar="HOST:PORT")
    parser.add_argument("--users", help="file of 'user:password' (or SCRAM verifier) lines")
    parser.add_argument("--no-auth", action="store_true", help="any user connects without a password (loopback only)")
    parser.add_argument("--allow-fit", action="store_true", help="let clients call genesis_fit")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per query")
    args = parser.parse_args(argv)
    try:
        users = load_users(args.users)
        con = connect_with_retry(args.db)
        install(con)
        host, port = args.pg
        server = PgServer(con, host, port, users=users, no_auth=args.no_auth, allow_fit=args.allow_fit,
                          tls_cert=args.tls_cert, tls_key=args.tls_key, max_rows=args.max_rows,
                          timeout_s=args.timeout).start()
    except GenesisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"serving {args.db} on {server.address[0]}:{server.address[1]}", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
