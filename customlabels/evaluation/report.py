"""The pictures and pages of `customlabels evaluate`: a confusion heat-map, a PR curve per label, an HTML
report that opens from the file system, and the terminal tables."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from customlabels.evaluation.evaluate import NO_LABEL, Evaluation
from customlabels.plots import agg_pyplot


def confusion_png(evaluation: Evaluation, path: Path) -> Path:
    """Rows: ground truth; columns: prediction (and NO_LABEL when the model returned nothing)."""
    pyplot = agg_pyplot()
    image_level = evaluation.image_level
    single = image_level["kind"] == "single-label"
    matrix = image_level["confusion_matrix"]
    columns = list(image_level["classes"]) if single else [*image_level["classes"], NO_LABEL]
    # Single-label: the (none) row is there when some image has no object (its true class is then "nothing").
    rows = [c for i, c in enumerate(image_level["classes"]) if c != NO_LABEL or (single and any(matrix[i]))]
    if single:
        matrix = [matrix[image_level["classes"].index(row)] for row in rows]
    figure, axes = pyplot.subplots(figsize=(1.2 + 0.8 * len(columns), 1.0 + 0.7 * len(rows)))
    shown = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    axes.set_yticks(range(len(rows)), rows)
    axes.set_xlabel("predicted")
    axes.set_ylabel("ground truth")
    top = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            axes.text(j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "black")
    axes.set_title("Confusion matrix (single-label)" if single else
                   "Co-occurrence (multi-label): images having both labels")
    figure.colorbar(shown, ax=axes)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def pr_curve_png(evaluation: Evaluation, label: str, path: Path) -> Path:
    pyplot = agg_pyplot()
    curve = evaluation.curves[label]
    points = curve.points()
    figure, axes = pyplot.subplots(figsize=(4.5, 4))
    axes.step([0.0] + [p["recall"] for p in points], [1.0] + [p["precision"] for p in points], where="post")
    tuned = evaluation.tuning["per_label"].get(label, {}).get("best_f1")
    if tuned:
        axes.plot([tuned["recall"]], [tuned["precision"]], "o", color="tab:red",
                  label=f"best F1 {tuned['f1']:.2f} at {tuned['threshold']:.1f}")
        axes.legend(loc="lower left")
    average_precision = curve.average_precision()
    axes.set_title(f"{label}: AP {average_precision:.3f}" if average_precision is not None else label)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def _file_name(label: str) -> str:
    return "pr-" + "".join(c if c.isalnum() else "_" for c in label) + ".png"


def write_report(evaluation: Evaluation, folder: Path) -> Path:
    """index.html with the plots beside it; every number also in evaluation.json."""
    folder.mkdir(parents=True, exist_ok=True)
    confusion = confusion_png(evaluation, folder / "confusion-matrix.png")
    curves = {label: pr_curve_png(evaluation, label, folder / _file_name(label))
              for label, curve in evaluation.curves.items() if curve.predictions or curve.ground_truth}
    data = evaluation.to_json()
    (folder / "evaluation.json").write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")
    escape = html.escape
    sections = [f"<h1>Evaluation</h1><p>{evaluation.images} images in the manifest, {evaluation.matched} with a "
                f"result, {len(evaluation.missing)} without (counted as predicting nothing), "
                f"{len(evaluation.errors)} with an error result.</p>"]
    if evaluation.missing:
        sections.append("<h2>Images without a result</h2><ul>" + "".join(
            f"<li>{escape(key)}</li>" for key in evaluation.missing) + "</ul>")
    sections.append("<h2>Image-level labels</h2>" + _table(
        ["metric", "value"], [[name, _number(value)] for name, value in _image_level_rows(evaluation)]))
    sections.append(f'<img src="{confusion.name}" alt="confusion matrix">')
    if evaluation.detection:
        detection = evaluation.detection
        sections.append(f"<h2>Detection at IoU {detection['iou_threshold']}</h2>" + _table(
            ["label", "GT", "TP", "FP", "FN", "precision", "recall", "F1", "AP"],
            [[label, v["ground_truth"], v["true_positives"], v["false_positives"], v["false_negatives"],
              _number(v["precision"]), _number(v["recall"]), _number(v["f1"]), _number(v["average_precision"])]
             for label, v in detection["per_label"].items()])
            + f"<p>mAP {_number(detection['mean_average_precision'])}; AP is {escape(detection['ap_interpolation'])}."
              "</p>")
    sections.append("<h2>Precision-recall curves</h2>" + "".join(
        f'<img src="{path.name}" alt="PR curve of {escape(label)}">' for label, path in curves.items()))
    sections.append("<h2>Threshold tuning</h2>" + _table(
        ["label", "best-F1 threshold", "F1", "precision", "recall", "lowest threshold reaching target", "precision"],
        _tuning_rows(evaluation)))
    diagnostics = evaluation.diagnostics
    sections.append("<h2>Most confused</h2>" + _table(
        ["ground truth", "predicted", "count"],
        [[d["actual"], d["predicted"], d["count"]] for d in diagnostics.get("most_confused", [])]))
    for title, key in (("False positives (check the labels, add negative examples)", "false_positive_images"),
                       ("False negatives (add examples like these)", "false_negative_images")):
        sections.append(f"<h2>{title}</h2>" + "".join(
            f"<h3>{escape(label)}</h3><ul>" + "".join(f"<li>{escape(k)}</li>" for k in keys) + "</ul>"
            for label, keys in diagnostics.get(key, {}).items()))
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>Evaluation</title><style>"
            "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child{text-align:left}"
            "img{margin:.5em;border:1px solid #eee}</style></head><body>" + "".join(sections) + "</body></html>")
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    return ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
            + "</table>")


def _image_level_rows(evaluation: Evaluation) -> list[tuple[str, Any]]:
    image_level = evaluation.image_level
    rows: list[tuple[str, Any]] = [("kind", image_level["kind"])]
    for average in ("micro", "macro", "weighted"):
        for name in ("precision", "recall", "f1"):
            rows.append((f"{average} {name}", image_level[average][name]))
    rows += [("accuracy", image_level["accuracy"]), ("balanced accuracy", image_level["balanced_accuracy"]),
             ("Hamming loss", image_level["hamming_loss"]), ("Jaccard (macro)", image_level["jaccard"]["macro"]),
             ("Matthews correlation", image_level["mcc"])]
    return rows


def _tuning_rows(evaluation: Evaluation) -> list[list[str]]:
    rows = []
    for label, tuned in evaluation.tuning["per_label"].items():
        best, lowest = tuned["best_f1"], tuned["reaching_target"]
        rows.append([label, _number(best["threshold"]), _number(best["f1"]), _number(best["precision"]),
                     _number(best["recall"]), _number(lowest["threshold"]) if lowest else "n/a",
                     _number(lowest["precision"]) if lowest else "n/a"])
    return rows


def print_summary(evaluation: Evaluation, console: Console) -> None:
    console.print(f"[bold]{evaluation.images}[/] images in the manifest, [bold]{evaluation.matched}[/] with a result"
                  + (f", [red]{len(evaluation.missing)} without[/] (counted as predicting nothing)"
                     if evaluation.missing else "")
                  + (f", [yellow]{len(evaluation.errors)} with an error result[/]" if evaluation.errors else "")
                  + (f"; {len(evaluation.unmatched_results)} result(s) not in the manifest (ignored)"
                     if evaluation.unmatched_results else ""))
    table = Table(title="Image-level labels")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in _image_level_rows(evaluation):
        table.add_row(name, _number(value))
    console.print(table)
    if evaluation.detection:
        detection = evaluation.detection
        table = Table(title=f"Detection at IoU {detection['iou_threshold']} "
                            f"(mAP {_number(detection['mean_average_precision'])})")
        for column in ("label", "GT", "TP", "FP", "FN", "precision", "recall", "F1", "AP"):
            table.add_column(column, justify="left" if column == "label" else "right")
        for label, v in detection["per_label"].items():
            table.add_row(label, str(v["ground_truth"]), str(v["true_positives"]), str(v["false_positives"]),
                          str(v["false_negatives"]), _number(v["precision"]), _number(v["recall"]), _number(v["f1"]),
                          _number(v["average_precision"]))
        console.print(table)
    if evaluation.tuning["per_label"]:
        target = evaluation.tuning["target_precision"]
        table = Table(title="Threshold tuning" + (f" (target precision {target})" if target is not None else ""))
        for column in ("label", "best-F1 threshold", "F1", "precision", "recall", "reaching target", "precision"):
            table.add_column(column, justify="left" if column == "label" else "right")
        for row in _tuning_rows(evaluation):
            table.add_row(*row)
        console.print(table)
    confused = evaluation.diagnostics.get("most_confused", [])
    if confused:
        console.print("Most confused: " + ", ".join(f"{d['actual']} -> {d['predicted']} ({d['count']})"
                                                    for d in confused[:5]))
