from __future__ import annotations

from genesis_sql.lineage import LineageChain
from genesis_sql.lineage.manifest import DataLineage


def test_manifest_groups_a_models_blocks_by_kind(history):
    manifest = DataLineage(LineageChain(history), "customers").create_manifest()
    assert [len(getattr(manifest, kind)) for kind in ("sources", "transforms", "fits", "generations",
                                                       "quality_checks")] == [2, 0, 2, 2, 1]
    assert [b.seq for b in manifest.blocks] == sorted(b.seq for b in manifest.blocks)
    data = manifest.to_dict()
    assert data["fits"][1]["content"]["version"] == 2 and data["generations"][1]["content"]["n"] == 30


def test_one_version_keeps_its_own_source_and_runs(history):
    manifest = DataLineage(LineageChain(history), "customers@2").create_manifest()
    assert [b.payload["version"] for b in manifest.fits + manifest.generations + manifest.quality_checks] == [2, 2, 2]
    assert [b.payload["query"] for b in manifest.sources] == ["SELECT * FROM customers WHERE age > 30"]


def test_render_draws_source_fit_generation_quality(history):
    text = DataLineage(LineageChain(history), "customers").create_manifest().render()
    lines = text.splitlines()
    assert lines[0] == "customers: 2 sources, 0 transforms, 2 fits, 2 generations, 1 quality checks"
    kinds = [line.split()[0] for line in lines[1:]]
    assert kinds == ["source", "fit", "generation", "source", "fit", "generation", "quality"]
    assert "where \"state\" = 'CA' -> python (30 rows" in text
    assert "run run-1 passed" in text


def test_recording_sources_and_transformations_by_hand(shop):
    lineage = DataLineage.of(shop, "churn")
    source = lineage.record_source("crm export", "SELECT * FROM customers")
    step = lineage.record_transformation("dedupe", {"keys": ["id"]}, inputs=[source.block_id])
    manifest = lineage.create_manifest()
    assert manifest.sources == (source,) and manifest.transforms == (step,)
    assert source.payload["row_count"] == 300
    assert manifest.render().splitlines()[2].strip().startswith("transform")
    assert DataLineage.of(shop, "nothing").create_manifest().render() == "nothing: no lineage recorded"
