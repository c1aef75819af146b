"""Column shapes and column pair trends agree with SDMetrics' QualityReport (the ``bench`` extra).

Both sides score the same real and synthetic rows with the same column types; fewer than 50,000 rows so
that SDMetrics does not subsample its pair metrics at random.
"""
from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.catalog import load_model
from genesis_sql.quality import QualityEvaluator

sdmetrics_reports = pytest.importorskip("sdmetrics.reports")

SDTYPES = {"numeric": "numerical", "integer": "numerical", "datetime": "datetime", "categorical": "categorical",
           "boolean": "boolean", "id": "id", "text": "id"}


def perturb(table: pa.Table, columns: list[dict], seed: int) -> pa.Table:
    """A poor synthetic table: two numeric columns shuffled (their pairs broken), the others scaled by noise."""
    rng = np.random.default_rng(seed)
    frame = table.to_pandas()
    numeric = [c["name"] for c in columns if c["kind"] in ("numeric", "integer")]
    for name in numeric[:2]:
        frame[name] = rng.permutation(frame[name].to_numpy())
    for name in numeric[2:]:
        frame[name] = frame[name] * rng.normal(1, 0.05, len(frame))
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.mark.slow
@pytest.mark.parametrize("name, synthesis", [("diamonds", "genesis"), ("MedExp", "genesis"), ("MedExp", "perturbed")])
def test_column_shapes_and_pair_trends_agree_with_sdmetrics(name: str, synthesis: str, data_dir):
    with duckdb.connect() as con:
        genesis_sql.install(con)
        # The contract's split: every fifth row is held out, the rest is the real (training) table.
        con.execute(f"CREATE TABLE real_rows AS SELECT * EXCLUDE (_row) FROM (SELECT *, row_number() OVER () AS _row "
                    f"FROM read_csv('{data_dir / (name + '.csv')}')) WHERE _row % 5 <> 0")
        real = con.sql("SELECT * FROM real_rows").to_arrow_table()
        genesis_sql.fit(con, "m", "SELECT * FROM real_rows", seed=0)
        columns = load_model(con, "m").columns
        if synthesis == "genesis":
            synthetic = genesis_sql.generate(con, "m", real.num_rows, seed=1)
        else:
            synthetic = perturb(real, columns, seed=1)
    ours = QualityEvaluator(columns).evaluate(real, synthetic).scores

    metadata = {"tables": {"t": {"columns": {c["name"]: {"sdtype": SDTYPES[c["kind"]]} for c in columns}}}}
    report = sdmetrics_reports.QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas and SDMetrics deprecation chatter
        report.generate({"t": real.to_pandas()}, {"t": synthetic.to_pandas()}, metadata, verbose=False)
    theirs = report.get_properties().set_index("Property")["Score"]
    assert ours["column_shapes"] == pytest.approx(theirs["Column Shapes"], abs=0.01)
    assert ours["column_pair_trends"] == pytest.approx(theirs["Column Pair Trends"], abs=0.01)
