"""The figures a gate is checked on: the service's own evaluation of a version (DescribeProjectVersions and its
evaluation summary file), or both versions run over a Ground Truth manifest and scored as `evaluate` scores.

The summary file's layout is Rekognition's ("Reference: Training results summary file", Custom Labels guide):
`AggregatedEvaluationResults` {F1Score, Precision, Recall} for the whole model and `LabelEvaluationResults[]`
{Label, Metrics {F1Score, Precision, Recall, Threshold}} per label, read by the code `model train` prints it with.
DescribeProjectVersions returns the aggregate F1 directly (`EvaluationResult.F1Score`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from customlabels.datasets.manifest import ManifestEntry
from customlabels.evaluation.compare import headline
from customlabels.evaluation.evaluate import Evaluation, evaluate
from customlabels.lifecycle.gate import Figures
from customlabels.lifecycle.training import evaluation
from customlabels.results.model import result_from_document
from customlabels_runtime.contract import error_code, error_message
from customlabels_runtime.inference.thresholds import Thresholds

RETRIED = {"ProvisionedThroughputExceededException", "ThrottlingException"}
"""DetectCustomLabels answers retried with backoff when the manifest is run (the model's throughput is busy)."""


def service_figures(version: dict[str, Any], s3: Any) -> Figures:
    """A version's evaluation as the service computed it, read as `model train` reads it (`training.evaluation`):
    F1 from DescribeProjectVersions, precision and recall, whole and per label, from the summary file."""
    found = evaluation(s3, version)
    source = f"the service's evaluation of {version['ProjectVersionArn']}"
    return Figures(
        source if found.summary_uri else source + " (no summary file: F1 only)",
        {"f1": _fraction(found.f1), "precision": _fraction(found.precision), "recall": _fraction(found.recall)},
        {
            label.label: {
                "f1": _fraction(label.f1),
                "precision": _fraction(label.precision),
                "recall": _fraction(label.recall),
            }
            for label in found.labels
        },
    )


def _fraction(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def evaluation_figures(evaluation: Evaluation, source: str) -> Figures:
    """The headline `evaluate` prints for one model (`compare.headline`): per label precision, recall and F1, and
    the summary (micro for detection, macro over the labels for image labels)."""
    found = headline(evaluation)
    return Figures(
        source,
        {metric: found["summary"].get(metric) for metric in ("f1", "precision", "recall")},
        {
            label: {metric: values.get(metric) for metric in ("f1", "precision", "recall")}
            for label, values in found["per_label"].items()
        },
    )


def manifest_documents(
    rekognition: Any,
    version_arn: str,
    entries: list[ManifestEntry],
    thresholds: Thresholds,
    *,
    sleep: Callable[[float], None],
    on_image: Callable[[int, int], None] | None = None,
    attempts: int = 8,
) -> list[dict[str, Any]]:
    """Each manifest image (by its S3 `source-ref`) sent to `version_arn` as the inference function sends it (the
    pipeline's thresholds: `MinConfidence` as the function asks, then each label's own), answered as a result JSON
    of the contract (Image, CustomLabels, ProjectVersionArn; Error for an image the model refuses)."""
    documents = []
    for number, entry in enumerate(entries, start=1):
        bucket, key = _source(entry)
        request: dict[str, Any] = {
            "ProjectVersionArn": version_arn,
            "Image": {"S3Object": {"Bucket": bucket, "Name": key}},
        }
        if (min_confidence := thresholds.request_min_confidence()) is not None:
            request["MinConfidence"] = min_confidence
        document: dict[str, Any] = {"Image": {"Bucket": bucket, "Key": key}, "ProjectVersionArn": version_arn}
        try:
            answer = _detect(rekognition, request, sleep, attempts)
            document["CustomLabels"] = thresholds.keep(answer.get("CustomLabels", []))
        except rekognition.exceptions.ClientError as error:
            document |= {"CustomLabels": [], "Error": {"Code": error_code(error), "Message": error_message(error)}}
        documents.append(document)
        if on_image:
            on_image(number, len(entries))
    return documents


def _source(entry: ManifestEntry) -> tuple[str, str]:
    bucket, _, key = entry.source_ref.removeprefix("s3://").partition("/")
    return bucket, key


def _detect(rekognition: Any, request: dict[str, Any], sleep: Callable[[float], None], attempts: int) -> dict:
    """DetectCustomLabels, retried with exponential backoff while the model's throughput is exceeded."""
    for attempt in range(attempts):
        try:
            return rekognition.detect_custom_labels(**request)
        except rekognition.exceptions.ClientError as error:
            if error_code(error) not in RETRIED or attempt == attempts - 1:
                raise
            sleep(min(0.5 * 2**attempt, 10.0))
    raise AssertionError("unreachable")


def manifest_evaluations(
    rekognition: Any,
    versions: dict[str, str],
    entries: list[ManifestEntry],
    thresholds: Thresholds,
    *,
    sleep: Callable[[float], None],
    on_image: Callable[[str, int, int], None] | None = None,
) -> dict[str, Evaluation]:
    """Name -> the evaluation of that version's results over the manifest, scored by `evaluate` (default IoU)."""
    evaluations = {}
    for name, arn in versions.items():
        documents = manifest_documents(
            rekognition,
            arn,
            entries,
            thresholds,
            sleep=sleep,
            on_image=None if on_image is None else lambda done, total, name=name: on_image(name, done, total),
        )
        evaluations[name] = evaluate(entries, [result_from_document(document) for document in documents])
    return evaluations
