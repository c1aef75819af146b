"""Plotly figures of a stored run, as plain JSON-ready dicts (``{"data": [...], "layout": {...}}``).

They need no Python plotting package: the HTML report and the dashboard hand them to plotly.js.
"""
from __future__ import annotations

from typing import Any

from genesis_sql.quality.views import RunData

REAL_COLOR = "#1f4e79"
SYNTHETIC_COLOR = "#e07b00"
SCORE_NAMES = {
    "overall": "Overall",
    "column_shapes": "Column shapes",
    "column_pair_trends": "Column pair trends",
    "coverage": "Coverage",
    "missing_values": "Missing values",
    "detection": "Detection",
    "utility": "ML utility (TSTR/TRTR)",
    "rules_kept": "Rules kept (worst rule)",
}
RISK_NAMES = {
    "singling_out_univariate": "Singling out (univariate)",
    "singling_out_multivariate": "Singling out (multivariate)",
    "linkability": "Linkability",
    "inference": "Inference",
}
# The "synthetic - real" heatmap spans at least this much either side of 0 (so noise does not look loud).
MIN_DIFFERENCE_SCALE = 0.1


def difference_scale(difference: list[list[float | None]]) -> float:
    """The symmetric colour range of a difference matrix: its largest absolute value (at least
    MIN_DIFFERENCE_SCALE); a fixed +-1 range would draw every real difference as near white."""
    values = [abs(v) for row in difference for v in row if v is not None]
    return max([MIN_DIFFERENCE_SCALE, *values])
Figure = dict[str, Any]


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 360, **extra}


def scores_figure(run: RunData) -> Figure:
    """Horizontal bars of the overall score and every available sub-score."""
    names = [k for k in SCORE_NAMES if run.summary.get(k) is not None]
    return {
        "data": [{"type": "bar", "orientation": "h", "y": [SCORE_NAMES[k] for k in names],
                  "x": [run.summary[k] for k in names], "marker": {"color": REAL_COLOR},
                  "text": [f"{run.summary[k]:.3f}" for k in names], "textposition": "auto"}],
        "layout": _layout("Quality scores (1.0 = indistinguishable from real)", xaxis={"range": [0, 1]},
                          yaxis={"autorange": "reversed"}, margin={"l": 170, "r": 20, "t": 50, "b": 40}),
    }


def column_shapes_figure(run: RunData) -> Figure:
    """Bars of each column's shape score (KS or TV complement)."""
    rows = [c for c in run.columns if c["shape"] is not None]
    return {
        "data": [{"type": "bar", "x": [c["column_name"] for c in rows], "y": [c["shape"] for c in rows],
                  "text": [c["shape_metric"] for c in rows], "marker": {"color": REAL_COLOR}}],
        "layout": _layout("Column shapes", yaxis={"range": [0, 1]}),
    }


def distribution_figure(column: dict[str, Any]) -> Figure:
    """Real and synthetic distribution of one column, overlaid."""
    dist = column["distribution"] or {}
    title = column["column_name"] + ("" if column["shape"] is None else
                                     f" ({column['shape_metric']} {column['shape']:.3f})")
    if dist.get("kind") == "histogram":
        edges = dist["edges"]
        # Numeric bins are drawn at their centres; datetime bins (ISO text) at their left edges.
        x = [(a + b) / 2 for a, b in zip(edges, edges[1:])] if edges and not isinstance(edges[0], str) else edges[:-1]
        traces = [{"type": "bar", "name": name, "x": x, "y": dist[side], "opacity": 0.55, "marker": {"color": color}}
                  for name, side, color in (("real", "real", REAL_COLOR), ("synthetic", "synthetic", SYNTHETIC_COLOR))]
        return {"data": traces, "layout": _layout(title, barmode="overlay", bargap=0,
                                                    yaxis={"title": {"text": "share of rows"}})}
    # Labels as text on a category axis: codes that look like numbers (1, 2, 9; income brackets) would
    # otherwise be placed on a numeric axis and drawn as slivers far apart.
    labels = [str(label) for label in dist.get("labels", [])]
    traces = [{"type": "bar", "name": name, "x": labels, "y": dist.get(side, []), "marker": {"color": color}}
              for name, side, color in (("real", "real", REAL_COLOR), ("synthetic", "synthetic", SYNTHETIC_COLOR))]
    return {"data": traces, "layout": _layout(title, barmode="group", xaxis={"type": "category"},
                                                yaxis={"title": {"text": "share of rows"}})}


def association_matrices(run: RunData) -> tuple[list[str], list[list[float | None]], list[list[float | None]]]:
    """Column names and the real and synthetic pair-statistic matrices (Pearson r or Cramér's V)."""
    names = [c["column_name"] for c in run.columns]
    index = {n: i for i, n in enumerate(names)}
    real = [[1.0 if i == j else None for j in names] for i in names]
    synthetic = [row[:] for row in real]
    for pair in run.pairs:
        i, j = index[pair["column_1"]], index[pair["column_2"]]
        real[i][j] = real[j][i] = pair["real_value"]
        synthetic[i][j] = synthetic[j][i] = pair["synthetic_value"]
    return names, real, synthetic


