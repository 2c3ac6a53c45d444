"""Preparing a data set's Ground Truth manifest for Rekognition Custom Labels: point it at a new bucket,
check it against the service's rules before a training job finds the problems, split it into training and
test sets stratified by label, and count what it holds.

A rule the service reports with a validation error code carries that code (upper case), so that it can be
looked up in the Custom Labels developer guide ("Debugging datasets"); the others have lower-case names.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customlabels.datasets.manifest import (
    CLASSIFICATION,
    MULTILABEL,
    OBJECT_DETECTION,
    ManifestEntry,
    ManifestError,
    check_document,
    parse_line,
    read_text,
)

MAX_LINES = 250_000
MAX_BOXES = 50
MAX_LABELS = 250
NO_LABEL = "(no label)"


class ManifestToolError(ValueError):
    """A manifest or option these tools cannot work with; the message says what to change."""


@dataclass(frozen=True)
class Problem:
    line: int | None
    """1-based; None for a rule about the whole manifest."""
    rule: str
    message: str


def _s3_uri(value: str, option: str) -> str:
    if not value.startswith("s3://") or len(value) <= 5 or value[5] == "/":
        raise ManifestToolError(f"{option} {value!r}: give an S3 URI such as s3://my-bucket/images/")
    return value


def _bucket(source_ref: str) -> str:
    return source_ref[5:].split("/", 1)[0]


def _numbered_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = read_text(path)
    except ManifestError as error:
        raise ManifestToolError(str(error)) from None
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1)]


# --- rewrite ----------------------------------------------------------------------------------------------


def rewrite(source: Path, target: Path, old: str, new: str) -> int:
    """Replaces the `old` S3 prefix of every `source-ref` with `new`; returns the number of lines. Fails without
    writing anything when a line is not JSON or its `source-ref` is not under `old`."""
    old, new = _s3_uri(old, "--from"), _s3_uri(new, "--to")
    rewritten, problems = [], []
    for number, line in _numbered_lines(source):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            reference = document["source-ref"]
        except (ValueError, KeyError, TypeError):
            problems.append(f'{source}:{number}: not a JSON object with a "source-ref"')
            continue
        if not isinstance(reference, str) or not reference.startswith(old):
            problems.append(f"{source}:{number}: source-ref {reference!r} is not under {old}")
            continue
        document["source-ref"] = new + reference[len(old) :]
        rewritten.append(json.dumps(document, ensure_ascii=False))
    if problems:
        shown = "\n".join(problems[:20]) + (f"\n... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ManifestToolError(f"{len(problems)} line(s) not rewritten, nothing written:\n{shown}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(line + "\n" for line in rewritten), encoding="utf-8")
    return len(rewritten)


# --- validate ---------------------------------------------------------------------------------------------


def _kind(document: dict[str, Any]) -> dict[str, str]:
    """Label attribute -> its type, for the lines that parse."""
    return {
        name: document[f"{name}-metadata"]["type"]
        for name in document
        if name != "source-ref" and not name.endswith("-metadata")
    }


def _box_problems(number: int, entry: ManifestEntry) -> list[Problem]:
    problems = []
    if len(entry.boxes) > MAX_BOXES:
        problems.append(
            Problem(
                number,
                "ERROR_TOO_MANY_BOUNDING_BOXES",
                f"{len(entry.boxes)} bounding boxes; Custom Labels takes 0-{MAX_BOXES} per image",
            )
        )
    if entry.boxes and not (entry.image_width and entry.image_height):
        problems.append(
            Problem(
                number,
                "image-size",
                "bounding boxes without image_size (width and height): add the image's size in pixels",
            )
        )
        return problems
    for index, box in enumerate(entry.boxes, start=1):
        if box.width <= 0 or box.height <= 0:
            problem = f"width {box.width:g} and height {box.height:g} must be above 0"
        elif (
            box.left < 0
            or box.top < 0
            or box.left + box.width > entry.image_width
            or box.top + box.height > entry.image_height
        ):
            problem = (
                f"left {box.left:g} + width {box.width:g}, top {box.top:g} + height {box.height:g} fall "
                f"outside the {entry.image_width} x {entry.image_height} image"
            )
        else:
            continue
        where = f"annotation {box.annotation}" if box.annotation else f"box {index}"
        problems.append(Problem(number, "ERROR_INVALID_BOUNDING_BOX", f"{where} ({box.label}): {problem}"))
    return problems


def validate(path: Path) -> list[Problem]:
    """Every problem of the manifest against the Custom Labels rules, with its line number."""
    lines = _numbered_lines(path)
    if not lines:
        return [Problem(None, "empty", "the manifest has no lines")]
    problems: list[Problem] = []
    if len(lines) > MAX_LINES:
        problems.append(
            Problem(
                MAX_LINES + 1,
                "ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM",
                f"{len(lines):,} lines; a manifest holds at most {MAX_LINES:,}: split it",
            )
        )
    first_bucket: tuple[int, str] | None = None
    first_kinds: tuple[int, dict[str, str]] | None = None
    labels: Counter[str] = Counter()
    for number, line in lines:
        document, problem = _line_document(number, line)
        if document is None:
            problems.append(problem)
            continue
        first_bucket = first_bucket or (number, _bucket(document["source-ref"]))
        problems += _bucket_problems(number, document["source-ref"], *first_bucket)
        if len(document) == 1:
            problems.append(Problem(number, "ERROR_NO_LABEL_ATTRIBUTES", "no label attribute (and its -metadata)"))
            continue
        entry, line_problems = check_document(document, number, str(path))
        problems += [Problem(number, problem.rule, problem.message) for problem in line_problems]
        if any(problem.rule == "label-attribute" for problem in line_problems):
            continue  # an attribute without a known type: its kind cannot be compared with the first line's
        kinds = _kind(document)
        first_kinds = first_kinds or (number, kinds)
        problems += _kind_problems(number, kinds, *first_kinds)
        problems += _box_problems(number, entry)
        labels.update(entry.all_labels)
    problems += _label_count_problems(labels, first_kinds[1] if first_kinds else {})
    return sorted(problems, key=lambda problem: (problem.line or 0, problem.rule))


def _line_document(number: int, line: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The line's JSON object with an s3://bucket/key `source-ref`, or None and the problem."""
    try:
        document = json.loads(line)
    except ValueError as error:
        return None, Problem(number, "ERROR_INVALID_JSON_LINE", f"not a JSON object ({error})")
    if not isinstance(document, dict):
        return None, Problem(number, "ERROR_INVALID_JSON_LINE", "not a JSON object")
    reference = document.get("source-ref")
    if reference is None:
        return None, Problem(number, "ERROR_MISSING_SOURCE_REF", 'no "source-ref" with the image\'s S3 URI')
    if not isinstance(reference, str) or not reference.startswith("s3://") or "/" not in reference[5:]:
        return None, Problem(
            number, "ERROR_INVALID_SOURCE_REF_FORMAT", f"source-ref {reference!r} is not s3://bucket/key"
        )
    return document, None


