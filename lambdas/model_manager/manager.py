"""Logic of the model manager: start the model when work waits, stop it when idle, gate the event source.

A running Custom Labels model is billed per inference-unit hour whether used or not. `decide` is a pure
function of what was observed (queue depth, model state, event source state, last activity), so every
rule is tested without AWS; `observe` and `act` are the thin data-access around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

STARTABLE = frozenset({"STOPPED", "TRAINING_COMPLETED"})
"""States from which StartProjectVersion is accepted."""
MAPPING_ON = frozenset({"Enabled", "Enabling"})


@dataclass(frozen=True)
class Settings:
    model_arn: str
    lifecycle: str
    idle_seconds: float
    min_inference_units: int
    max_inference_units: int
    queue_url: str
    mapping_uuid: str
    state_parameter: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        names = ("MODEL_ARN", "MODEL_LIFECYCLE", "IDLE_SECONDS", "MIN_INFERENCE_UNITS", "MAX_INFERENCE_UNITS",
                 "QUEUE_URL", "MAPPING_UUID", "STATE_PARAMETER")
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise RuntimeError(f"Environment variable(s) {', '.join(missing)} not set: deploy the model manager "
                               "with the project's CDK stack, which sets them")
        return cls(environ["MODEL_ARN"], environ["MODEL_LIFECYCLE"], float(environ["IDLE_SECONDS"]),
                   int(environ["MIN_INFERENCE_UNITS"]), int(environ["MAX_INFERENCE_UNITS"]), environ["QUEUE_URL"],
                   environ["MAPPING_UUID"], environ["STATE_PARAMETER"])


@dataclass(frozen=True)
class Observation:
    now: datetime
    visible: int
    in_flight: int
    model_status: str
    mapping_enabled: bool
    last_activity: datetime | None
    work_announced: bool = False
    """Invoked by an upload event: work is coming even if its message has not reached the queue yet."""

    @property
    def work(self) -> bool:
        return self.visible + self.in_flight > 0 or self.work_announced


@dataclass(frozen=True)
class Decision:
    reason: str
    last_activity: datetime
    idle_seconds: float
    start_model: bool = False
    stop_model: bool = False
    enable_mapping: bool | None = None
    """True to enable the event source, False to disable it, None to leave it as it is."""


def decide(seen: Observation, settings: Settings) -> Decision:
    """What to do now; see docs/model-lifecycle.md for the rules."""
    last = seen.now if seen.work or seen.last_activity is None else seen.last_activity
    idle = (seen.now - last).total_seconds()
    status = seen.model_status
    waiting = f"{seen.visible} waiting and {seen.in_flight} in flight"
    if settings.lifecycle == "manual":
        return Decision(f"manual: model {status}, {waiting}; reporting only", last, idle)
    if settings.lifecycle == "always-on":
        return Decision(f"always-on: model {status}" + ("; starting it" if status in STARTABLE else ""), last, idle,
                        start_model=status in STARTABLE, enable_mapping=None if seen.mapping_enabled else True)
    if status == "RUNNING":
        if seen.work or idle < settings.idle_seconds:
            return Decision(f"model RUNNING, {waiting}, idle {idle:.0f}s of {settings.idle_seconds}s", last, idle,
                            enable_mapping=None if seen.mapping_enabled else True)
        return Decision(f"no work for {idle:.0f}s (idle limit {settings.idle_seconds}s): stopping the model", last,
                        idle, stop_model=True, enable_mapping=False if seen.mapping_enabled else None)
    # Not running: keep the event source off, so waiting messages do not spend their receive count.
    keep_off = False if seen.mapping_enabled else None
    if status in STARTABLE and seen.work:
        return Decision(f"work waiting ({waiting}{', upload announced' if seen.work_announced else ''}) and the "
                        f"model is {status}: starting it", last, idle, start_model=True, enable_mapping=keep_off)
    return Decision(f"model {status}, {waiting}", last, idle, enable_mapping=keep_off)


# --- data access ---------------------------------------------------------------------------------------------


def version_names(model_arn: str) -> tuple[str, str]:
    """(project name, version name) of `arn:...:project/NAME/version/VERSION/TIMESTAMP`."""
    parts = model_arn.split(":", 5)[5].split("/")
    return parts[1], parts[3]


def project_arn(rekognition: Any, model_arn: str) -> str:
    project, _ = version_names(model_arn)
    [description] = rekognition.describe_projects(ProjectNames=[project])["ProjectDescriptions"]
    return description["ProjectArn"]


def model_description(rekognition: Any, model_arn: str, project: str) -> dict[str, Any]:
    _, version = version_names(model_arn)
    [description] = rekognition.describe_project_versions(ProjectArn=project, VersionNames=[version])[
        "ProjectVersionDescriptions"]
    return description


def read_state(ssm: Any, name: str) -> dict[str, Any]:
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    try:
        state = json.loads(value)
    except json.JSONDecodeError:
        return {}
    return state if isinstance(state, dict) else {}


def observe(settings: Settings, clients: Any, project: str, now: datetime, work_announced: bool) -> tuple[
        Observation, dict[str, Any]]:
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=settings.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    model = model_description(clients.rekognition, settings.model_arn, project)
    mapping = clients.lambda_.get_event_source_mapping(UUID=settings.mapping_uuid)
    state = read_state(clients.ssm, settings.state_parameter)
    last = state.get("last_activity")
    return Observation(
        now=now,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        model_status=model["Status"],
        mapping_enabled=mapping["State"] in MAPPING_ON,
        last_activity=datetime.fromisoformat(last) if last else None,
        work_announced=work_announced,
    ), state


def act(decision: Decision, seen: Observation, state: dict[str, Any], settings: Settings, clients: Any,
        logger: Any, metrics: Any) -> dict[str, Any]:
    """Disable the event source before a stop and enable it after a start: never stop under work."""
    if decision.enable_mapping is False:
        clients.lambda_.update_event_source_mapping(UUID=settings.mapping_uuid, Enabled=False)
    if decision.stop_model:
        clients.rekognition.stop_project_version(ProjectVersionArn=settings.model_arn)
        metrics.add_metric(name="ModelStops", unit=MetricUnit.Count, value=1)
        logger.info("Stopped the model", extra={"reason": decision.reason, "model_arn": settings.model_arn})
    if decision.start_model:
        units = {"MinInferenceUnits": settings.min_inference_units}
        if settings.max_inference_units > settings.min_inference_units:
            units["MaxInferenceUnits"] = settings.max_inference_units
        clients.rekognition.start_project_version(ProjectVersionArn=settings.model_arn, **units)
        metrics.add_metric(name="ModelStarts", unit=MetricUnit.Count, value=1)
        logger.info("Started the model", extra={"reason": decision.reason, "model_arn": settings.model_arn, **units})
    if decision.enable_mapping is True:
        clients.lambda_.update_event_source_mapping(UUID=settings.mapping_uuid, Enabled=True)
    running_idle = decision.idle_seconds / 60 if seen.model_status == "RUNNING" and not seen.work else 0.0
    metrics.add_metric(name="ModelRunningIdleMinutes", unit=MetricUnit.Count, value=running_idle)
    new_state = {**state, "last_activity": decision.last_activity.isoformat(), "model_status": seen.model_status}
    if seen.model_status != state.get("model_status"):
        new_state["model_status_since"] = seen.now.isoformat()
    if new_state != state:
        clients.ssm.put_parameter(Name=settings.state_parameter, Value=json.dumps(new_state), Overwrite=True,
                                  Type="String")
    logger.info("Model manager ran", extra={"reason": decision.reason, "status": seen.model_status,
                                            "visible": seen.visible, "in_flight": seen.in_flight,
                                            "mapping_enabled": seen.mapping_enabled})
    return {"reason": decision.reason, "start": decision.start_model, "stop": decision.stop_model,
            "enable_mapping": decision.enable_mapping, "model_status": seen.model_status}


def manage(settings: Settings, clients: Any, project: str, logger: Any, metrics: Any, *,
           work_announced: bool = False, now: datetime | None = None) -> dict[str, Any]:
    seen, state = observe(settings, clients, project, now or datetime.now(UTC), work_announced)
    return act(decide(seen, settings), seen, state, settings, clients, logger, metrics)
