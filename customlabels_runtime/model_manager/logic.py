"""Logic of the model manager: start the model when an image waits, stop it when idle, gate the event source.

A running Custom Labels model is billed per inference-unit hour whether used or not. `decide` is a pure
function of what was observed (queue depth, model state, event source state, last activity, whether an image
is known to wait), so every rule is tested without AWS; `observe` and `act` are the thin data access around
it. The rules are explained in docs/model-lifecycle.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from customlabels_runtime import contract
from customlabels_runtime.contract import (
    OBJECTS_CREATED,
    UNREADABLE,
    QueueMessage,
    is_input_image,
    read_event_bridge_event,
    read_queue_message,
)

STARTABLE = frozenset({"STOPPED", "TRAINING_COMPLETED"})
"""States from which StartProjectVersion is accepted."""
MAPPING_ON = frozenset({"Enabled", "Enabling"})
MAPPING_OFF = frozenset({"Disabled", "Disabling"})
"""Any other state of the event source mapping (Creating, Updating, Deleting) is left alone until it settles."""

INSPECT_MAX_MESSAGES = 10
INSPECT_VISIBILITY_SECONDS = 30
"""How long an inspected message is hidden at most; the manager makes the ones it keeps visible again at once."""
INSPECT_MIN_RECEIVE_COUNT = 2
"""An inspection spends one of a message's receives: with a maxReceiveCount below this it would send the image
to the DLQ, so the manager does not inspect and counts every visible message as an image (the old rule)."""

STATE_KEYS = (
    "last_activity",
    "model_status",
    "model_status_since",
    "image_seen_at",
    "budget_day",
    "running_seconds",
    "resumed_at",
)


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
    input_prefix: str = "test_images/"
    max_running_seconds_per_day: float = 0.0
    """The spend guard's budget of RUNNING seconds per UTC day; 0: none (docs/model-lifecycle.md)."""
    results_prefix: str | None = None
    """Where results go (None: beside the images); an image there is not the pipeline's to infer."""

    @property
    def effective_results_prefix(self) -> str:
        return self.input_prefix if self.results_prefix is None else self.results_prefix

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        names = (
            "MODEL_ARN",
            "MODEL_LIFECYCLE",
            "IDLE_SECONDS",
            "MIN_INFERENCE_UNITS",
            "MAX_INFERENCE_UNITS",
            "QUEUE_URL",
            "MAPPING_UUID",
            "STATE_PARAMETER",
            "INPUT_PREFIX",
        )
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise RuntimeError(
                f"Environment variable(s) {', '.join(missing)} not set: deploy the model manager "
                "with the project's CDK stack, which sets them"
            )
        return cls(
            environ["MODEL_ARN"],
            environ["MODEL_LIFECYCLE"],
            float(environ["IDLE_SECONDS"]),
            int(environ["MIN_INFERENCE_UNITS"]),
            int(environ["MAX_INFERENCE_UNITS"]),
            environ["QUEUE_URL"],
            environ["MAPPING_UUID"],
            environ["STATE_PARAMETER"],
            environ["INPUT_PREFIX"],
            float(environ.get("MAX_RUNNING_SECONDS_PER_DAY") or 0),
            environ.get("RESULTS_PREFIX") or None,
        )


# --- what is an image --------------------------------------------------------------------------------------


def message_kind(body: Any, input_prefix: str, results_prefix: str | None = None) -> str:
    """What one queue message is, read as the inference function reads it (`contract.read_queue_message`, the
    pipeline's image rule `contract.is_input_image`): "image" (it announces at least one image the function
    infers), "never" (S3's `s3:TestEvent`, or only objects the function skips: deleted here), or "unknown"
    (unreadable: the function fails it, SQS retries it and then moves it to the DLQ; left alone here)."""
    message = read_queue_message(body)
    if message.kind == UNREADABLE:
        return "unknown"
    return "image" if _announces_an_image(message, input_prefix, results_prefix) else "never"


