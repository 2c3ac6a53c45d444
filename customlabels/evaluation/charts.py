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
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    figure.savefig(path, dpi=90, metadata=PLOT_METADATA)
    pyplot.close(figure)
    return path
