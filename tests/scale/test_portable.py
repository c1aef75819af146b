"""Portable model files: every method round-trips to identical rows in another database; a tampered or
unsigned file is refused; importing an existing name adds a version."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import genesis_sql
from genesis_sql.distributed.portable import MANIFEST_KEY, model_bytes, read_model
from genesis_sql.errors import CatalogError
from genesis_sql.lineage.signing import Signer
from tests.conftest import read_csv_sql

# Generates in a fresh process from an imported file; prints the rows as JSON.
IMPORT_AND_GENERATE = """
import duckdb, genesis_sql, json, sys
con = duckdb.connect(sys.argv[1]); genesis_sql.install(con)
record = genesis_sql.import_model(con, sys.argv[2])
rows = con.execute(f"SELECT * FROM genesis_generate('{record.name}', 400, seed := 5{sys.argv[3]})").fetchall()
print(json.dumps([record.ref, [list(map(str, r)) for r in rows]]))
"""

METHODS = {
    "copula": ("SELECT * FROM benefits", {}, ", condition := 'age > 50'"),
    "arf": ("SELECT * FROM benefits", {}, ", condition := 'age > 50'"),
    "tvae": ("SELECT * FROM benefits LIMIT 150", {}, ""),
    "sequence": ("SELECT * FROM males", {"sequence_key": "nr", "sequence_index": "year"}, ""),
}


@pytest.fixture()
def source(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "source.duckdb"))
    genesis_sql.install(con)
    con.execute(f"CREATE TABLE benefits AS {read_csv_sql('Benefits')}")
    con.execute(f"CREATE TABLE males AS {read_csv_sql('Males')} WHERE nr < 2000")
    yield con
    con.close()


def generated_elsewhere(tmp_path: Path, path: Path, condition: str) -> tuple[str, list]:
    done = subprocess.run([sys.executable, "-c", IMPORT_AND_GENERATE, str(tmp_path / "other.duckdb"), str(path),
                           condition], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    ref, rows = json.loads(done.stdout)
    return ref, rows


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_generates_identical_rows_after_import(source, tmp_path: Path, method: str) -> None:
    sql, options, condition = METHODS[method]
    genesis_sql.fit(source, "m", sql, method=method, **options)
    path = tmp_path / "m.genesis"
    genesis_sql.export_model(source, "m", path)
    here = source.execute(f"SELECT * FROM genesis_generate('m', 400, seed := 5{condition})").fetchall()
    ref, there = generated_elsewhere(tmp_path, path, condition)
    assert ref == "m@1"
    assert there == [list(map(str, r)) for r in here]


def rewritten(path: Path, change) -> Path:
    """A copy of the model file at ``path`` with ``change(manifest, table)`` applied."""
    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    manifest = json.loads(table.schema.metadata[MANIFEST_KEY])
    table = change(manifest, table)
    table = table.replace_schema_metadata({MANIFEST_KEY: json.dumps(manifest).encode()})
    copy = path.with_name("tampered.genesis")
    with pa.ipc.new_file(str(copy), table.schema) as writer:
        writer.write_table(table)
    return copy


def test_tampered_files_are_refused(source, tmp_path: Path) -> None:
    genesis_sql.fit(source, "m", "SELECT age, state, sex FROM benefits", method="copula")
    path = genesis_sql.export_model(source, "m", tmp_path / "m.genesis")

    def edit_state(manifest, table):
        manifest["columns"][0]["name"] = "age_edited"
        return table

    def edit_array(manifest, table):
        data = table.column("data").to_pylist()
        data[0] = bytes([data[0][0] ^ 1]) + data[0][1:]
        return table.set_column(3, "data", pa.array(data, pa.large_binary()))

    for change in (edit_state, edit_array):
        with pytest.raises(CatalogError, match="altered"):
            genesis_sql.import_model(source, rewritten(path, change))
    (tmp_path / "junk.genesis").write_bytes(b"not a model")
    with pytest.raises(CatalogError, match="not a genesis model file"):
        genesis_sql.import_model(source, tmp_path / "junk.genesis")
    assert source.execute("SELECT count(*) FROM genesis.models").fetchall() == [(1,)]


def test_signature_is_checked_against_the_trusted_key(source, tmp_path: Path, monkeypatch) -> None:
    key, _ = Signer.generate().write(tmp_path / "site.key")
    stranger, _ = Signer.generate().write(tmp_path / "stranger.key")
    monkeypatch.setenv("GENESIS_LINEAGE_KEY", str(key))
    genesis_sql.fit(source, "m", "SELECT age, state, sex FROM benefits", method="copula")
    path = genesis_sql.export_model(source, "m", tmp_path / "m.genesis")
    monkeypatch.delenv("GENESIS_LINEAGE_KEY")
    assert genesis_sql.import_model(source, path, trusted_key_path=f"{key}.pub").ref == "m@2"
    with pytest.raises(CatalogError, match="not signed by the trusted key"):
        genesis_sql.import_model(source, path, trusted_key_path=f"{stranger}.pub")
    record = read_model(path.read_bytes()).record
    (tmp_path / "unsigned.genesis").write_bytes(model_bytes(record))
    with pytest.raises(CatalogError, match="no signed fit block"):
        genesis_sql.import_model(source, tmp_path / "unsigned.genesis", trusted_key_path=f"{key}.pub")


def test_importing_an_existing_name_adds_the_next_version(source, tmp_path: Path) -> None:
    genesis_sql.fit(source, "m", "SELECT age, state FROM benefits", method="copula")
    path = genesis_sql.export_model(source, "m", tmp_path / "m.genesis")
    assert genesis_sql.import_model(source, path).ref == "m@2"
    assert genesis_sql.import_model(source, path, name="copy").ref == "copy@1"
    versions = source.execute("SELECT name, version, content_hash FROM genesis.models ORDER BY ALL").fetchall()
    assert len({h for _, _, h in versions}) == 1
    assert source.execute("SELECT ok FROM genesis_lineage_verify()").fetchall() == [(True,)]


def test_cli_export_and_import(source, tmp_path: Path) -> None:
    genesis_sql.fit(source, "m", "SELECT age, state FROM benefits", method="copula")
    source.close()
    genesis = Path(sys.executable).with_name("genesis")
    path = tmp_path / "m.genesis"
    exported = subprocess.run([str(genesis), "--db", str(tmp_path / "source.duckdb"), "export", "m", str(path)],
                              capture_output=True, text=True, timeout=300)
    assert exported.returncode == 0, exported.stderr
    imported = subprocess.run([str(genesis), "--db", str(tmp_path / "other.duckdb"), "import", str(path)],
                              capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0 and imported.stdout.startswith("imported m@1"), imported.stderr
