"""A model version of the emulated service and its lifecycle, as DescribeProjectVersions reports it.

`EmulatedModel` holds what one version is (its backend, assumed thresholds, inference units) and moves through
Rekognition's states with the service's clock: `enter` STARTING or STOPPING, `advance` to where a transition ends
once it is due, `settle` in a state to rehearse it. `description` is its entry in DescribeProjectVersions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from customlabels.local.emulator.capacity import Capacity
from customlabels.local.emulator.validation import service_model

DEFAULT_ASSUMED_THRESHOLD = 50.0

VERSION_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{12}:project/(?P<project>[^/]+))"
    r"/version/(?P<version>[^/]+)/(?P<created>\d{13})$"
)

STARTABLE = {"TRAINING_COMPLETED", "STOPPED"}
"""States StartProjectVersion accepts; any other is ResourceInUseException (an assumption where the docs are
silent: FAILED, EXPIRED, DEPRECATED and the training states cannot be started)."""
SETTLED = set(service_model().shape_for("ProjectVersionStatus").enum) - {"STARTING", "STOPPING"}
"""What `set_status` (and `settle`) may put a version in to rehearse it (the transitions have their own operations)."""
STATUS_MESSAGES = {
    "TRAINING_IN_PROGRESS": "The model is being trained.",
    "TRAINING_COMPLETED": "The model is trained and ready to start.",
    "STARTING": "The model is being started.",
    "STOPPING": "The model is being stopped.",
    "STOPPED": "The model is stopped.",
    "FAILED": "The model failed to start: the deployment could not provision its inference units.",
    "EXPIRED": "The model version has expired and can no longer be started.",
    "DEPRECATED": "The model version is deprecated and can no longer be started.",
}


class DetectionBackend(Protocol):
    """What the emulated model 'sees' in an image: labels with confidences (before any threshold)."""

    def detect(self, key: str, width: int, height: int) -> list[dict[str, Any]]: ...


class NoDetections:
    """A model that finds nothing: the default when no backend is configured."""

    def detect(self, key: str, width: int, height: int) -> list[dict[str, Any]]:
        return []


@dataclass
class Project:
    """A project: its ARN is its own (name and creation time), whatever versions it holds."""

    arn: str
    created: float
    datasets_implicit: bool = True
    """Made with a model (`add_model`): it has a TRAIN and a TEST dataset without CreateDataset."""

    @property
    def name(self) -> str:
        return self.arn.split("/")[1]


@dataclass
class EmulatedModel:
    """One project version and its lifecycle; the state advances with the service's clock."""

    arn: str
    project_arn: str
    backend: DetectionBackend = field(default_factory=NoDetections)
    assumed_thresholds: dict[str, float] = field(default_factory=dict)
    status: str = "TRAINING_COMPLETED"
    status_message: str | None = None
    """Overrides the status's usual message (set_status with a message)."""
    fails_to_start: bool = False
    """Rehearse a start that fails: STARTING ends in FAILED instead of RUNNING."""
    capacity: Capacity = field(default_factory=Capacity)
    """Its own inference units, throughput window and auto-scaling (nothing is shared between models)."""
    min_inference_units: int | None = None
    max_inference_units: int | None = None
    """What the last StartProjectVersion asked for (None: never started), as DescribeProjectVersions reports."""
    transition_at: float | None = None
    status_since: float = 0.0
    history: list[tuple[float, str]] = field(default_factory=list)
    """(time, status) of every status the model entered, for reports and tests."""
    evaluation_summary: tuple[str, str] | None = None
    """Bucket and key of the evaluation summary file, as training leaves it (None: not written)."""
    trained: dict[str, Any] = field(default_factory=dict)
    """What CreateProjectVersion and its training add to DescribeProjectVersions (OutputConfig, EvaluationResult,
    TrainingDataResult, ...; training.py)."""

    @property
    def inference_units(self) -> int:
        """Units in service now (0 unless RUNNING); auto-scaling moves it between the minimum and maximum."""
        return self.capacity.units

    @property
    def version_name(self) -> str:
        return VERSION_ARN.match(self.arn)["version"]

    @property
    def created(self) -> float:
        return int(VERSION_ARN.match(self.arn)["created"]) / 1000

    def threshold(self, label: str) -> float:
        return self.assumed_thresholds.get(label, DEFAULT_ASSUMED_THRESHOLD)

    def evaluation_summary_document(self, labels: list[str]) -> dict[str, Any]:
        """The summary file training writes (the layout of Rekognition's example): per label, the assumed
        threshold as 0-1 in `Metrics.Threshold`."""
        return {
            "Version": 1,
            "EvaluationDetails": {"ProjectVersionArn": self.arn, "Labels": labels},
            "LabelEvaluationResults": [
                {"Label": label, "Metrics": {"Threshold": self.threshold(label) / 100}} for label in labels
            ],
        }

    def enter(self, status: str, now: float, delay: float) -> None:
        """Enter STARTING or STOPPING; the first read `delay` seconds after `now` sees where it ends."""
        self.status, self.status_since, self.transition_at = status, now, now + delay
        self.status_message = None
        self.history.append((now, status))

    def advance(self, now: float) -> None:
        """STARTING -> RUNNING (FAILED for a model that fails to start), STOPPING -> STOPPED, once due."""
        if self.transition_at is None or now < self.transition_at:
            return
        if self.status == "STARTING":
            self.status = "FAILED" if self.fails_to_start else "RUNNING"
        elif self.status == "STOPPING":
            self.status = "STOPPED"
        if self.status == "RUNNING":
            self.capacity.start(self.transition_at, self.min_inference_units, self.max_inference_units)
        else:
            self.capacity.stop(self.transition_at)
        self.status_since, self.transition_at = self.transition_at, None
        self.history.append((self.status_since, self.status))

    def settle(self, status: str, message: str | None, now: float) -> None:
        """Put the version in a settled state at once, with an optional StatusMessage. Entering RUNNING puts its
        minimum units in service (1 if never started); leaving it takes them out."""
        self.status, self.status_message, self.transition_at, self.status_since = status, message, None, now
        if status == "RUNNING":
            self.put_in_service(now, self.min_inference_units or 1, self.max_inference_units)
        else:
            self.capacity.stop(now)
        self.history.append((now, status))

    def put_in_service(self, now: float, minimum: int, maximum: int | None) -> None:
        """`minimum` units in service, auto-scaling up to `maximum` when that is higher."""
        self.min_inference_units, self.max_inference_units = minimum, max(minimum, maximum or minimum)
        self.capacity.start(now, minimum, maximum)

    def description(self) -> dict[str, Any]:
        """Its entry in DescribeProjectVersions."""
        description = {
            "ProjectVersionArn": self.arn,
            "CreationTimestamp": self.created,
            "Status": self.status,
            "StatusMessage": self.status_text(),
        }
        if self.min_inference_units is not None:
            description["MinInferenceUnits"] = self.min_inference_units
            description["MaxInferenceUnits"] = self.max_inference_units
        if self.evaluation_summary is not None:
            bucket, key = self.evaluation_summary
            description["EvaluationResult"] = {"Summary": {"S3Object": {"Bucket": bucket, "Name": key}}}
        return {**description, **self.trained}

    def status_text(self) -> str:
        """What the model is doing; while RUNNING, also how many inference units are in service (the field has no
        structured place for them; on AWS the CloudWatch metric InServiceInferenceUnits tells)."""
        if self.status_message:
            return self.status_message
        if self.status == "RUNNING":
            return f"The model is running. {self.inference_units} inference unit(s) in service."
        return STATUS_MESSAGES.get(self.status, self.status)
