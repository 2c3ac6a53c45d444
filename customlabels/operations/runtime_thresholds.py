"""`customlabels thresholds`: show, set or import the pipeline's runtime confidence thresholds.

The document and its rules are the inference function's own (`customlabels_runtime/inference/thresholds.py`), so what
the command accepts is exactly what the function applies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from customlabels.errors import CommandError
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdsError, parse_thresholds

__all__ = ["Thresholds", "ThresholdsError", "assumed_thresholds", "parse_thresholds", "read", "read_file", "write"]


def read(ssm: Any, parameter: str) -> Thresholds:
    value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    try:
        return parse_thresholds(value)
    except ThresholdsError as error:
        raise CommandError(
            f"{parameter} holds an invalid document ({error}); the function keeps its last valid "
            "thresholds. Fix: customlabels thresholds set FILE"
        ) from None


def read_file(path: str, named: str) -> Thresholds:
    """A thresholds JSON file, validated by the function's own rules; `named` is how a problem names it (the path,
    or the option that gave it)."""
    example = 'Fix: give a thresholds JSON file such as {"min_confidence": 80, "labels": {"bee": 72.5}}'
    try:
        return parse_thresholds(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"{named}: {error.strerror}. {example}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{named}: not a text file. {example}") from None
    except ThresholdsError as error:
        raise CommandError(f"{named}: {error}") from None


def write(ssm: Any, parameter: str, thresholds: Thresholds) -> None:
    ssm.put_parameter(Name=parameter, Value=json.dumps(thresholds.to_document()), Type="String", Overwrite=True)


def _items(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """`LabelEvaluationResults` (the summary file example) or `labelEvaluationResults` (the reference text)."""
    for key, value in summary.items():
        if key.lower() == "labelevaluationresults" and isinstance(value, list):
            return value
    raise ThresholdsError(
        "the evaluation summary has no LabelEvaluationResults. Fix: pass the model version's "
        "EvaluationSummary-*.json (DescribeProjectVersions -> EvaluationResult.Summary)"
    )


def assumed_thresholds(summary: dict[str, Any]) -> dict[str, float]:
    """Each label's assumed threshold, 0-100, from a Custom Labels evaluation summary.

    The summary gives them as 0-1 in `LabelEvaluationResults[].Metrics.Threshold`; the label is `Label`.
    A threshold beside `Metrics` rather than in it, and `LabelName` for `Label`, are read too.
    """
    thresholds = {}
    for number, item in enumerate(_items(summary), start=1):
        label = item.get("Label", item.get("LabelName"))
        metrics = item.get("Metrics") or {}
        value = metrics.get("Threshold", item.get("Threshold"))
        if not isinstance(label, str) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ThresholdsError(
                f"LabelEvaluationResults item {number} has no Label and Metrics.Threshold "
                f"(0-1): {json.dumps(item)[:200]}"
            )
        thresholds[label] = round(value * 100, 3)
    return thresholds


def summary_location(version: dict[str, Any]) -> tuple[str, str]:
    """Bucket and key of a described model version's evaluation summary."""
    s3_object = (((version.get("EvaluationResult") or {}).get("Summary") or {}).get("S3Object")) or {}
    if not s3_object.get("Bucket") or not s3_object.get("Name"):
        raise CommandError(
            f"{version.get('ProjectVersionArn', 'the model')} has no evaluation summary (status "
            f"{version.get('Status')}). Fix: import-assumed needs a trained model version"
        )
    return s3_object["Bucket"], s3_object["Name"]
