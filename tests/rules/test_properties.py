"""Property: random tables with planted relations -> every generated row keeps every one of them, with and
without a condition (equality, offset, sum, order, function of a code; random sizes, scales and methods)."""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genesis_sql


@st.composite
def planted_tables(draw):
    """A table of random base columns and one relation of each kind planted on them."""
    seed = draw(st.integers(0, 2**31))
    rows = draw(st.integers(120, 600))
    scale = draw(st.sampled_from([0.01, 1.0, 1000.0]))
    delta = draw(st.floats(-50, 50).filter(lambda d: abs(d) > 0.5)).__round__(2)
    codes = draw(st.integers(2, 5))
    rng = np.random.default_rng(seed)
    x = (rng.normal(0, 1, rows) * scale).round(3)
    y = (rng.gamma(2.0, 1.0, rows) * scale).round(3)
    code = rng.permutation(np.arange(rows) % codes)  # at least 24 rows per code: a function is detected
    table = pa.table({
        "x": x, "y": y, "x_same": x, "x_shift": x + delta, "x_plus_y": x + y,
        "x_below": x + np.abs(rng.normal(0, scale, rows)).round(3),
        "code": [f"c{c}" for c in code], "label": [f"label-{c * 7}" for c in code],
    })
    condition = draw(st.sampled_from([None, "x > {q50}", "label = 'label-0'", "x_plus_y < {q50y}",
                                      "x_below > x + {small}"]))
    if condition is not None:
        condition = condition.format(q50=float(np.median(x)), q50y=float(np.median(x + y)),
                                     small=float(np.median(table.column("x_below").to_numpy() - x)))
    return table, delta, condition, draw(st.sampled_from(["copula", "arf"]))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_tables())
def test_planted_relations_hold_in_every_generated_row(case):
    table, delta, condition, method = case
    con = duckdb.connect()
    genesis_sql.install(con)
    con.register("planted_rows", table)
    con.execute("CREATE TABLE planted AS SELECT * FROM planted_rows")
    genesis_sql.fit(con, "p", "SELECT * FROM planted", method=method, seed=0)
    df = genesis_sql.generate(con, "p", 600, seed=1, condition=condition).to_pandas()
    con.close()
    assert len(df) == 600
    assert (df.x_same == df.x).all()
    assert np.allclose(df.x_shift, df.x + delta, rtol=0, atol=1e-9 * max(1.0, float(df.x.abs().max())))
    assert np.allclose(df.x_plus_y, df.x + df.y, rtol=0, atol=1e-9 * max(1.0, float(df.x_plus_y.abs().max())))
    assert (df.x <= df.x_below).all()
    assert (df.label == "label-" + (df.code.str[1:].astype(int) * 7).astype(str)).all()