def announced_image(event: Any, input_prefix: str, results_prefix: str | None = None) -> bool:
    """Whether this invocation is EventBridge's `Object Created` for an image the pipeline infers. The stack's
    rule matches images only; the event is read again here, by the one reader of S3 events, so that no other
    event can count as one."""
    if not isinstance(event, Mapping) or event.get("source") != "aws.s3":
        return False
    message = read_event_bridge_event(event)
    return message.kind == OBJECTS_CREATED and _announces_an_image(message, input_prefix, results_prefix)


def _announces_an_image(message: QueueMessage, input_prefix: str, results_prefix: str | None) -> bool:
    results = input_prefix if results_prefix is None else results_prefix
    return any(is_input_image(item.key, input_prefix, results) for item in message.objects)


# --- the rules -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inspection:
    """What one look at the waiting messages found (ReceiveMessage of up to 10, then delete or release)."""

    received: int = 0
    images: int = 0
    discarded: int = 0
    """Messages that can never be work (S3's test event, non-image keys), deleted."""
    unknown: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Observation:
    now: datetime
    visible: int
    in_flight: int
    model_status: str
    mapping_enabled: bool
    last_activity: datetime | None
    work_announced: bool = False
    """Invoked by an image's upload event: an image is coming even if its message is not in the queue yet."""
    image_seen_at: datetime | None = None
    """When an image was last known to wait while the model was not running (an announcement, or a look at the
    queue), from this run or the state; None when no image is known to wait."""
    announced_at: datetime | None = None
    """The announced upload's time (EventBridge's `time`); None: now. While the model runs, the idle timer moves to
    it, never later: the upload put its message in the queue then, even if it was answered between two runs."""
    mapping_busy: bool = False
    """The event source is Creating, Updating or Deleting: not touched, and the model not stopped under it."""
    inspection: Inspection | None = None
    running_seconds_today: float = 0.0
    """Seconds the model has been RUNNING this UTC day (since a `customlabels model resume`), up to now."""

    @property
    def queued(self) -> int:
        return self.visible + self.in_flight


@dataclass(frozen=True)
class Decision:
    reason: str
    last_activity: datetime
    idle_seconds: float
    start_model: bool = False
    stop_model: bool = False
    enable_mapping: bool | None = None
    """True to enable the event source, False to disable it, None to leave it as it is."""
    image_seen_at: datetime | None = None
    """What to remember: an image waits for a model that is not running yet (so no run looks at the queue again)."""
    budget_paused: bool = False
    """The spend guard holds the model stopped and the images in the queue until the next UTC day or a resume."""


def budget_spent(seen: Observation, settings: Settings) -> bool:
    """Whether the spend guard's daily budget of running time is used up (never in `manual` mode)."""
    return (
        settings.lifecycle != "manual"
        and settings.max_running_seconds_per_day > 0
        and seen.running_seconds_today >= settings.max_running_seconds_per_day
    )


def paused_by_budget(
    seen: Observation, settings: Settings, last: datetime, idle: float, remember: datetime | None
) -> Decision:
    """The spend guard: disable the event source first, stop the model once nothing is in flight (no batch is
    failed, no receive spent), start nothing; images wait in the queue (4 days' retention) for the next UTC day."""
    why = (
        f"spend guard: the model ran {seen.running_seconds_today / 3600:.2f} h today, the budget is "
        f"{settings.max_running_seconds_per_day / 3600:g} h; images wait in the queue until 00:00 UTC or "
        "`customlabels model resume`"
    )
    disable = False if seen.mapping_enabled and not seen.mapping_busy else None
    stop = seen.model_status == "RUNNING" and not seen.mapping_enabled and not seen.mapping_busy and seen.in_flight == 0
    step = (
        "; stopping the model"
        if stop
        else ("; waiting for the batches in flight" if seen.model_status == "RUNNING" else "")
    )
    return Decision(
        why + step, last, idle, stop_model=stop, enable_mapping=disable, image_seen_at=remember, budget_paused=True
    )


