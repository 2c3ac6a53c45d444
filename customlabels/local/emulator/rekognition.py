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
import fnmatch
import io
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from PIL import Image, UnidentifiedImageError

from customlabels.limits import MAX_INLINE_IMAGE_BYTES, MAX_S3_IMAGE_BYTES, MAX_SIDE, MIN_SIDE
from customlabels.local.emulator.capacity import (
    DEFAULT_SCALE_DOWN_AFTER,
    DEFAULT_SCALE_UP_AFTER,
    DEFAULT_TPS_PER_INFERENCE_UNIT,
    Capacity,
)

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
SERVER_ERRORS = {"InternalServerError"}


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
    raise ValueError(f"{spec!r}: unknown error {name!r}; use {', '.join(FAULT_ALIASES)} or an error code such as "
                     "ImageTooLargeException")


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
            raise ValueError(f"fault {name.strip()}={rate!r}: use NAME=RATE with a rate from 0 to 1, "
                             "e.g. throttle=0.1") from None
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
            raise ValueError(f"fault plan {part.strip()!r}: the number of calls must be a whole number above 0, "
                             f"e.g. throttle:5")
        if not name.strip():
            raise ValueError(f"fault plan {part.strip()!r}: name an error, e.g. throttle:5 or internal@*/bad.jpg")
        if at and not keys.strip():
            raise ValueError(f"fault plan {part.strip()!r}: give a key pattern after @, e.g. internal@*/bad.jpg")
        plan.append(PlannedFault(fault_code(name, part.strip()), int(calls) if calls else None, keys.strip() or "*"))
    return plan


@dataclass
class EmulatedModel:
    """One project version and its lifecycle; the state advances with the service's clock."""

    arn: str
    backend: DetectionBackend = field(default_factory=NoDetections)
    assumed_thresholds: dict[str, float] = field(default_factory=dict)
    status: str = "STOPPED"
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
    def project_arn(self) -> str:
        match = VERSION_ARN.match(self.arn)
        return f"{match['prefix']}/{match['created']}"

    def threshold(self, label: str) -> float:
        return self.assumed_thresholds.get(label, DEFAULT_ASSUMED_THRESHOLD)

    def evaluation_summary_document(self, labels: list[str]) -> dict[str, Any]:
        """The summary file training writes (the layout of Rekognition's example): per label, the assumed
        threshold as 0-1 in `Metrics.Threshold`."""
        return {"Version": 1, "EvaluationDetails": {"ProjectVersionArn": self.arn, "Labels": labels},
                "LabelEvaluationResults": [{"Label": label, "Metrics": {"Threshold": self.threshold(label) / 100}}
                                           for label in labels]}


