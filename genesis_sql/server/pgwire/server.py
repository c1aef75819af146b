"""PgServer: a Postgres wire protocol endpoint over a genesis DuckDB connection."""
from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading

import duckdb

from genesis_sql.errors import InvalidArgumentError
from genesis_sql.server.pgwire.served import LineageWriter
from genesis_sql.server.pgwire.session import Session
from genesis_sql.server.pgwire.synthetic import sync_synthetic_views

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_TIMEOUT_S = 300.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No file or network access from SQL and no configuration changes, for every connection to the database.

    Both settings belong to the DuckDB database instance, not one connection: set on the served
    connection, they hold for every cursor, so served clients cannot turn them back on. A connection
    that the caller has locked already is left as it is (a locked configuration cannot be set again).
    """
    external, locked = con.execute("SELECT current_setting('enable_external_access'), "
                                   "current_setting('lock_configuration')").fetchall()[0]
    if locked:
        if external:
            raise InvalidArgumentError("The connection's configuration is locked with enable_external_access "
                                       "on; serve a connection with external access off (or not locked yet).")
        return
    if external:
        con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


class PgServer:
    """Serves ``con`` to Postgres clients (psql, psycopg, pgjdbc, BI tools) on ``host:port``, read-only.

    Args:
        con: an installed genesis connection, owned by the serving process.
        host: the address to listen on; ``no_auth`` is refused unless it is a loopback address.
        port: the TCP port (0 picks a free one; see ``address``).
        users: user name -> password or SCRAM verifier (see :mod:`.auth`); required unless ``no_auth``.
        no_auth: whether any user and database name may connect without a password.
        allow_fit: whether clients may call ``genesis_fit``.
        tls_cert: a PEM certificate file; with ``tls_key``, clients may switch to TLS (SSLRequest).
        tls_key: the PEM private key of ``tls_cert``.
        max_rows: the most rows one query may return; more is an error (SQLSTATE 54000).
        timeout_s: the longest one query may run before it is cancelled (SQLSTATE 57014).

    Example:
        >>> server = PgServer(con, port=5433, users={"alice": "secret"}).start()   # doctest: +SKIP
        >>> server.stop()                                                          # doctest: +SKIP
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, host: str = "127.0.0.1", port: int = 5433, *,
                 users: dict[str, str] | None = None, no_auth: bool = False, allow_fit: bool = False,
                 tls_cert: str | None = None, tls_key: str | None = None, max_rows: int = DEFAULT_MAX_ROWS,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.con = con
        self.host = host
        self.port = port
        self.users = dict(users or {})
        self.no_auth = no_auth
        self.allow_fit = allow_fit
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.max_rows = max_rows
        self.timeout_s = timeout_s
        self.stopping = False
        self.ssl_context: ssl.SSLContext | None = None
        self.lineage: LineageWriter | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._sessions: dict[int, Session] = {}
        self._next_pid = 1000
        self._lock = threading.Lock()

    def _validate(self) -> None:
        problems = []
        if self.no_auth and not is_loopback(self.host):
            problems.append(f"no_auth is allowed only on a loopback address, not {self.host!r}: anyone who can "
                            "reach it could read the database. Configure users (--users FILE or "
                            "GENESIS_PG_USER/GENESIS_PG_PASSWORD) or bind 127.0.0.1.")
        if not self.no_auth and not self.users:
            problems.append("No users are configured: give --users FILE ('user:password' lines) or "
                            "GENESIS_PG_USER/GENESIS_PG_PASSWORD, or --no-auth on a loopback address.")
        if bool(self.tls_cert) != bool(self.tls_key):
            problems.append("TLS needs both tls_cert and tls_key (PEM files).")
        if not (isinstance(self.max_rows, int) and self.max_rows > 0):
            problems.append(f"max_rows must be a positive integer, got {self.max_rows!r}.")
        if not (isinstance(self.timeout_s, (int, float)) and self.timeout_s > 0):
            problems.append(f"timeout_s must be a positive number of seconds, got {self.timeout_s!r}.")
        if problems:
            raise InvalidArgumentError(" ".join(problems))

    def start(self) -> PgServer:
        """Listen on ``host:port`` and serve clients on background threads; returns when listening."""
        self._validate()
        if self.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                context.load_cert_chain(self.tls_cert, self.tls_key)
            except (OSError, ssl.SSLError) as exc:
                raise InvalidArgumentError(f"Cannot load the TLS certificate {self.tls_cert!r} and key "
                                           f"{self.tls_key!r}: {exc}") from exc
            self.ssl_context = context
        sync_synthetic_views(self.con)
        lock_down(self.con)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError as exc:
            listener.close()
            raise InvalidArgumentError(f"Cannot listen on {self.host}:{self.port}: {exc}") from exc
        listener.listen(128)
        self._listener = listener
        self.lineage = LineageWriter(self.con)
        self.stopping = False
        self._thread = threading.Thread(target=self._accept, name="pgwire-accept", daemon=True)
        self._thread.start()
        log.info("Postgres endpoint listening on %s:%s", *self.address)
        return self

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        if self._listener is None:
            return self.host, self.port
        return self._listener.getsockname()[:2]

    def _accept(self) -> None:
        while not self.stopping:
            try:
                sock, address = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(self, sock, address)
            threading.Thread(target=session.run, name=f"pgwire-{address[1]}", daemon=True).start()

    def register(self, session: Session) -> int:
        """A fresh backend process id for ``session``, under which CancelRequests find it."""
        with self._lock:
            self._next_pid += 1
            self._sessions[self._next_pid] = session
            return self._next_pid

    def forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.pid, None)

    def cancel(self, pid: int, secret: int) -> None:
        """Handle a CancelRequest: interrupt the query of session ``pid`` if ``secret`` matches its key."""
        with self._lock:
            session = self._sessions.get(pid)
        if session is not None and session.secret == secret:
            session.cancel()

    def stop(self) -> None:
        """Stop listening, cancel running queries and close every client connection."""
        self.stopping = True
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.cancel("server shutdown")
            try:
                session.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.lineage is not None:
            self.lineage.close()
            self.lineage = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