def decide(seen: Observation, settings: Settings) -> Decision:
    """What to do now; see docs/model-lifecycle.md for the rules."""
    status, running = seen.model_status, seen.model_status == "RUNNING"
    # Only queue work keeps a running model awake: messages seen now, or an announced upload at its own time (its
    # message was queued then). A late announcement cannot move the timer past its upload, as it did in issue 13.
    active = seen.queued > 0 or (seen.work_announced and not running)
    last = seen.now if active or seen.last_activity is None else seen.last_activity
    if running and seen.work_announced:
        last = max(last, seen.announced_at or seen.now)
    idle = (seen.now - last).total_seconds()
    image_waiting = not running and (seen.work_announced or (seen.image_seen_at is not None and seen.queued > 0))
    remember = (seen.now if seen.work_announced else seen.image_seen_at) if image_waiting else None
    # In every mode the event source runs exactly while the model runs: an image is never received (and never
    # spends its receive count toward the DLQ) by a model that cannot answer it.
    gate = None if seen.mapping_busy or seen.mapping_enabled == running else running
    waiting = f"{seen.visible} waiting and {seen.in_flight} in flight"
    if budget_spent(seen, settings):  # what waits is remembered as below, to start at once the next day
        held = seen.now if seen.work_announced else (seen.image_seen_at if seen.queued else None)
        return paused_by_budget(seen, settings, last, idle, held)
    if settings.lifecycle == "manual":
        return Decision(
            f"manual: model {status}, {waiting}; gating the event source only",
            last,
            idle,
            enable_mapping=gate,
            image_seen_at=remember,
        )
    if settings.lifecycle == "always-on":
        return Decision(
            f"always-on: model {status}" + ("; starting it" if status in STARTABLE else ""),
            last,
            idle,
            start_model=status in STARTABLE,
            enable_mapping=gate,
            image_seen_at=remember,
        )
    if running:
        if active or idle < settings.idle_seconds:
            return Decision(
                f"model RUNNING, {waiting}, idle {idle:.0f}s of {settings.idle_seconds:g}s",
                last,
                idle,
                enable_mapping=gate,
            )
        if seen.work_announced:  # its message may not be in the queue yet: the next scheduled run decides
            return Decision(
                f"model RUNNING, idle {idle:.0f}s, an upload announced: the next scheduled run decides",
                last,
                idle,
                enable_mapping=gate,
            )
        if seen.mapping_busy:
            return Decision(
                f"no work for {idle:.0f}s but the event source is changing: stopping on a later run", last, idle
            )
        return Decision(
            f"no work for {idle:.0f}s (idle limit {settings.idle_seconds:g}s): stopping the model",
            last,
            idle,
            stop_model=True,
            enable_mapping=False if seen.mapping_enabled else None,
        )
    if status in STARTABLE and image_waiting:
        why = "upload announced" if seen.work_announced else "an image waits"
        return Decision(
            f"{why} ({waiting}) and the model is {status}: starting it",
            last,
            idle,
            start_model=True,
            enable_mapping=gate,
            image_seen_at=remember,
        )
    found = seen.inspection
    looked = (
        ""
        if found is None
        else (
            f"; looked at {found.received}: {found.images} image(s), {found.discarded} "
            f"discarded, {found.unknown} unknown" + (f", {found.error}" if found.error else "")
        )
    )
    return Decision(f"model {status}, {waiting}{looked}", last, idle, enable_mapping=gate, image_seen_at=remember)


def announcement_time(event: Mapping[str, Any], now: datetime) -> datetime | None:
    """The upload time of an announcement (EventBridge's `time`), None when absent or not believable."""
    return parse_time(event.get("time"), now) if isinstance(event, Mapping) else None


def should_inspect(seen: Observation, settings: Settings, max_receive_count: int | None) -> bool:
    """Look at the waiting messages only when that alone decides a start: on demand, a startable model, visible
    messages, and no image known yet. Once one is seen the model starts and no further look happens until it
    has run, so an image spends at most one receive this way per stopped period."""
    return (
        settings.lifecycle == "on-demand"
        and seen.model_status in STARTABLE
        and seen.visible > 0
        and not seen.work_announced
        and seen.image_seen_at is None
        and not budget_spent(seen, settings)
        and (max_receive_count is None or max_receive_count >= INSPECT_MIN_RECEIVE_COUNT)
    )


