"""The endpoint's parts on their own: SCRAM, parameter binding, emulated statements, catalog rewrites,
cell encodings and SQLSTATEs."""
from __future__ import annotations

import base64
import decimal
import hashlib
import hmac
import struct

import duckdb
import pyarrow as pa
import pytest

from genesis_sql import errors
from genesis_sql.server.pgwire import gate, pgcompat
from genesis_sql.server.pgwire._rows import data_rows
from genesis_sql.server.pgwire.auth import ScramExchange, make_verifier, parse_secret, scram_verifier
from genesis_sql.server.pgwire.binding import bind_text, parameter_count
from genesis_sql.server.pgwire.emulated import emulate
from genesis_sql.server.pgwire.session import split_statements
from genesis_sql.server.pgwire.sqlstate import ServedError, message_of, sqlstate_of
from genesis_sql.server.pgwire.types import NUMERIC, _numeric_binary, cells, pg_type


def test_scram_matches_rfc_7677() -> None:
    """The RFC 7677 example exchange (user, password 'pencil'), with the RFC's nonces and salt."""
    verifier = make_verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), iterations=4096)
    exchange = ScramExchange(verifier)
    exchange.server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    server_first = exchange.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    assert server_first == b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    final = exchange.final(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                           b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert final == b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def _client_final(password: str, exchange: ScramExchange, client_nonce: str = "abc") -> bytes:
    server_first = exchange.first(f"n,,n=,r={client_nonce}".encode()).decode()
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    without_proof = f"c=biws,r={attrs['r']}"
    message = f"n=,r={client_nonce},{server_first},{without_proof}".encode()
    signature = hmac.new(hashlib.sha256(client_key).digest(), message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def test_scram_refuses_a_wrong_password_and_an_unknown_user() -> None:
    good = ScramExchange(parse_secret("right"))
    assert good.final(_client_final("right", good)) is not None
    wrong = ScramExchange(parse_secret("right"))
    assert wrong.final(_client_final("wrong", wrong)) is None
    unknown = ScramExchange(None)
    assert unknown.final(_client_final("anything", unknown)) is None


def test_stored_verifier_round_trips() -> None:
    stored = scram_verifier("pw")
    assert stored.startswith("SCRAM-SHA-256$4096:")
    exchange = ScramExchange(parse_secret(stored))
    assert exchange.final(_client_final("pw", exchange)) is not None
    with pytest.raises(errors.InvalidArgumentError, match="Malformed SCRAM verifier"):
        parse_secret("SCRAM-SHA-256$x")


def test_parameters_become_quoted_literals() -> None:
    sql = "SELECT * FROM t WHERE a > $1 AND b = $2 AND c = '$3' -- $4\n AND d = -$1"
    assert parameter_count(sql) == 2
    bound = bind_text(sql, [-5, "x' OR 1=1 --"])
    assert bound == "SELECT * FROM t WHERE a > (-5) AND b = 'x'' OR 1=1 --' AND c = '$3' -- $4\n AND d = -(-5)"
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 'x' AS b, '$3' AS c, 5 AS d")
    assert con.execute(bind_text(sql, [-5, "x"]).replace("--", "\n--")).fetchall() == [(1, "x", "$3", 5)]
    with pytest.raises(ValueError, match=r"no parameter \$2"):
        bind_text("SELECT $2", [1])


def test_emulated_statements() -> None:
    settings = {}
    assert emulate("SET extra_float_digits = 3", settings).setting == ("extra_float_digits", "3")
    assert emulate("SET TIME ZONE 'UTC'", settings).setting == ("timezone", "UTC")
    assert emulate("set application_name to 'x y'", settings).setting == ("application_name", "x y")
    assert emulate("BEGIN READ ONLY", settings).transaction == "begin"
    assert emulate("ROLLBACK TO SAVEPOINT s", settings).transaction is None
    assert emulate("SHOW transaction isolation level", settings).show == ("level", "read committed")
    assert emulate("SHOW TABLES", settings) is None
    assert emulate("SELECT 1", settings) is None


def test_split_statements_respects_quotes() -> None:
    assert split_statements("SELECT ';'; SELECT 2;") == ["SELECT ';'", " SELECT 2"]
    assert split_statements("") == [""]


@pytest.mark.parametrize(("sent", "runs"), [
    ("n.nspname OPERATOR(pg_catalog.~) '^(x)$' COLLATE pg_catalog.default",
     "n.nspname ~ '^(x)$'"),
    ("SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c",
     "SELECT pg_get_userbyid(c.relowner) FROM pg_class c"),
    ("c.reloftype::pg_catalog.regtype::pg_catalog.text", "c.reloftype::BIGINT::VARCHAR"),
    ("d.classoid = 'pg_class'::regclass",
     "d.classoid = (SELECT min(oid) FROM pg_catalog.pg_class WHERE relname = 'pg_class')"),
    ("select pg_catalog.version()", "select 'PostgreSQL 15.0 (genesis-sql, DuckDB) on x86_64-pc-linux-gnu, 64-bit'"),
    ("SELECT json_build_object('a', 1)", "SELECT json_object('a', 1)"),
    ("SELECT a::text FROM t", "SELECT a::text FROM t"),
])
def test_catalog_rewrites(sent: str, runs: str) -> None:
    assert pgcompat.rewrite_catalog_query(sent) == runs


def test_session_macros_and_views_create() -> None:
    con = duckdb.connect()
    for statement in pgcompat.session_sql():
        con.execute(statement)
    assert con.execute(pgcompat.rewrite_catalog_query(
        "SELECT pg_catalog.pg_get_userbyid(1), pg_catalog.format_type(20, NULL), pg_catalog.pg_get_expr(1, 2, true), "
        "(SELECT count(*) FROM pg_catalog.pg_inherits), pg_catalog.quote_ident('a\"b')")).fetchall() == [
        ("genesis", "bigint", None, 0, '"a""b"')]


@pytest.mark.parametrize(("value", "digits"), [
    ("12345.678", (3, 1, 0, 3, [1, 2345, 6780])),
    ("-0.0001", (1, -1, 0x4000, 4, [1])),
    ("0", (0, 0, 0, 0, [])),
    ("100000000", (1, 2, 0, 0, [1])),
])
def test_numeric_binary_layout(value: str, digits: tuple) -> None:
    raw = _numeric_binary(decimal.Decimal(value))
    count, weight, sign, scale = struct.unpack("!hhHh", raw[:8])
    groups = list(struct.unpack(f"!{count}h", raw[8:]))
    assert (count, weight, sign, scale, groups) == digits


def test_data_rows_with_nulls_and_text() -> None:
    batch = pa.record_batch({"a": pa.array([1, None], pa.int32()), "s": ["x", None]})
    encoded = [cells(batch.column(i), pg_type(batch.schema.types[i]), False) for i in range(2)]
    assert data_rows(encoded, 2) == (b"D" + struct.pack("!ihi", 16, 2, 1) + b"1" + struct.pack("!i", 1) + b"x"
                                     + b"D" + struct.pack("!ihii", 14, 2, -1, -1))
    assert pg_type(pa.decimal128(10, 2)) is NUMERIC


@pytest.mark.parametrize(("exc", "code"), [
    (errors.InfeasibleConditionError("x"), "22023"),
    (errors.ModelNotFoundError("x"), "42P01"),
    (errors.ConditionSyntaxError("x"), "42601"),
    (errors.UnknownColumnError("x"), "42703"),
    (duckdb.ParserException("Parser Error: syntax error at or near"), "42601"),
    (duckdb.CatalogException("Catalog Error: Table with name x does not exist!"), "42P01"),
    (duckdb.InvalidInputException("Invalid Input Error: ... RareConditionError: p = 1e-9"), "22023"),
    (duckdb.InterruptException("INTERRUPT Error: Interrupted!"), "57014"),
    (ServedError("42501", "no"), "42501"),
])
def test_sqlstates(exc: BaseException, code: str) -> None:
    assert sqlstate_of(exc) == code


def test_message_starts_at_the_genesis_error() -> None:
    exc = duckdb.InvalidInputException("Invalid Input Error: Python exception occurred while executing the UDF: "
                                       "InfeasibleConditionError: no support")
    assert message_of(exc) == "InfeasibleConditionError: no support"


@pytest.mark.parametrize("sql", [
    "INSERT INTO t VALUES (1)", "SELECT * FROM read_parquet('x.parquet')", "SELECT * FROM 'x.csv'",
    "SELECT genesis_drop('m')", "SELECT * FROM query('SELECT 1')", "SELECT nextval('s')",
    "SELECT * FROM genesis_query('SELECT genesis_drop(''m'')')", "EXPLAIN ANALYZE DELETE FROM t",
])
def test_gate_refuses(sql: str) -> None:
    with pytest.raises(ServedError) as refused:
        gate.check_read_only(duckdb.connect(), sql)
    assert refused.value.sqlstate == "42501"


def test_gate_allows_reads_and_fit_when_allowed() -> None:
    con = duckdb.connect()
    gate.check_read_only(con, "WITH a AS (SELECT 1 AS x) SELECT * FROM a")
    gate.check_read_only(con, "EXPLAIN SELECT 1")
    gate.check_read_only(con, "SELECT genesis_fit('m', 'SELECT 1')", allow_fit=True)
    with pytest.raises(ServedError):
        gate.check_read_only(con, "SELECT genesis_fit('m', 'SELECT 1')")
