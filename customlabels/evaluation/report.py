"""`customlabels evaluate --report`: an HTML report (one model, or several side by side) that opens from the file
system, with every number beside it as JSON.

The report carries a reader from the numbers to the images behind them: the context it was made in, each metric
with its meaning, the matrices as tables with labelled axes, the tuning as the threshold each label needs, and the
false positives and negatives (and, comparing models, the images they disagree on) as pictures linked to their place
in the gallery. This module says what the report holds and in which order, and writes its header; each section's
HTML is report_sections', the pictures report_pictures' (drawn by a function the caller passes, `Drawer`, so that
this package needs no drawing code of the gallery's), the charts charts', the page and its style
templates/report.html. The terminal's tables are the CLI's (customlabels.cli.evaluation_tables)."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from customlabels.evaluation.compare import comparison_document
from customlabels.evaluation.evaluate import Evaluation
from customlabels.evaluation.glossary import number_text
from customlabels.evaluation.report_pictures import Drawer, Thumbnails
from customlabels.evaluation.report_sections import (
    classification_report_section,
    code,
    confused_section,
    curves_section,
    disagreement_section,
    errors_section,
    headline_section,
    image_level_section,
    matrix_section,
    missing_section,
    tuning_section,
)
from customlabels.evaluation.report_versus import f1_section, versus_section
from customlabels.outputs import KeyFolder, NotSaved


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
    pictures = Thumbnails(folder, draw, context.galleries, on_not_saved)
    charts = KeyFolder(folder, on_not_saved)
    sections = [
        _header(evaluations, context, data_name),
        headline_section(evaluations),
        *([versus_section(evaluations)] if len(names) > 1 else []),
        image_level_section(evaluations),
        classification_report_section(evaluations),
        matrix_section(evaluations),
        curves_section(evaluations, charts),
        f1_section(evaluations, charts),
        tuning_section(evaluations),
        confused_section(evaluations),
    ]
    if len(names) > 1:
        sections.append(disagreement_section(evaluations, pictures))
    sections += [errors_section(evaluations, pictures), missing_section(evaluations)]
    title = "Evaluation" if len(names) == 1 else "Comparison of " + ", ".join(names)
    index = folder / "index.html"
    index.write_text(_page(html.escape(title), "".join(sections)), encoding="utf-8")
    return index


# --- the header ---------------------------------------------------------------------------------------------------

Row = tuple[str, str]
"""A header line: its name and its value as HTML."""


def _header(evaluations: dict[str, Evaluation], context: ReportContext, data_name: str) -> str:
    """What the numbers were computed from: the manifest, each model's results and versions, the settings, the
    task, links to every number and to the galleries, and the caller's notes."""
    rows = [
        ("manifest", code(context.manifest)),
        *_result_rows(evaluations, context),
        *_setting_rows(next(iter(evaluations.values())), context, data_name),
        *_gallery_rows(evaluations, context),
    ]
    notes = "".join(f"<p>{html.escape(note)}</p>" for note in context.notes)
    return (
        "<header><h1>" + ("Evaluation" if len(evaluations) == 1 else "Comparison of models") + "</h1>"
        '<dl class="context">'
        + "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
        + "</dl>"
        + notes
        + "</header>"
    )


def _result_rows(evaluations: dict[str, Evaluation], context: ReportContext) -> list[Row]:
    """Per model: where its results were read, how many matched, and the model versions they name."""
    rows = []
    for name, source in context.results.items():
        evaluation = evaluations[name]
        label = "results" if len(evaluations) == 1 else f"results of {name}"
        counts = (
            f"{evaluation.matched} of {evaluation.images} images with a result"
            + (f", {len(evaluation.missing)} without (counted as predicting nothing)" if evaluation.missing else "")
            + (f", {len(evaluation.errors)} with an error result" if evaluation.errors else "")
        )
        rows.append((label, f"{code(source)}<br>{html.escape(counts)}"))
        rows.append(
            (
                "model" if len(evaluations) == 1 else f"model of {name}",
                "<br>".join(code(arn) for arn in evaluation.model_versions) or "not named by the results",
            )
        )
    return rows


def _setting_rows(first: Evaluation, context: ReportContext, data_name: str) -> list[Row]:
    """The settings the numbers depend on, the task and its labels, when, and the link to every number."""
    return [
        ("IoU to match a box", f"{context.iou_threshold:g}" if first.detection else "n/a (no boxes)"),
        (
            "thresholds",
            code(context.thresholds)
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


def _gallery_rows(evaluations: dict[str, Evaluation], context: ReportContext) -> list[Row]:
    return [
        (
            "gallery" if len(evaluations) == 1 else f"gallery of {name}",
            f'<a href="{html.escape(context.galleries[name])}">the pictures of every image</a>',
        )
        for name in evaluations.keys() & context.galleries.keys()
    ]


# --- the page -------------------------------------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    """The report's page (templates/report.html: its layout and style) around the escaped title and the sections.
    One pass of `string.Template`: a title or section holding `$body` stays text."""
    template = resources.files(__package__).joinpath("templates/report.html").read_text(encoding="utf-8")
    return Template(template).substitute(title=title, body=body)


def relative_href(target: Path, folder: Path) -> str:
    """`target` as a link from a page in `folder` (both on the file system)."""
    return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
