"""What one run of the manager reads: the queue's depth (and, when that alone decides a start, the waiting messages
themselves), the version in service and the status of every version it knows, the event source's state and the
manager's state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from customlabels_runtime.contract import error_code
from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.learning import (
    learned_images_per_second,
    learned_start_seconds,
    starting_since,
)
from customlabels_runtime.model_manager.messages import image_key, message_kind
from customlabels_runtime.model_manager.records import Inspection, Observation
from customlabels_runtime.model_manager.rules import INSPECT_MIN_RECEIVE_COUNT, should_inspect
from customlabels_runtime.model_manager.state import parse_state, parse_time, running_seconds_today
from customlabels_runtime.model_manager.versions import (
    Versions,
    in_service,
    known_versions,
    read_document,
    replaced_unannounced,
)

MAPPING_ON = frozenset({"Enabled", "Enabling"})
MAPPING_OFF = frozenset({"Disabled", "Disabling"})
"""Any other state of the event source mapping (Creating, Updating, Deleting) is left alone until it settles."""

INSPECT_MAX_MESSAGES = 10
INSPECT_VISIBILITY_SECONDS = 30
"""How long an inspected message is hidden at most; the manager makes the ones it keeps visible again at once."""


def version_names(model_arn: str) -> tuple[str, str]:
    """(project name, version name) of `arn:...:project/NAME/version/VERSION/TIMESTAMP`."""
    parts = model_arn.split(":", 5)[5].split("/")
    return parts[1], parts[3]


def project_arn(rekognition: Any, model_arn: str) -> str:
    project, _ = version_names(model_arn)
    [description] = rekognition.describe_projects(ProjectNames=[project])["ProjectDescriptions"]
    return description["ProjectArn"]


def read_versions(deps: Dependencies, state: Mapping[str, Any]) -> Versions:
    """The version document, the version in service and the status of every version it names, in one
    DescribeProjectVersions. The version in service must exist (as the deploy-time one had to); a retiring version or
    a candidate that does not is simply not running."""
    settings = deps.settings
    document, problem = None, None
    if settings.version_parameter:
        try:
            value = deps.ssm.get_parameter(Name=settings.version_parameter)["Parameter"]["Value"]
            document, problem = read_document(value, settings.model_arn)
        except ClientError as error:
            problem = f"GetParameter {settings.version_parameter} failed: {error_code(error)}"
    serving = in_service(document, state.get("model_version"), settings.model_arn)
    replaced = replaced_unannounced(document, state.get("model_version"))
    arns = known_versions(document, serving, replaced)
    names = {version_names(arn)[1]: arn for arn in arns}
    described = deps.rekognition.describe_project_versions(ProjectArn=deps.project, VersionNames=list(names))
    statuses = {
        description["ProjectVersionArn"]: description["Status"]
        for description in described["ProjectVersionDescriptions"]
        if description.get("ProjectVersionArn") in arns
    }
    if serving not in statuses:
        raise LookupError(
            f"The version in service {serving} was not found in its project. Fix: promote an existing version "
            "(customlabels model promote) or redeploy with its model_arn"
        )
    return Versions(serving, document, statuses, problem, replaced)


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
    keys = [image_key(m.get("Body"), settings.input_prefix, settings.effective_results_prefix) for m in keep]
    return Inspection(
        received=len(messages),
        images=kinds.count("image"),
        discarded=discarded,
        unknown=kinds.count("unknown"),
        error="; ".join(problems) or None,
        image_key=next((key for key in keys if key), None),
    )


def _observation(
    now: datetime, attributes: Mapping[str, Any], versions: Versions, mapping_state: str, state: Mapping[str, Any]
) -> Observation:
    """What the queue's counts, the versions' statuses, the event source's state and the manager's state say."""
    return Observation(
        now=now,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        model_status=versions.statuses[versions.in_service],
        versions=versions,
        mapping_enabled=mapping_state in MAPPING_ON,
        mapping_busy=mapping_state not in MAPPING_ON | MAPPING_OFF,
        last_activity=parse_time(state.get("last_activity"), now),
        image_seen_at=parse_time(state.get("image_seen_at"), now),
        running_seconds_today=running_seconds_today(state, now),
        waiting_key=state.get("waiting_key") if isinstance(state.get("waiting_key"), str) else None,
        start_seconds=learned_start_seconds(state),
        images_per_second=learned_images_per_second(state),
        starting_since=starting_since(state, now),
    )


def observe(
    deps: Dependencies,
    now: datetime,
    work_announced: bool,
    announced_at: datetime | None = None,
    announced_key: str | None = None,
) -> tuple[Observation, dict[str, Any]]:
    settings = deps.settings
    attributes = deps.sqs.get_queue_attributes(
        QueueUrl=settings.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy"],
    )["Attributes"]
    state = read_state(deps.ssm, settings.state_parameter)
    versions = read_versions(deps, state)
    mapping_state = deps.lambda_.get_event_source_mapping(UUID=settings.mapping_uuid).get("State", "")
    seen = _observation(now, attributes, versions, mapping_state, state)
    if work_announced:
        seen = replace(seen, work_announced=True, announced_at=announced_at, announced_key=announced_key)
    receives = max_receive_count(attributes)
    if should_inspect(seen, settings, receives):
        found = inspect_queue(deps.sqs, settings)
        seen = replace(
            seen,
            inspection=found,
            visible=max(0, seen.visible - found.discarded),
            image_seen_at=now if found.images else None,
            waiting_key=found.image_key,
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
