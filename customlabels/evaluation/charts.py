"""The report's charts, drawn with matplotlib (its Agg backend: no display needed) and tagged as the tool's own
pictures."""

from __future__ import annotations

from pathlib import Path

from customlabels.evaluation.evaluate import Evaluation
from customlabels.outputs import PLOT_METADATA
from customlabels.plots import agg_pyplot


def pr_curves_png(evaluations: dict[str, Evaluation], label: str, path: Path) -> Path:
    """The precision-recall curves of every model for one label, overlaid, each model's best F1 marked."""
    pyplot = agg_pyplot()
    figure, axes = pyplot.subplots(figsize=(6, 5), layout="constrained")
    for index, (name, evaluation) in enumerate(evaluations.items()):
        curve = evaluation.curves.get(label)
        if curve is None or not curve.ground_truth:  # no recall without ground truth: nothing to draw
            continue
        colour = f"C{index}"
        points = curve.points()
        average_precision = curve.average_precision()
        legend = (f"{name}: " if len(evaluations) > 1 else "") + (
            f"AP {average_precision:.3f}" if average_precision is not None else "AP n/a (no ground truth)"
        )
        axes.step(
            [0.0] + [p["recall"] for p in points],
            [1.0] + [p["precision"] for p in points],
            where="post",
            color=colour,
            label=legend,
            linewidth=2,
        )
        tuned = evaluation.tuning["per_label"].get(label, {}).get("best_f1")
        if tuned:
            axes.plot(
                [tuned["recall"]],
                [tuned["precision"]],
                "o",
                color=colour,
                markersize=8,
                label=f"best F1 {tuned['f1']:.2f} at {tuned['threshold']:.1f}",
            )
    axes.set_title(label)
    axes.set_xlabel("recall (share of the ground truth found)")
    axes.set_ylabel("precision (share of predictions right)")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    return _saved(pyplot, figure, axes, path, "lower left")


def _saved(pyplot, figure, axes, path: Path, legend: str) -> Path:
    """The chart with its grid and legend, written as the tool's own picture, its figure closed."""
    axes.grid(alpha=0.3)
    axes.legend(loc=legend, fontsize="small")
    figure.savefig(path, dpi=90, metadata=PLOT_METADATA)
    pyplot.close(figure)
    return path


def f1_threshold_png(curves: dict[str, list[dict]], label: str, path: Path) -> Path:
    """F1 against the confidence threshold of one label, a line per model (`versus.f1_by_threshold` of each), each
    model's best F1 marked: where each model should be cut, and how much F1 a threshold away from it costs."""
    pyplot = agg_pyplot()
    figure, axes = pyplot.subplots(figsize=(6, 4), layout="constrained")
    for index, (name, points) in enumerate(curves.items()):
        scored = [point for point in points if point["f1"] is not None]
        if not scored:
            continue
        colour = f"C{index}"
        # F1 at threshold t is that of the predictions at or above t: constant from one prediction's confidence
        # down to the next lower one's, so a step drawn from the right.
        thresholds = [point["threshold"] for point in scored]
        values = [point["f1"] for point in scored]
        axes.step([100.0, *thresholds], [0.0, *values], where="post", color=colour, label=name, linewidth=2)
        best = max(scored, key=lambda point: point["f1"])
        axes.plot([best["threshold"]], [best["f1"]], "o", color=colour, markersize=7)
        axes.annotate(
            f"{best['f1']:.2f} at {best['threshold']:.1f}",
            (best["threshold"], best["f1"]),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize="small",
            color=colour,
        )
    axes.set_title(f"{label}: F1 against threshold")
    axes.set_xlabel("confidence threshold (predictions at or above it kept)")
    axes.set_ylabel("F1")
    axes.set_xlim(100, 0)
    axes.set_ylim(0, 1.05)
    return _saved(pyplot, figure, axes, path, "lower right")
