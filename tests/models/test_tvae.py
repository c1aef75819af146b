"""TVAE: learns dependence, trains deterministically, and a stored model generates without torch."""
from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import numpy as np
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.catalog import ModelRecord, save_model
from genesis_sql.models import TVAE
from genesis_sql.models._random import derive_key
from tests.models.conftest import sample, typed

torch = pytest.importorskip("torch")
# Makes ``import torch`` fail in a child Python, as in an installation without the torch extra.
NO_TORCH = ("import sys\n"
            "class NoTorch:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'torch':\n"
            "            raise ModuleNotFoundError(\"No module named 'torch'\")\n"
            "sys.meta_path.insert(0, NoTorch())\n")
SMALL = {"epochs": 40, "batch_size": 256, "embedding_dim": 16, "compress_dims": (64,), "decompress_dims": (64,)}


@pytest.fixture(scope="module")
def related() -> tuple[pa.Table, list]:
    rng = np.random.default_rng(2)
    x = rng.normal(size=2000)
    return typed(pa.table({"x": x, "y": 2 * x + rng.normal(scale=0.3, size=x.size),
                           "side": np.where(x > 0, "right", "left")}))


@pytest.fixture(scope="module")
def model(related) -> TVAE:
    table, columns = related
    return TVAE(**SMALL).fit(table, columns)


def test_learns_the_dependence_between_columns(model):
    synth = sample(model, np.arange(4000)).to_pandas()
    assert np.corrcoef(synth["x"], synth["y"])[0, 1] > 0.8
    assert (synth.loc[synth["x"] > 0.5, "side"] == "right").mean() > 0.7
    assert (synth.loc[synth["x"] < -0.5, "side"] == "left").mean() > 0.7


@pytest.mark.slow
def test_stored_model_generates_the_same_rows_without_torch(model, related, db_path):
    state, arrays = model.to_state()
    record = ModelRecord(name="tv", version=0, method="tvae", columns=[c.to_dict() for c in model.columns_],
                         parameters=json.loads(json.dumps(model.get_params())), state=state, arrays=arrays,
                         training_rows=related[0].num_rows, source_sql="SELECT 1", source_fingerprint="test",
                         fit_seconds=0.0)
    with duckdb.connect(str(db_path)) as con:
        save_model(con, record)
    expected = sample(model, np.arange(300), key=derive_key(record.content_hash, 8, "")).to_pandas()
    code = (NO_TORCH +
            "import duckdb, genesis_sql\n"
            "con = duckdb.connect(sys.argv[1]); genesis_sql.install(con)\n"
            "genesis_sql.generate(con, 'tv', 300, seed=8).to_pandas().to_csv(sys.stdout, index=False)\n"
            "try:\n    genesis_sql.fit(con, 'again', 'SELECT 1 AS a, 2 AS b', method='tvae')\n"
            "except genesis_sql.GenesisError as exc:\n    print('ERROR', type(exc).__name__, exc, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code, str(db_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout == expected.to_csv(index=False)
    assert "MissingDependencyError" in out.stderr and "genesis-sql[torch]" in out.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_trains_the_same_model_within_float_tolerance(related, model):
    table, columns = related
    on_gpu = TVAE(**SMALL, device="cuda").fit(table, columns)
    for (w_cpu, b_cpu), (w_gpu, b_gpu) in zip(model.decoder_, on_gpu.decoder_):
        np.testing.assert_allclose(w_gpu, w_cpu, atol=1e-2)
        np.testing.assert_allclose(b_gpu, b_cpu, atol=1e-2)


def test_fit_through_the_api_records_the_method(db_path, related):
    with duckdb.connect(str(db_path)) as con:
        genesis_sql.install(con)
        con.register("related", related[0])
        con.execute("CREATE TABLE small AS SELECT * FROM related LIMIT 150")
        summary = genesis_sql.fit(con, "tv", "SELECT * FROM small", method="tvae")
        assert summary.method == "tvae"
        assert genesis_sql.generate(con, "tv", 50, seed=1).num_rows == 50
