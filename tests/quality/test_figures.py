"""Plotly figure specs built from a stored run."""
from __future__ import annotations

import json

import duckdb
import pytest

from genesis_sql.quality import figures
from genesis_sql.quality.views import RunData


@pytest.fixture(scope="module")
def run(run_db) -> RunData:
    path, run_id = run_db
    with duckdb.connect(str(path), read_only=True) as con:
        return RunData.load(con, run_id)


def test_association_matrices_are_symmetric_with_a_unit_diagonal(run):
    names, real, synthetic = figures.association_matrices(run)
    assert len(names) == len(real) == len(synthetic) == 10
    assert all(real[i][i] == 1.0 for i in range(10))
    assert all(real[i][j] == real[j][i] for i in range(10) for j in range(10))
    carat_x = next(p for p in run.pairs if (p["column_1"], p["column_2"]) == ("carat", "x"))
    assert real[0][names.index("x")] == carat_x["real_value"] > 0.9


def test_every_figure_is_plain_json(run):
    specs = [figures.scores_figure(run), figures.column_shapes_figure(run), figures.projection_figure(run),
             figures.privacy_figure(run), figures.risks_figure(run), *figures.correlation_figures(run),
             *(figures.distribution_figure(c) for c in run.columns)]
    for spec in specs:
        assert set(spec) == {"data", "layout"} and spec["data"]
        json.dumps(spec, allow_nan=False)


def test_distribution_overlays_real_and_synthetic(run):
    histogram = figures.distribution_figure(run.columns[0])
    assert [t["name"] for t in histogram["data"]] == ["real", "synthetic"]
    assert histogram["layout"]["barmode"] == "overlay"
    bars = figures.distribution_figure(run.columns[1])
    assert bars["layout"]["barmode"] == "group" and bars["data"][0]["x"][0] in {"Ideal", "Premium", "Very Good"}


def test_numeric_looking_categories_are_drawn_on_a_category_axis():
    from genesis_sql.quality.figures import distribution_figure

    column = {"column_name": "state", "shape": 0.9, "shape_metric": "TVComplement",
              "distribution": {"kind": "bar", "labels": [93, 21, 74], "real": [0.5, 0.3, 0.2],
                               "synthetic": [0.4, 0.4, 0.2]}}
    figure = distribution_figure(column)
    assert figure["layout"]["xaxis"] == {"type": "category"}
    assert figure["data"][0]["x"] == ["93", "21", "74"]


def test_the_difference_heatmap_is_scaled_to_the_differences():
    from genesis_sql.quality.figures import MIN_DIFFERENCE_SCALE, difference_scale

    assert difference_scale([[None, 0.02], [0.02, None]]) == MIN_DIFFERENCE_SCALE
    assert difference_scale([[None, -0.35], [0.2, None]]) == 0.35


def test_attack_success_against_the_holdout_baseline_with_intervals(run):
    spec = figures.risks_figure(run)
    attack, holdout = spec["data"]
    labels = [figures.risk_label(k) for k in run.risks]
    assert attack["x"] == holdout["x"] == labels and labels[3] == "Inference: price"
    for trace, rate in ((attack, "attack_rate"), (holdout, "holdout_rate")):
        assert trace["y"] == [k[rate] for k in run.risks]
        bars = trace["error_y"]
        assert [y + up for y, up in zip(trace["y"], bars["array"])] == pytest.approx([k[f"{rate}_high"] for k in run.risks])
        assert [y - down for y, down in zip(trace["y"], bars["arrayminus"])] == pytest.approx(
            [k[f"{rate}_low"] for k in run.risks])
