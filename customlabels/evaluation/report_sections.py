"""The sections of the evaluation report, each a function of the evaluations (one model, or several side by side)
to its HTML: the headline, the image-level metrics, scikit-learn's classification report, the confusion or
co-occurrence matrix, the PR curves, the tuned thresholds, the most confused labels, the pictures of the errors and
disagreements, the images without a result. Every value from outside (a key, a label, a model's name) is escaped
here; the page around them is templates/report.html."""

from __future__ import annotations

import html
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from customlabels.evaluation.charts import pr_curves_png
from customlabels.evaluation.compare import differences, headline
from customlabels.evaluation.evaluate import Evaluation
from customlabels.evaluation.glossary import IMAGE_LEVEL_ROWS, MEANINGS, number_text
from customlabels.evaluation.image_level import NO_LABEL
from customlabels.evaluation.report_pictures import PICTURES_PER_SECTION, Thumbnails, counts_html
from customlabels.outputs import KeyFolder, local_name


def headline_section(evaluations: dict[str, Evaluation]) -> str:
    headlines = {name: headline(evaluation) for name, evaluation in evaluations.items()}
    level = next(iter(headlines.values()))["level"]
    labels = sorted({label for value in headlines.values() for label in value["per_label"]})
    metrics = [("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("AP", "average_precision")]
    header = ["label"] + [
        f"{short} {name}" if len(evaluations) > 1 else short for short, _ in metrics for name in evaluations
    ]
    rows = [
        [label]
        + [
            number_text(headlines[name]["per_label"].get(label, {}).get(key))
            for _, key in metrics
            for name in evaluations
        ]
        for label in labels
    ]
    summary_rows = []
    for name, value in headlines.items():
        summary = value["summary"]
        summary_rows.append(
            [name, *(number_text(summary[key]) for key in ("mean_average_precision", "precision", "recall", "f1"))]
        )
    averaged = "micro" if level == "detection" else "macro"
    where = (
        "boxes matched at the IoU above, at the thresholds the results hold"
        if level == "detection"
        else "image labels, at the thresholds the results hold"
    )
    return (
        f"<section><h2>Headline</h2><p>Per label, {where}.</p>"
        + html_table(header, rows)
        + html_table(["model", "mAP", f"{averaged} precision", f"{averaged} recall", f"{averaged} F1"], summary_rows)
        + glossary(["precision", "recall", "F1", "AP", "mAP", averaged])
        + "</section>"
    )


def image_level_section(evaluations: dict[str, Evaluation]) -> str:
    names = list(evaluations)
    rows = []
    for metric, meaning, pick in IMAGE_LEVEL_ROWS:
        values = [pick(evaluation.image_level) for evaluation in evaluations.values()]
        rows.append([metric, *[number_text(value) for value in values], meaning])
    first = next(iter(evaluations.values())).image_level
    kind = (
        "single-label: each image has at most one true label (an image without any is of the class (none)); "
        "the prediction is the most confident label"
        if first["kind"] == "single-label"
        else "multi-label: some images have several labels; each label is a yes/no decision per image"
    )
    return (
        f"<section><h2>Image labels</h2><p>{html.escape(kind)}.</p>"
        + html_table(["metric", *names, "meaning"], rows, last_is_meaning=True)
        + "</section>"
    )


def classification_report_section(evaluations: dict[str, Evaluation]) -> str:
    parts = [
        "<section><h2>Classification report</h2><p>scikit-learn's, per image label; support is the number "
        "of images truly of the label. The averages leave (none) out.</p>"
    ]
    for name, evaluation in evaluations.items():
        report = evaluation.image_level["classification_report"]
        rows = [
            [
                label,
                number_text(values.get("precision")),
                number_text(values.get("recall")),
                number_text(values.get("f1-score")),
                number_text(values.get("support")),
            ]
            for label, values in report.items()
            if isinstance(values, dict)
        ]
        if "accuracy" in report:
            rows.append(["accuracy", "", "", number_text(report["accuracy"]), ""])
        parts.append(
            (f"<h3>{html.escape(name)}</h3>" if len(evaluations) > 1 else "")
            + html_table(["label", "precision", "recall", "F1", "support"], rows)
        )
    return "".join(parts) + "</section>"


def matrix_section(evaluations: dict[str, Evaluation]) -> str:
    first = next(iter(evaluations.values())).image_level
    if first["kind"] == "single-label":
        title, explanation = (
            "Confusion matrix",
            (
                "Each image once: its true class (row) against the most "
                "confident predicted label (column). The diagonal is right."
            ),
        )
    else:
        title, explanation = (
            "Co-occurrence matrix (not a confusion matrix)",
            (
                "Multi-label images have several true and several predicted labels, so there is no single cell per "
                "image: a cell counts the images that have the row's true label and the column's predicted label. "
                "Each label's own yes/no confusion is in the JSON (per_label_confusion)."
            ),
        )
    parts = [f"<section><h2>{title}</h2><p>{explanation}</p>"]
    for name, evaluation in evaluations.items():
        parts.append(
            (f"<h3>{html.escape(name)}</h3>" if len(evaluations) > 1 else "") + _matrix_table(evaluation.image_level)
        )
    return "".join(parts) + "</section>"


def _matrix_table(image_level: dict[str, Any]) -> str:
    single = image_level["kind"] == "single-label"
    classes, matrix = image_level["classes"], image_level["confusion_matrix"]
    columns = list(classes) if single else [*classes, NO_LABEL]
    rows = [(label, matrix[i]) for i, label in enumerate(classes) if label != NO_LABEL or any(matrix[i])]
    top = max((max(row) for _, row in rows if row), default=0) or 1
    head = (
        f'<tr><td colspan="2" rowspan="2"></td><th colspan="{len(columns)}" class="axis">predicted →</th></tr>'
        "<tr>" + "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns) + "</tr>"
    )
    body = []
    for index, (label, row) in enumerate(rows):
        axis = f'<th rowspan="{len(rows)}" class="axis vertical">ground truth ↓</th>' if index == 0 else ""
        cells = "".join(
            f'<td class="cell{" diagonal" if columns[j] == label else ""}" style="background:rgba(37,99,235,'
            f'{0.08 + 0.8 * value / top:.2f});color:{"#fff" if value / top > 0.55 else "#111"}">{value}</td>'
            for j, value in enumerate(row)
        )
        body.append(f'<tr>{axis}<th scope="row">{html.escape(label)}</th>{cells}</tr>')
    return f'<div class="scroll"><table class="matrix">{head}{"".join(body)}</table></div>'


def curves_section(evaluations: dict[str, Evaluation], folder: KeyFolder) -> str:
    labels = sorted(
        {
            label
            for evaluation in evaluations.values()
            for label, curve in evaluation.curves.items()
            if curve.ground_truth
        }
    )
    unscored = sorted({label for evaluation in evaluations.values() for label in evaluation.curves} - set(labels))
    note = (
        f"<p>No curve for {html.escape(', '.join(unscored))}: never in the ground truth, so no recall.</p>"
        if unscored
        else ""
    )
    if not labels:
        return f"<section><h2>Precision-recall curves</h2><p>none</p>{note}</section>"
    figures = [
        chart_figure(
            folder,
            f"pr-{label}.png",
            lambda path, label=label: pr_curves_png(evaluations, label, path),
            f"precision-recall curve of {label}",
            label,
            (500, 417),
        )
        for label in labels
    ]
    return (
        "<section><h2>Precision-recall curves</h2><p>Each point is one threshold: lowering it moves right "
        "(more found) and usually down (more mistakes). The dot marks the best F1.</p>"
        '<div class="curves">' + "".join(figures) + "</div>" + note + "</section>"
    )


def chart_figure(folder: KeyFolder, file_name: str, draw, alt: str, caption: str, size: tuple[int, int]) -> str:
    """A chart drawn into the report's folder (`draw(path)`) as a figure; "" when the file system cannot hold it.
    The name is mapped as one name, whatever a label in it holds."""
    name = PurePosixPath(local_name(file_name))
    if not folder.write_at(name, file_name, draw):
        return ""
    return (
        f'<figure><img src="{quote(name.as_posix())}" alt="{html.escape(alt)}" width="{size[0]}" height="{size[1]}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def tuning_section(evaluations: dict[str, Evaluation]) -> str:
    parts = [
        "<section><h2>Thresholds</h2><p>The confidence threshold each label needs, and the precision and "
        "recall it gives on these images. Tune on results made with a low threshold: a result holds nothing "
        "below its own.</p>"
    ]
    for name, evaluation in evaluations.items():
        target = evaluation.tuning["target_precision"]
        rows = []
        for label, tuned in evaluation.tuning["per_label"].items():
            best, lowest = tuned["best_f1"], tuned["reaching_target"]
            reach = (
                [number_text(lowest["threshold"]), number_text(lowest["precision"]), number_text(lowest["recall"])]
                if lowest
                else (["cannot reach it", "", ""] if target is not None else ["n/a", "", ""])
            )
            rows.append(
                [
                    label,
                    number_text(best["threshold"]),
                    number_text(best["precision"]),
                    number_text(best["recall"]),
                    number_text(best["f1"]),
                    *reach,
                ]
            )
        goal = f"precision ≥ {target:g}" if target is not None else "a target precision (--target-precision)"
        table = (
            html_table(
                [
                    "label",
                    "best-F1 threshold",
                    "precision",
                    "recall",
                    "F1",
                    f"threshold for {goal}",
                    "precision",
                    "recall",
                ],
                rows,
            )
            if rows
            else "<p>none: nothing predicted.</p>"
        )
        parts.append((f"<h3>{html.escape(name)}</h3>" if len(evaluations) > 1 else "") + table)
    return "".join(parts) + "</section>"


def confused_section(evaluations: dict[str, Evaluation]) -> str:
    parts = [
        "<section><h2>Most confused</h2><p>A prediction of one label where the truth is another (a box "
        "overlapping a true box of another label; an image label predicted while a true one was missed).</p>"
    ]
    for name, evaluation in evaluations.items():
        confused = evaluation.diagnostics.get("most_confused", [])
        content = (
            html_table(
                ["ground truth", "predicted", "count"], [[d["actual"], d["predicted"], d["count"]] for d in confused]
            )
            if confused
            else "<p>none</p>"
        )
        parts.append((f"<h3>{html.escape(name)}</h3>" if len(evaluations) > 1 else "") + content)
    return "".join(parts) + "</section>"


def errors_section(evaluations: dict[str, Evaluation], pictures: Thumbnails) -> str:
    parts = [
        "<section><h2>False positives and false negatives</h2><p>The images to look at: a false positive "
        "asks whether the label is wrong or the image needs a negative example; a false negative asks for "
        "more training images like it. Ground truth is drawn dashed, predictions solid (✓ right, ✗ wrong).</p>"
    ]
    for name, evaluation in evaluations.items():
        if len(evaluations) > 1:
            parts.append(f"<h3>{html.escape(name)}</h3>")
        for title, key in (("False positives", "false_positive_images"), ("False negatives", "false_negative_images")):
            per_label = evaluation.diagnostics.get(key, {})
            parts.append(f"<h4>{title}</h4>")
            if not per_label:
                parts.append("<p>none</p>")
            for label, keys in per_label.items():
                parts.append(f"<h5>{html.escape(label)} ({len(keys)})</h5>" + pictures.grid(name, evaluation, keys))
    return "".join(parts) + "</section>"


def disagreement_section(evaluations: dict[str, Evaluation], pictures: Thumbnails) -> str:
    found = differences(evaluations)
    intro = (
        "<section><h2>Images the models disagree on</h2><p>Right means no false positive and no false "
        "negative on the image. Each row shows every model's picture.</p>"
    )
    if not found:
        return intro + "<p>none</p></section>"
    rows = []
    for difference in found[:PICTURES_PER_SECTION]:
        cells = "".join(
            f'<div class="verdict {"right" if name in difference["right"] else "wrong"}"><b>{html.escape(name)}: '
            f"{'right' if name in difference['right'] else 'wrong'}</b> "
            f"{counts_html(difference['per_model'][name])}"
            + pictures.figure(name, evaluations[name], difference["image"], with_counts=False)
            + "</div>"
            for name in evaluations
        )
        rows.append(
            f'<div class="disagreement"><h4>{html.escape(difference["image"])}</h4>'
            f'<div class="side-by-side">{cells}</div></div>'
        )
    rest = found[PICTURES_PER_SECTION:]
    more = ("<p>and " + ", ".join(html.escape(d["image"]) for d in rest) + "</p>") if rest else ""
    return intro + f"<p>{len(found)} images.</p>" + "".join(rows) + more + "</section>"


def missing_section(evaluations: dict[str, Evaluation]) -> str:
    parts = [
        "<section><h2>Images without a result</h2><p>Counted as predicting nothing: their objects are false "
        "negatives. An error result counts the same and names its error.</p>"
    ]
    for name, evaluation in evaluations.items():
        items = [html.escape(key) for key in evaluation.missing] + [
            f"{html.escape(key)}: {html.escape(code)}" for key, code in evaluation.errors.items()
        ]
        parts.append(
            (f"<h3>{html.escape(name)}</h3>" if len(evaluations) > 1 else "")
            + ("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>" if items else "<p>none</p>")
        )
    return "".join(parts) + "</section>"


# --- HTML ---------------------------------------------------------------------------------------------------------


def code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def html_table(header: list[str], rows: list[list[Any]], last_is_meaning: bool = False) -> str:
    def cell(index: int, value: Any) -> str:
        meaning = last_is_meaning and index == len(header) - 1
        return f"<td{' class=meaning' if meaning else ''}>{html.escape(str(value))}</td>"

    return (
        '<div class="scroll"><table><tr>'
        + "".join(f"<th>{html.escape(h)}</th>" for h in header)
        + "</tr>"
        + "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
        + "</table></div>"
    )


def glossary(terms: list[str]) -> str:
    return (
        '<dl class="glossary">'
        + "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(MEANINGS[term])}</dd>" for term in terms)
        + "</dl>"
    )
