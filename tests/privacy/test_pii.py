"""Personal columns end to end: found at fit and reported (fit summary, CLI, genesis_describe), generated as
fakes that never copy a real value, kept out of the catalog and of exported model files (values and their
SHA-256 / MD5 digests alike), and consistent per person when asked (``pii_consistent``).

The "real" people here are made up from syllables that no Faker list holds, so any of their values in
generated rows would be a copy, not a chance equal of an independent Faker draw: the tests can ask for none.
"""
from __future__ import annotations

import hashlib
import json

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import genesis_sql
from genesis_sql.catalog import load_model
from genesis_sql.cli import cli
from genesis_sql.distributed.portable import export_model
from genesis_sql.errors import InvalidArgumentError

PEOPLE = 150
ORDERS = 600
SYLLABLES = ("qor", "zax", "vuk", "threx", "plim", "gorv", "quaz", "drel", "xyn", "brok", "jix", "fuum")
PII = {"customer_name": "name", "email": "email", "phone": "phone", "ssn": "national_id", "card": "credit_card",
       "address": "street_address", "ip": "ipv4"}


def _word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, 2)).capitalize()


def _card(rng: np.random.Generator) -> str:
    body = "4" + "".join(str(d) for d in rng.integers(0, 10, 14))
    total = sum(int(d) if i % 2 else sum(divmod(int(d) * 2, 10)) for i, d in enumerate(reversed(body)))
    return body + str(-total % 10)


