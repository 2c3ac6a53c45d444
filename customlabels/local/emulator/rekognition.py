"""A Rekognition Custom Labels emulator that behaves like the service, for offline runs and rehearsals.

`CustomLabelsService` is the service: model states, each model's throughput and auto-scaling, image limits
read from the image's content, `MinConfidence`/`MaxResults` semantics and fault injection, answering with the
real error codes. `serve()` puts it behind an HTTP endpoint speaking Rekognition's JSON 1.1 protocol, so any
boto3 client reaches it with `endpoint_url` (or `AWS_ENDPOINT_URL_REKOGNITION`) and no code of its own.

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
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from customlabels.limits import MAX_INLINE_IMAGE_BYTES, MAX_S3_IMAGE_BYTES
from customlabels.local.emulator.capacity import (
    DEFAULT_SCALE_DOWN_AFTER,
    DEFAULT_SCALE_UP_AFTER,
    DEFAULT_TPS_PER_INFERENCE_UNIT,
    Capacity,
)
from customlabels.local.emulator.images import ImageRejectedError, check_image
from customlabels.local.emulator.validation import RequestError, blob_bytes, service_model, validate

DEFAULT_ASSUMED_THRESHOLD = 50.0

VERSION_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{12}:project/(?P<project>[^/]+))"
    r"/version/(?P<version>[^/]+)/(?P<created>\d{13})$"
)

FAULT_ALIASES = {
    "throttle": "ThrottlingException",
    "throughput": "ProvisionedThroughputExceededException",
    "internal": "InternalServerError",
    "not-ready": "ResourceNotReadyException",
}
SERVER_ERRORS = {"InternalServerError", "ThrottlingException"}
"""Answered with HTTP 500, as the API reference lists them; every other error is 400."""
DEFAULT_INFERENCE_UNITS_QUOTA = 100
"""The most inference units StartProjectVersion grants one model here (an assumption: AWS documents a
minimum of 1 and an adjustable quota, not its value)."""


@dataclass(frozen=True)
class PlannedFault:
    """Answer DetectCustomLabels with `code` for each image whose key matches `keys` (a glob): its first
    `calls` calls, or every call when `calls` is None. Unlike a rate, a plan fires for certain, so a test
    that says "the retry path ran" is true on every run."""

    code: str
    calls: int | None = None
    keys: str = "*"

    def fires(self, key: str, call_number: int) -> bool:
        return fnmatch.fnmatchcase(key, self.keys) and (self.calls is None or call_number <= self.calls)


class ServiceError(Exception):
    """An error answered the way Rekognition answers it: a code (the exception name) and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return 500 if self.code in SERVER_ERRORS else 400


class DetectionBackend(Protocol):
    """What the emulated model 'sees' in an image: labels with confidences (before any threshold)."""

    def detect(self, key: str, width: int, height: int) -> list[dict[str, Any]]: ...


class NoDetections:
    """A model that finds nothing: the default when no backend is configured."""

    def detect(self, key: str, width: int, height: int) -> list[dict[str, Any]]:
        return []


def fault_code(name: str, spec: str) -> str:
    """An alias (`throttle`, ...) or an error code in Rekognition's style (`...Exception`, `...Error`)."""
    name = name.strip()
    if name in FAULT_ALIASES:
        return FAULT_ALIASES[name]
    if re.fullmatch(r"[A-Z][A-Za-z]+(Exception|Error)", name):
        return name
    raise ValueError(
        f"{spec!r}: unknown error {name!r}; use {', '.join(FAULT_ALIASES)} or an error code such as "
        "ImageTooLargeException"
    )


def parse_faults(spec: str | Mapping[str, float] | None) -> dict[str, float]:
    """`throttle=0.1,internal=0.02` (aliases or real error codes) -> {error code: rate 0-1}."""
    if not spec:
        return {}
    if isinstance(spec, Mapping):
        items = [(name, str(rate)) for name, rate in spec.items()]
    else:
        items = [part.partition("=")[::2] for part in spec.split(",") if part.strip()]
    faults = {}
    for name, rate in items:
        try:
            value = float(rate)
        except ValueError:
            raise ValueError(
                f"fault {name.strip()}={rate!r}: use NAME=RATE with a rate from 0 to 1, e.g. throttle=0.1"
            ) from None
        if not 0 <= value <= 1:
            raise ValueError(f"fault rate for {name} must be between 0 and 1, got {value}")
        faults[fault_code(name, f"{name}={rate}")] = value
    return faults