# --- the state -------------------------------------------------------------------------------------------


def parse_time(value: Any, now: datetime) -> datetime | None:
    """An ISO timestamp with a time zone, not after `now`; anything else (garbage, a naive timestamp, a number,
    a time in the future, which would postpone every stop) is None: unknown."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.utcoffset() is None or moment > now:
            return None
    except (ValueError, OverflowError):
        return None
    return moment


def parse_state(value: Any) -> dict[str, Any]:
    """The state document, or {} when it is not a JSON object; its fields are checked where they are used."""
    if not isinstance(value, str):
        return {}
    try:
        state = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    return state if isinstance(state, dict) else {}


def _budget_start(state: Mapping[str, Any], now: datetime) -> datetime:
    """Where today's count of running time starts: 00:00 UTC, or a later `customlabels model resume`."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    resumed = parse_time(state.get("resumed_at"), now)
    return max(midnight, resumed) if resumed is not None else midnight


def _counted_seconds(state: Mapping[str, Any], now: datetime) -> tuple[float, float]:
    """(closed, open): running seconds of today's closed RUNNING periods as recorded, and of the period open
    since the last observed RUNNING status. An observed stop closes a period up to one run late, so the guard
    counts at most one interval too much, never too little. Anything unreadable counts as 0."""
    start = _budget_start(state, now)
    closed = state.get("running_seconds")
    valid = (
        state.get("budget_day") == start.date().isoformat()
        and isinstance(closed, int | float)
        and not isinstance(closed, bool)
        and 0 <= closed <= 86_400
    )
    open_seconds = 0.0
    since = parse_time(state.get("model_status_since"), now)
    if state.get("model_status") == "RUNNING" and since is not None:
        open_seconds = max(0.0, (now - max(since, start)).total_seconds())
    return (float(closed) if valid else 0.0), open_seconds


def running_seconds_today(state: Mapping[str, Any], now: datetime) -> float:
    """Seconds the model has been RUNNING on `now`'s UTC day (since a resume), by the manager's state; never more
    than the day (or the resume) has had."""
    return min(sum(_counted_seconds(state, now)), (now - _budget_start(state, now)).total_seconds())


def resumed_state(state: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """`customlabels model resume`: the state with today's count of running time restarted at `now`, so the
    guard allows another full budget today; the manager acts on it at its next run."""
    return {
        **state,
        "resumed_at": now.isoformat(),
        "budget_day": now.astimezone(UTC).date().isoformat(),
        "running_seconds": 0,
    }


def next_state(seen: Observation, decision: Decision, state: Mapping[str, Any]) -> dict[str, Any]:
    """The state to write: always valid, whatever was read."""
    since = parse_time(state.get("model_status_since"), seen.now)
    closed, open_seconds = _counted_seconds(state, seen.now)
    if state.get("model_status") != seen.model_status or since is None:
        since = seen.now
        closed += open_seconds  # a RUNNING period ended (observed now): count it as closed
    new = {
        "last_activity": decision.last_activity.isoformat(),
        "model_status": seen.model_status,
        "model_status_since": since.isoformat(),
        "budget_day": _budget_start(state, seen.now).date().isoformat(),
        "running_seconds": round(closed, 3),
    }
    resumed = parse_time(state.get("resumed_at"), seen.now)
    if resumed is not None and resumed.date() == seen.now.date():
        new["resumed_at"] = resumed.isoformat()
    if decision.image_seen_at is not None:
        new["image_seen_at"] = decision.image_seen_at.isoformat()
    return new


@dataclass(frozen=True)
class Clients:
    """The AWS clients the manager observes and acts with: boto3's in Lambda, moto or fakes in tests and bench/."""

    rekognition: Any
    sqs: Any
    lambda_: Any
    ssm: Any


# --- data access -----------------------------------------------------------------------------------------


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
        "ProjectVersionDescriptions"
    ]
    return description


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def read_state(ssm: Any, name: str) -> dict[str, Any]:
    """The state, or {} when the parameter is missing or holds anything but a JSON object."""
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise
        return {}
    return parse_state(value)


