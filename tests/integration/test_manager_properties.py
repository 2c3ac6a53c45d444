"""The model manager is robust by construction (issue 22): Hypothesis feeds it arbitrary state values, queue
contents, model states, event source states, modes and invocations, through its real data access (moto SQS and
SSM; small fakes of Rekognition and Lambda), and checks what it must never do."""

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from customlabels.config_model_manager import MODEL_LIFECYCLES
from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.messages import announced_image, announcement_time
from customlabels_runtime.model_manager.rules import STARTABLE
from customlabels_runtime.model_manager.state import parse_time
from support.aws import MODEL_ARN, MODEL_STATUSES
from support.events import eventbridge_object_created, s3_event
from support.manager import NOW

pytestmark = pytest.mark.integration


PREFIX = "test_images/"


MAPPING_STATES = ["Enabled", "Disabled", "Enabling", "Disabling", "Creating", "Updating", "Deleting"]


SETTLED = {"Enabled": True, "Disabled": False}


LOGGER, METRICS = Logger(service="property-test"), Metrics()


BODIES = {
    "test event": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}),
    "text file": s3_event(PREFIX + "notes.txt"),
    "result": s3_event(PREFIX + "a/bee.jpg.json"),
    "image outside the prefix": s3_event("elsewhere/bee.jpg"),
    "image in another case": s3_event(PREFIX + "bee.Jpg"),
    "garbage": "{not json",
    "image": s3_event(PREFIX + "a/bee.jpg"),
}


# --- fakes of the two services moto does not cover the way the manager uses them -------------------------
@dataclass
class FakeRekognition:
    status: str
    starts: int = 0
    stops: int = 0

    def describe_project_versions(self, **_: Any) -> dict:
        return {"ProjectVersionDescriptions": [{"ProjectVersionArn": MODEL_ARN, "Status": self.status}]}

    def start_project_version(self, **_: Any) -> dict:
        if self.status not in STARTABLE:
            raise ClientError({"Error": {"Code": "ResourceInUseException"}}, "StartProjectVersion")
        self.starts, self.status = self.starts + 1, "STARTING"
        return {"Status": self.status}

    def stop_project_version(self, **_: Any) -> dict:
        if self.status != "RUNNING":
            raise ClientError({"Error": {"Code": "ResourceInUseException"}}, "StopProjectVersion")
        self.stops, self.status = self.stops + 1, "STOPPING"
        return {"Status": self.status}


@dataclass
class FakeLambda:
    state: str
    updates: list = field(default_factory=list)

    def get_event_source_mapping(self, UUID: str) -> dict:
        return {"UUID": UUID, "State": self.state}

    def update_event_source_mapping(self, UUID: str, Enabled: bool) -> dict:
        if self.state not in SETTLED:
            raise ClientError({"Error": {"Code": "ResourceInUseException"}}, "UpdateEventSourceMapping")
        self.updates.append(Enabled)
        self.state = "Enabled" if Enabled else "Disabled"
        return {"UUID": UUID, "State": self.state}


# --- strategies ------------------------------------------------------------------------------------------
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))


time_texts = st.one_of(
    times.map(lambda t: t.isoformat()),  # no time zone
    times.map(lambda t: t.replace(tzinfo=UTC).isoformat()),  # past or future
    st.integers(0, 86_400 * 3).map(lambda s: (NOW - timedelta(seconds=s)).isoformat()),
)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


field_values = st.one_of(time_texts, json_values)


state_documents = st.fixed_dictionaries(
    {}, optional={key: field_values for key in ("last_activity", "model_status", "model_status_since", "image_seen_at")}
).map(json.dumps)


state_values = st.one_of(st.none(), st.text(), json_values.map(json.dumps), state_documents)


queues = st.lists(st.tuples(st.sampled_from(sorted(BODIES)), st.booleans()), max_size=12)


events = st.one_of(
    st.just({"source": "aws.events", "detail-type": "Scheduled Event"}),
    st.builds(
        lambda key, age: {**eventbridge_object_created(key), "time": (NOW - timedelta(seconds=age)).isoformat()},
        st.sampled_from([PREFIX + "a/bee.jpg", PREFIX + "notes.txt", PREFIX + "a/bee.jpg.json", "x/y.png"]),
        st.integers(0, 120),
    ),
    st.just({"source": "aws.s3", "detail-type": "Object Created"}),  # no key: not an announcement
    json_values.filter(lambda value: isinstance(value, dict)),
)


WORLDS = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def aws():
    """One moto for all examples (starting one per example cost most of this module's time); each example gets
    queues and a state parameter of its own from `world`, so no example sees another's."""
    with mock_aws():
        yield


