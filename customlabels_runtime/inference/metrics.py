"""The inference function's metrics, in CloudWatch's embedded metric format (names in the contract)."""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from customlabels_runtime import contract


class PipelineMetrics:
    """EMF metrics, safe to call from the pooled record handlers (Powertools' metric set is not)."""

    def __init__(self, metrics: Any) -> None:
        self._metrics = metrics
        self._lock = threading.Lock()

    def image_processed(self, label_count: int, latency_ms: float, slot_wait_ms: float) -> None:
        with self._lock:
            self._metrics.add_metric(name=contract.IMAGES_PROCESSED, unit=MetricUnit.Count, value=1)
            self._metrics.add_metric(name=contract.LABELS_DETECTED, unit=MetricUnit.Count, value=label_count)
            self._metrics.add_metric(name=contract.DETECT_LATENCY, unit=MetricUnit.Milliseconds, value=latency_ms)
            self._metrics.add_metric(name=contract.SLOT_WAIT, unit=MetricUnit.Milliseconds, value=slot_wait_ms)

    def image_failed(self, error_code: str) -> None:
        self._count_apart(contract.IMAGES_FAILED, "ErrorCode", error_code)

    def message_unreadable(self) -> None:
        with self._lock:
            self._metrics.add_metric(name=contract.QUEUE_MESSAGES_UNREADABLE, unit=MetricUnit.Count, value=1)

    def call_throttled(self) -> None:
        with self._lock:
            self._metrics.add_metric(name=contract.CALLS_THROTTLED, unit=MetricUnit.Count, value=1)

    def result_event_failed(self) -> None:
        """A result whose event could not be put (result_publishing.py); the ResultEventsFailed alarm reads it."""
        with self._lock:
            self._metrics.add_metric(name=contract.RESULT_EVENTS_FAILED, unit=MetricUnit.Count, value=1)

    def thresholds_rejected(self, reason: str) -> None:
        self._count_apart(contract.THRESHOLDS_REJECTED, "Reason", reason)

    def model_version_rejected(self, reason: str) -> None:
        self._count_apart(contract.MODEL_VERSION_REJECTED, "Reason", reason)

    def _count_apart(self, name: str, dimension: str, value: str) -> None:
        """One count in a metric of its own, so that its dimension (an error code, a reason) does not split the
        others."""
        with (
            self._lock,
            single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=self._metrics.namespace) as metric,
        ):
            metric.add_dimension(name=dimension, value=value)