def max_receive_count(attributes: Mapping[str, Any]) -> int | None:
    """The queue's maxReceiveCount (None without a redrive policy, or when it cannot be read)."""
    try:
        return int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
    except (KeyError, TypeError, ValueError):
        return None


def inspect_queue(sqs: Any, settings: Settings) -> Inspection:
    """Receive up to 10 waiting messages, delete those that can never be work, make the rest visible again."""
    try:
        messages = sqs.receive_message(
            QueueUrl=settings.queue_url,
            MaxNumberOfMessages=INSPECT_MAX_MESSAGES,
            VisibilityTimeout=INSPECT_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
    except ClientError as error:
        return Inspection(error=f"ReceiveMessage failed: {error_code(error)}")
    kinds = [
        message_kind(message.get("Body"), settings.input_prefix, settings.effective_results_prefix)
        for message in messages
    ]
    discard = [message for message, kind in zip(messages, kinds, strict=True) if kind == "never"]
    keep = [message for message, kind in zip(messages, kinds, strict=True) if kind != "never"]
    problems, discarded = [], 0
    if discard:
        try:
            response = sqs.delete_message_batch(
                QueueUrl=settings.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(discard)
                ],
            )
            discarded = len(response.get("Successful", []))
        except ClientError as error:
            problems.append(f"DeleteMessageBatch failed: {error_code(error)}")
    if keep:  # visible again at once; otherwise after INSPECT_VISIBILITY_SECONDS
        try:
            sqs.change_message_visibility_batch(
                QueueUrl=settings.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                    for index, message in enumerate(keep)
                ],
            )
        except ClientError as error:
            problems.append(f"ChangeMessageVisibilityBatch failed: {error_code(error)}")
    return Inspection(
        received=len(messages),
        images=kinds.count("image"),
        discarded=discarded,
        unknown=kinds.count("unknown"),
        error="; ".join(problems) or None,
    )


def observe(
    settings: Settings,
    clients: Any,
    project: str,
    now: datetime,
    work_announced: bool,
    announced_at: datetime | None = None,
) -> tuple[Observation, dict[str, Any]]:
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=settings.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy"],
    )["Attributes"]
    model = model_description(clients.rekognition, settings.model_arn, project)
    mapping_state = clients.lambda_.get_event_source_mapping(UUID=settings.mapping_uuid).get("State", "")
    state = read_state(clients.ssm, settings.state_parameter)
    seen = Observation(
        now=now,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        model_status=model["Status"],
        mapping_enabled=mapping_state in MAPPING_ON,
        mapping_busy=mapping_state not in MAPPING_ON | MAPPING_OFF,
        last_activity=parse_time(state.get("last_activity"), now),
        work_announced=work_announced,
        announced_at=announced_at if work_announced else None,
        image_seen_at=parse_time(state.get("image_seen_at"), now),
        running_seconds_today=running_seconds_today(state, now),
    )
    receives = max_receive_count(attributes)
    if should_inspect(seen, settings, receives):
        found = inspect_queue(clients.sqs, settings)
        seen = replace(
            seen,
            inspection=found,
            visible=max(0, seen.visible - found.discarded),
            image_seen_at=now if found.images else None,
        )
    elif (
        settings.lifecycle == "on-demand"
        and seen.visible > 0
        and seen.image_seen_at is None
        and receives is not None
        and receives < INSPECT_MIN_RECEIVE_COUNT
    ):
        seen = replace(seen, image_seen_at=now)  # cannot look without sending images to the DLQ: assume one
    return seen, state


def update_mapping(clients: Any, settings: Settings, enabled: bool, logger: Any) -> bool:
    """Enable or disable the event source; False if Lambda refused because it is changing (the next run retries)."""
    try:
        clients.lambda_.update_event_source_mapping(UUID=settings.mapping_uuid, Enabled=enabled)
    except ClientError as error:
        if error_code(error) not in ("ResourceInUseException", "ResourceConflictException"):
            raise
        logger.warning("The event source is changing; the next run retries", extra={"enabled": enabled})
        return False
    return True


