"""StreamingGenerator: the stream is the model's generation stream, batched, bounded and recorded in lineage."""
from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.errors import ConditionError, InvalidArgumentError, ModelNotFoundError
from genesis_sql.lineage import LineageChain
from genesis_sql.lineage.fingerprint import table_fingerprint
from genesis_sql.streaming import StreamingConfig, StreamingGenerator


def test_batches_are_record_batches_with_the_configured_sizes(con):
    stream = StreamingGenerator(con, "diamonds", StreamingConfig(batch_size=1000, max_batches=5, seed=1))
    batches = list(stream.generate_stream())
    assert [type(b) for b in batches] == [pa.RecordBatch] * 5
    assert [b.num_rows for b in batches] == [1000] * 5
    assert (stream.stats.total_batches, stream.stats.total_samples, stream.stats.seed) == (5, 5000, 1)


def test_stream_is_the_generation_stream_continued(con):
    config = StreamingConfig(batch_size=700, max_rows=2000, seed=42, conditions="carat > 1")
    streamed = pa.Table.from_batches(list(StreamingGenerator(con, "diamonds", config).generate_stream()))
    expected = genesis_sql.generate(con, "diamonds", 2000, seed=42, condition="carat > 1")
    assert streamed.num_rows == 2000
    assert streamed.equals(expected)


def test_max_rows_cuts_the_last_batch(con):
    config = StreamingConfig(batch_size=300, max_batches=10, max_rows=1000, seed=0)
    sizes = [b.num_rows for b in StreamingGenerator(con, "diamonds", config).generate_stream()]
    assert sizes == [300, 300, 300, 100]


def test_endless_stream_runs_until_the_caller_stops(con):
    stream = StreamingGenerator(con, "diamonds", StreamingConfig(batch_size=100, seed=3)).generate_stream()
    for count, _ in enumerate(stream, start=1):
        if count == 25:
            break
    stream.close()
    assert count == 25


def test_lineage_block_counts_the_rows_handed_out(con):
    before = len(LineageChain(con))
    stream = StreamingGenerator(con, "diamonds", StreamingConfig(batch_size=250, seed=9)).generate_stream()
    taken = [next(stream) for _ in range(3)]
    stream.close()
    blocks = list(LineageChain(con).blocks())
    assert len(blocks) == before + 1
    payload = blocks[-1].payload
    assert (payload["n"], payload["seed"], payload["destination"]) == (750, 9, "python")
    assert payload["rows_hash"] == table_fingerprint(con, pa.Table.from_batches(taken)).rows_hash


def test_drawn_seed_is_reported(con):
    stream = StreamingGenerator(con, "diamonds", StreamingConfig(batch_size=10, max_batches=1))
    list(stream.generate_stream())
    assert stream.prepare().seed_was_drawn
    assert stream.stats.seed == stream.prepare().seed


def test_bad_requests_fail_before_the_first_batch(con):
    with pytest.raises(ModelNotFoundError, match="Unknown model 'diamond'"):
        StreamingGenerator(con, "diamond").generate_stream()
    with pytest.raises(ConditionError):
        StreamingGenerator(con, "diamonds", StreamingConfig(conditions="carat >")).generate_stream()


@pytest.mark.parametrize("make", [
    lambda df: df,
    lambda df: pa.Table.from_pandas(df, preserve_index=False),
], ids=["pandas", "arrow"])
def test_fit_stores_a_model_from_a_frame(con, make):
    frame = pd.DataFrame({"age": [20 + i % 50 for i in range(300)], "plan": ["a", "b", "c"] * 100})
    stream = StreamingGenerator(con, "members", StreamingConfig(batch_size=100, max_batches=2, seed=1))
    batches = list(stream.fit(make(frame), "auto").generate_stream())
    assert batches[0].schema.names == ["age", "plan"]
    assert set(pa.Table.from_batches(batches).column("plan").to_pylist()) <= {"a", "b", "c"}
    assert not [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
                if t.startswith("genesis_stream_source")]


def test_fit_from_sql_adds_a_version(con):
    stream = StreamingGenerator(con, "gems", StreamingConfig(batch_size=10, max_batches=1, seed=1))
    stream.fit("SELECT carat, cut FROM diamonds")
    assert next(stream.generate_stream()).schema.names == ["carat", "cut"]
    stream.fit("SELECT carat, price FROM diamonds")
    assert stream.prepare().version == 2
    assert next(stream.generate_stream()).schema.names == ["carat", "price"]


def test_fit_rejects_what_it_cannot_read(con):
    with pytest.raises(InvalidArgumentError, match="fit\\(\\) takes SQL text, an Arrow table or a pandas DataFrame"):
        StreamingGenerator(con, "x").fit(42)


def test_a_database_path_is_opened_only_to_load_and_to_record(db_path):
    stream = StreamingGenerator(str(db_path), "diamonds", StreamingConfig(batch_size=100, seed=4))
    batches = stream.generate_stream()
    next(batches)
    with duckdb.connect(str(db_path)) as other:  # the file is free while the stream runs
        assert other.execute("SELECT count(*) FROM genesis.models").fetchall()[0][0] == 2
    batches.close()
    with duckdb.connect(str(db_path)) as other:
        (n,) = other.execute("SELECT content FROM genesis.lineage ORDER BY seq DESC LIMIT 1").fetchall()[0]
    assert '"n":100' in n
