"""The inference handler announcing each result (issue 31): on moto's EventBridge, whose rule delivers the events to a
queue as a consumer's would, and with botocore's Stubber for what PutEvents answers when entries fail
(FailedEntryCount, the ErrorCodes the API reference calls retryable or not). Every result and event these tests
produce is validated against the published schemas."""

import dataclasses
import json

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics
from botocore.stub import Stubber

from customlabels.local.moto_patches import MOTO_EVENT_TEMPLATE, deliver_events_with_their_account
from customlabels.results.schema_check import EVENT_DETAIL, schema_problems
from customlabels_runtime.inference.logic import handle_event
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.result_publishing import PUT_ATTEMPTS, RETRY_PAUSE_SECONDS, ResultEvents
from customlabels_runtime.result_events import event_detail, result_event_pattern
from customlabels_runtime.schemas import EVENT
from support.aws import REGION
from support.inference import BUCKET, deps_for

pytestmark = pytest.mark.integration

KEY = "test_images/bee.jpg"


class WatchedBus:
    """The default bus with the stack's pattern routing this bucket's result events to a queue."""

    def __init__(self):
        deliver_events_with_their_account()  # as AWS's and the local twin's do
        self.events = boto3.client("events", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="watch")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.events.put_rule(Name="watch", EventPattern=json.dumps(result_event_pattern(BUCKET)))
        self.events.put_targets(Rule="watch", Targets=[{"Id": "queue", "Arn": arn["QueueArn"]}])

    def delivered(self) -> list[dict]:
        events = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return events


class ResultFirst:
    """An EventBridge client that records, at each put, whether the announced result was already in the bucket."""

    def __init__(self, events, s3):
        self.events, self.s3, self.result_there = events, s3, []

    def put_events(self, **request):
        key = json.loads(request["Entries"][0]["Detail"])["Result"]["Key"]
        self.result_there.append(self.s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] == 1)
        return self.events.put_events(**request)


def announcing(pipeline, client, sleeps=None, metrics=None):
    deps = deps_for(pipeline)
    if metrics is not None:
        deps.metrics = PipelineMetrics(metrics)
    events = ResultEvents(
        client, "default", deps.metrics, Logger(), sleep=(sleeps if sleeps is not None else []).append
    )
    return dataclasses.replace(deps, result_events=events)


@pytest.fixture
def bus(pipeline):
    return WatchedBus()


@pytest.mark.parametrize(
    "answer", ["labels", "nothing", "InvalidImageFormatException", "deleted"], ids=lambda answer: answer
)
def test_every_result_is_followed_by_exactly_one_event_that_says_what_it_says(pipeline, bus, answer):
    put = pipeline.upload(KEY)
    event = pipeline.receive(2)
    if answer == "labels":
        pipeline.expect_detect(KEY, version=put["VersionId"])
    elif answer == "nothing":
        pipeline.expect_detect(KEY, labels=[], version=put["VersionId"])
    elif answer == "deleted":
        pipeline.s3.delete_object(Bucket=BUCKET, Key=KEY)  # a delete marker: the image is gone
    else:
        pipeline.expect_error(answer)
    client = ResultFirst(bus.events, pipeline.s3)

    assert handle_event(event, None, announcing(pipeline, client)) == {"batchItemFailures": []}

    [result] = pipeline.written_results().values()  # what the fixture validates against the schema at teardown
    assert result == pipeline.result(KEY + ".json") and schema_problems(result) == []
    [delivered] = bus.delivered()
    assert schema_problems(delivered, EVENT) == []
    assert delivered["detail"] == event_detail(result, KEY + ".json")
    assert delivered["detail"]["Outcome"] == {"labels": "labels", "nothing": "nothing"}.get(answer, "error")
    assert client.result_there == [True]  # the event came after its result


def test_moto_alone_delivers_events_without_their_account_and_the_twin_mends_it(pipeline, bus):
    assert '"account"' not in MOTO_EVENT_TEMPLATE  # the difference the patch mends (remove it when moto does)
    bus.events.put_events(
        Entries=[
            {
                "Source": "customlabels",
                "DetailType": "Result Written",
                "Detail": json.dumps({"Image": {"Bucket": BUCKET}}),
            }
        ]
    )
    [delivered] = bus.delivered()
    assert delivered["account"] == "123456789012"