def act(
    decision: Decision,
    seen: Observation,
    state: dict[str, Any],
    settings: Settings,
    clients: Any,
    logger: Any,
    metrics: Any,
) -> dict[str, Any]:
    """Write the state first (so an image seen is remembered even if a start fails), disable the event source
    before a stop and enable it after a start: never stop under work."""
    new_state = next_state(seen, decision, state)
    if new_state != state:
        clients.ssm.put_parameter(
            Name=settings.state_parameter, Value=json.dumps(new_state), Overwrite=True, Type="String"
        )
    stop = decision.stop_model
    if decision.enable_mapping is False and not update_mapping(clients, settings, False, logger):
        stop = False  # the event source may still be delivering: not under it
    if stop:
        clients.rekognition.stop_project_version(ProjectVersionArn=settings.model_arn)
        metrics.add_metric(name=contract.MODEL_STOPS, unit=MetricUnit.Count, value=1)
        logger.info("Stopped the model", extra={"reason": decision.reason, "model_arn": settings.model_arn})
    if decision.start_model:
        units = {"MinInferenceUnits": settings.min_inference_units}
        if settings.max_inference_units > settings.min_inference_units:
            units["MaxInferenceUnits"] = settings.max_inference_units
        clients.rekognition.start_project_version(ProjectVersionArn=settings.model_arn, **units)
        metrics.add_metric(name=contract.MODEL_STARTS, unit=MetricUnit.Count, value=1)
        logger.info("Started the model", extra={"reason": decision.reason, "model_arn": settings.model_arn, **units})
    if decision.enable_mapping is True:
        update_mapping(clients, settings, True, logger)
    if seen.inspection is not None:
        metrics.add_metric(
            name=contract.QUEUE_MESSAGES_DISCARDED, unit=MetricUnit.Count, value=seen.inspection.discarded
        )
    running_idle = decision.idle_seconds / 60 if seen.model_status == "RUNNING" and not seen.queued else 0.0
    metrics.add_metric(name=contract.MODEL_RUNNING_IDLE_MINUTES, unit=MetricUnit.Count, value=running_idle)
    metrics.add_metric(
        name=contract.MODEL_HOURS_TODAY, unit=MetricUnit.Count, value=round(seen.running_seconds_today / 3600, 3)
    )
    metrics.add_metric(name=contract.SPEND_GUARD_PAUSED, unit=MetricUnit.Count, value=int(decision.budget_paused))
    if decision.budget_paused:
        logger.warning("Spend guard: the daily budget of model hours is used up", extra={"reason": decision.reason})
    logger.info(
        "Model manager ran",
        extra={
            "reason": decision.reason,
            "status": seen.model_status,
            "visible": seen.visible,
            "in_flight": seen.in_flight,
            "mapping_enabled": seen.mapping_enabled,
        },
    )
    return {
        "reason": decision.reason,
        "start": decision.start_model,
        "stop": stop,
        "enable_mapping": decision.enable_mapping,
        "model_status": seen.model_status,
        "paused": decision.budget_paused,
    }


class InspectionFailedError(RuntimeError):
    """Raised after a run has acted, when it could not look at the queue (missing rights, a key it cannot use):
    the invocation fails so that the manager's Errors alarm reports it."""


def manage(
    settings: Settings,
    clients: Any,
    project: str,
    logger: Any,
    metrics: Any,
    *,
    work_announced: bool = False,
    announced_at: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    seen, state = observe(settings, clients, project, now or datetime.now(UTC), work_announced, announced_at)
    result = act(decide(seen, settings), seen, state, settings, clients, logger, metrics)
    if seen.inspection is not None and seen.inspection.error:
        logger.error("Could not look at the waiting messages", extra={"error": seen.inspection.error})
        raise InspectionFailedError(seen.inspection.error)
    return result
