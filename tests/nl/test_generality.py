"""ask on tables the parser was not written for: its words come from the catalog, not from lists."""
from __future__ import annotations

import duckdb
import pytest

import genesis_sql

# Built from hashes, so no column is a function of another (that would add rules, not test words).
CUSTOMERS = """
CREATE TABLE customers AS SELECT i AS customer_id, 18 + (hash(i, 1) % 60)::BIGINT AS age,
    CASE WHEN hash(i, 2) % 2 = 0 THEN 'M' ELSE 'F' END AS gender,
    ['CA', 'NY', 'TX', 'FL', 'WA', 'IL'][1 + (hash(i, 3) % 6)::BIGINT] AS state,
    20000 + (hash(i, 4) % 150000)::BIGINT AS income,
    DATE '2020-01-01' + (hash(i, 5) % 1000)::INTEGER AS signup_date,
    ['basic', 'premium', 'pro'][1 + (hash(i, 6) % 3)::BIGINT] AS plan, hash(i, 7) % 5 = 0 AS churned,
    (hash(i, 8) % 40)::BIGINT AS num_orders
FROM range(1500) AS t(i)"""
PATIENTS = """
CREATE TABLE patients AS SELECT 1 + (hash(i, 11) % 90)::BIGINT AS age,
    CASE WHEN hash(i, 12) % 2 = 0 THEN 'male' ELSE 'female' END AS sex,
    ['Ohio', 'Texas', 'California', 'New York', 'Florida'][1 + (hash(i, 13) % 5)::BIGINT] AS state,
    ['diabetes', 'asthma', 'hypertension', 'none'][1 + (hash(i, 14) % 4)::BIGINT] AS diagnosis,
    50 + (hash(i, 15) % 120)::BIGINT AS weight, CASE WHEN hash(i, 16) % 3 = 0 THEN 'yes' ELSE 'no' END AS smoker,
    (hash(i, 17) % 30)::BIGINT AS length_of_stay, round(100 + (hash(i, 18) % 20000)::BIGINT, 2) AS bill
FROM range(1500) AS t(i)"""
G = "SELECT * FROM genesis_generate"
CASES = [
    ("Generate 1000 customers over 50 in California", f"{G}('customers', 1000) WHERE age > 50 AND state = 'CA'"),
    ("500 customers in NY or TX", f"{G}('customers', 500) WHERE state IN ('NY', 'TX')"),
    ("customers who are not in CA", f"{G}('customers', 1000) WHERE state <> 'CA'"),
    ("200 female customers aged 25-35", f"{G}('customers', 200) WHERE gender = 'F' AND age BETWEEN 25 AND 35"),
    ("customers under the age of 30", f"{G}('customers', 1000) WHERE age < 30"),
    ("customers between the ages of 30 and 40", f"{G}('customers', 1000) WHERE age BETWEEN 30 AND 40"),
    ("customers with an income between 40k and 60k", f"{G}('customers', 1000) WHERE income BETWEEN 40000 AND 60000"),
    ("customers making less than $30,000", f"{G}('customers', 1000) WHERE income < 30000"),
    ("300 churned customers on the pro plan", f"{G}('customers', 300) WHERE churned = true AND plan = 'pro'"),
    ("customers who haven't churned", f"{G}('customers', 1000) WHERE churned = false"),
    ("customers with signup_date in 2021",
     f"{G}('customers', 1000) WHERE signup_date BETWEEN '2021-01-01' AND '2021-12-31'"),
    ("customers with at least 5 orders", f"{G}('customers', 1000) WHERE num_orders >= 5"),
    ("ten thousand customers", f"{G}('customers', 10000)"),
    ("1000 male patients aged 65+", f"{G}('patients', 1000) WHERE sex = 'male' AND age >= 65"),
    ("patients older than 70 with diabetes or asthma",
     f"{G}('patients', 1000) WHERE age > 70 AND diagnosis IN ('diabetes', 'asthma')"),
    ("patients in NY", f"{G}('patients', 1000) WHERE state = 'New York'"),
    ("patients not from Ohio", f"{G}('patients', 1000) WHERE state <> 'Ohio'"),
    ("patients with bills over 10000 dollars", f"{G}('patients', 1000) WHERE bill > 10000"),
    ("female non-smokers under 30", f"{G}('patients', 1000) WHERE sex = 'female' AND smoker = 'no' AND age < 30"),
    ("patients with length of stay of at most 3", f"{G}('patients', 1000) WHERE length_of_stay <= 3"),
    ("a hundred patients from Florida", f"{G}('patients', 100) WHERE state = 'Florida'"),
    ("patients who smoke", None),
    ("patients with high blood pressure", None),
    ("1000 people in NY", None),
    ("200 children", None),
    ("customers that signed up before 2021", None),
]


@pytest.fixture(scope="module")
def other_tables() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    genesis_sql.install(con)
    for statement, name in ((CUSTOMERS, "customers"), (PATIENTS, "patients")):
        con.execute(statement)
        genesis_sql.fit(con, name, f"SELECT * FROM {name}", method="copula", seed=0)
    yield con
    con.close()


@pytest.mark.parametrize("request_text, expected", CASES)
def test_requests_over_other_tables(other_tables: duckdb.DuckDBPyConnection, request_text: str,
                                    expected: str | None):
    result = genesis_sql.ask(other_tables, request_text)
    if expected is None:
        assert result.needs_confirmation, result.sql
    else:
        assert (result.sql, result.needs_confirmation) == (expected, False), result.reading()