def correlation_figures(run: RunData) -> list[Figure]:
    """Heatmaps of the real and synthetic pair statistics, and of their difference."""
    names, real, synthetic = association_matrices(run)
    difference = [[None if a is None or b is None else b - a for a, b in zip(real_row, synthetic_row)]
                  for real_row, synthetic_row in zip(real, synthetic)]
    hover = "%{y} × %{x}: %{z:.3f}<extra></extra>"

    def heatmap(title: str, z: list[list[float | None]], scale: float = 1.0) -> Figure:
        # Reversed so that +1 is blue and -1 red, as matplotlib's RdBu draws them in the PDF.
        return {"data": [{"type": "heatmap", "x": names, "y": names, "z": z, "zmin": -scale, "zmax": scale,
                          "colorscale": "RdBu", "reversescale": True, "hovertemplate": hover}],
                "layout": _layout(title, height=420, yaxis={"autorange": "reversed"}, margin={"l": 90, "b": 90})}

    scale = difference_scale(difference)
    return [heatmap("Real", real), heatmap("Synthetic", synthetic),
            heatmap(f"Synthetic − real (scale ±{scale:.2f})", difference, scale)]


def projection_figure(run: RunData) -> Figure:
    """Scatter of the PCA projection (fitted on the real rows) of real and synthetic rows."""
    variance = run.summary["scores"].get("projection_explained_variance") or []
    axes = [f"PC{i + 1}" + (f" ({v:.0%} of real variance)" if v is not None else "")
            for i, v in enumerate((variance + [None, None])[:2])]
    traces = []
    for source, color in (("real", REAL_COLOR), ("synthetic", SYNTHETIC_COLOR)):
        points = [p for p in run.projection if p["source"] == source]
        traces.append({"type": "scatter", "mode": "markers", "name": source, "x": [p["x"] for p in points],
                       "y": [p["y"] for p in points], "marker": {"color": color, "size": 5, "opacity": 0.6}})
    return {"data": traces, "layout": _layout("PCA projection", height=460, xaxis={"title": {"text": axes[0]}},
                                               yaxis={"title": {"text": axes[1]}})}


def privacy_figure(run: RunData) -> Figure:
    """Synthetic rows against the holdout baseline: exact-copy rates and median distances to training rows."""
    values = {p["metric"]: p["value"] for p in run.privacy}
    groups = [("exact-copy rate", "exact_copy_rate", "holdout_copy_rate"),
              ("median DCR", "dcr_synthetic_median", "dcr_holdout_median")]
    sides = (("synthetic → training", 1, SYNTHETIC_COLOR), ("holdout → training", 2, REAL_COLOR))
    traces = [{"type": "bar", "name": name, "x": [g[0] for g in groups], "y": [values.get(g[k]) for g in groups],
               "marker": {"color": color}} for name, k, color in sides]
    return {"data": traces, "layout": _layout("Privacy: synthetic rows vs. real holdout rows", barmode="group")}


def risk_label(risk: dict[str, Any]) -> str:
    """How a ``genesis.quality_risks`` row is named in reports: the attack, and the secret column of an inference."""
    name = RISK_NAMES.get(risk["attack"], risk["attack"])
    return f"{name}: {risk['secret_column']}" if risk["secret_column"] else name


def _error_bars(rows: list[dict[str, Any]], rate: str) -> dict[str, Any]:
    return {"type": "data", "symmetric": False,
            "array": [None if r[rate] is None else r[f"{rate}_high"] - r[rate] for r in rows],
            "arrayminus": [None if r[rate] is None else r[rate] - r[f"{rate}_low"] for r in rows]}


def risks_figure(run: RunData) -> Figure:
    """Each attack's success on the training rows against its holdout baseline, with confidence intervals."""
    rows = [r for r in run.risks if r["available"]]
    labels = [risk_label(r) for r in rows]
    sides = (("training rows (attack)", "attack_rate", SYNTHETIC_COLOR),
             ("holdout rows (baseline)", "holdout_rate", REAL_COLOR))
    traces = [{"type": "bar", "name": name, "x": labels, "y": [r[rate] for r in rows], "marker": {"color": color},
               "error_y": _error_bars(rows, rate)} for name, rate, color in sides]
    return {"data": traces, "layout": _layout("Attack success: training rows vs. holdout baseline", barmode="group",
                                               height=440, margin={"l": 60, "r": 20, "t": 50, "b": 140},
                                               yaxis={"range": [0, 1], "title": {"text": "success rate"}})}
