"""The pages and tables of `customlabels evaluate`: an HTML report (one model, or several side by side) that opens
from the file system, its PR curves, and the terminal tables.

The report carries a reader from the numbers to the images behind them: the context it was made in, each metric
with its meaning, the matrices as tables with labelled axes, the tuning as the threshold each label needs, and the
false positives and negatives (and, comparing models, the images they disagree on) as pictures linked to their place
in the gallery. The pictures are drawn by a function the caller passes (`Drawer`), so that this package needs no
drawing code of the gallery's."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from string import Template
from typing import Any
from urllib.parse import quote

from customlabels.datasets.anchors import gallery_anchor
from customlabels.datasets.manifest import ManifestEntry
from customlabels.evaluation.charts import pr_curves_png
from customlabels.evaluation.compare import comparison_document, differences, headline
from customlabels.evaluation.evaluate import Evaluation
from customlabels.evaluation.glossary import IMAGE_LEVEL_ROWS, MEANINGS, number_text
from customlabels.evaluation.image_level import NO_LABEL
from customlabels.outputs import KeyFolder, NotSaved, local_name
from customlabels.results.model import ImageResult

Drawer = Callable[[ManifestEntry, ImageResult], Any]
"""(manifest line, result) -> a PIL image with the ground truth and the predictions drawn, or None without one."""

THUMBNAIL_WIDTH = 360
PICTURES_PER_SECTION = 24
"""Past this many, a section lists the rest as links: the report stays quick to open on a large test set."""


@dataclass(frozen=True)
class ReportContext:
    """What the numbers were computed from, shown at the top of the report."""

    manifest: str
    results: dict[str, str]
    """Model name -> where its results were read from."""
    iou_threshold: float
    generated: str
    """When the report was made, as the caller words it (the caller owns the clock)."""
    thresholds: str | None = None
    """The --thresholds file the results were scored under; None: the thresholds the results were made with."""
    target_precision: float | None = None
    galleries: dict[str, str] = field(default_factory=dict)
    """Model name -> its gallery's index.html, relative to the report's folder; a model without one: no links."""
    notes: list[str] = field(default_factory=list)


def write_report(
    evaluations: dict[str, Evaluation],
    folder: Path,
    context: ReportContext,
    draw: Drawer | None = None,
    on_not_saved: Callable[[NotSaved], None] | None = None,
) -> Path:
    """index.html with the PR curves and pictures beside it, and every number in evaluation.json (one model) or
    comparison.json (several). Pictures and charts are named by their key or label mapped as customlabels.outputs
    maps keys, tagged as the tool's own; one the file system cannot hold goes to `on_not_saved` (by default:
    raised), and the report is written without it."""
    folder.mkdir(parents=True, exist_ok=True)
    names = list(evaluations)
    first = evaluations[names[0]]
    if len(names) == 1:
        data, data_name = first.to_json(), "evaluation.json"
    else:
        data, data_name = comparison_document(evaluations), "comparison.json"
    (folder / data_name).write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")
    pictures = _Pictures(folder, draw, context.galleries, on_not_saved)
    sections = [
        _header(evaluations, context, data_name),
        _headline_section(evaluations),
        _image_level_section(evaluations),
        _classification_report_section(evaluations),
        _matrix_section(evaluations),
        _curves_section(evaluations, KeyFolder(folder, on_not_saved)),
        _tuning_section(evaluations),
        _confused_section(evaluations),
    ]
    if len(names) > 1:
        sections.append(_disagreement_section(evaluations, pictures))
    sections += [_errors_section(evaluations, pictures), _missing_section(evaluations)]
    title = "Evaluation" if len(names) == 1 else "Comparison of " + ", ".join(names)
    index = folder / "index.html"
    index.write_text(_page(html.escape(title), "".join(sections)), encoding="utf-8")
    return index


# --- sections -----------------------------------------------------------------------------------------------------


def _header(evaluations: dict[str, Evaluation], context: ReportContext, data_name: str) -> str:
    first = next(iter(evaluations.values()))
    rows = [("manifest", _code(context.manifest))]
    for name, source in context.results.items():
        evaluation = evaluations[name]
        label = "results" if len(evaluations) == 1 else f"results of {name}"
        counts = (
            f"{evaluation.matched} of {evaluation.images} images with a result"
            + (f", {len(evaluation.missing)} without (counted as predicting nothing)" if evaluation.missing else "")
            + (f", {len(evaluation.errors)} with an error result" if evaluation.errors else "")
        )
        rows.append((label, f"{_code(source)}<br>{html.escape(counts)}"))
        rows.append(
            (
                "model" if len(evaluations) == 1 else f"model of {name}",
                "<br>".join(_code(arn) for arn in evaluation.model_versions) or "not named by the results",
            )
        )
    rows += [
        ("IoU to match a box", f"{context.iou_threshold:g}" if first.detection else "n/a (no boxes)"),
        (
            "thresholds",
            _code(context.thresholds)
            if context.thresholds
            else "as the results were made (each result holds nothing below its own)",
        ),
        ("target precision", number_text(context.target_precision)),
        (
            "task",
            f"{html.escape(first.image_level['kind'])}, "
            + ("detection (boxes)" if first.detection else "classification (image labels)"),
        ),
        ("labels", html.escape(", ".join(first.labels)) or "none"),
        ("generated", html.escape(context.generated)),
        ("every number", f'<a href="{data_name}">{data_name}</a>'),
    ]
    for name in evaluations.keys() & context.galleries.keys():
        rows.append(
            (
                "gallery" if len(evaluations) == 1 else f"gallery of {name}",
                f'<a href="{html.escape(context.galleries[name])}">the pictures of every image</a>',
            )
        )
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in context.notes)
    return (
        "<header><h1>" + ("Evaluation" if len(evaluations) == 1 else "Comparison of models") + "</h1>"
        '<dl class="context">'
        + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
        + "</dl>"
        + notes
        + "</header>"
    )


def _headline_section(evaluations: dict[str, Evaluation]) -> str:
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
            [
                name,
                number_text(summary["mean_average_precision"]),
                number_text(summary["precision"]),
                number_text(summary["recall"]),
                number_text(summary["f1"]),
            ]
        )
    averaged = "micro" if level == "detection" else "macro"
    where = (
        "boxes matched at the IoU above, at the thresholds the results hold"
        if level == "detection"
        else "image labels, at the thresholds the results hold"
    )
    return (
        f"<section><h2>Headline</h2><p>Per label, {where}.</p>"
        + _table(header, rows)
        + _table(["model", "mAP", f"{averaged} precision", f"{averaged} recall", f"{averaged} F1"], summary_rows)
        + _glossary(["precision", "recall", "F1", "AP", "mAP", averaged])
        + "</section>"
    )


def _image_level_section(evaluations: dict[str, Evaluation]) -> str:
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
        + _table(["metric", *names, "meaning"], rows, last_is_meaning=True)
        + "</section>"
    )


def _classification_report_section(evaluations: dict[str, Evaluation]) -> str:
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
            + _table(["label", "precision", "recall", "F1", "support"], rows)
        )
    return "".join(parts) + "</section>"


def _matrix_section(evaluations: dict[str, Evaluation]) -> str:
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


def _curves_section(evaluations: dict[str, Evaluation], folder: KeyFolder) -> str:
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
    figures = []
    for label in labels:
        name = PurePosixPath(local_name(f"pr-{label}.png"))  # a label is one name, whatever it holds
        if folder.write_at(name, f"pr-{label}.png", lambda path: pr_curves_png(evaluations, label, path)):  # noqa: B023
            figures.append(
                f'<figure><img src="{quote(name.as_posix())}" alt="precision-recall curve of {html.escape(label)}" '
                f'width="500" height="417"><figcaption>{html.escape(label)}</figcaption></figure>'
            )
    return (
        "<section><h2>Precision-recall curves</h2><p>Each point is one threshold: lowering it moves right "
        "(more found) and usually down (more mistakes). The dot marks the best F1.</p>"
        '<div class="curves">' + "".join(figures) + "</div>" + note + "</section>"
    )


def _tuning_section(evaluations: dict[str, Evaluation]) -> str:
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
            _table(
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


def _confused_section(evaluations: dict[str, Evaluation]) -> str:
    parts = [
        "<section><h2>Most confused</h2><p>A prediction of one label where the truth is another (a box "
        "overlapping a true box of another label; an image label predicted while a true one was missed).</p>"
    ]
    for name, evaluation in evaluations.items():
        confused = evaluation.diagnostics.get("most_confused", [])
        content = (
            _table(
                ["ground truth", "predicted", "count"], [[d["actual"], d["predicted"], d["count"]] for d in confused]
            )
            if confused
            else "<p>none</p>"
        )
        parts.append((f"<h3>{html.escape(name)}</h3>" if len(evaluations) > 1 else "") + content)
    return "".join(parts) + "</section>"


def _errors_section(evaluations: dict[str, Evaluation], pictures: _Pictures) -> str:
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


def _disagreement_section(evaluations: dict[str, Evaluation], pictures: _Pictures) -> str:
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
            f"{_counts(difference['per_model'][name])}"
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


def _counts(counts: dict[str, Any]) -> str:
    return (
        f'<span class="counts">{counts["true_positives"]} right, {counts["false_positives"]} false '
        f"positive(s), {counts['false_negatives']} missed</span>"
    )


def _missing_section(evaluations: dict[str, Evaluation]) -> str:
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


# --- pictures -----------------------------------------------------------------------------------------------------


class _Pictures:
    """Thumbnails of images drawn with their verdicts, written once per model and image, each linked to the
    image's place in its model's gallery (its anchor, customlabels.datasets.anchors)."""

    def __init__(
        self,
        folder: Path,
        draw: Drawer | None,
        galleries: dict[str, str],
        on_not_saved: Callable[[NotSaved], None] | None = None,
    ) -> None:
        self.folder, self.draw, self.galleries = folder, draw, galleries
        self.written: dict[tuple[str, str], str | None] = {}
        self.on_not_saved = on_not_saved
        self.folders: dict[str, KeyFolder] = {}

    def grid(self, model: str, evaluation: Evaluation, keys: Sequence[str]) -> str:
        shown, rest = keys[:PICTURES_PER_SECTION], keys[PICTURES_PER_SECTION:]
        more = (
            "<p>and " + ", ".join(self._link(model, evaluation, key, html.escape(key)) for key in rest) + "</p>"
            if rest
            else ""
        )
        return '<div class="grid">' + "".join(self.figure(model, evaluation, key) for key in shown) + "</div>" + more

    def figure(self, model: str, evaluation: Evaluation, key: str, with_counts: bool = True) -> str:
        source = self._thumbnail(model, evaluation, key)
        picture = (
            f'<img src="{html.escape(source)}" alt="{html.escape(key)}">'
            if source
            else '<span class="no-picture">no picture (pass --images)</span>'
        )
        counts = evaluation.diagnostics["per_image"].get(key) if with_counts else None
        return (
            f'<figure class="thumb">{self._link(model, evaluation, key, picture)}<figcaption>'
            f"{self._link(model, evaluation, key, html.escape(key))}<br>{_counts(counts) if counts else ''}"
            "</figcaption></figure>"
        )

    def _link(self, model: str, evaluation: Evaluation, key: str, content: str) -> str:
        gallery = self.galleries.get(model)
        if not gallery:
            return content
        result_key = evaluation.diagnostics["per_image"].get(key, {}).get("result_key", key)
        return f'<a href="{html.escape(gallery)}#{gallery_anchor(result_key)}">{content}</a>'

    def _thumbnail(self, model: str, evaluation: Evaluation, key: str) -> str | None:
        if (model, key) in self.written:
            return self.written[(model, key)]
        source = None
        pair = next(((entry, result) for entry, result in evaluation.pairs if entry.key == key), None)
        picture = self.draw(*pair) if self.draw and pair else None
        if picture is not None:
            picture = picture.convert("RGB")
            picture.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 3))
            if model not in self.folders:  # a model's name is one folder name, whatever it holds
                self.folders[model] = KeyFolder(self.folder / "pictures" / local_name(model), self.on_not_saved)
            path = self.folders[model].save_picture(f"{key}.jpg", picture, "JPEG", quality=85)
            source = quote(path.relative_to(self.folder).as_posix()) if path else None
        self.written[(model, key)] = source
        return source


# --- helpers -----------------------------------------------------------------------------------------------------


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def _table(header: list[str], rows: list[list[Any]], last_is_meaning: bool = False) -> str:
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


def _glossary(terms: list[str]) -> str:
    return (
        '<dl class="glossary">'
        + "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(MEANINGS[term])}</dd>" for term in terms)
        + "</dl>"
    )


def _page(title: str, body: str) -> str:
    """The report's page (templates/report.html: its layout and style) around the escaped title and the sections.
    One pass of `string.Template`: a title or section holding `$body` stays text."""
    template = resources.files(__package__).joinpath("templates/report.html").read_text(encoding="utf-8")
    return Template(template).substitute(title=title, body=body)


def relative_href(target: Path, folder: Path) -> str:
    """`target` as a link from a page in `folder` (both on the file system)."""
    return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