@pytest.fixture
def orders_con(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with ``orders``: four orders per made-up customer on average, each with its own IP address."""
    rng = np.random.default_rng(17)
    people = []
    for k in range(PEOPLE):
        first, last = _word(rng), _word(rng)
        people.append((f"{first} {last}", f"{first.lower()}.{last.lower()}{k}@qorzax.test",
                       "+1-{}-{}-{}".format(*(str(int(rng.integers(10 ** (n - 1), 10 ** n))) for n in (3, 3, 4))),
                       f"{rng.integers(100, 600)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}", _card(rng),
                       f"{rng.integers(1, 999)} {_word(rng)} Lane", int(rng.integers(18, 90))))
    who = rng.integers(0, PEOPLE, ORDERS)
    rows = [(i, *people[p][:6], ".".join(str(int(b)) for b in rng.integers(1, 255, 4)), people[p][6],
             round(float(rng.gamma(2.0, 30.0)), 2)) for i, p in enumerate(who)]
    con.execute("CREATE TABLE orders (order_no INTEGER, customer_name VARCHAR, email VARCHAR, phone VARCHAR, "
                "ssn VARCHAR, card VARCHAR, address VARCHAR, ip VARCHAR, age INTEGER, amount DOUBLE)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def _real(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    return {c: {r[0] for r in con.execute(f"SELECT DISTINCT {c} FROM orders").fetchall()} for c in PII}


def _needles(values: set[str]) -> list[bytes]:
    """A value, lower-cased too, and the SHA-256 and MD5 digests of both, as hex text and as raw bytes."""
    out = []
    for text in {v for value in values for v in (value, value.lower())}:
        data = text.encode()
        out.append(data)
        for digest in (hashlib.sha256(data), hashlib.md5(data)):
            out += [digest.hexdigest().encode(), digest.digest()]
    return out


def _catalog_bytes(con: duckdb.DuckDBPyConnection) -> bytes:
    """Every value of every genesis.* table: text as UTF-8 (and as JSON-escaped), BLOBs as they are.

    genesis.row_numbers is left out once shown to hold only the numbers 0 .. count - 1 (what it is for).
    """
    chunks = []
    assert con.execute("SELECT count(*) = count(DISTINCT i) AND min(i) = 0 AND max(i) = count(*) - 1 "
                       "FROM genesis.row_numbers").fetchall() == [(True,)]
    tables = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'genesis' "
                         "AND table_name <> 'row_numbers'").fetchall()
    for (table,) in tables:
        for row in con.execute(f'SELECT * FROM genesis."{table}"').fetchall():
            for value in row:
                chunks.append(value if isinstance(value, bytes) else json.dumps(value, default=str).encode())
    return b"\n".join(chunks)


def _generated(con: duckdb.DuckDBPyConnection, model: str, n: int) -> dict[str, list[str]]:
    table = con.sql(f"SELECT * FROM genesis_generate('{model}', {n}, seed := 3)").to_arrow_table()
    return {c: table.column(c).to_pylist() for c in table.column_names}


def test_personal_columns_are_reported_faked_and_never_stored(orders_con, tmp_path):
    summary = genesis_sql.fit(orders_con, "orders", "SELECT * FROM orders", method="copula")
    assert dict(summary.pii) == PII
    assert "PII made with Faker, never copied: customer_name (name), email (email)" in str(summary)
    described = dict(orders_con.execute("SELECT name, pii FROM genesis_describe('orders')").fetchall())
    assert described == {**{c: None for c in ("order_no", "age", "amount")}, **PII}

    real = _real(orders_con)
    generated = _generated(orders_con, "orders", 3000)
    for column, values in real.items():
        assert None not in generated[column] and values.isdisjoint(generated[column]), column
    assert len(set(generated["ip"])) == 3000  # unique in training, so numbered fakes: one per row

    record = load_model(orders_con, "orders")
    for i, column in enumerate(record.columns):
        if column["name"] in PII:
            kept = sum(a.size for key, a in record.arrays.items() if key.startswith(f"{i}."))
            # Nothing per real value: a salted digest per value (what a copy guard would hold) alone is 150.
            assert kept < 40, (column["name"], {k: a.size for k, a in record.arrays.items() if k.startswith(f"{i}.")})
    exported = export_model(orders_con, "orders", tmp_path / "orders.genesis").read_bytes()
    stored = _catalog_bytes(orders_con)
    for column, values in real.items():
        for needle in _needles(values):
            assert needle not in stored and needle not in exported, (column, needle)


def test_consistent_pii_keeps_one_fake_per_generated_person(orders_con):
    summary = orders_con.sql("SELECT genesis_fit('orders', 'SELECT * FROM orders', method := 'copula', "
                             "options := '{\"pii_consistent\": true}')").fetchall()[0][0]
    assert "PII made with Faker, never copied: customer_name (name), email (email)" in summary
    generated = _generated(orders_con, "orders", 3000)
    real = _real(orders_con)
    for column, values in real.items():
        assert values.isdisjoint(generated[column]), column
    # A person is told apart by their SSN: two generated people may meet on a name (hence its email) at
    # Faker's own chance rate, but not on a nine-digit number as well.
    people: dict[str, set[tuple]] = {}
    for row in zip(*(generated[c] for c in ("ssn", "customer_name", "email", "phone", "card", "address", "age"))):
        people.setdefault(row[0], set()).add(row[1:])
    assert all(len(rows) == 1 for rows in people.values()), {k: v for k, v in people.items() if len(v) > 1}
    emails = {email for (_, email, *_), in people.values()}
    assert len(emails) > 0.98 * len(people)
    rows_per_person = 3000 / len(people)
    assert 0.75 * ORDERS / PEOPLE < rows_per_person < 1.25 * ORDERS / PEOPLE, rows_per_person
    assert len(set(generated["ip"])) == 3000

    genesis_sql.fit(orders_con, "fresh", "SELECT * FROM orders", method="copula")
    loose = _generated(orders_con, "fresh", 3000)
    assert len(set(loose["email"])) > 2900  # without the option, every row draws its own person


def test_cli_fit_reports_personal_columns(orders_con, db_path):
    orders_con.close()
    result = CliRunner().invoke(cli, ["--db", str(db_path), "fit", "o", "--sql", "SELECT * FROM orders",
                                      "--method", "copula", "--pii-consistent"])
    assert result.exit_code == 0, result.output
    assert "PII made with Faker, never copied: customer_name (name), email (email), phone (phone)" in result.output
    described = CliRunner().invoke(cli, ["--db", str(db_path), "describe", "o", "--json"])
    assert described.exit_code == 0, described.output
    assert {c["name"]: c["pii"] for c in json.loads(described.output)["columns"] if c["pii"]} == PII
    with duckdb.connect(str(db_path)) as check:
        rules = json.loads(check.execute("SELECT json_extract(state, '$.rules') FROM genesis.models").fetchone()[0])
    assert [e["fake"] for e in rules["entities"]] == [True]


def test_dp_fit_fakes_columns_named_as_personal_without_reading_them(orders_con):
    summary = genesis_sql.fit(orders_con, "private", "SELECT customer_name, email, age FROM orders", method="dp",
                              public_bounds={"age": [18, 90]})
    assert dict(summary.pii) == {"customer_name": "name", "email": "email"}
    generated = _generated(orders_con, "private", 500)
    real = _real(orders_con)
    assert real["customer_name"].isdisjoint(generated["customer_name"])
    assert real["email"].isdisjoint(generated["email"]) and all("@" in e for e in generated["email"])
    stored = _catalog_bytes(orders_con)
    assert not any(name.encode() in stored for name in real["customer_name"])


@pytest.mark.parametrize("options, message", [
    ({"pii_consistent": "yes"}, "pii_consistent must be true or false"),
    ({"pii_consistent": True, "sequence_key": "email"}, "pii_consistent is for tabular models"),
    ({"pii_consistent": True, "method": "dp"}, "pii_consistent is not available with method='dp'"),
])
def test_pii_consistent_refuses_what_it_cannot_keep(orders_con, options, message):
    with pytest.raises(InvalidArgumentError, match=message):
        genesis_sql.fit(orders_con, "bad", "SELECT * FROM orders", **options)
    assert orders_con.execute("SELECT count(*) FROM genesis.models").fetchone()[0] == 0
