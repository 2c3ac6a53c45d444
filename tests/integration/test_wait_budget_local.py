"""The latency budget on the local stack's services (moto's SQS and SSM, the Rekognition emulator, the local event
source mapping's Lambda API) on the emulator's clock: an uploaded image does not start the model at once, the
manager starts it when waiting longer would miss the budget, the image is answered within it, and
`customlabels model status` says the budget, the oldest wait and when the model starts."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.operations import model
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.messages import announced_image, announced_key, announcement_time
from support.aws import MODEL_ARN
from support.events import eventbridge_object_created, s3_event
from support.manager import on_local_services

pytestmark = pytest.mark.integration

EPOCH = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
START_SECONDS = 600
BUDGET_SECONDS = 3600
KEY = "test_images/hive.jpg"


@pytest.fixture
def stack():
    """The services, the emulator's model taking 10 minutes to start on a clock the test moves."""
    clock = ManualClock(0.0)
    service = CustomLabelsService(start_delay=START_SECONDS, stop_delay=60, clock=clock, sleep=clock.sleep)
    service.add_model(MODEL_ARN)
    with on_local_services(
        service, idle_seconds=1800, max_inference_units=1, max_wait_seconds=BUDGET_SECONDS, interval_seconds=60
    ) as (deps, mapping):
        yield clock, service, deps, mapping


def tick(clock, deps, **announcement):
    """One scheduled run (or an announced one) at the emulator's time."""
    return manage(deps, now=EPOCH + timedelta(seconds=clock()), **announcement)


def announce(clock, deps, uploaded):
    """The run EventBridge's `Object Created` for KEY invokes, read as the handler reads it."""
    event = {**eventbridge_object_created(KEY), "time": uploaded.isoformat()}
    now = EPOCH + timedelta(seconds=clock())
    return manage(
        deps,
        now=now,
        work_announced=announced_image(event, "test_images/"),
        announced_at=announcement_time(event, now),
        announced_key=announced_key(event, "test_images/"),
    )


def state_of(deps):
    return json.loads(deps.ssm.get_parameter(Name="/state")["Parameter"]["Value"])


def answer_waiting(deps):
    """What the event source does once enabled: receive the image and delete it (its result written)."""
    messages = deps.sqs.receive_message(QueueUrl=deps.settings.queue_url, MaxNumberOfMessages=10)["Messages"]
    for message in messages:
        deps.sqs.delete_message(QueueUrl=deps.settings.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def test_a_model_learned_to_start_in_ten_minutes_is_started_late_enough_and_in_time(stack):
    clock, service, deps, mapping = stack
    deps.ssm.put_parameter(Name="/state", Value=json.dumps({"start_seconds": [660.0]}), Overwrite=True, Type="String")
    deps.sqs.send_message(QueueUrl=deps.settings.queue_url, MessageBody=s3_event(KEY))
    uploaded = EPOCH + timedelta(seconds=clock())
    answer = announce(clock, deps, uploaded)
    assert answer["start"] is False and "within the latency budget of 60 min" in answer["reason"]
    due = datetime.fromisoformat(state_of(deps)["start_due_at"])
    assert state_of(deps)["waiting_key"] == KEY

    started_at = None
    for _ in range(120):  # two hours of scheduled runs, one a minute
        clock.advance(60)
        answer = tick(clock, deps)
        if answer["start"]:
            started_at = EPOCH + timedelta(seconds=clock())
        if service.models[MODEL_ARN].status == "RUNNING" and mapping.enabled:
            break
    assert started_at is not None and due <= started_at < due + timedelta(seconds=60)
    assert started_at - uploaded > timedelta(minutes=40)  # a delayed start, not at the upload
    assert answer_waiting(deps) == 1
    answered = EPOCH + timedelta(seconds=clock())
    assert answered - uploaded <= timedelta(seconds=BUDGET_SECONDS + 60)
    assert state_of(deps)["start_seconds"][-1] <= START_SECONDS + 60  # learned again from this start

    clock.advance(60)
    assert tick(clock, deps)["stop"] is True  # drained for an interval: stopped, without waiting out idle_minutes


def test_model_status_shows_the_budget_the_oldest_wait_and_when_the_model_starts(stack):
    clock, _, deps, _ = stack
    deps.sqs.send_message(QueueUrl=deps.settings.queue_url, MessageBody=s3_event(KEY))
    uploaded = EPOCH + timedelta(seconds=clock())
    announce(clock, deps, uploaded)
    clock.advance(300)
    current = model.status(
        deps.rekognition, model.Target(MODEL_ARN, "/state"), deps.ssm, now=EPOCH + timedelta(seconds=clock())
    )
    wait = current.wait
    assert (wait.budget_minutes, wait.waiting_key, wait.waiting_since, wait.waited_minutes) == (60, KEY, uploaded, 5)
    assert wait.start_due_at is not None and wait.start_due_at > uploaded and wait.late is None
    assert wait.start_minutes is None  # no start seen yet: the manager assumes its safe default


def test_an_image_waiting_past_its_budget_is_reported_with_why(stack):
    clock, service, deps, _ = stack
    service.set_status(MODEL_ARN, "FAILED")
    deps.sqs.send_message(QueueUrl=deps.settings.queue_url, MessageBody=s3_event(KEY))
    uploaded = EPOCH + timedelta(seconds=clock())
    announce(clock, deps, uploaded)
    clock.advance(BUDGET_SECONDS + 60)
    tick(clock, deps)
    state = state_of(deps)
    assert state["late"] == "the model is FAILED, not startable until that ends"
    current = model.status(
        deps.rekognition, model.Target(MODEL_ARN, "/state"), deps.ssm, now=EPOCH + timedelta(hours=2)
    )
    assert current.wait.late == state["late"] and current.wait.waiting_key == KEY
