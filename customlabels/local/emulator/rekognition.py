"""A Rekognition Custom Labels emulator that behaves like the service, for offline runs and rehearsals.

`CustomLabelsService` is the service: model states, each model's throughput and auto-scaling, image limits
read from the image's content, `MinConfidence`/`MaxResults` semantics and fault injection, answering with the
real error codes. `server.serve()` puts it behind an HTTP endpoint speaking Rekognition's JSON 1.1 protocol.

Capacity (for bench code and tests; see `capacity.Capacity`)::

    service = CustomLabelsService(clock=clock,                  # a ManualClock makes scaling deterministic
                                  tps_per_inference_unit=5.0,   # default of every model added below
                                  scale_up_after=60.0,          # s of continuous throttling before +1 unit
                                  scale_down_after=300.0)       # s the demand fitted one unit fewer -> -1 unit
    model = service.add_model(arn, running=True, inference_units=1, max_inference_units=3,
                              tps_per_inference_unit=8.0)       # per model; the delays too, as keywords
    model.inference_units            # units in service now (refreshed on every call and describe)
    model.capacity.tps               # calls per second they admit now
    model.capacity.history           # [(time, units), ...] every change, for plots and assertions

Each model has its own one-second window: calls over `tps_per_inference_unit` x units in service are answered
`ProvisionedThroughputExceededException`. A model started by StartProjectVersion gets `MinInferenceUnits`
and scales up to `MaxInferenceUnits`. DescribeProjectVersions reports both, and the units in service in
`StatusMessage`. `LocalPipeline`'s `ModelOptions` passes the same parameters through.

Training (training.py): CreateProject, CreateDataset, DistributeDatasetEntries and CreateProjectVersion, as
`TrainingSettings` say (how long a training lasts on the clock, how it writes its outputs to S3, how imperfect a
trained version is); `plan_training_failure` rehearses a training that fails.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from customlabels.local.emulator.capacity import (
    DEFAULT_SCALE_DOWN_AFTER,
    DEFAULT_SCALE_UP_AFTER,
    DEFAULT_TPS_PER_INFERENCE_UNIT,
    Capacity,
)
from customlabels.local.emulator.datasets import DatasetStore
from customlabels.local.emulator.detection import ReadS3Object, answered_labels, image_key, read_image, requested_image
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.faults import PlannedFault, injected_fault
from customlabels.local.emulator.images import check_image
from customlabels.local.emulator.models import (
    SETTLED,
    STARTABLE,
    VERSION_ARN,
    DetectionBackend,
    EmulatedModel,
    NoDetections,
    Project,
)
from customlabels.local.emulator.training import Training, TrainingSettings
from customlabels.local.emulator.validation import validate

DEFAULT_INFERENCE_UNITS_QUOTA = 100
"""The most inference units StartProjectVersion grants one model here (an assumption: AWS documents a
minimum of 1 and an adjustable quota, not its value)."""


MODEL_CHECKED = {
    "DetectCustomLabels",
    "DescribeProjects",
    "DescribeProjectVersions",
    "StartProjectVersion",
    "StopProjectVersion",
    "CreateProject",
    "CreateDataset",
    "DistributeDatasetEntries",
    "CreateProjectVersion",
}
"""Operations whose requests the front end checks against botocore's model; the datasets' operations
(datasets.py) check their own, answering InvalidParameterException."""


class CustomLabelsService:
    """DetectCustomLabels, DescribeProjects, DescribeProjectVersions, StartProjectVersion, StopProjectVersion.

    `dispatch` is the front end (requests checked against botocore's model, calls counted); the operation
    methods assume a checked request."""

    def __init__(
        self,
        *,
        read_s3_object: ReadS3Object | None = None,
        start_delay: float = 0.0,
        stop_delay: float = 0.0,
        tps_per_inference_unit: float = DEFAULT_TPS_PER_INFERENCE_UNIT,
        scale_up_after: float = DEFAULT_SCALE_UP_AFTER,
        scale_down_after: float = DEFAULT_SCALE_DOWN_AFTER,
        max_inference_units_quota: int = DEFAULT_INFERENCE_UNITS_QUOTA,
        latency: float = 0.0,
        faults: Mapping[str, float] | None = None,
        fault_plan: list[PlannedFault] | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        training: TrainingSettings | None = None,
    ) -> None:
        """`tps_per_inference_unit`, `scale_up_after` and `scale_down_after` are the defaults of the models
        `add_model` creates (each model may have its own); `max_inference_units_quota` is the most units
        StartProjectVersion grants a model (LimitExceededException above it)."""
        self.read_s3_object = read_s3_object
        self.start_delay = start_delay
        self.stop_delay = stop_delay
        self.tps_per_inference_unit = tps_per_inference_unit
        self.scale_up_after = scale_up_after
        self.scale_down_after = scale_down_after
        self.max_inference_units_quota = max_inference_units_quota
        self.latency = latency
        self.faults = dict(faults or {})
        self.fault_plan = list(fault_plan or [])
        self.image_calls: dict[str, int] = {}
        """DetectCustomLabels calls that reached a running model, per image key (what a fault plan counts)."""
        self.clock = clock
        self.sleep = sleep
        self.projects: dict[str, Project] = {}
        """By `arn:...:project/NAME`: a project is created with its first version and keeps its ARN."""
        self.models: dict[str, EmulatedModel] = {}
        self.calls: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        """Answers by error code: throttled calls, calls to a cold model, injected faults."""
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.datasets = DatasetStore(
            clock=clock, projects=lambda: {p.arn for p in list(self.projects.values()) if p.datasets_implicit}
        )
        self.training = Training(self, training or TrainingSettings())

    # --- set-up ------------------------------------------------------------------------------------------

    def add_model(
        self,
        arn: str,
        *,
        backend: DetectionBackend | None = None,
        assumed_thresholds: Mapping[str, float] | None = None,
        running: bool = False,
        status: str = "TRAINING_COMPLETED",
        fails_to_start: bool = False,
        inference_units: int = 1,
        max_inference_units: int | None = None,
        tps_per_inference_unit: float | None = None,
        scale_up_after: float | None = None,
        scale_down_after: float | None = None,
    ) -> EmulatedModel:
        """A model version as training leaves it (TRAINING_COMPLETED; another settled `status` to rehearse it),
        or (`running`) RUNNING with `inference_units`, auto-scaling up to `max_inference_units` when that is
        higher. `fails_to_start`: its starts end in FAILED. Its capacity per unit and scaling delays default
        to the service's. Its project is created with its first version."""
        match = VERSION_ARN.match(arn)
        if not match:
            raise ValueError(f"not a project version ARN: {arn}")
        if status not in SETTLED:
            raise ValueError(f"status {status!r}: use one of {', '.join(sorted(SETTLED))}")
        project = self.projects.setdefault(
            match["prefix"], Project(f"{match['prefix']}/{match['created']}", int(match["created"]) / 1000)
        )
        model = EmulatedModel(
            arn,
            project.arn,
            backend or NoDetections(),
            dict(assumed_thresholds or {}),
            status="RUNNING" if running else status,
            fails_to_start=fails_to_start,
            capacity=self._capacity(tps_per_inference_unit, scale_up_after, scale_down_after),
            status_since=self.clock(),
        )
        if running:
            model.put_in_service(model.status_since, inference_units, max_inference_units)
        model.history.append((model.status_since, model.status))
        self.models[arn] = model
        return model

    def _capacity(
        self, tps_per_inference_unit: float | None, scale_up_after: float | None, scale_down_after: float | None
    ) -> Capacity:
        """A model's own capacity: what it is given, else the service's defaults."""
        return Capacity(
            tps_per_inference_unit=self.tps_per_inference_unit
            if tps_per_inference_unit is None
            else tps_per_inference_unit,
            scale_up_after=self.scale_up_after if scale_up_after is None else scale_up_after,
            scale_down_after=self.scale_down_after if scale_down_after is None else scale_down_after,
        )

    def set_status(self, arn: str, status: str, message: str | None = None) -> None:
        """Put a version in a settled state to rehearse it (EXPIRED, DEPRECATED, FAILED, ...), with an optional
        StatusMessage. Entering RUNNING puts its minimum units in service (1 if never started); leaving it takes
        them out."""
        if status not in SETTLED:
            raise ValueError(f"status {status!r}: use one of {', '.join(sorted(SETTLED))}")
        with self._lock:
            self.models[arn].settle(status, message, self.clock())

    def plan_training_failure(self, version_name: str, message: str | None = None) -> None:
        """The training of the version of that name ends TRAINING_FAILED with `message` (a service issue)."""
        from customlabels.local.emulator.trained import SERVICE_ISSUE

        self.training.planned_failures[version_name] = message or SERVICE_ISSUE

    # --- operations --------------------------------------------------------------------------------------

    def dispatch(self, operation: str, request: Any) -> dict[str, Any]:
        """The front end: the operation, then the request checked against botocore's model, then the answer."""
        handlers = {
            "DetectCustomLabels": self.detect_custom_labels,
            "DescribeProjects": self.describe_projects,
            "DescribeProjectVersions": self.describe_project_versions,
            "StartProjectVersion": self.start_project_version,
            "StopProjectVersion": self.stop_project_version,
            **self.datasets.handlers,
            **self.training.handlers,
        }
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        try:
            if operation not in handlers:
                raise ServiceError(
                    "UnknownOperationException",
                    f"The emulator does not implement {operation or 'an operation without a name'}",
                )
            if operation in MODEL_CHECKED:
                validate(operation, request)
            return handlers[operation](request)
        except ServiceError as error:
            with self._lock:
                self.errors[error.code] = self.errors.get(error.code, 0) + 1
            raise

    def detect_custom_labels(self, request: dict[str, Any]) -> dict[str, Any]:
        image = requested_image(request)
        with self._lock:
            model = self._model(request["ProjectVersionArn"])
            if model.status != "RUNNING":
                raise ServiceError(
                    "ResourceNotReadyException",
                    f"ProjectVersion {model.arn} is not ready; its status is {model.status}",
                )
            self._inject_fault(image_key(image))
            self._admit(model)
        if self.latency:
            self.sleep(self.latency)
        key, data = read_image(image, self.read_s3_object)
        return {"CustomLabels": answered_labels(model, key, check_image(data), request)}

    def describe_projects(self, request: dict[str, Any]) -> dict[str, Any]:
        names = set(request.get("ProjectNames") or [])
        with self._lock:
            projects = sorted(
                (p for p in self.projects.values() if not names or p.name in names),
                key=lambda p: p.created,
                reverse=True,
            )
        page, token = _page(projects, request, scope="projects")
        return {
            "ProjectDescriptions": [
                {
                    "ProjectArn": p.arn,
                    "CreationTimestamp": p.created,
                    "Status": "CREATED",
                    "Datasets": self.datasets.project_datasets(p.arn),
                }
                for p in page
            ],
            **token,
        }

    def describe_project_versions(self, request: dict[str, Any]) -> dict[str, Any]:
        project_arn = request["ProjectArn"]
        names = set(request.get("VersionNames") or [])
        with self._lock:
            if project_arn not in {project.arn for project in self.projects.values()}:
                raise ServiceError("ResourceNotFoundException", f"Project {project_arn} was not found")
            found = sorted(
                (
                    self._model(m.arn)
                    for m in self.models.values()  # advances states and units
                    if m.project_arn == project_arn and (not names or m.version_name in names)
                ),
                key=lambda m: m.created,
                reverse=True,
            )
            page, token = _page(found, request, scope=project_arn)
            return {"ProjectVersionDescriptions": [model.description() for model in page], **token}

    def start_project_version(self, request: dict[str, Any]) -> dict[str, Any]:
        minimum = request["MinInferenceUnits"]
        maximum = request.get("MaxInferenceUnits") or minimum
        if maximum < minimum:
            raise ServiceError(
                "InvalidParameterException",
                f"MaxInferenceUnits ({maximum}) must be at least MinInferenceUnits ({minimum})",
            )
        if maximum > self.max_inference_units_quota:
            raise ServiceError(
                "LimitExceededException",
                f"{maximum} inference units exceed the quota of {self.max_inference_units_quota} per model",
            )
        with self._lock:
            model = self._model(request["ProjectVersionArn"])
            if model.status not in STARTABLE:
                raise ServiceError(
                    "ResourceInUseException", f"ProjectVersion {model.arn} cannot be started while {model.status}"
                )
            model.min_inference_units, model.max_inference_units = minimum, maximum
            model.enter("STARTING", self.clock(), self.start_delay)
            return {"Status": model.status}

    def stop_project_version(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            model = self._model(request["ProjectVersionArn"])
            if model.status != "RUNNING":
                raise ServiceError(
                    "ResourceInUseException", f"ProjectVersion {model.arn} cannot be stopped while {model.status}"
                )
            model.enter("STOPPING", self.clock(), self.stop_delay)
            return {"Status": model.status}

    # --- internals (called with the lock held where they touch shared state) ------------------------------

    def _model(self, arn: str) -> EmulatedModel:
        model = self.models.get(arn)
        if model is None:
            raise ServiceError("ResourceNotFoundException", f"ProjectVersion {arn} was not found")
        model.advance(self.clock())
        self.training.advance(model, self.clock())
        if model.status == "RUNNING":
            model.capacity.refresh(self.clock())
        return model

    def _inject_fault(self, key: str) -> None:
        call_number = self.image_calls[key] = self.image_calls.get(key, 0) + 1
        fault = injected_fault(key, call_number, self.fault_plan, self.faults, self._random)
        if fault is not None:
            raise fault

    def _admit(self, model: EmulatedModel) -> None:
        """The model's own units decide: over their capacity this second, the call is throttled."""
        if not model.capacity.admit(self.clock()):
            raise ServiceError(
                "ProvisionedThroughputExceededException",
                "The provisioned throughput of the model was exceeded; retry with backoff",
            )


def _page(items: list[Any], request: dict[str, Any], scope: str) -> tuple[list[Any], dict[str, str]]:
    """One page of `MaxResults` (default 100) from the offset in `NextToken`, and the token of the next page.
    Tokens are opaque and belong to the listing that issued them; any other is InvalidPaginationTokenException."""
    offset = 0
    if request.get("NextToken") is not None:
        try:
            issued_for, offset = json.loads(base64.urlsafe_b64decode(request["NextToken"].encode()))
            if issued_for != scope or not isinstance(offset, int) or offset < 0:
                raise ValueError(request["NextToken"])
        except (ValueError, TypeError, binascii.Error):
            raise ServiceError(
                "InvalidPaginationTokenException", "Invalid pagination token: use the NextToken of the previous answer"
            ) from None
    end = offset + (request.get("MaxResults") or 100)
    token = (
        {"NextToken": base64.urlsafe_b64encode(json.dumps([scope, end]).encode()).decode()} if end < len(items) else {}
    )
    return items[offset:end], token