def _bucket_problems(number: int, reference: str, first: int, first_bucket: str) -> list[Problem]:
    if _bucket(reference) == first_bucket:
        return []
    return [
        Problem(
            number,
            "ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS",
            f"bucket {_bucket(reference)!r}, but line {first} uses {first_bucket!r}: a manifest's images live in one "
            "bucket (manifest rewrite moves them)",
        )
    ]


def _kind_problems(number: int, kinds: dict[str, str], first: int, first_kinds: dict[str, str]) -> list[Problem]:
    detection, first_detection = OBJECT_DETECTION in kinds.values(), OBJECT_DETECTION in first_kinds.values()
    if detection != first_detection:
        have, want = (
            ("object detection", "image classification") if detection else ("image classification", "object detection")
        )
        return [
            Problem(
                number, "label-type", f"{have} labels, but line {first} has {want} labels: a manifest holds one kind"
            )
        ]
    return [
        Problem(number, "label-type", f"attribute {name!r} is {kind}, but on line {first} it is {first_kinds[name]}")
        for name, kind in kinds.items()
        if name in first_kinds and first_kinds[name] != kind
    ]


def _label_count_problems(labels: Counter[str], kinds: dict[str, str]) -> list[Problem]:
    classification = bool(kinds) and set(kinds.values()) <= {CLASSIFICATION, MULTILABEL}
    needed = 2 if classification else 1
    if len(labels) < needed:
        what = "image classification needs at least 2 labels" if classification else "a manifest needs a label"
        return [Problem(None, "label-count", f"{len(labels)} distinct label(s); {what}")]
    if len(labels) > MAX_LABELS:
        return [
            Problem(
                None,
                "ERROR_MANIFEST_TOO_MANY_LABELS",
                f"{len(labels)} distinct labels; Custom Labels takes at most {MAX_LABELS}",
            )
        ]
    return []


