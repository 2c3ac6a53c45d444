"""The report's sections of the models side by side (customlabels.evaluation.versus): each metric's difference
with the better model marked, and F1 against threshold per label. Values from outside are escaped here."""

from __future__ import annotations

import functools
import html

from customlabels.evaluation.charts import f1_threshold_png
from customlabels.evaluation.compare import headline
from customlabels.evaluation.evaluate import Evaluation
from customlabels.evaluation.glossary import number_text
from customlabels.evaluation.report_sections import chart_figure
from customlabels.evaluation.versus import (
    BEST_F1,
    PER_LABEL_METRICS,
    SUMMARY_METRICS,
    f1_curves,
    metric_differences,
)
from customlabels.outputs import KeyFolder

BETTER_MARK = "▲"
"""Marks the better model's value (bold, with this sign) in the report and the terminal."""


def signed(value: float | None) -> str:
    return "n/a" if value is None else ("±0.000" if value == 0 else f"{value:+.3f}")


def versus_rows(evaluations: dict[str, Evaluation]) -> tuple[list[str], list[tuple[str, str, dict]]]:
    """The column names (each model, then each other model minus the reference, then the better) and the rows:
    (label or "all", metric, its comparison), per label first, the summary last."""
    compared = metric_differences(evaluations, {name: headline(e) for name, e in evaluations.items()})
    reference, others = compared["reference"], [name for name in evaluations if name != compared["reference"]]
    columns = [*evaluations, *(f"{name} − {reference}" for name in others), "better"]
    rows = [
        (label, short, metrics[key])
        for label, metrics in compared["per_label"].items()
        for short, key in (*PER_LABEL_METRICS, BEST_F1)
    ]
    rows += [("all", short, compared["summary"][key]) for short, key in SUMMARY_METRICS]
    return columns, rows


def versus_section(evaluations: dict[str, Evaluation]) -> str:
    columns, rows = versus_rows(evaluations)
    body = []
    for label, metric, comparison in rows:
        better = comparison["better"]
        values = [
            f"<b>{BETTER_MARK} {number_text(value)}</b>" if name == better else number_text(value)
            for name, value in comparison["values"].items()
        ]
        differences = [signed(value) for value in comparison["difference"].values()]
        cells = [html.escape(label), html.escape(metric), *values, *differences]
        cells.append(html.escape(better) if better else "tie or n/a")
        body.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(name)}</th>" for name in ["label", "metric", *columns])
    return (
        f"<section><h2>Which model is better</h2><p>Each metric of each model, its difference from "
        f"{html.escape(next(iter(evaluations)))} (the first model given) and the better model ({BETTER_MARK}: the "
        "higher value; a tie or a value that is n/a marks none). Precision, recall and F1 at the thresholds the "
        "results hold; best F1 at each model's own best-F1 threshold (see Thresholds); AP over every threshold."
        f'</p><div class="scroll"><table><tr>{header}</tr>{"".join(body)}</table></div></section>'
    )


def f1_section(evaluations: dict[str, Evaluation], folder: KeyFolder) -> str:
    """A chart per label with ground truth: F1 against threshold, a line per model."""
    curves = f1_curves(evaluations)
    labels = sorted({label for per_label in curves.values() for label in per_label})
    if not labels:
        return "<section><h2>F1 against threshold</h2><p>none: no label has ground truth.</p></section>"
    figures = []
    for label in labels:
        per_model = {name: per_label[label] for name, per_label in curves.items() if label in per_label}
        draw = functools.partial(f1_threshold_png, per_model, label)
        figures.append(
            chart_figure(folder, f"f1-{label}.png", draw, f"F1 against threshold of {label}", label, (540, 360))
        )
    return (
        "<section><h2>F1 against threshold</h2><p>F1 of the predictions at or above each threshold, per label: "
        "where to cut each model, and how much a threshold away from its best costs. The dot marks the best F1. "
        "Below the lowest confidence a result holds the line cannot go on: results hold nothing below their own "
        "threshold.</p>"
        '<div class="curves">' + "".join(figures) + "</div></section>"
    )