def test_a_redelivered_message_announces_its_stored_result_again_at_least_once(pipeline, bus):
    put = pipeline.upload(KEY)
    event = pipeline.receive(2)
    pipeline.expect_detect(KEY, version=put["VersionId"])
    deps = announcing(pipeline, bus.events)
    handle_event(event, None, deps)
    [first] = bus.delivered()

    assert handle_event(event, None, deps) == {"batchItemFailures": []}  # no second inference (no stubbed answer)

    [again] = bus.delivered()
    assert again["detail"] == first["detail"] and again["id"] != first["id"]  # a duplicate: same detail, new id


def stubbed_events():
    client = boto3.client("events", region_name=REGION)
    return client, Stubber(client)


def failed(code):
    return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": code, "ErrorMessage": f"{code} from the stub"}]}


ACCEPTED = {"FailedEntryCount": 0, "Entries": [{"EventId": "11710aed-b79e-4468-a20b-bb3c0c3b4860"}]}


def test_entries_failed_with_a_retryable_code_are_put_again_after_a_pause(pipeline):
    client, stub = stubbed_events()
    stub.add_response("put_events", failed("ThrottlingException"))
    stub.add_response("put_events", failed("InternalFailure"))
    stub.add_response("put_events", ACCEPTED)
    sleeps = []
    put = pipeline.upload(KEY)
    event = pipeline.receive(2)
    pipeline.expect_detect(KEY, version=put["VersionId"])

    with stub:
        assert handle_event(event, None, announcing(pipeline, client, sleeps)) == {"batchItemFailures": []}
        stub.assert_no_pending_responses()
    assert sleeps == [RETRY_PAUSE_SECONDS, 2 * RETRY_PAUSE_SECONDS]


@pytest.mark.parametrize(
    ("answers", "puts"),
    [
        ([failed("InternalFailure")] * PUT_ATTEMPTS, PUT_ATTEMPTS),
        ([failed("AccessDeniedException")], 1),  # not retryable: put once
        ([failed("NotAuthorizedForSourceException")], 1),
        (["AccessDeniedException"], 1),  # the call itself refused (botocore's own retries are not stubbed)
    ],
    ids=["retryable-every-time", "access-denied-entry", "source-not-authorized", "call-refused"],
)
def test_a_put_that_fails_is_counted_and_logged_and_the_image_is_not_retried(pipeline, caplog, answers, puts):
    client, stub = stubbed_events()
    for answer in answers:
        if isinstance(answer, str):
            stub.add_client_error("put_events", service_error_code=answer, http_status_code=400)
        else:
            stub.add_response("put_events", answer)
    put = pipeline.upload(KEY)
    event = pipeline.receive(2)
    pipeline.expect_detect(KEY, version=put["VersionId"])

    metrics = Metrics(namespace="CustomLabelsPipelineTest")
    metrics.clear_metrics()  # Powertools shares one metric set between instances

    with stub:
        assert handle_event(event, None, announcing(pipeline, client, metrics=metrics)) == {"batchItemFailures": []}
        stub.assert_no_pending_responses()

    assert schema_problems(pipeline.result(KEY + ".json")) == []  # the result is written all the same
    published = metrics.serialize_metric_set()
    assert published["ResultEventsFailed"] == [1.0]  # in the invocation's metrics, with its service dimension
    assert published["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    [log] = [record for record in caplog.records if record.getMessage().startswith("Result event not put")]
    assert log.result_key == KEY + ".json" and log.levelname == "ERROR"
    assert log.error_code == (answers[-1] if isinstance(answers[-1], str) else answers[-1]["Entries"][0]["ErrorCode"])


def test_the_stubbed_entries_are_what_botocore_accepts_for_put_events(pipeline):
    """Stubber checks each request against botocore's model; here the expected entry is named field by field."""
    client, stub = stubbed_events()
    put = pipeline.upload(KEY)
    event = pipeline.receive(2)
    pipeline.expect_detect(KEY, version=put["VersionId"])
    expected = {
        "Entries": [
            {
                "Source": "customlabels",
                "DetailType": "Result Written",
                "Detail": StubAny(lambda text: schema_problems(json.loads(text), EVENT_DETAIL) == []),
                "Time": StubAny(
                    lambda time: time.isoformat() == "2026-11-22T10:00:00+00:00"
                ),  # the result's ProcessedAt
            }
        ]
    }
    stub.add_response("put_events", ACCEPTED, expected)
    deps = announcing(pipeline, client)  # its clock writes ProcessedAt 2026-11-22T10:00:00Z

    with stub:
        assert handle_event(event, None, deps) == {"batchItemFailures": []}
        stub.assert_no_pending_responses()


class StubAny:
    """An expected parameter that `check` accepts (Stubber compares with ==)."""

    def __init__(self, check):
        self.check = check

    def __eq__(self, other):
        return self.check(other)