# --- stats and split --------------------------------------------------------------------------------------


@dataclass
class LabelCount:
    images: int = 0
    boxes: int = 0


@dataclass
class Stats:
    images: int = 0
    images_without_labels: int = 0
    boxes: int = 0
    labels: dict[str, LabelCount] = field(default_factory=dict)

    def add(self, entry: ManifestEntry) -> None:
        self.images += 1
        self.boxes += len(entry.boxes)
        names = entry.all_labels
        self.images_without_labels += not names
        for name in names:
            self.labels.setdefault(name, LabelCount()).images += 1
        for box in entry.boxes:
            self.labels[box.label].boxes += 1


def read_valid(path: Path) -> list[tuple[str, ManifestEntry]]:
    """(line text, entry) of every line; fails on the first unreadable line, pointing at `manifest validate`."""
    entries = []
    for number, line in _numbered_lines(path):
        if line.strip():
            try:
                entries.append((line, parse_line(line, number, str(path))))
            except ManifestError as error:
                raise ManifestToolError(
                    f"{error}. Run `customlabels manifest validate {path}` for every problem"
                ) from None
    if not entries:
        raise ManifestToolError(f"{path}: no lines")
    return entries


def stats(entries: list[ManifestEntry]) -> Stats:
    result = Stats()
    for entry in entries:
        result.add(entry)
    result.labels = dict(sorted(result.labels.items(), key=lambda item: (-item[1].images, item[0])))
    return result


def stats_chart(result: Stats, title: str, path: Path) -> Path:
    """Images and boxes per label as horizontal bars, the most frequent label on top."""
    from customlabels.plots import agg_pyplot

    pyplot = agg_pyplot()
    names = list(result.labels)[::-1]
    figure, axes = pyplot.subplots(figsize=(8, 1.2 + 0.45 * max(len(names), 1)))
    rows = range(len(names))
    axes.barh([r + 0.2 for r in rows], [result.labels[n].images for n in names], height=0.4, label="images")
    if result.boxes:
        axes.barh([r - 0.2 for r in rows], [result.labels[n].boxes for n in names], height=0.4, label="boxes")
    axes.set_yticks(list(rows), names)
    axes.set_xlabel("count")
    axes.set_title(title)
    axes.legend(loc="lower right")
    for container in axes.containers:
        axes.bar_label(container, padding=2, fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def _strata(entries: list[ManifestEntry]) -> list[str]:
    """Each image's rarest label (so rare labels land in both sets); groups of one image pooled together."""
    frequency = Counter(name for entry in entries for name in entry.all_labels)
    keys = [min(entry.all_labels, key=lambda name: (frequency[name], name), default=NO_LABEL) for entry in entries]
    sizes = Counter(keys)
    keys = [key if sizes[key] > 1 else "(rare)" for key in keys]
    if keys.count("(rare)") == 1:
        keys[keys.index("(rare)")] = Counter(keys).most_common(1)[0][0]
    return keys


def split(
    entries: list[tuple[str, ManifestEntry]], test_fraction: float, seed: int
) -> tuple[list[tuple[str, ManifestEntry]], list[tuple[str, ManifestEntry]]]:
    """Training and test lines (in their original order), stratified by each image's rarest label."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_fraction < 1:
        raise ManifestToolError(
            f"--test {test_fraction}: give the test share as a fraction between 0 and 1, such as 0.2"
        )
    indices = list(range(len(entries)))
    try:
        train, test = train_test_split(
            indices, test_size=test_fraction, random_state=seed, stratify=_strata([entry for _, entry in entries])
        )
    except ValueError as error:
        raise ManifestToolError(
            f"cannot split {len(entries)} images stratified by label at --test "
            f"{test_fraction} ({error}): use a larger --test or more images"
        ) from None
    return [entries[i] for i in sorted(train)], [entries[i] for i in sorted(test)]