def parse_fault_plan(spec: str | None) -> list[PlannedFault]:
    """`throttle:5` (the first 5 calls for each image), `internal@*/bad.jpg` (every call for matching keys),
    `not-ready:1@test_images/a*`; several separated by commas; aliases as in `parse_faults` or error codes. Without
    a number of calls, every call fails."""
    plan = []
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        head, at, keys = part.strip().partition("@")
        name, _, calls = head.partition(":")
        if calls and not (calls.isdigit() and int(calls) > 0):
            raise ValueError(
                f"fault plan {part.strip()!r}: the number of calls must be a whole number above 0, e.g. throttle:5"
            )
        if not name.strip():
            raise ValueError(f"fault plan {part.strip()!r}: name an error, e.g. throttle:5 or internal@*/bad.jpg")
        if at and not keys.strip():
            raise ValueError(f"fault plan {part.strip()!r}: give a key pattern after @, e.g. internal@*/bad.jpg")
        plan.append(PlannedFault(fault_code(name, part.strip()), int(calls) if calls else None, keys.strip() or "*"))
    return plan


MODEL_CHECKED = {
    "DetectCustomLabels",
    "DescribeProjects",
    "DescribeProjectVersions",
    "StartProjectVersion",
    "StopProjectVersion",
}
"""Operations whose requests the front end checks against botocore's model; the datasets' operations
(datasets.py) check their own, answering InvalidParameterException."""
STARTABLE = {"TRAINING_COMPLETED", "STOPPED"}
"""States StartProjectVersion accepts; any other is ResourceInUseException (an assumption where the docs are
silent: FAILED, EXPIRED, DEPRECATED and the training states cannot be started)."""
SETTLED = set(service_model().shape_for("ProjectVersionStatus").enum) - {"STARTING", "STOPPING"}
"""What `set_status` may put a version in to rehearse it (the transitions have their own operations)."""
STATUS_MESSAGES = {
    "TRAINING_COMPLETED": "The model is trained and ready to start.",
    "STARTING": "The model is being started.",
    "STOPPING": "The model is being stopped.",
    "STOPPED": "The model is stopped.",
    "FAILED": "The model failed to start: the deployment could not provision its inference units.",
    "EXPIRED": "The model version has expired and can no longer be started.",
    "DEPRECATED": "The model version is deprecated and can no longer be started.",
}


@dataclass
class Project:
    """A project: its ARN is its own (name and creation time), whatever versions it holds."""

    arn: str
    created: float

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


