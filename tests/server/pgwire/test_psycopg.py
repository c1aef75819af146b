"""psycopg 3 and SQLAlchemy/pandas against the endpoint: server-side parameters, pushdown, types, cancel."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import threading
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

import genesis_sql
from genesis_sql.lineage.fingerprint import query_fingerprint
from tests.server.pgwire.conftest import MODEL, PASSWORD, USER, Endpoint, copy_database

TYPED = ("SELECT 42::INTEGER AS i4, 7::SMALLINT AS i2, 9000000000::BIGINT AS i8, 2.5::DOUBLE AS f8, 1.25::REAL AS f4, "
         "12.50::DECIMAL(10, 2) AS num, 'héllo' AS txt, true AS yes, NULL::INTEGER AS nothing, "
         "DATE '2024-02-29' AS day, TIMESTAMP '2024-02-29 12:34:56.5' AS ts")
EXPECTED = (42, 7, 9_000_000_000, 2.5, 1.25, decimal.Decimal("12.50"), "héllo", True, None, dt.date(2024, 2, 29),
            dt.datetime(2024, 2, 29, 12, 34, 56, 500000))


def test_server_side_parameters_are_pushed_and_n_is_exact(served: Endpoint) -> None:
    with served.psycopg() as con:
        cur = con.execute(f"SELECT age, state FROM genesis_generate(%s, 500, seed := 1) WHERE age > %s AND state = %s",
                          (MODEL, 50, 93))
        rows = cur.fetchall()
    assert len(rows) == 500
    assert all(age > 50 and state == 93 for age, state in rows)


def test_string_parameters_are_literals_not_sql(served: Endpoint) -> None:
    with served.psycopg() as con:
        injected = con.execute("SELECT count(*) FROM benefits WHERE sex = %s", ("male' OR 'a' = 'a",)).fetchall()
        plain = con.execute("SELECT count(*) FROM benefits WHERE sex = %s", ("male",)).fetchall()
        total = con.execute("SELECT count(*) FROM benefits").fetchall()
    assert injected == [(0,)]
    assert 0 < plain[0][0] < total[0][0]


def test_pandas_read_sql_through_sqlalchemy(served: Endpoint) -> None:
    url = sa.URL.create("postgresql+psycopg", USER, PASSWORD, served.host, served.port, "genesis")
    engine = sa.create_engine(url)
    try:
        frame = pd.read_sql(sa.text(f"SELECT * FROM synthetic.{MODEL} WHERE age > :age AND sex = :sex"), engine,
                            params={"age": 55, "sex": "female"})
        views = sa.inspect(engine).get_view_names(schema="synthetic")
        columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(MODEL, schema="synthetic")}
    finally:
        engine.dispose()
    assert len(frame) == 10_000
    assert ((frame["age"] > 55) & (frame["sex"] == "female")).all()
    assert views == [MODEL]
    assert isinstance(columns["age"], sa.BigInteger) and isinstance(columns["ui"], sa.Boolean)


def test_models_are_views_in_information_schema(served: Endpoint) -> None:
    with served.psycopg() as con:
        rows = con.execute("SELECT table_name, table_type FROM information_schema.tables "
                           "WHERE table_schema = 'synthetic'").fetchall()
    assert rows == [(MODEL, "VIEW")]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_typed_values_in_text_and_binary_results(served: Endpoint, binary: bool) -> None:
    with served.psycopg() as con:
        cur = con.cursor(binary=binary)
        row = cur.execute(TYPED).fetchone()
        oids = [d.type_code for d in cur.description]
    assert row == EXPECTED
    assert oids == [23, 21, 20, 701, 700, 1700, 25, 16, 23, 1082, 1114]


def test_binary_results_of_generated_rows_match_text(served: Endpoint) -> None:
    sql = f"SELECT * FROM synthetic.{MODEL} WHERE age > %s"
    with served.psycopg() as con:
        text_rows = con.execute(sql, (40,)).fetchall()
        binary_rows = con.cursor(binary=True).execute(sql, (40,)).fetchall()
    assert text_rows == binary_rows and len(text_rows) == 10_000


def test_driver_session_statements_are_answered(served: Endpoint) -> None:
    with served.psycopg(autocommit=True) as con:
        con.execute("SET extra_float_digits = 3")
        con.execute("SET application_name = 'bi tool'")
        assert con.execute("SHOW application_name").fetchall() == [("bi tool",)]
        assert con.execute("SHOW transaction isolation level").fetchall() == [("read committed",)]
        assert con.execute("SELECT version()").fetchall()[0][0].startswith("PostgreSQL 15")
        assert con.info.server_version == 150000
        with con.transaction():
            assert con.execute("SELECT 1").fetchall() == [(1,)]


def test_error_inside_a_transaction_needs_a_rollback(served: Endpoint) -> None:
    with served.psycopg() as con:
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            con.execute(f"SELECT * FROM synthetic.{MODEL} WHERE age > 500")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            con.execute("SELECT 1")
        con.rollback()
        assert con.execute("SELECT 1").fetchall() == [(1,)]


def test_cancel_interrupts_the_running_query(served: Endpoint) -> None:
    with served.psycopg(autocommit=True) as con:
        done = threading.Event()

        def cancel_until_done() -> None:
            while not done.wait(0.2):  # a cancel that arrives before the query starts is ignored, as in Postgres
                con.cancel()

        canceller = threading.Thread(target=cancel_until_done)
        canceller.start()
        try:
            with pytest.raises(psycopg.errors.QueryCanceled, match="canceling statement due to user request"):
                con.execute(f"SELECT sum(age) FROM genesis_generate('{MODEL}', 500000000)")
        finally:
            done.set()
            canceller.join()
        assert con.execute("SELECT 2").fetchall() == [(2,)]


def test_served_generation_writes_lineage_with_the_rows_fingerprint(served: Endpoint, served_template: Path,
                                                                     tmp_path: Path) -> None:
    sql = f"SELECT age, sex FROM genesis_generate('{MODEL}', 300, seed := 11) WHERE age > 45"
    with served.psycopg(autocommit=True) as con:
        rows = con.execute(sql).fetchall()
        block = None
        for _ in range(300):  # the server writes lineage after answering, on its own thread
            found = con.execute("SELECT content FROM genesis.lineage WHERE block_type = 'generation' "
                                "AND content LIKE '%\"seed\":11,%'").fetchall()
            if found:
                block = json.loads(found[0][0])
                break
            time.sleep(0.1)
    assert block is not None, "no generation block for the served query"
    assert len(rows) == 300
    assert (block["model"], block["n"], block["seed"], block["row_count"]) == (MODEL, 300, 11, 300)
    assert block["destination"] == f"pgwire://{USER}@127.0.0.1"
    assert block["conditions"] == '"age" > 45'
    # The fingerprint is the one the same rows get in process (same model version, seed and condition).
    with genesis_sql.connect(str(copy_database(served_template, tmp_path, "again"))) as local:
        assert query_fingerprint(local.duckdb_connection, local.rewrite(sql).sql).rows_hash == block["rows_hash"]