class CustomLabelsService:
    """DetectCustomLabels, DescribeProjects, DescribeProjectVersions, StartProjectVersion, StopProjectVersion."""

    def __init__(self, *, read_s3_object: Callable[[str, str, str | None], bytes] | None = None,
                 start_delay: float = 0.0, stop_delay: float = 0.0,
                 tps_per_inference_unit: float = DEFAULT_TPS_PER_INFERENCE_UNIT,
                 scale_up_after: float = DEFAULT_SCALE_UP_AFTER, scale_down_after: float = DEFAULT_SCALE_DOWN_AFTER,
                 latency: float = 0.0, faults: Mapping[str, float] | None = None,
                 fault_plan: list[PlannedFault] | None = None, seed: int = 0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        """`tps_per_inference_unit`, `scale_up_after` and `scale_down_after` are the defaults of the models
        `add_model` creates (each model may have its own)."""
        self.read_s3_object = read_s3_object
        self.start_delay = start_delay
        self.stop_delay = stop_delay
        self.tps_per_inference_unit = tps_per_inference_unit
        self.scale_up_after = scale_up_after
        self.scale_down_after = scale_down_after
        self.latency = latency
        self.faults = dict(faults or {})
        self.fault_plan = list(fault_plan or [])
        self.image_calls: dict[str, int] = {}
        """DetectCustomLabels calls that reached a running model, per image key (what a fault plan counts)."""
        self.clock = clock
        self.sleep = sleep
        self.models: dict[str, EmulatedModel] = {}
        self.calls: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        """Answers by error code: throttled calls, calls to a cold model, injected faults."""
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        from customlabels.local.emulator.datasets import DatasetStore  # it imports ServiceError from here

        self.datasets = DatasetStore(clock=clock, projects=lambda: {m.project_arn for m in list(self.models.values())})

    # --- set-up ------------------------------------------------------------------------------------------

    def add_model(self, arn: str, *, backend: DetectionBackend | None = None,
                  assumed_thresholds: Mapping[str, float] | None = None, running: bool = False,
                  inference_units: int = 1, max_inference_units: int | None = None,
                  tps_per_inference_unit: float | None = None, scale_up_after: float | None = None,
                  scale_down_after: float | None = None) -> EmulatedModel:
        """A model version, STOPPED or (`running`) RUNNING with `inference_units`, auto-scaling up to
        `max_inference_units` when that is higher. Its capacity per unit and scaling delays default to the
        service's."""
        if not VERSION_ARN.match(arn):
            raise ValueError(f"not a project version ARN: {arn}")
        capacity = Capacity(
            tps_per_inference_unit=self.tps_per_inference_unit if tps_per_inference_unit is None
            else tps_per_inference_unit,
            scale_up_after=self.scale_up_after if scale_up_after is None else scale_up_after,
            scale_down_after=self.scale_down_after if scale_down_after is None else scale_down_after)
        model = EmulatedModel(arn, backend or NoDetections(), dict(assumed_thresholds or {}), capacity=capacity)
        model.status_since = self.clock()
        if running:
            model.status = "RUNNING"
            model.min_inference_units, model.max_inference_units = inference_units, max(
                inference_units, max_inference_units or inference_units)
            capacity.start(model.status_since, inference_units, max_inference_units)
        model.history.append((model.status_since, model.status))
        self.models[arn] = model
        return model

    # --- operations --------------------------------------------------------------------------------------

    def dispatch(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        handlers = {
            "DetectCustomLabels": self.detect_custom_labels,
            "DescribeProjects": self.describe_projects,
            "DescribeProjectVersions": self.describe_project_versions,
            "StartProjectVersion": self.start_project_version,
            "StopProjectVersion": self.stop_project_version,
            **self.datasets.handlers,
        }
        if operation not in handlers:
            raise ServiceError("UnknownOperationException", f"The emulator does not implement {operation}")
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
        try:
            return handlers[operation](request)
        except ServiceError as error:
            with self._lock:
                self.errors[error.code] = self.errors.get(error.code, 0) + 1
            raise

    def detect_custom_labels(self, request: dict[str, Any]) -> dict[str, Any]:
        min_confidence = request.get("MinConfidence")
        if min_confidence is not None and not 0 <= float(min_confidence) <= 100:
            raise ServiceError("InvalidParameterException", "MinConfidence must be between 0 and 100")
        max_results = request.get("MaxResults")
        if max_results is not None and int(max_results) < 0:
            raise ServiceError("InvalidParameterException", "MaxResults must be at least 0")
        with self._lock:
            model = self._model(request.get("ProjectVersionArn", ""))
            if model.status != "RUNNING":
                raise ServiceError("ResourceNotReadyException",
                                   f"ProjectVersion {model.arn} is not ready; its status is {model.status}")
            self._inject_fault(_image_key(request.get("Image", {})))
            self._admit(model)
        if self.latency:
            self.sleep(self.latency)
        key, data = self._image(request.get("Image", {}))
        width, height = self._check_image(data)
        labels = [label for label in model.backend.detect(key, width, height)
                  if label["Confidence"] >= (float(min_confidence) if min_confidence is not None
                                             else model.threshold(label["Name"]))]
        labels.sort(key=lambda label: label["Confidence"], reverse=True)
        if max_results is not None:
            labels = labels[: int(max_results)]
        return {"CustomLabels": labels}

    def describe_projects(self, request: dict[str, Any]) -> dict[str, Any]:
        names = set(request.get("ProjectNames") or [])
        with self._lock:
            projects = {VERSION_ARN.match(m.arn)["project"]: m.project_arn for m in self.models.values()}
        return {"ProjectDescriptions": [
            {"ProjectArn": arn, "CreationTimestamp": int(arn.rsplit("/", 1)[1]) / 1000, "Status": "CREATED",
             "Datasets": self.datasets.project_datasets(arn)}
            for name, arn in sorted(projects.items()) if not names or name in names]}

    def describe_project_versions(self, request: dict[str, Any]) -> dict[str, Any]:
        project_arn = request.get("ProjectArn", "")
        names = set(request.get("VersionNames") or [])
        with self._lock:
            found = [m for m in self.models.values() if m.project_arn == project_arn]
            if not found:
                raise ServiceError("ResourceNotFoundException", f"Project {project_arn} was not found")
            descriptions = []
            for model in found:
                self._model(model.arn)  # advances its state and its units
                match = VERSION_ARN.match(model.arn)
                if names and match["version"] not in names:
                    continue
                description = {"ProjectVersionArn": model.arn, "CreationTimestamp": int(match["created"]) / 1000,
                               "Status": model.status, "StatusMessage": _status_message(model)}
                if model.min_inference_units is not None:
                    description["MinInferenceUnits"] = model.min_inference_units
                    description["MaxInferenceUnits"] = model.max_inference_units
                if model.evaluation_summary is not None:
                    bucket, key = model.evaluation_summary
                    description["EvaluationResult"] = {"Summary": {"S3Object": {"Bucket": bucket, "Name": key}}}
                descriptions.append(description)
        return {"ProjectVersionDescriptions": descriptions}

    def start_project_version(self, request: dict[str, Any]) -> dict[str, Any]:
        minimum = int(request.get("MinInferenceUnits", 0))
        maximum = int(request.get("MaxInferenceUnits") or minimum)
        if minimum < 1 or maximum < minimum:
            raise ServiceError("InvalidParameterException",
                               "MinInferenceUnits must be at least 1 and MaxInferenceUnits at least MinInferenceUnits")
        with self._lock:
            model = self._model(request.get("ProjectVersionArn", ""))
            if model.status != "STOPPED":
                raise ServiceError("ResourceInUseException",
                                   f"ProjectVersion {model.arn} cannot be started while {model.status}")
            model.min_inference_units, model.max_inference_units = minimum, maximum
            self._transition(model, "STARTING", self.start_delay)
            return {"Status": model.status}

    def stop_project_version(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            model = self._model(request.get("ProjectVersionArn", ""))
            if model.status != "RUNNING":
                raise ServiceError("ResourceInUseException",
                                   f"ProjectVersion {model.arn} cannot be stopped while {model.status}")
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
        """Enter STARTING or STOPPING; the next read after `delay` sees RUNNING or STOPPED."""
        model.status, model.status_since, model.transition_at = status, self.clock(), self.clock() + delay
        model.history.append((model.status_since, status))

    def _advance(self, model: EmulatedModel) -> None:
        """STARTING -> RUNNING and STOPPING -> STOPPED once their delay has passed."""
        if model.transition_at is not None and self.clock() >= model.transition_at:
            model.status = {"STARTING": "RUNNING", "STOPPING": "STOPPED"}.get(model.status, model.status)
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
            raise ServiceError("ProvisionedThroughputExceededException",
                               "The provisioned throughput of the model was exceeded; retry with backoff")

    def _image(self, image: dict[str, Any]) -> tuple[str, bytes]:
        if "Bytes" in image:
            data = image["Bytes"]
            data = base64.b64decode(data) if isinstance(data, str) else data
            if len(data) > MAX_INLINE_IMAGE_BYTES:
                raise ServiceError("ImageTooLargeException", "Image bytes exceed the 4 MB limit")
            return "", data
        s3_object = image.get("S3Object") or {}
        if not s3_object.get("Bucket") or not s3_object.get("Name"):
            raise ServiceError("InvalidParameterException", "Image must have Bytes or an S3Object with Bucket and Name")
        if self.read_s3_object is None:
            raise ServiceError("InvalidS3ObjectException", "The emulator has no S3 to read from")
        try:
            data = self.read_s3_object(s3_object["Bucket"], s3_object["Name"], s3_object.get("Version"))
        except Exception as error:  # any failure to read is what Rekognition reports as this code
            raise ServiceError("InvalidS3ObjectException",
                               f"Unable to get object metadata from S3. Check object key, region and/or access "
                               f"permissions. ({error})") from None
        if len(data) > MAX_S3_IMAGE_BYTES:
            raise ServiceError("ImageTooLargeException", "Image size is too large; the S3 object limit is 15 MB")
        return s3_object["Name"], data

    @staticmethod
    def _check_image(data: bytes) -> tuple[int, int]:
        """JPEG or PNG by content, decodable, 64-4096 px per side."""
        try:
            with Image.open(io.BytesIO(data)) as picture:
                if picture.format not in ("JPEG", "PNG"):
                    raise ServiceError("InvalidImageFormatException", "Request has unsupported image format")
                picture.load()
                width, height = picture.size
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ServiceError("InvalidImageFormatException", "Request has invalid image format") from None
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise ServiceError("InvalidParameterException",
                               f"Image dimensions {width}x{height} are outside {MIN_SIDE}-{MAX_SIDE} px per side")
        return width, height


def _image_key(image: dict[str, Any]) -> str:
    """The S3 key of the image a request names ("" for inline bytes)."""
    return (image.get("S3Object") or {}).get("Name", "")


def _status_message(model: EmulatedModel) -> str:
    """What the model is doing; while RUNNING, also how many inference units are in service (the field has no
    structured place for them; on AWS the CloudWatch metric InServiceInferenceUnits tells)."""
    if model.status == "RUNNING":
        return f"The model is running with {model.inference_units} inference unit(s) in service."
    return {"STARTING": "The model is being started.", "STOPPING": "The model is being stopped.",
            "STOPPED": "The model is stopped."}.get(model.status, model.status)


def serve(service: CustomLabelsService, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start the JSON 1.1 endpoint in a daemon thread; `server.server_address` tells the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            target = self.headers.get("X-Amz-Target", "")
            operation = target.rsplit(".", 1)[-1]
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
                status, body = 200, service.dispatch(operation, request)
            except ServiceError as error:
                status, body = error.http_status, {"__type": error.code, "Message": error.message}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:  # quiet: the pipeline logs what matters
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="rekognition-emulator", daemon=True).start()
    return server
