"""``POST /v1/sql``: one read-only SELECT with WHERE pushdown into ``genesis_generate``, streamed.

The query must be one read-only SELECT that reads no files
(:func:`genesis_sql.sql.statements.validate_query`); it is rewritten by the pushdown
of :class:`~genesis_sql.connection.GenesisConnection` and runs on the request's cursor, with file access
off. Once every row is sent, each ``genesis_generate`` call in it is recorded in the lineage chain with
the fingerprint of the rows served. At
most ``MAX_ROWS`` rows are returned: a larger result is refused before the response starts when the first
batch shows it, and cut off (an incomplete body, never a silently short one) when it shows later.
``QUERY_TIMEOUT`` seconds (if set) interrupts a query that runs longer.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import duckdb
import pyarrow as pa
from flask import Blueprint, Response, current_app, request
from sqlglot import exp

from genesis_sql._materialise import _call_arguments
from genesis_sql.generation import last_seed, plan_generation
from genesis_sql.connection import GenesisConnection
from genesis_sql.errors import GenesisError, InvalidArgumentError
from genesis_sql.lineage.fingerprint import BatchFingerprint, RowsFingerprint
from genesis_sql.lineage.record import record_generation
from genesis_sql.server.db import get_db
from genesis_sql.server.v1._common import json_body, peek_schema, stream_rows, typed
from genesis_sql.server.v1.formats import negotiate
from genesis_sql.sql.pushdown import Rewrite
from genesis_sql.sql.statements import validate_query
from genesis_sql.sql.pushdown._state import GENERATOR

log = logging.getLogger(__name__)

bp = Blueprint("v1_sql", __name__, url_prefix="/v1/sql")


class RowLimitExceeded(InvalidArgumentError):
    """A query returned more rows than the server's limit."""


def _limited(reader: pa.RecordBatchReader, limit: int, timer: threading.Timer | None) -> Iterator[pa.Table]:
    count = 0
    try:
        for batch in reader:
            count += batch.num_rows
            if count > limit:
                raise RowLimitExceeded(f"The query returns more than this server's limit of {limit:,} rows. "
                                       "Add a LIMIT, aggregate, or ask for fewer rows.")
            yield pa.Table.from_batches([batch])
    finally:
        if timer is not None:
            timer.cancel()


def record_served(con: duckdb.DuckDBPyConnection, rewritten: Rewrite, fingerprint: RowsFingerprint, *,
                  destination: str) -> None:
    """One generation block per ``genesis_generate`` call of a served query, with the served rows' fingerprint.

    The Postgres endpoint records served rows the same way (``pgwire.served.record_served``); the two
    should share one function once both are merged.
    """
    tree = rewritten.expression
    calls = [c for c in tree.find_all(exp.Anonymous) if c.name.lower() == GENERATOR] if tree is not None else []
    for call in calls:
        try:
            model, n, seed, condition = _call_arguments(call)
            plan, _ = plan_generation(con, model, n, seed=seed if seed is not None else last_seed(str(model)),
                                      condition=condition)
        except (ValueError, IndexError, GenesisError) as exc:
            log.warning("lineage: no generation block for served %s (%s)", call.sql()[:120], exc)
            continue
        record_generation(con, plan, fingerprint, destination=destination)


@bp.post("")
def run_sql() -> Response:
    """Run one read-only SELECT (``?``/``$n`` placeholders bound from ``params``) and stream its rows."""
    body = json_body(required=("sql",), optional=("params",))
    body_format = negotiate(request.accept_mimetypes)
    query = validate_query(body["sql"], allow_files=False)
    params = typed(body, "params", (list,), "a JSON array of values for ? or $1 placeholders, or null")
    cursor = get_db(write=True)
    if current_app.config.get("CONNECTION") is None:
        cursor.execute("SET enable_external_access = false")  # genesis serve opens its connection so
    timeout = current_app.config.get("QUERY_TIMEOUT")
    timer = threading.Timer(timeout, cursor.interrupt) if timeout else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        rewritten = GenesisConnection(cursor).rewrite(query, params)
        reader = cursor.sql(rewritten.sql, params=params).to_arrow_reader(current_app.config["BATCH_ROWS"])
        fingerprint = BatchFingerprint(cursor)
        schema, tables = peek_schema(fingerprint.wrap(_limited(reader, current_app.config["MAX_ROWS"], timer)),
                                     lambda: reader.schema)
    except duckdb.InterruptException as exc:
        raise InvalidArgumentError(f"The query ran longer than this server's limit of {timeout} s.") from exc
    except BaseException:
        if timer is not None:
            timer.cancel()
        raise
    destination = f"http {request.remote_addr} {request.path} ({body_format.media_type})"
    return stream_rows(body_format, schema, tables, on_complete=lambda: record_served(
        cursor, rewritten, fingerprint.result(), destination=destination))
