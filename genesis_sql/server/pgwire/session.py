"""One client connection: startup, authentication, then the simple and extended query protocol.

A session owns a cursor of the served connection (its own DuckDB connection to the same database) and
runs every statement through one pipeline (:meth:`Session.plan`): emulated answers for SET / SHOW /
transaction control, Postgres catalog rewrites, bound parameters as literals, ``synthetic.<model>`` views
expanded, WHERE pushdown into ``genesis_generate``, the read-only gate, then DuckDB. Results stream as
Arrow batches encoded into DataRow messages a batch at a time.
"""
from __future__ import annotations

import logging
import secrets
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot.errors import SqlglotError

from genesis_sql._db import cursor as genesis_cursor
from genesis_sql.connection import GenesisConnection
from genesis_sql.server.pgwire import _messages as msg
from genesis_sql.server.pgwire import sqlstate
from genesis_sql.server.pgwire._rows import data_rows
from genesis_sql.server.pgwire.auth import MECHANISM, ScramExchange, parse_secret
from genesis_sql.server.pgwire.binding import bind_text, parameter_count
from genesis_sql.server.pgwire.emulated import REPORTED, Emulated, emulate
from genesis_sql.server.pgwire.gate import check_read_only
from genesis_sql.server.pgwire.pgcompat import rewrite_catalog_query, session_sql
from genesis_sql.server.pgwire.served import ServedRows, generator_calls, hash_sum, with_row_hash
from genesis_sql.server.pgwire.sqlstate import ServedError
from genesis_sql.server.pgwire.synthetic import sync_synthetic_views
from genesis_sql.server.pgwire.types import TEXT, PgType, cells, parse_binary_value, parse_text_value, pg_type

if TYPE_CHECKING:
    from genesis_sql.server.pgwire.server import PgServer

log = logging.getLogger(__name__)

BATCH_ROWS = 8192
FLUSH_BYTES = 256 * 1024


@dataclass
class Prepared:
    """A parsed statement: its text with ``$n`` placeholders and the declared parameter types."""

    sql: str
    param_oids: list[int]


@dataclass
class Execution:
    """A running query: the Arrow reader, the described fields, and rows not yet sent."""

    fields: list[tuple[str, PgType]]
    batches: Iterator[pa.RecordBatch] | None
    plan_sql: str
    calls: list = field(default_factory=list)
    hash_total: int = 0
    pending: pa.RecordBatch | None = None
    sent: int = 0
    done: bool = False


@dataclass
class Portal:
    """A bound statement ready to execute."""

    sql: str
    result_formats: list[int]
    emulated: Emulated | None = None
    execution: Execution | None = None
    described: bool = False
    formats: list[int] = field(default_factory=list)


def split_statements(sql: str) -> list[str]:
    """The statements of a simple Query message, split at top-level semicolons (quotes respected)."""
    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except SqlglotError:
        return [sql]
    parts, start = [], 0
    for token in tokens:
        if token.token_type == sqlglot.tokens.TokenType.SEMICOLON:
            parts.append(sql[start:token.start])
            start = token.end + 1
    parts.append(sql[start:])
    return [p for p in parts if p.strip()] or [""]


