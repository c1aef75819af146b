"""Text columns: free text never repeats a training value's 8-word span; identifiers (names, emails, phone
numbers, addresses) are made fresh in the data's locale, never copied (equal to a training value only as
often as an independent Faker draw), and emails follow the generated names."""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pytest
from faker import Faker

from genesis_sql.models import AdversarialRandomForest, GaussianCopula
from genesis_sql.models._columns import SPAN_WORDS
from tests.models.conftest import sample, typed


def spans(text: str) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i:i + SPAN_WORDS]) for i in range(len(words) - SPAN_WORDS + 1)}


def chained_corpus(rows: int) -> list[str]:
    """Sentences over a small vocabulary where most words have one or two successors: a bigram chain
    walking it reproduces long runs of training text unless something stops it."""
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(60)]
    out = []
    for _ in range(rows):
        start = int(rng.integers(0, 60))
        length = int(rng.integers(10, 30))
        out.append(" ".join(words[(start + k + (k // 7) * int(rng.integers(0, 2))) % 60] for k in range(length)))
    return out


@pytest.mark.parametrize("synthesizer", [GaussianCopula, AdversarialRandomForest])
def test_free_text_never_contains_a_training_eight_word_span(synthesizer):
    texts = chained_corpus(400)
    table, columns = typed(pa.table({"note": texts, "score": np.arange(400) % 17}))
    assert columns[0].kind == "text"
    synth = sample(synthesizer().fit(table, columns), np.arange(3000))["note"].to_pylist()
    training = set().union(*(spans(t) for t in texts))
    assert not any(spans(t) & training for t in synth if t)
    assert set(synth).isdisjoint(texts)
    assert sum(t is not None for t in synth) > 2900
    assert max(len(t.split()) for t in synth if t) > SPAN_WORDS  # long texts still come out, just not copies


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@pytest.fixture(scope="module")
def people() -> tuple[pa.Table, list]:
    """German people: names, emails spelled from the names, phones, street addresses, and an age."""
    fake = Faker("de_DE")
    fake.seed_instance(11)
    rows = []
    for _ in range(600):
        first, last = fake.first_name(), fake.last_name()
        handle = ".".join(re.sub(r"[^a-z0-9]+", "", fold(part)) for part in (first, last))
        rows.append({"full_name": f"{first} {last}", "email": f"{handle}@{fake.free_email_domain()}",
                     "phone": fake.phone_number(), "address": fake.street_address(), "age": fake.random_int(18, 90)})
    return typed(pa.Table.from_pylist(rows))


@pytest.mark.parametrize("synthesizer", [GaussianCopula, AdversarialRandomForest])
def test_identifiers_are_fresh_local_and_consistent(people, synthesizer):
    table, columns = people
    model = synthesizer().fit(table, columns)
    styles = {c.spec.name: (c.style_, c.locale_) for c in model.codecs_ if c.spec.kind in ("text", "id")}
    assert styles == {"full_name": ("name", "de_DE"), "email": ("email", "de_DE"), "phone": ("phone", "de_DE"),
                      "address": ("street_address", "de_DE")}
    assert [c.spec.kind for c in model.codecs_][:2] == ["text", "id"]  # emails are unique, hence identifiers
    synth = sample(model, np.arange(2000), key=7)
    # The training people are Faker's too, so a fake meets one of them now and then (a common name, a short
    # street): as often as an independent Faker draw of 2000 does, where a copying model meets hundreds.
    fake = Faker("de_DE")
    fake.seed_instance(12)
    draws = {"full_name": lambda: f"{fake.first_name()} {fake.last_name()}", "email": lambda: fake.email(),
             "phone": fake.phone_number, "address": fake.street_address}
    for name, draw in draws.items():
        values, real = synth[name].to_pylist(), set(table[name].to_pylist())
        chance = sum(draw() in real for _ in range(2000))
        met = sum(v in real for v in values)
        assert None not in values and met <= 3 * chance + 5, (name, met, chance)
    german = [v for v in synth["phone"].to_pylist() if re.match(r"^(\+49|\(?0)", v)]
    assert len(german) > 1900
    for name, email in zip(synth["full_name"].to_pylist(), synth["email"].to_pylist()):
        local = email.split("@")[0]
        parts = [p for p in re.split(r"[^a-z0-9]+", fold(name)) if p]
        assert parts[0][0] in local and parts[-1] in local, (name, email)
    again = sample(model, np.arange(500, 700), key=7)
    assert again.equals(synth.slice(500, 200))  # per row, whatever the batch


def test_unique_emails_and_phone_numbers_are_fresh_styled_ids(people):
    table, _ = people
    rows = table.num_rows
    unique = pa.table({"email": table["email"], "phone": [f"+49-30-{i:07d}" for i in range(rows)], "age": table["age"]})
    typed_table, columns = typed(unique)
    assert [c.kind for c in columns] == ["id", "id", "integer"]
    synth = sample(AdversarialRandomForest().fit(typed_table, columns), np.arange(3000))
    for name in ("email", "phone"):
        values = synth[name].to_pylist()
        assert len(set(values)) == len(values) and set(values).isdisjoint(unique[name].to_pylist()), name
    assert all(re.match(r"^[a-z0-9._]+\.\d+@[a-z0-9.\-]+$", v) for v in synth["email"].to_pylist())
    assert all(sum(c.isdigit() for c in v) >= 7 for v in synth["phone"].to_pylist())
