"""SeenPairs: which value pairs of few-valued columns training rows show, kept as bits and stored as data."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from genesis_sql.conditions import parse_condition
from genesis_sql.models import GaussianCopula
from genesis_sql.models._seen import MAX_VALUES, SeenPairs
from genesis_sql.models.feasibility import unseen_notes
from tests.models.conftest import typed


def table() -> pa.Table:
    rng = np.random.default_rng(0)
    colour = np.array(["red", "green", None, "blue"] * 50, dtype=object)
    size = np.where(colour == "red", 1, np.where(colour == "green", 2, 3))  # blue and NULL both have size 3
    return pa.table({"colour": colour, "size": size, "flag": np.arange(200) % 2 == 0,
                     "many": np.arange(200) % (MAX_VALUES + 1), "x": rng.normal(size=200)})


def test_pairs_of_few_valued_columns_are_recorded() -> None:
    data, columns = typed(table())
    seen = SeenPairs.fit(data, columns)
    assert seen.columns == ["colour", "size", "flag"]  # 'many' has too many values, 'x' is continuous
    values = dict(zip(seen.columns, seen.values))
    colours = np.array([c in ("red", None) for c in values["colour"]])
    assert seen.seen_together("colour", colours, "size", np.array([v in (1, 3) for v in values["size"]]))
    assert not seen.seen_together("size", np.array([v == 1 for v in values["size"]]),
                                  "colour", np.array([c == "green" for c in values["colour"]]))


def test_bits_round_trip_through_state() -> None:
    data, columns = typed(table())
    seen = SeenPairs.fit(data, columns)
    meta, arrays = seen.to_state()
    assert all(a.dtype == np.uint8 for a in arrays.values())
    back = SeenPairs.from_state(meta, arrays)
    assert back.columns == seen.columns and back.values == seen.values
    assert all(np.array_equal(back.bits[k], seen.bits[k]) for k in seen.bits)


def test_a_model_stored_without_pairs_loads_and_generates_without_notes() -> None:
    data, columns = typed(table())
    model = GaussianCopula().fit(data, columns)
    model.seen_ = SeenPairs.fit(data, columns)
    unseen = parse_condition("colour = 'green' AND size = 1", model.columns_)
    assert unseen_notes(unseen, model) == [
        "no training row has \"colour\" = 'green' together with \"size\" = 1 (rows that do are the model's "
        "extrapolation)"]
    state, arrays = model.to_state()
    restored = GaussianCopula.from_state(model.get_params(), columns, state, arrays)
    assert unseen_notes(unseen, restored) == unseen_notes(unseen, model)
    older = {k: v for k, v in state.items() if k != "seen"}
    old = GaussianCopula.from_state(model.get_params(), columns, older, {k: v for k, v in arrays.items()
                                                                          if not k.startswith("seen.")})
    assert old.seen_ is None and unseen_notes(unseen, old) == []
    assert old.sample_rows(np.arange(5), key=1, conditions=parse_condition("colour = 'green'", columns)).num_rows == 5
