"""The PDF report: the HTML report's sections drawn as static matplotlib figures, one page per section.

Uses matplotlib's object-oriented API and ``PdfPages`` only (no pyplot state, no browser).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genesis_sql.quality._optional import require
from genesis_sql.quality.figures import (
    REAL_COLOR,
    SCORE_NAMES,
    SYNTHETIC_COLOR,
    association_matrices,
    difference_scale,
    risk_label,
)
from genesis_sql.quality.views import RunData

PAGE_SIZE = (11.0, 8.5)
# A page holds at most this many distribution plots: the columns with the lowest shape scores.
MAX_PDF_COLUMNS = 12
MAX_PDF_CATEGORIES = 8
# Notes in the PDF privacy table are cut to this many characters, so the table stays left of the chart.
PRIVACY_NOTE_CHARS = 38


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _format(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _page(run: RunData, title: str) -> Any:
    figure = require("matplotlib.figure").Figure(figsize=PAGE_SIZE)
    s = run.summary
    figure.suptitle(title, fontsize=16, fontweight="bold", x=0.02, ha="left")
    figure.text(0.02, 0.93, f"{s['model']}@{s['model_version']}  ·  run {s['run_id']}  ·  {s['created_at']}",
                fontsize=9, color="#555555")
    return figure


def _table(ax: Any, rows: list[list[str]], header: list[str], widths: list[float] | None = None) -> None:
    ax.axis("off")
    table = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="left", colWidths=widths)
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.3)


def summary_page(run: RunData, title: str) -> Any:
    """Scores, run facts and the column shape bars."""
    figure = _page(run, title)
    s = run.summary
    rows = [[SCORE_NAMES[k], _format(s.get(k))] for k in SCORE_NAMES]
    rows += [["Real rows", f"{s['n_real']:,}"], ["Synthetic rows", f"{s['n_synthetic']:,}"],
             ["Seed", str(s["seed"])], ["Target", s["target"] or "none"],
             ["Holdout", "yes" if s["holdout_sql"] else "none"]]
    _table(figure.add_axes((0.02, 0.05, 0.38, 0.82)), rows, ["", "value"])
    ax = figure.add_axes((0.48, 0.15, 0.5, 0.7))
    shaped = [c for c in run.columns if c["shape"] is not None]
    ax.bar([c["column_name"] for c in shaped], [c["shape"] for c in shaped], color=REAL_COLOR)
    ax.set_ylim(0, 1)
    ax.set_title("Column shapes", fontsize=10)
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    return figure


def _distribution(ax: Any, column: dict[str, Any]) -> None:
    dist = column["distribution"] or {}
    ax.set_title(f"{column['column_name']} ({_format(column['shape'])})", fontsize=8)
    ax.tick_params(labelsize=6)
    if dist.get("kind") == "histogram" and dist["edges"]:
        centres = np.arange(len(dist["real"]))
        ax.bar(centres, dist["real"], width=1.0, alpha=0.55, color=REAL_COLOR, label="real")
        ax.bar(centres, dist["synthetic"], width=1.0, alpha=0.55, color=SYNTHETIC_COLOR, label="synthetic")
        ends = [_format(e, 2) if isinstance(e, float) else str(e)[:10] for e in (dist["edges"][0], dist["edges"][-1])]
        ax.set_xticks([-0.5, len(centres) - 0.5], ends)
    elif dist.get("kind") == "bar":
        labels = dist["labels"][:MAX_PDF_CATEGORIES]
        x = np.arange(len(labels))
        ax.bar(x - 0.2, dist["real"][:len(labels)], width=0.4, color=REAL_COLOR, label="real")
        ax.bar(x + 0.2, dist["synthetic"][:len(labels)], width=0.4, color=SYNTHETIC_COLOR, label="synthetic")
        ax.set_xticks(x, [str(label)[:10] for label in labels], rotation=45, ha="right")


def columns_page(run: RunData, title: str) -> Any:
    """Real vs synthetic distributions; the lowest-scoring columns when there are too many for a page."""
    figure = _page(run, title)
    columns = sorted(run.columns, key=lambda c: (c["shape"] is not None, c["shape"] or 0.0))[:MAX_PDF_COLUMNS]
    columns = [c for c in run.columns if c in columns]
    if len(run.columns) > MAX_PDF_COLUMNS:
        figure.text(0.02, 0.90, f"The {MAX_PDF_COLUMNS} columns with the lowest shape scores of {len(run.columns)}; "
                                "the HTML report has them all.", fontsize=8)
    cols = min(4, max(1, len(columns)))
    rows = max(1, math.ceil(len(columns) / cols))
    grid = figure.add_gridspec(rows, cols, left=0.05, right=0.98, bottom=0.08, top=0.86, hspace=0.8, wspace=0.3)
    for i, column in enumerate(columns):
        _distribution(figure.add_subplot(grid[i // cols, i % cols]), column)
    if columns:
        figure.axes[0].legend(fontsize=6)
    return figure


def pairs_page(run: RunData, title: str) -> Any:
    """Heatmaps of the real and synthetic pair statistics and their difference."""
    figure = _page(run, title)
    names, real, synthetic = association_matrices(run)
    as_array = [np.array([[np.nan if v is None else v for v in row] for row in m], dtype=float).reshape(len(names), -1)
                for m in (real, synthetic)]
    difference = as_array[1] - as_array[0]
    scale = difference_scale([[None if np.isnan(v) else float(v) for v in row] for row in difference])
    matrices = [*as_array, difference]
    labels = ("Real", "Synthetic", f"Synthetic − real (±{scale:.2f})")
    for i, (matrix, label) in enumerate(zip(matrices, labels)):
        ax = figure.add_axes((0.04 + i * 0.33, 0.12, 0.26, 0.7))
        limit = scale if i == 2 else 1.0
        image = ax.imshow(matrix, cmap="RdBu", vmin=-limit, vmax=limit)
        ax.set_title(label, fontsize=10)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)), names, fontsize=6)
        if names:
            figure.colorbar(image, ax=ax, shrink=0.6, location="bottom")
    return figure


def projection_page(run: RunData, title: str) -> Any:
    """The PCA scatter of real and synthetic rows."""
    figure = _page(run, title)
    ax = figure.add_axes((0.08, 0.1, 0.85, 0.75))
    for source, color in (("real", REAL_COLOR), ("synthetic", SYNTHETIC_COLOR)):
        points = [p for p in run.projection if p["source"] == source]
        ax.scatter([p["x"] for p in points], [p["y"] for p in points], s=6, alpha=0.5, color=color, label=source)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.legend()
    return figure


def _risk_rows(run: RunData) -> list[list[str]]:
    def interval(row: dict[str, Any], rate: str) -> str:
        if row[rate] is None:
            return "n/a" if rate != "holdout_rate" else "unavailable"
        return f"{row[rate]:.3f} [{row[f'{rate}_low']:.3f}, {row[f'{rate}_high']:.3f}]"

    return [[_short(risk_label(r), PRIVACY_NOTE_CHARS), interval(r, "risk"), interval(r, "attack_rate"),
             interval(r, "holdout_rate"), _format(r["attacks"])] for r in run.risks]


def privacy_page(run: RunData, title: str) -> Any:
    """The privacy metrics, the attack-based risks, and both against the holdout baseline."""
    figure = _page(run, title)
    rows = [[p["metric"] + (f" ({p['column_name']})" if p["column_name"] else ""), _format(p["value"], 4),
             _short(p["reason"] or "", PRIVACY_NOTE_CHARS)] for p in run.privacy]
    _table(figure.add_axes((0.02, 0.5, 0.55, 0.38)), rows, ["metric", "value", "note"])
    _table(figure.add_axes((0.02, 0.02, 0.6, 0.44)), _risk_rows(run),
           ["attack", "risk [95% CI]", "training rows", "holdout baseline", "attacks"], [0.26, 0.21, 0.21, 0.21, 0.11])
    values = {p["metric"]: p["value"] for p in run.privacy}
    ax = figure.add_axes((0.7, 0.58, 0.28, 0.3))
    labels = ["exact-copy rate", "median DCR"]
    synthetic = [values.get("exact_copy_rate") or 0.0, values.get("dcr_synthetic_median") or 0.0]
    holdout = [values.get("holdout_copy_rate") or 0.0, values.get("dcr_holdout_median") or 0.0]
    x = np.arange(len(labels))
    ax.bar(x - 0.2, synthetic, width=0.4, color=SYNTHETIC_COLOR, label="synthetic → training")
    ax.bar(x + 0.2, holdout, width=0.4, color=REAL_COLOR, label="holdout → training")
    ax.set_xticks(x, labels, fontsize=8)
    ax.legend(fontsize=7)
    _risk_bars(figure.add_axes((0.7, 0.12, 0.28, 0.34)), [r for r in run.risks if r["available"]])
    return figure


def _risk_bars(ax: Any, risks: list[dict[str, Any]]) -> None:
    """Attack success on the training rows and on the holdout rows, with their confidence intervals."""
    x = np.arange(len(risks))
    for offset, rate, color, label in ((-0.2, "attack_rate", SYNTHETIC_COLOR, "training rows"),
                                       (0.2, "holdout_rate", REAL_COLOR, "holdout baseline")):
        shown = [r for r in risks if r[rate] is not None]
        if shown:
            errors = [[r[rate] - r[f"{rate}_low"] for r in shown], [r[f"{rate}_high"] - r[rate] for r in shown]]
            ax.bar(x[[risks.index(r) for r in shown]] + offset, [r[rate] for r in shown], width=0.4, color=color,
                   label=label, yerr=errors, capsize=2)
    ax.set_ylim(0, 1)
    ax.set_title("Attack success rate", fontsize=9)
    ax.set_xticks(x, [_short(risk_label(r), 24) for r in risks], rotation=60, ha="right", fontsize=6)
    ax.legend(fontsize=7)


PAGES = (summary_page, columns_page, pairs_page, projection_page, privacy_page)


def write_pdf(run: RunData, path: Path, titles: Sequence[str]) -> Path:
    """Write one page per section (``titles`` in section order) to ``path``."""
    backend_pdf = require("matplotlib.backends.backend_pdf")
    with backend_pdf.PdfPages(path) as pdf:
        for page, title in zip(PAGES, titles):
            pdf.savefig(page(run, title))
    return path