class Session:
    """The protocol state of one client; ``run()`` serves it until it leaves or the server stops."""

    def __init__(self, server: PgServer, sock: socket.socket, address: tuple) -> None:
        self.server = server
        self.sock = sock
        self.address = address
        self.pid = 0
        self.secret = secrets.randbits(31)
        self.settings: dict[str, str] = {}
        self.user = ""
        self.status = b"I"
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.out: list[bytes] = []
        self.out_size = 0
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.gcon: GenesisConnection | None = None
        self.skip_until_sync = False
        self.cancel_reason: str | None = None
        self.running = False  # whether a query runs, so that a late CancelRequest cannot hit the next one

    # -- output -------------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.out.append(data)
        self.out_size += len(data)
        if self.out_size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.out:
            self.sock.sendall(b"".join(self.out))
            self.out.clear()
            self.out_size = 0

    def send_error(self, exc: BaseException) -> None:
        code = sqlstate.sqlstate_of(exc)
        text = sqlstate.message_of(exc)
        if code == sqlstate.QUERY_CANCELED:
            text = f"canceling statement due to {self.cancel_reason or 'user request'}"
        hint = exc.hint if isinstance(exc, ServedError) else None
        self.send(msg.error_response(code, text, hint=hint))
        if self.status == b"T":
            self.status = b"E"

    # -- lifecycle ----------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            if self.startup():
                self.serve()
        except (msg.ClientGone, ConnectionError, OSError):
            pass
        except msg.ProtocolViolation as exc:
            try:
                self.send(msg.error_response(sqlstate.PROTOCOL_VIOLATION, str(exc), severity="FATAL"))
                self.flush()
            except OSError:
                pass
        except Exception:  # noqa: BLE001 - one client's failure must not reach the accept loop
            log.exception("pgwire session from %s failed", self.address)
        finally:
            self.close()

    def close(self) -> None:
        self.server.forget(self)
        try:
            self.sock.close()
        except OSError:
            pass
        if self.cursor is not None:
            try:
                self.cursor.close()
            except duckdb.Error:
                pass

    def cancel(self, reason: str = "user request") -> None:
        """Interrupt the running query, if any (CancelRequest, statement timeout, server stop)."""
        self.cancel_reason = reason
        if self.cursor is not None and self.running:
            self.cursor.interrupt()

    # -- startup ------------------------------------------------------------------------------------
    def startup(self) -> bool:
        while True:
            code, body = msg.read_startup(self.sock)
            if code == msg.SSL_REQUEST:
                context = self.server.ssl_context
                self.sock.sendall(b"S" if context else b"N")
                if context:
                    self.sock = context.wrap_socket(self.sock, server_side=True)
                continue
            if code == msg.GSSENC_REQUEST:
                self.sock.sendall(b"N")
                continue
            if code == msg.CANCEL_REQUEST:
                pid, secret = struct.unpack("!ii", body[:8])
                self.server.cancel(pid, secret)
                return False
            if code != msg.PROTOCOL_V3:
                raise msg.ProtocolViolation(f"unsupported protocol version {code >> 16}.{code & 0xFFFF}")
            break
        params = msg.parse_startup_parameters(body)
        self.user = params.get("user", "")
        if not self.authenticate():
            return False
        self.cursor = genesis_cursor(self.server.con)
        self.gcon = GenesisConnection(self.cursor)
        for statement in session_sql():
            self.cursor.execute(statement)
        self.refresh_models()
        self.pid = self.server.register(self)
        self.send(msg.authentication(0))
        reported = dict(REPORTED, application_name=params.get("application_name", ""),
                        session_authorization=self.user)
        for name, value in reported.items():
            self.send(msg.parameter_status(name, value))
        self.settings["application_name"] = params.get("application_name", "")
        self.send(msg.backend_key_data(self.pid, self.secret))
        self.send(msg.ready_for_query(self.status))
        self.flush()
        return True

    def authenticate(self) -> bool:
        if self.server.no_auth:
            return True
        secret = self.server.users.get(self.user)
        exchange = ScramExchange(parse_secret(secret) if secret is not None else None)
        self.sock.sendall(msg.authentication(10, msg.cstr(MECHANISM) + b"\x00"))
        kind, body = msg.read_message(self.sock)
        reader = msg.Reader(body)
        if kind != b"p" or reader.cstring() != MECHANISM:
            raise msg.ProtocolViolation("expected a SASLInitialResponse for SCRAM-SHA-256")
        size = reader.int32()
        try:
            server_first = exchange.first(reader.bytes(size))
        except (ValueError, KeyError) as exc:
            raise msg.ProtocolViolation(f"malformed SCRAM client-first message: {exc}") from exc
        self.sock.sendall(msg.authentication(11, server_first))
        kind, body = msg.read_message(self.sock)
        if kind != b"p":
            raise msg.ProtocolViolation("expected a SASLResponse")
        try:
            server_final = exchange.final(body)
        except (ValueError, KeyError) as exc:
            raise msg.ProtocolViolation(f"malformed SCRAM client-final message: {exc}") from exc
        if server_final is None:
            self.sock.sendall(msg.error_response(sqlstate.INVALID_PASSWORD,
                                                 f'password authentication failed for user "{self.user}"',
                                                 severity="FATAL"))
            return False
        self.sock.sendall(msg.authentication(12, server_final))
        return True

    # -- message loop -------------------------------------------------------------------------------
    def serve(self) -> None:
        handlers = {b"Q": self.on_query, b"P": self.on_parse, b"B": self.on_bind, b"D": self.on_describe,
                    b"E": self.on_execute, b"C": self.on_close, b"S": self.on_sync, b"H": self.on_flush}
        while not self.server.stopping:
            kind, body = msg.read_message(self.sock)
            if kind == b"X":
                return
            handler = handlers.get(kind)
            if kind in (b"Q", b"S"):
                self.skip_until_sync = False
            elif self.skip_until_sync:
                continue
            if handler is None:
                self.send(msg.error_response(sqlstate.FEATURE_NOT_SUPPORTED,
                                             f"message type {kind!r} is not supported by this server"))
                self.skip_until_sync = True
                continue
            try:
                handler(msg.Reader(body))
            except (msg.ClientGone, msg.ProtocolViolation, OSError):
                raise
            except Exception as exc:  # noqa: BLE001 - every failure of a request becomes an ErrorResponse
                self.send_error(exc)
                if kind == b"Q":
                    self.send(msg.ready_for_query(self.status))
                    self.flush()
                else:
                    self.skip_until_sync = True

    def on_flush(self, _: msg.Reader) -> None:
        self.flush()

    def on_sync(self, _: msg.Reader) -> None:
        self.portals.pop("", None)
        self.send(msg.ready_for_query(self.status))
        self.flush()

    def on_query(self, reader: msg.Reader) -> None:
        text = reader.cstring()
        self.portals.pop("", None)
        statements = split_statements(text)
        if len(statements) == 1 and not statements[0].strip():
            self.send(msg.EMPTY_QUERY)
        for statement in statements:
            try:
                portal = self.bind_portal(statement, [], [])
                self.describe_portal(portal)
                self.execute_portal(portal, 0)
            except Exception as exc:  # noqa: BLE001 - the error ends this Query message, as in Postgres
                self.send_error(exc)
                break
        self.send(msg.ready_for_query(self.status))
        self.flush()

    def on_parse(self, reader: msg.Reader) -> None:
        name, sql = reader.cstring(), reader.cstring()
        oids = [reader.int32() for _ in range(reader.int16())]
        count = max(parameter_count(sql), len(oids))
        oids += [0] * (count - len(oids))
        if name and name in self.statements:
            raise ServedError("42P05", f'prepared statement "{name}" already exists')
        self.statements[name] = Prepared(sql, oids)
        self.send(msg.PARSE_COMPLETE)

    def on_bind(self, reader: msg.Reader) -> None:
        portal_name, statement_name = reader.cstring(), reader.cstring()
        prepared = self.statements.get(statement_name)
        if prepared is None:
            raise ServedError(sqlstate.INVALID_SQL_STATEMENT_NAME,
                              f'prepared statement "{statement_name}" does not exist')
        formats = [reader.int16() for _ in range(reader.int16())]
        count = reader.int16()
        if count != len(prepared.param_oids):
            raise ServedError(sqlstate.PROTOCOL_VIOLATION,
                              f"bind message supplies {count} parameters, but the statement requires "
                              f"{len(prepared.param_oids)}")
        values = []
        for i in range(count):
            size = reader.int32()
            raw = None if size < 0 else reader.bytes(size)
            fmt = formats[i] if len(formats) > 1 else (formats[0] if formats else 0)
            values.append(self.decode_parameter(prepared.param_oids[i], fmt, raw, i + 1))
        result_formats = [reader.int16() for _ in range(reader.int16())]
        if portal_name and portal_name in self.portals:
            raise ServedError("42P03", f'cursor "{portal_name}" already exists')
        self.portals[portal_name] = self.bind_portal(prepared.sql, values, result_formats)
        self.send(msg.BIND_COMPLETE)

    @staticmethod
    def decode_parameter(oid: int, fmt: int, raw: bytes | None, position: int) -> object:
        if raw is None:
            return None
        try:
            return parse_binary_value(oid, raw) if fmt == 1 else parse_text_value(oid, raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            raise ServedError(sqlstate.INVALID_TEXT_REPRESENTATION, f"parameter ${position}: {exc}") from exc

    def on_describe(self, reader: msg.Reader) -> None:
        kind, name = reader.byte(), reader.cstring()
        if kind == b"S":
            prepared = self.statements.get(name)
            if prepared is None:
                raise ServedError(sqlstate.INVALID_SQL_STATEMENT_NAME, f'prepared statement "{name}" does not exist')
            self.send(msg.parameter_description([oid or TEXT.oid for oid in prepared.param_oids]))
            fields = self.describe_statement(prepared)
            self.send(msg.row_description([(n, t.oid, t.size, 0) for n, t in fields]) if fields is not None
                      else msg.NO_DATA)
            return
        portal = self.portals.get(name)
        if portal is None:
            raise ServedError(sqlstate.INVALID_CURSOR_NAME, f'portal "{name}" does not exist')
        self.describe_portal(portal)

    def on_execute(self, reader: msg.Reader) -> None:
        name, limit = reader.cstring(), reader.int32()
        portal = self.portals.get(name)
        if portal is None:
            raise ServedError(sqlstate.INVALID_CURSOR_NAME, f'portal "{name}" does not exist')
        self.execute_portal(portal, limit)

    def on_close(self, reader: msg.Reader) -> None:
        kind, name = reader.byte(), reader.cstring()
        (self.statements if kind == b"S" else self.portals).pop(name, None)
        self.send(msg.CLOSE_COMPLETE)

    # -- the query pipeline -------------------------------------------------------------------------
    def refresh_models(self) -> None:
        """Keep ``synthetic.<model>`` views in step with the catalog (cheap when nothing changed)."""
        sync_synthetic_views(self.cursor)

    def plan(self, sql: str, values: list[object], *, pushdown: bool = True) -> str:
        """The SQL to run for ``sql`` bound to ``values``: rewritten, pushed down and checked read-only."""
        sql = rewrite_catalog_query(sql)
        if values:
            try:
                sql = bind_text(sql, values)
            except ValueError as exc:
                raise ServedError(sqlstate.PROTOCOL_VIOLATION, str(exc)) from exc
        if pushdown:  # inlines synthetic.<model> (a view over genesis_generate) so its WHERE is pushed too
            sql = self.gcon.rewrite(sql).sql
        check_read_only(self.cursor, sql, allow_fit=self.server.allow_fit)
        return sql

    def bind_portal(self, sql: str, values: list[object], result_formats: list[int]) -> Portal:
        emulated = emulate(sql, self.settings) if not values else None
        if self.status == b"E" and not (emulated and emulated.transaction in ("rollback", "commit")):
            raise ServedError("25P02",
                              "current transaction is aborted, commands ignored until end of transaction block")
        if emulated is not None or not sql.strip():
            return Portal(sql, result_formats, emulated=emulated)
        return Portal(self.plan(sql, values), result_formats)

    def describe_statement(self, prepared: Prepared) -> list[tuple[str, PgType]] | None:
        emulated = emulate(prepared.sql, self.settings) if not prepared.param_oids else None
        if emulated is not None:
            return [(emulated.show[0], TEXT)] if emulated.show else None
        if not prepared.sql.strip():
            return None
        sql = self.plan(prepared.sql, [None] * len(prepared.param_oids), pushdown=False)
        try:
            empty = f"SELECT * FROM ({sql.strip().rstrip(';')}\n) AS genesis_described LIMIT 0"
            schema = self.cursor.sql(empty).to_arrow_table().schema
        except duckdb.Error:
            schema = self.cursor.sql(sql).to_arrow_table().schema
        return [(f.name, pg_type(f.type)) for f in schema]

    def describe_portal(self, portal: Portal) -> None:
        if portal.emulated is not None:
            show = portal.emulated.show
            self.send(msg.row_description([(show[0], TEXT.oid, -1, 0)]) if show else msg.NO_DATA)
            return
        if not portal.sql.strip():
            self.send(msg.NO_DATA)
            return
        execution = self.start(portal)
        self.resolve_formats(portal, len(execution.fields))
        self.send(msg.row_description([(name, t.oid, t.size, fmt)
                                       for (name, t), fmt in zip(execution.fields, portal.formats)]))
        portal.described = True

    @staticmethod
    def resolve_formats(portal: Portal, n: int) -> None:
        """The format code of each result column: none given means text, one given applies to all."""
        requested = portal.result_formats
        formats = requested * n if len(requested) == 1 else requested or [0] * n
        if len(formats) != n:
            raise ServedError(sqlstate.PROTOCOL_VIOLATION,
                              f"bind message has {len(requested)} result formats but the query has {n} columns")
        portal.formats = formats

    def start(self, portal: Portal) -> Execution:
        if portal.execution is None:
            self.cancel_reason = None
            timer = threading.Timer(self.server.timeout_s, self.cancel, ("statement timeout",))
            timer.daemon = True
            timer.start()
            self.running = True
            try:
                calls = generator_calls(portal.sql)
                relation = self.cursor.sql(with_row_hash(portal.sql) if calls else portal.sql)
                if relation is None:
                    portal.execution = Execution([], None, portal.sql, done=True)
                else:
                    reader = relation.to_arrow_reader(BATCH_ROWS)
                    schema = list(reader.schema)[:-1] if calls else list(reader.schema)
                    fields = [(f.name, pg_type(f.type)) for f in schema]
                    portal.execution = Execution(fields, self._timed(reader, timer), portal.sql, calls)
            except BaseException:
                self.finished(timer)
                raise
            if portal.execution.batches is None:
                self.finished(timer)
        return portal.execution

    def finished(self, timer: threading.Timer) -> None:
        timer.cancel()
        self.running = False

    def _timed(self, reader: pa.RecordBatchReader, timer: threading.Timer) -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        finally:
            self.finished(timer)

    def execute_portal(self, portal: Portal, limit: int) -> None:
        if portal.emulated is not None:
            self.apply_emulated(portal.emulated)
            return
        if not portal.sql.strip():
            self.send(msg.EMPTY_QUERY)
            return
        execution = self.start(portal)
        self.resolve_formats(portal, len(execution.fields))
        binary = [fmt == 1 for fmt in portal.formats]
        sent_now = 0
        while not execution.done and (limit <= 0 or sent_now < limit):
            batch = execution.pending
            execution.pending = None
            if batch is None:
                batch = next(execution.batches, None)
                if batch is None:
                    execution.done = True
                    break
            room = limit - sent_now if limit > 0 else batch.num_rows
            if batch.num_rows > room:
                execution.pending = batch.slice(room)
                batch = batch.slice(0, room)
            if execution.sent + batch.num_rows > self.server.max_rows:
                execution.done = True
                raise ServedError(sqlstate.PROGRAM_LIMIT_EXCEEDED,
                                  f"the query returns more than {self.server.max_rows} rows, this server's limit "
                                  "per query", hint="Add a LIMIT or a narrower WHERE.")
            if execution.calls:
                execution.hash_total += hash_sum(batch.column(batch.num_columns - 1))
            columns = [cells(batch.column(i), t, binary[i]) for i, (_, t) in enumerate(execution.fields)]
            self.send(data_rows(columns, batch.num_rows))
            execution.sent += batch.num_rows
            sent_now += batch.num_rows
        if not execution.done and execution.pending is None:
            peek = next(execution.batches, None)
            if peek is None:
                execution.done = True
            else:
                execution.pending = peek
        if not execution.done:
            self.send(msg.PORTAL_SUSPENDED)
            return
        self.send(msg.command_complete(f"SELECT {execution.sent}"))
        if execution.calls:
            self.server.lineage.submit(ServedRows(execution.calls, [name for name, _ in execution.fields],
                                                  execution.sent, execution.hash_total,
                                                  f"pgwire://{self.user}@{self.address[0]}"))
        if "genesis_fit" in execution.plan_sql.lower():
            self.refresh_models()

    def apply_emulated(self, emulated: Emulated) -> None:
        if emulated.show is not None:
            self.send(msg.data_row_text([emulated.show[1]]))
            self.send(msg.command_complete("SHOW"))
            return
        if emulated.transaction == "begin":
            self.status = b"T"
        elif emulated.transaction in ("commit", "rollback"):
            tag = "ROLLBACK" if self.status == b"E" else emulated.tag
            self.status = b"I"
            self.send(msg.command_complete(tag))
            return
        if emulated.setting is not None:
            name, value = emulated.setting
            if name == "all":
                self.settings.clear()
            elif value is None:
                self.settings.pop(name, None)
            else:
                self.settings[name] = value
        if emulated.deallocate is not None:
            if emulated.deallocate.upper() == "ALL":
                self.statements.clear()
            else:
                self.statements.pop(emulated.deallocate, None)
        self.send(msg.command_complete(emulated.tag))


__all__ = ["Session", "split_statements"]
