"""`customlabels evaluate`'s tables on the terminal: one model's summary, or several models side by side (the HTML
report is customlabels.evaluation.report's)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from customlabels.escaping import shown
from customlabels.evaluation.compare import differences, headline
from customlabels.evaluation.evaluate import Evaluation
from customlabels.evaluation.glossary import IMAGE_LEVEL_ROWS, number_text


def print_summary(evaluation: Evaluation, console: Console) -> None:
    """One model's numbers: what was matched, the image-level metrics, the detection counts per label (with boxes),
    the tuned thresholds (when anything was predicted) and the most confused labels."""
    console.print(_counts_line(evaluation))
    console.print(_image_level_table(evaluation))
    if evaluation.detection:
        console.print(_detection_table(evaluation.detection))
    if evaluation.tuning["per_label"]:
        console.print(_tuning_table(evaluation.tuning))
    confused = evaluation.diagnostics.get("most_confused", [])
    if confused:
        console.print(
            "Most confused: "
            + ", ".join(shown(f"{d['actual']} -> {d['predicted']} ({d['count']})") for d in confused[:5])
        )


def _counts_line(evaluation: Evaluation) -> str:
    return (
        f"[bold]{evaluation.images}[/] images in the manifest, [bold]{evaluation.matched}[/] with a result"
        + (f", [red]{len(evaluation.missing)} without[/] (counted as predicting nothing)" if evaluation.missing else "")
        + (f", [yellow]{len(evaluation.errors)} with an error result[/]" if evaluation.errors else "")
        + (
            f"; {len(evaluation.unmatched_results)} result(s) not in the manifest (ignored)"
            if evaluation.unmatched_results
            else ""
        )
    )


def _image_level_table(evaluation: Evaluation) -> Table:
    table = Table(title=f"Image labels ({evaluation.image_level['kind']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, _, pick in IMAGE_LEVEL_ROWS:
        table.add_row(shown(metric), number_text(pick(evaluation.image_level)))
    return table


def _detection_table(detection: dict[str, Any]) -> Table:
    mean_average_precision = number_text(detection["mean_average_precision"])
    table = Table(title=f"Detection at IoU {detection['iou_threshold']} (mAP {mean_average_precision})")
    for column in ("label", "GT", "TP", "FP", "FN", "precision", "recall", "F1", "AP"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, v in detection["per_label"].items():
        table.add_row(
            shown(label),
            *(str(v[count]) for count in ("ground_truth", "true_positives", "false_positives", "false_negatives")),
            *(number_text(v[rate]) for rate in ("precision", "recall", "f1", "average_precision")),
        )
    return table


def _tuning_table(tuning: dict[str, Any]) -> Table:
    target = tuning["target_precision"]
    table = Table(title="Threshold tuning" + (f" (target precision {target})" if target is not None else ""))
    for column in ("label", "best-F1 threshold", "F1", "precision", "recall", "reaching target", "precision"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, tuned in tuning["per_label"].items():
        best, lowest = tuned["best_f1"], tuned["reaching_target"]
        table.add_row(
            shown(label),
            *(number_text(best[key]) for key in ("threshold", "f1", "precision", "recall")),
            *((number_text(lowest["threshold"]), number_text(lowest["precision"])) if lowest else ("n/a", "n/a")),
        )
    return table


def print_comparison(evaluations: dict[str, Evaluation], console: Console) -> None:
    """The headline of every model, one row per label and model (narrow enough for any terminal), and how many
    images they disagree on."""
    headlines = {name: headline(evaluation) for name, evaluation in evaluations.items()}
    table = Table(title="Models compared (" + next(iter(headlines.values()))["level"] + ")")
    table.add_column("label")
    table.add_column("model", no_wrap=True)
    for metric in ("precision", "recall", "F1", "AP"):
        table.add_column(metric, justify="right")
    labels = sorted({label for value in headlines.values() for label in value["per_label"]})
    for label in labels:
        for index, name in enumerate(evaluations):
            values = headlines[name]["per_label"].get(label, {})
            table.add_row(
                shown(label) if index == 0 else "",
                shown(name),
                *[number_text(values.get(key)) for key in ("precision", "recall", "f1", "average_precision")],
                end_section=index == len(evaluations) - 1,
            )
    for index, name in enumerate(evaluations):
        summary = headlines[name]["summary"]
        table.add_row(
            "[b]all[/] (mAP)" if index == 0 else "",
            shown(name),
            *[number_text(summary.get(key)) for key in ("precision", "recall", "f1", "mean_average_precision")],
        )
    console.print(table)
    console.print(_versus_table(evaluations))
    console.print(f"{len(differences(evaluations))} image(s) where one model is right and another wrong")


def _versus_table(evaluations: dict[str, Evaluation]) -> Table:
    """Each metric's difference from the first model, the better model's value marked (bold, ▲)."""
    from customlabels.evaluation.report_versus import BETTER_MARK, signed, versus_rows

    columns, rows = versus_rows(evaluations)
    table = Table(title=f"Which model is better ({BETTER_MARK}: the higher value; differences from the first model)")
    table.add_column("label")
    table.add_column("metric")
    for column in columns[:-1]:
        table.add_column(shown(column), justify="right")
    table.add_column("better")
    previous = None
    for label, metric, comparison in rows:
        better = comparison["better"]
        values = [
            f"[b]{BETTER_MARK} {number_text(value)}[/]" if name == better else number_text(value)
            for name, value in comparison["values"].items()
        ]
        table.add_row(
            shown(label) if label != previous else "",
            metric,
            *values,
            *(signed(value) for value in comparison["difference"].values()),
            shown(better) if better else "tie or n/a",
        )
        previous = label
    return table