def world(state_value: str | None, messages: list[tuple[str, bool]]):
    """moto SQS (with a redrive policy) and SSM, fresh names for each example: (sqs, ssm, queue URL, parameter)."""
    number = next(WORLDS)
    sqs, ssm = boto3.client("sqs", region_name="eu-west-1"), boto3.client("ssm", region_name="eu-west-1")
    dlq = sqs.create_queue(QueueName=f"dlq-{number}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=f"work-{number}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})},
    )["QueueUrl"]
    for kind, in_flight in messages:
        sqs.send_message(QueueUrl=queue, MessageBody=BODIES[kind])
        if in_flight:  # received by someone (the event source) and not yet deleted
            sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=3600)
    if state_value is not None:
        ssm.put_parameter(Name=f"/state-{number}", Value=state_value or " ", Type="String")
    return sqs, ssm, queue, f"/state-{number}"


def image_receives(sqs, queue) -> list[int]:
    """How often each visible image message has been received (read with a receive this test does not count)."""
    found = sqs.receive_message(
        QueueUrl=queue,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    return [int(m["Attributes"]["ApproximateReceiveCount"]) - 1 for m in found if m["Body"] == BODIES["image"]]


def dependencies(settings_: Settings, rekognition: Any, sqs: Any, lambda_: Any, ssm: Any) -> Dependencies:
    return Dependencies(settings_, "project", rekognition, sqs, lambda_, ssm, LOGGER, METRICS)


def run(deps: Dependencies, event: Any, now: datetime) -> dict:
    """As the handler does: the announcement and its time come from the event."""
    return manage(
        deps,
        now=now,
        work_announced=announced_image(event, deps.settings.input_prefix),
        announced_at=announcement_time(event, now),
    )


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    state_value=state_values,
    messages=queues,
    status=st.sampled_from(MODEL_STATUSES),
    mapping=st.sampled_from(MAPPING_STATES),
    lifecycle=st.sampled_from(MODEL_LIFECYCLES),
    event=events,
)
def test_the_manager_never_raises_never_starts_but_for_an_image_and_never_stops_under_work(
    state_value, messages, status, mapping, lifecycle, event
):
    sqs, ssm, queue, parameter = world(state_value, messages)
    settings_ = Settings(MODEL_ARN, lifecycle, 1800, 1, 1, queue, "mapping", parameter, PREFIX)
    deps = dependencies(settings_, FakeRekognition(status), sqs, FakeLambda(mapping), ssm)

    run(deps, event, NOW)  # never raises

    model, lambda_ = deps.rekognition, deps.lambda_
    image_queued = any(kind == "image" for kind, _ in messages)
    announced = announced_image(event, PREFIX)
    try:
        remembered = parse_time(json.loads(state_value)["image_seen_at"], NOW) is not None
    except (TypeError, ValueError, KeyError, IndexError):
        remembered = False
    if model.starts:
        assert lifecycle != "manual" and status in STARTABLE
        if lifecycle == "on-demand":  # only an image: queued, announced, or seen by an earlier run
            assert image_queued or announced or (remembered and messages)
    if model.stops:
        assert lifecycle == "on-demand" and status == "RUNNING" and not messages
    if mapping in SETTLED:  # in every mode the event source runs exactly while the model runs
        assert SETTLED[lambda_.state] == (model.status == "RUNNING")
    else:
        assert lambda_.updates == [] and not model.stops
    assert all(count <= 1 for count in image_receives(sqs, queue))  # at most one look
    written = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    assert parse_time(written["last_activity"], NOW) is not None
    assert written["model_status"] == status


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    state_value=state_values,
    idle_minutes=st.sampled_from([1, 5, 30]),
    announced_ages=st.lists(st.tuples(st.integers(1, 59), st.integers(0, 60)), max_size=6),
)
def test_an_idle_running_model_stops_within_idle_minutes_plus_one_interval(state_value, idle_minutes, announced_ages):
    """From NOW on, the queue stays empty. Whatever the state says, and whatever late announcements (of uploads
    before NOW, at most 60 s old as the stack's maximum event age allows) come between the scheduled runs, a
    scheduled run stops the model by NOW + idle_minutes + 1 minute."""
    sqs, ssm, queue, parameter = world(state_value, [])
    settings_ = Settings(MODEL_ARN, "on-demand", idle_minutes * 60, 1, 1, queue, "mapping", parameter, PREFIX)
    deps = dependencies(settings_, FakeRekognition("RUNNING"), sqs, FakeLambda("Enabled"), ssm)
    late = {minute: (second, age) for minute, (second, age) in enumerate(announced_ages)}
    stopped_at = None
    for minute in range(idle_minutes + 2):
        run(deps, {"detail-type": "Scheduled Event"}, NOW + timedelta(minutes=minute))
        if deps.rekognition.stops:
            stopped_at = minute
            break
        if minute in late:  # between this scheduled run and the next
            second, age = late[minute]
            at = NOW + timedelta(minutes=minute, seconds=second)
            upload = min(at - timedelta(seconds=age), NOW)
            run(deps, {**eventbridge_object_created(PREFIX + "bee.jpg"), "time": upload.isoformat()}, at)
    assert stopped_at is not None and stopped_at <= idle_minutes + 1
    assert deps.lambda_.state == "Disabled"
