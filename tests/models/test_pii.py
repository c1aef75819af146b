"""PII detection (genesis_sql.models._pii) and the fakes of identifier columns.

Detection is measured on a table of seeded Faker PII in several locales, half of it under column names
that say nothing, mixed with columns of the shared real data sets and with codes, numbers and dates
written as text (the usual false alarms); the issue asks for precision and recall of at least 0.9.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from faker import Faker

from genesis_sql.models import personal_columns
from genesis_sql.models._columns import IdCodec
from genesis_sql.models._pii import column_style
from genesis_sql.schema import ColumnSpec
from tests.conftest import DATA
from tests.models.conftest import typed

ROWS = 400
# The kinds of personal data, and the styles detection reports for each.
KIND = {"name": "name", "first_name": "name", "last_name": "name", "email": "email", "phone": "phone",
        "street_address": "address", "credit_card": "credit_card", "national_id": "national_id",
        "ipv4": "ip", "ipv6": "ip"}


def _faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def _grouped(card: str) -> str:
    return " ".join(card[i:i + 4] for i in range(0, len(card), 4))


def personal_data() -> dict[str, tuple[str | None, list[str]]]:
    """Column -> (true style, values): Faker PII under telling names and under names that say nothing."""
    us, gb, de, fr, es, it, br = (_faker(loc, 20 + i) for i, loc in
                                  enumerate(("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR")))

    def draw(method, count: int = ROWS) -> list[str]:
        return [method() for _ in range(count)]

    return {
        "customer_name": ("name", draw(us.name)),
        "first_name": ("first_name", draw(fr.first_name)),
        "surname": ("last_name", draw(es.last_name)),
        "email": ("email", draw(us.email)),
        "mobile": ("phone", draw(gb.phone_number)),
        "address": ("street_address", draw(lambda: fr.street_address().replace("\n", ", "))),
        "card_number": ("credit_card", draw(us.credit_card_number)),
        "ssn": ("national_id", draw(us.ssn)),
        "ip_address": ("ipv4", draw(us.ipv4)),
        "c01": ("name", draw(lambda: f"{it.first_name()} {it.last_name()}")),
        "c02": ("name", draw(de.name)),
        "c03": ("email", draw(br.free_email)),
        "c04": ("phone", draw(de.phone_number)),
        "c05": ("phone", draw(us.phone_number)),
        "c06": ("street_address", draw(us.street_address)),
        "c07": ("street_address", draw(lambda: it.street_address().replace("\n", ", "))),
        "c08": ("credit_card", draw(lambda: _grouped(us.credit_card_number(card_type="visa16")))),
        "c09": ("national_id", draw(gb.ssn)),
        "c10": ("national_id", draw(fr.ssn)),
        "c11": ("ipv6", draw(us.ipv6)),
        "c12": ("ipv4", draw(lambda: us.ipv4_private())),
    }


def other_data() -> dict[str, list[str]]:
    """Columns that are not personal: shared real data read as text, and common codes, numbers and dates."""
    con = duckdb.connect()
    try:
        def real(name: str, columns: str) -> pa.Table:
            return con.sql(f"SELECT {columns} FROM read_csv('{DATA / (name + '.csv')}', header = true, "
                           f"all_varchar = true) USING SAMPLE {ROWS} ROWS (reservoir, 3)").to_arrow_table()

        tables = [real("diamonds", "cut, color, clarity, price, carat"), real("movies", "title, year, mpaa"),
                  real("economics", "date, pce, unemploy"), real("Benefits", "state, joblost, age"),
                  real("Males", "nr, industry, occupation, wage")]
    finally:
        con.close()
    columns = {f"{t.column_names[i]}_{k}": t.column(i).to_pylist() for k, t in enumerate(tables)
               for i in range(t.num_columns)}
    rng = np.random.default_rng(5)
    fake = _faker("en_US", 9)
    columns.update({
        "product_code": [f"C{v:07d}" for v in rng.integers(0, 10**7, ROWS)],
        "order_ref": [f"{v:010d}" for v in rng.integers(0, 10**10, ROWS)],
        "zip": [f"{v:05d}" for v in rng.integers(0, 10**5, ROWS)],
        "amount": [f"{v:.4f}" for v in rng.uniform(1000, 99999, ROWS)],
        "created": [f"2024-{m:02d}-{d:02d} 12:{d:02d}:00" for m, d in rng.integers(1, 13, (ROWS, 2))],
        "uuid": [str(uuid.UUID(int=int(v))) for v in rng.integers(0, 2**62, ROWS)],
        "digest": [hashlib.md5(str(i).encode()).hexdigest() for i in range(ROWS)],
        "version": [f"{a}.{b}.{c}" for a, b, c in rng.integers(0, 20, (ROWS, 3))],
        "owner": [str(v) for v in rng.choice(["yes", "no"], ROWS)],
        "model": [f"Pixel {v}" for v in rng.integers(1, 9, ROWS)],
        "note": [fake.sentence() for _ in range(ROWS)],
        "city": [fake.city() for _ in range(ROWS)],  # identifier-like, but a place: not personal
        "company": [fake.company() for _ in range(ROWS)],
    })
    return columns


def test_detection_precision_and_recall_are_at_least_0_9_per_kind():
    personal = personal_data()
    others = other_data()
    table, columns = typed(pa.table({**{k: v for k, (_, v) in personal.items()}, **others}))
    _, found = personal_columns(table, columns, set())
    truth = {name: style for name, (style, _) in personal.items()}
    assert {n: s for n, s in found.items() if truth.get(n) != s} == {}, "wrongly detected"
    for kind in sorted(set(KIND.values())):
        actual = {n for n, s in truth.items() if KIND[s] == kind}
        predicted = {n for n, s in found.items() if KIND[s] == kind}
        hits = len(actual & predicted)
        assert hits >= 0.9 * len(predicted) and hits >= 0.9 * len(actual), (kind, actual, predicted)
    overall = len({n for n in found if truth.get(n) == found[n]})
    assert overall >= 0.9 * len(found) and overall >= 0.9 * len(truth), found


def test_shared_data_sets_have_no_personal_columns():
    con = duckdb.connect()
    try:
        for path in sorted(DATA.glob("*.csv")):
            table = con.sql(f"SELECT * FROM read_csv('{path}', header = true, all_varchar = true)").to_arrow_table()
            found = {c: column_style(c, table.column(c)) for c in table.column_names}
            assert not {c: s for c, s in found.items() if s}, path.name
    finally:
        con.close()


def test_a_column_name_alone_does_not_make_categories_personal():
    table, columns = typed(pa.table({"customer": ["yes", "no"] * 50, "phone": ["n/a", "unknown"] * 50,
                                     "email": [f"user{i}" for i in range(100)]}))
    assert personal_columns(table, columns, set())[1] == {}


def test_personal_categories_become_text_and_overridden_kinds_are_kept():
    fake = _faker("en_GB", 1)
    names = [fake.name() for _ in range(30)] * 10
    table, columns = typed(pa.table({"customer_name": names, "ssn": [fake.ssn() for _ in range(300)]}))
    assert [c.kind for c in columns] == ["categorical", "text"]
    marked, found = personal_columns(table, columns, set())
    assert [c.kind for c in marked] == ["text", "text"] and found == {"customer_name": "name", "ssn": "national_id"}
    kept, found = personal_columns(table, columns, {"customer_name"})
    assert kept[0].kind == "categorical" and found == {"ssn": "national_id"}


def _luhn(digits: str) -> bool:
    total = sum(int(d) if i % 2 == 0 else sum(divmod(int(d) * 2, 10)) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


@pytest.mark.parametrize("style, values, check", [
    ("credit_card", lambda f: f.credit_card_number(), lambda v: v.isdigit() and _luhn(v)),
    ("national_id", lambda f: f.ssn(), lambda v: bool(re.fullmatch(r"\d{3}-\d{2}-\d{4}", v))),
    ("ipv4", lambda f: f.ipv4(), lambda v: ipaddress.ip_address(v).version == 4),
    ("ipv6", lambda f: f.ipv6(), lambda v: ipaddress.ip_address(v).version == 6),
])
def test_unique_identifiers_are_numbered_fakes_that_stay_well_formed(style, values, check):
    fake = _faker("en_US", 4)
    name = {"credit_card": "card_number", "national_id": "ssn", "ipv4": "ip", "ipv6": "ip"}[style]
    real = [values(fake) for _ in range(200)]
    codec = IdCodec(ColumnSpec(name, "id", "VARCHAR", False)).fit(pa.chunked_array([real]), np.random.default_rng(0))
    assert codec.style_ == style
    rows = np.arange(5000, dtype=np.int64) * 7919
    generated = codec.sample_ids(rows, "00abcd").to_pylist()
    assert len(set(generated)) == len(generated) and set(generated).isdisjoint(real)
    assert all(check(v) for v in generated), [v for v in generated if not check(v)][:3]
    assert codec.sample_ids(rows[10:20], "00abcd").to_pylist() == generated[10:20]  # per row, whatever the batch


def test_french_national_ids_keep_a_valid_key_when_numbered():
    fake = _faker("fr_FR", 4)
    real = [fake.ssn() for _ in range(200)]
    codec = IdCodec(ColumnSpec("nir", "id", "VARCHAR", False)).fit(pa.chunked_array([real]), np.random.default_rng(0))
    assert (codec.style_, codec.locale_) == ("national_id", "fr_FR")
    generated = codec.sample_ids(np.arange(3000, dtype=np.int64), "00abcd").to_pylist()
    assert len(set(generated)) == 3000

    def valid(v: str) -> bool:  # Corsica's departments 2A and 2B count as 19 and 18
        body = int(v[:5] + {"2A": "19", "2B": "18"}.get(v[5:7], v[5:7]) + v[7:13])
        return len(v) == 15 and 97 - body % 97 == int(v[13:])

    assert all(valid(v) for v in generated), [v for v in generated if not valid(v)][:3]
    assert Counter(v[0] for v in generated).keys() <= {"1", "2"}


def test_integer_card_and_national_numbers_are_numbered_fakes_of_their_type():
    fake = _faker("en_US", 6)
    cards = [int(fake.credit_card_number(card_type="visa16")) for _ in range(300)]
    ssns = [int(fake.ssn().replace("-", "")) for _ in range(300)]
    table, columns = typed(pa.table({"card_number": pa.array(cards, pa.int64()), "ssn": pa.array(ssns, pa.int32()),
                                     "phone": pa.array(range(300), pa.int64()), "visits": pa.array(range(300))}))
    marked, found = personal_columns(table, columns, set())
    assert found == {"card_number": "credit_card", "ssn": "national_id"}  # 0..299 are no phone numbers
    assert [c.kind for c in marked][:2] == ["id", "id"]
    rng = np.random.default_rng(0)
    card = IdCodec(marked[0]).fit(table.column("card_number"), rng)
    ssn = IdCodec(marked[1]).fit(table.column("ssn"), rng)
    assert card.start_ == ssn.start_ == 0  # nothing counted on from a real number
    rows = np.arange(4000, dtype=np.int64)
    made_cards = card.sample_ids(rows, "00abcd")
    made_ssns = ssn.sample_ids(rows, "00abcd")
    assert made_cards.type == pa.int64() and made_ssns.type == pa.int32()
    assert len(set(made_cards.to_pylist())) == 4000 and set(made_cards.to_pylist()).isdisjoint(cards)
    assert all(_luhn(str(v)) for v in made_cards.to_pylist())
    assert len(set(made_ssns.to_pylist())) == 4000 and max(made_ssns.to_pylist()) < 10**9