class CustomLabelsService:
    """DetectCustomLabels, DescribeProjects, DescribeProjectVersions, StartProjectVersion, StopProjectVersion.

    `dispatch` is the front end (requests checked against botocore's model, calls counted); the operation
    methods assume a checked request."""

    def __init__(
        self,
        *,
        read_s3_object: Callable[[str, str, str | None], bytes] | None = None,
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
        from customlabels.local.emulator.datasets import DatasetStore  # it imports ServiceError from here

        self.datasets = DatasetStore(clock=clock, projects=lambda: {m.project_arn for m in list(self.models.values())})

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
        capacity = Capacity(
            tps_per_inference_unit=self.tps_per_inference_unit
            if tps_per_inference_unit is None
            else tps_per_inference_unit,
            scale_up_after=self.scale_up_after if scale_up_after is None else scale_up_after,
            scale_down_after=self.scale_down_after if scale_down_after is None else scale_down_after,
        )
        model = EmulatedModel(
            arn,
            project.arn,
            backend or NoDetections(),
            dict(assumed_thresholds or {}),
            status="RUNNING" if running else status,
            fails_to_start=fails_to_start,
            capacity=capacity,
            status_since=self.clock(),
        )
        if running:
            model.min_inference_units = inference_units
            model.max_inference_units = max(inference_units, max_inference_units or inference_units)
            capacity.start(model.status_since, inference_units, max_inference_units)
        model.history.append((model.status_since, model.status))
        self.models[arn] = model
        return model

    def set_status(self, arn: str, status: str, message: str | None = None) -> None:
        """Put a version in a settled state to rehearse it (EXPIRED, DEPRECATED, FAILED, ...), with an optional
        StatusMessage. Entering RUNNING puts its minimum units in service (1 if never started); leaving it takes
        them out."""
        if status not in SETTLED:
            raise ValueError(f"status {status!r}: use one of {', '.join(sorted(SETTLED))}")
        with self._lock:
            model = self.models[arn]
            model.status, model.status_message, model.transition_at = status, message, None
            model.status_since = self.clock()
            if status == "RUNNING":
                model.min_inference_units = model.min_inference_units or 1
                model.max_inference_units = model.max_inference_units or model.min_inference_units
                model.capacity.start(model.status_since, model.min_inference_units, model.max_inference_units)
            else:
                model.capacity.stop(model.status_since)
            model.history.append((model.status_since, status))

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
                try:
                    validate(operation, request)
                except RequestError as error:
                    raise ServiceError(error.code, error.message) from None
            return handlers[operation](request)
        except ServiceError as error:
            with self._lock:
                self.errors[error.code] = self.errors.get(error.code, 0) + 1
            raise

    def detect_custom_labels(self, request: dict[str, Any]) -> dict[str, Any]:
        image = {name: value for name, value in request["Image"].items() if value is not None}  # null = absent
        if ("Bytes" in image) == ("S3Object" in image):
            raise ServiceError(
                "InvalidParameterException",
                "Image must have exactly one of Bytes or S3Object (both or neither were given)",
            )
        with self._lock:
            model = self._model(request["ProjectVersionArn"])
            if model.status != "RUNNING":
                raise ServiceError(
                    "ResourceNotReadyException",
                    f"ProjectVersion {model.arn} is not ready; its status is {model.status}",
                )
            self._inject_fault(_image_key(image))
            self._admit(model)
        if self.latency:
            self.sleep(self.latency)
        key, data = self._image(image)
        try:
            width, height = check_image(data)
        except ImageRejectedError as rejected:
            raise ServiceError(rejected.code, rejected.message) from None
        min_confidence = request.get("MinConfidence")
        labels = [
            label
            for label in model.backend.detect(key, width, height)
            if label["Confidence"] >= (min_confidence if min_confidence is not None else model.threshold(label["Name"]))
        ]
        labels.sort(key=lambda label: label["Confidence"], reverse=True)
        if request.get("MaxResults") is not None:
            labels = labels[: request["MaxResults"]]
        return {"CustomLabels": labels}

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
            return {"ProjectVersionDescriptions": [_description(model) for model in page], **token}

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
            self._transition(model, "STARTING", self.start_delay)
            return {"Status": model.status}

    def stop_project_version(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            model = self._model(request["ProjectVersionArn"])
            if model.status != "RUNNING":
                raise ServiceError(
                    "ResourceInUseException", f"ProjectVersion {model.arn} cannot be stopped while {model.status}"
                )
            self._transition(model, "STOPPING", self.stop_delay)
            return {"Status": model.status}

    # --- internals (called with the lock held where they touch shared state) ------------------------------

    def _model(self, arn: str) -> EmulatedModel:
        model = self.models.get(arn)
        if model is None:
            raise ServiceError("ResourceNotFoundException", f"ProjectVersion {arn} was not found")
        self._advance(model)
        if model.status == "RUNNING":
            model.capacity.refresh(self.clock())
        return model

    def _transition(self, model: EmulatedModel, status: str, delay: float) -> None:
        """Enter STARTING or STOPPING; the next read after `delay` sees where it ends."""
        model.status, model.status_since, model.transition_at = status, self.clock(), self.clock() + delay
        model.status_message = None
        model.history.append((model.status_since, status))

    def _advance(self, model: EmulatedModel) -> None:
        """STARTING -> RUNNING (FAILED for a model that fails to start), STOPPING -> STOPPED, once due."""
        if model.transition_at is None or self.clock() < model.transition_at:
            return
        if model.status == "STARTING":
            model.status = "FAILED" if model.fails_to_start else "RUNNING"
        elif model.status == "STOPPING":
            model.status = "STOPPED"
        if model.status == "RUNNING":
            model.capacity.start(model.transition_at, model.min_inference_units, model.max_inference_units)
        else:
            model.capacity.stop(model.transition_at)
        model.status_since, model.transition_at = model.transition_at, None
        model.history.append((model.status_since, model.status))

    def _inject_fault(self, key: str) -> None:
        """The fault plan first (certain), then the rates (drawn from the seeded generator)."""
        call_number = self.image_calls[key] = self.image_calls.get(key, 0) + 1
        for planned in self.fault_plan:
            if planned.fires(key, call_number):
                raise ServiceError(planned.code, f"Planned fault: {planned.code} (call {call_number} for {key!r})")
        for code, rate in self.faults.items():
            if self._random.random() < rate:
                raise ServiceError(code, f"Injected fault: {code}")

    def _admit(self, model: EmulatedModel) -> None:
        """The model's own units decide: over their capacity this second, the call is throttled."""
        if not model.capacity.admit(self.clock()):
            raise ServiceError(
                "ProvisionedThroughputExceededException",
                "The provisioned throughput of the model was exceeded; retry with backoff",
            )

    def _image(self, image: dict[str, Any]) -> tuple[str, bytes]:
        if "Bytes" in image:
            data = blob_bytes(image["Bytes"])
            if len(data) > MAX_INLINE_IMAGE_BYTES:
                raise ServiceError("ImageTooLargeException", "Image bytes exceed the 4 MB limit")
            return "", data
        s3_object = image["S3Object"]
        if not s3_object.get("Bucket") or not s3_object.get("Name"):
            raise ServiceError("InvalidParameterException", "S3Object must name a Bucket and a Name")
        if self.read_s3_object is None:
            raise ServiceError("InvalidS3ObjectException", "The emulator has no S3 to read from")
        try:
            data = self.read_s3_object(s3_object["Bucket"], s3_object["Name"], s3_object.get("Version"))
        except Exception as error:  # any failure to read is what Rekognition reports as this code
            raise ServiceError(
                "InvalidS3ObjectException",
                f"Unable to get object metadata from S3. Check object key, region and/or access permissions. ({error})",
            ) from None
        if len(data) > MAX_S3_IMAGE_BYTES:
            raise ServiceError("ImageTooLargeException", "Image size is too large; the S3 object limit is 15 MB")
        return s3_object["Name"], data


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


def _description(model: EmulatedModel) -> dict[str, Any]:
    description = {
        "ProjectVersionArn": model.arn,
        "CreationTimestamp": model.created,
        "Status": model.status,
        "StatusMessage": _status_message(model),
    }
    if model.min_inference_units is not None:
        description["MinInferenceUnits"] = model.min_inference_units
        description["MaxInferenceUnits"] = model.max_inference_units
    if model.evaluation_summary is not None:
        bucket, key = model.evaluation_summary
        description["EvaluationResult"] = {"Summary": {"S3Object": {"Bucket": bucket, "Name": key}}}
    return description


def _image_key(image: dict[str, Any]) -> str:
    """The S3 key of the image a request names ("" for inline bytes)."""
    return (image.get("S3Object") or {}).get("Name", "")


def _status_message(model: EmulatedModel) -> str:
    """What the model is doing; while RUNNING, also how many inference units are in service (the field has no
    structured place for them; on AWS the CloudWatch metric InServiceInferenceUnits tells)."""
    if model.status_message:
        return model.status_message
    if model.status == "RUNNING":
        return f"The model is running. {model.inference_units} inference unit(s) in service."
    return STATUS_MESSAGES.get(model.status, model.status)


def serve(service: CustomLabelsService, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start the JSON 1.1 endpoint in a daemon thread; `server.server_address` tells the port.

    Every request gets an answer with an `x-amzn-RequestId`: unreadable JSON is SerializationException (400),
    and any failure the emulator did not foresee is InternalServerError (500), never a dropped connection."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            try:
                status, body = 200, self._answer()
            except ServiceError as error:
                status, body = error.http_status, {"__type": error.code, "Message": error.message}
            except Exception as error:  # the boundary: whatever went wrong, the caller gets an answer
                status, body = (
                    500,
                    {
                        "__type": "InternalServerError",
                        "Message": f"The emulator failed: {type(error).__name__}: {error}",
                    },
                )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(payload)

        def _answer(self) -> dict[str, Any]:
            operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length < 0:
                    raise ValueError(length)
            except ValueError:
                self.close_connection = True
                raise ServiceError("SerializationException", "Content-Length is not a length") from None
            body = self.rfile.read(length)
            try:
                request = json.loads(body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise ServiceError("SerializationException", "The request body is not valid JSON") from None
            return service.dispatch(operation, request)

        def log_message(self, *_args: Any) -> None:  # quiet: the pipeline logs what matters
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    # A short poll interval: shutdown() returns within 50 ms instead of half a second.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="rekognition-emulator", daemon=True
    ).start()
    return server
