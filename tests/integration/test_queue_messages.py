"""Every way an S3 upload can reach the work queue (moto's S3 -> SQS, S3 -> SNS -> SQS with and without raw message
delivery, S3 -> EventBridge -> SQS) is processed by the inference function; anything else is failed, retried,
counted and kept in the DLQ, where `customlabels dlq list` names it; a batch whose every record fails is no function
error; and the model manager reads every message as the function does (a property over message shapes). The
documented examples themselves: tests/unit/test_queue_message_reader.py."""

import json
import threading
from dataclasses import dataclass
from urllib.parse import quote_plus

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customlabels.cli import main
from customlabels.cli.common import console
from customlabels.local.emulator.clock import ManualClock
from customlabels.local.lambda_events import sqs_event
from customlabels.operations import dlq
from customlabels_runtime import contract
from customlabels_runtime.inference import handler as inference_handler
from customlabels_runtime.inference.logic import UnreadableMessageError, handle_event, process_message
from customlabels_runtime.inference.throughput import ThroughputControl
from customlabels_runtime.model_manager.messages import message_kind
from support.aws import MODEL_ARN, REGION
from support.events import eventbridge_object_created, s3_event, sns_notification
from support.inference import BUCKET, LABELS, deps_for, failed_ids

pytestmark = pytest.mark.integration


KEY = "test_images/red flower+1 (2).jpg"
"""A key that URL encoding changes: a space, a plus and parentheses."""


def queue(sqs, name, **attributes):
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive_all(sqs, url, expected):
    messages = []
    while len(messages) < expected:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
        assert batch.get("Messages"), f"expected {expected} messages, got {len(messages)}"
        messages += batch["Messages"]
    return messages


def route_uploads(pipeline, path: str) -> tuple[str, int]:
    """Point the bucket's uploads at a new queue along `path`; (its URL, how many messages one upload makes there,
    S3's test event included)."""
    s3, sqs = pipeline.s3, pipeline.sqs
    url, arn = queue(sqs, f"via-{path}")
    images = {"Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "test_images/"}]}}}
    if path == "s3":
        configuration = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], **images}]}
    elif path.startswith("sns"):
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name=f"uploads-{path}")["TopicArn"]
        raw = "true" if path == "sns-raw" else "false"
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": raw})
        configuration = {"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"], **images}]}
    else:
        events = boto3.client("events", region_name=REGION)
        events.put_rule(
            Name="uploads", EventPattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"]})
        )
        events.put_targets(Rule="uploads", Targets=[{"Id": "queue", "Arn": arn}])
        configuration = {"EventBridgeConfiguration": {}}
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=configuration)
    return url, 1 if path == "eventbridge" else 2  # EventBridge sends no test event


@pytest.mark.parametrize("path", ["s3", "sns", "sns-raw", "eventbridge"])
def test_an_upload_is_processed_whichever_way_it_reaches_the_queue(pipeline, path):
    url, count = route_uploads(pipeline, path)
    put = pipeline.upload(KEY)
    messages = receive_all(pipeline.sqs, url, count)
    kinds = [contract.read_queue_message(m["Body"]).kind for m in messages]
    assert kinds == ([contract.TEST_EVENT] if count == 2 else []) + [contract.OBJECTS_CREATED]
    pipeline.expect_detect(KEY, version=put["VersionId"])

    response = handle_event(
        sqs_event(messages, "arn:aws:sqs:eu-west-1:123456789012:via", REGION), None, deps_for(pipeline)
    )

    assert response == {"batchItemFailures": []}
    result = pipeline.result(KEY + ".json")
    assert (result["Image"]["Key"], result["Image"]["VersionId"], result["CustomLabels"]) == (
        KEY,
        put["VersionId"],
        LABELS,
    )
    assert all(message_kind(m["Body"], "test_images/") in ("never", "image") for m in messages)


# --- what is not an S3 upload ----------------------------------------------------------------------------------
HOSTILE = {
    "not JSON": "{not json",
    "JSON without records": json.dumps({"hello": "x"}),
    "an S3 event of another kind": s3_event(quote_plus("test_images/bee.jpg"), event_name="ObjectRemoved:Delete"),
    "EventBridge's Object Deleted": json.dumps(
        eventbridge_object_created("test_images/bee.jpg", BUCKET, "Object Deleted")
    ),
}


@dataclass
class Context:
    """What Lambda's context gives the handler (Powertools' logger reads the names), with a fixed time left."""

    seconds_left: float = 60.0
    function_name: str = "customlabels-inference"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:customlabels-inference"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


@pytest.fixture
def lambda_handler(pipeline, monkeypatch):
    """The inference function's real handler (Powertools' logger and metrics around `handle_event`), on moto, with
    the fixture's stubbed Rekognition and a simulated clock for its throughput control."""
    monkeypatch.setenv("MODEL_ARN", MODEL_ARN)
    monkeypatch.setenv("INPUT_PREFIX", "test_images/")
    monkeypatch.setenv("RESULTS_PREFIX", "test_images/")
    inference_handler.dependencies.cache_clear()
    deps = inference_handler.dependencies()
    deps.rekognition = pipeline.rekognition
    clock = ManualClock(0.0)
    deps.throughput = ThroughputControl(clock=clock, sleep=clock.sleep)
    yield inference_handler.handler
    inference_handler.dependencies.cache_clear()


def emf_blobs(printed: str) -> list[dict]:
    return [json.loads(line) for line in printed.splitlines() if '"_aws"' in line]


def _values(value) -> list:
    """An EMF metric's values: one number, or a list when it was added more than once."""
    return value if isinstance(value, list) else [value]


def test_what_is_not_an_upload_is_failed_counted_retried_and_kept_in_the_dlq(pipeline, lambda_handler, capsys, caplog):
    """Issue 27, defect 7: such messages were deleted as "s3:TestEvent"s. Now each fails (a full batch failure that
    is no function error: defect 8), is counted, and after max_receive_count receives SQS moves it to the DLQ."""
    dead_url, dead_arn = queue(pipeline.sqs, "dead")
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})
    url, arn = queue(pipeline.sqs, "work-with-dlq", RedrivePolicy=redrive)
    sent = {
        pipeline.sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]: what for what, body in HOSTILE.items()
    }
    responses = []
    for _ in range(3):  # as Lambda's event source: receive, invoke, delete what succeeded (nothing here)
        messages = pipeline.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if messages:
            responses.append((lambda_handler(sqs_event(messages, arn, REGION), Context()), messages))

    assert len(responses) == 2, "each message is received max_receive_count (2) times, then moved"
    for response, messages in responses:  # every record failed, the invocation answered: no Lambda error
        assert failed_ids(response) == {m["MessageId"] for m in messages} == set(sent)
    letters = dlq.peek(pipeline.sqs, dead_url)
    assert {letter.message_id for letter in letters} == set(sent)
    assert all(letter.problem and not letter.keys for letter in letters)
    printed = capsys.readouterr().out
    counted = [
        value for blob in emf_blobs(printed) for value in _values(blob.get(contract.QUEUE_MESSAGES_UNREADABLE, []))
    ]
    assert sum(counted) == 2 * len(sent), "every receive of such a message is counted"
    logged = [record for record in caplog.records if hasattr(record, "problem")]
    assert {record.message_id for record in logged} == set(sent) and {r.levelname for r in logged} == {"ERROR"}


def test_dlq_list_shows_an_unreadable_message_as_such_with_its_id(pipeline, capsys, monkeypatch):
    """Issue 27, defect 7: `dlq list` ended in a JSONDecodeError traceback on a non-JSON body."""
    monkeypatch.setattr(console, "width", 250)  # one table row per message, nothing folded
    dead_url, _ = queue(pipeline.sqs, "dead")
    not_json = pipeline.sqs.send_message(QueueUrl=dead_url, MessageBody="{not json")["MessageId"]
    image = pipeline.sqs.send_message(QueueUrl=dead_url, MessageBody=s3_event(quote_plus(KEY), bucket=BUCKET))
    assert main(["dlq", "list", "--dead-letter-queue-url", dead_url]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "2 message(s) in the dead-letter queue" in printed
    assert "(unreadable message: the message body is not JSON)" in printed and not_json in printed
    assert KEY in printed and image["MessageId"] in printed
    assert "1 message(s) are not S3 object-created events, so a redrive fails them again" in printed


def test_results_still_report_the_dead_letters_beside_an_unreadable_one(pipeline, capsys):
    """`results` peeks at the DLQ to tell dead letters from pending images; an unreadable message there must not
    end it in a traceback either."""
    dead_url, _ = queue(pipeline.sqs, "dead")
    pipeline.upload("test_images/bee.jpg")
    pipeline.sqs.send_message(QueueUrl=dead_url, MessageBody="{not json")
    pipeline.sqs.send_message(QueueUrl=dead_url, MessageBody=s3_event("test_images/bee.jpg", bucket=BUCKET))
    argv = ["results", "--bucket", BUCKET, "--prefix", "test_images/", "--dead-letter-queue-url", dead_url]
    assert main(argv) == 0
    assert "1 in the dead-letter queue" in capsys.readouterr().err


# --- a batch whose every record fails -----------------------------------------------------------------------------
def test_a_one_image_batch_throttled_past_its_reserve_is_a_record_failure_not_a_function_error(
    pipeline, lambda_handler, capsys
):
    """Issue 27, defect 8: Powertools' BatchProcessor raised when every record failed, so Lambda counted an error
    and `FunctionErrors` ("the function crashed") fired. Lambda retries the batch's messages the same either way
    (docs/reliability.md); the answer is the record failure, counted by ImagesFailed with its code."""
    pipeline.upload("test_images/bee.jpg")
    [_, upload] = receive_all(pipeline.sqs, pipeline.queue_url, 2)
    for _ in range(3):
        pipeline.expect_error("ProvisionedThroughputExceededException")

    response = lambda_handler(sqs_event([upload], pipeline.queue_arn, REGION), Context(seconds_left=10 + 2))

    assert failed_ids(response) == {upload["MessageId"]}
    failed = [b for b in emf_blobs(capsys.readouterr().out) if contract.IMAGES_FAILED in b]
    assert failed and failed[0]["ErrorCode"] == "ProvisionedThroughputExceededException"


def test_the_alarms_say_where_each_failure_ends(default_template):
    """FunctionErrors reads Lambda's Errors metric of the inference function, which counts only invocations that
    raise or time out; now that a fully failed batch answers, its description can say that failed images are not
    it. DeadLetters covers the unreadable messages as well, and says how to see them."""
    alarms = default_template.find_resources("AWS::CloudWatch::Alarm")
    [errors] = [
        a["Properties"]
        for a in alarms.values()
        if a["Properties"].get("MetricName") == "Errors"
        and a["Properties"]["Dimensions"][0]["Value"]["Ref"].startswith("InferenceHandlerFunction")
    ]
    assert (errors["Namespace"], errors["Statistic"], errors["Threshold"]) == ("AWS/Lambda", "Sum", 0)
    assert "failed as a whole" in errors["AlarmDescription"]
    assert "A failed image is not this" in errors["AlarmDescription"]
    [dead] = [
        a["Properties"]
        for a in alarms.values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert contract.QUEUE_MESSAGES_UNREADABLE in dead["AlarmDescription"]
    assert "customlabels dlq list" in dead["AlarmDescription"]


# --- the manager reads every message as the function does ---------------------------------------------------------
PREFIX, RESULTS = "test_images/", "test_images/results/"


class CountingRekognition:
    """The model: every call answers no labels; what is counted is whether the function called it at all."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def detect_custom_labels(self, **_):
        with self.lock:
            self.calls += 1
        return {"CustomLabels": []}


names = st.text(st.characters(whitelist_categories=("L", "N", "Zs"), whitelist_characters="+%()-_.&=/"), max_size=12)
keys = st.builds(
    lambda prefix, name, suffix: prefix + name + suffix,
    st.sampled_from([PREFIX, RESULTS, "elsewhere/", PREFIX + "a b+c/"]),
    names,
    st.sampled_from([".jpg", ".PNG", ".jpeg", ".Jpg", ".jpg.json", ".txt", ""]),
).filter(lambda key: not key.endswith("/") and "//" not in key)
s3_names = st.sampled_from(["ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete"])
shapes = st.sampled_from(["s3", "sns", "eventbridge", "eventbridge-deleted", "test-event", "sns-test-event", "junk"])


@dataclass(frozen=True)
class Drawn:
    shape: str
    keys: tuple[str, ...]
    event_names: tuple[str, ...]
    junk: str


drawn_messages = st.builds(
    Drawn,
    shapes,
    st.lists(keys, min_size=1, max_size=3).map(tuple),
    st.lists(s3_names, min_size=3, max_size=3).map(tuple),
    st.sampled_from(["{not json", "[]", json.dumps({"hello": "x"}), json.dumps({"Records": []}), ""]),
)


def body_of(drawn: Drawn, versions: dict[str, tuple[str, str]], bucket: str) -> str:
    """The message as the AWS service of its shape writes it, for objects just uploaded (their version and ETag)."""
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket})
    records = [
        {
            "eventSource": "aws:s3",
            "eventName": name,
            "s3": {
                "bucket": {"name": bucket},
                "object": {"key": quote_plus(key), "versionId": versions[key][0], "eTag": versions[key][1]},
            },
        }
        for key, name in zip(drawn.keys, drawn.event_names, strict=False)
    ]
    notification = json.dumps({"Records": records})
    first = drawn.keys[0]
    bridge = eventbridge_object_created(
        first, bucket, "Object Deleted" if drawn.shape.endswith("deleted") else "Object Created"
    )
    bridge["detail"]["object"].update({"version-id": versions[first][0], "etag": versions[first][1]})
    return {
        "s3": notification,
        "sns": sns_notification(notification),
        "eventbridge": json.dumps(bridge),
        "eventbridge-deleted": json.dumps(bridge),
        "test-event": test_event,
        "sns-test-event": sns_notification(test_event),
        "junk": drawn.junk,
    }[drawn.shape]


BUCKETS = iter(range(1_000_000))


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(drawn=drawn_messages)
def test_the_manager_and_the_function_give_the_same_answer_for_every_message(pipeline, drawn):
    """The manager's "image" is exactly the messages the function infers (calls the model for), "never" exactly
    those it deletes without a call, "unknown" exactly those it fails into the DLQ."""
    bucket = f"agree-{next(BUCKETS)}"
    pipeline.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    pipeline.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    versions = {}
    for key in drawn.keys:
        put = pipeline.s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8")
        versions[key] = (put["VersionId"], put["ETag"].strip('"'))
    body = body_of(drawn, versions, bucket)
    deps = deps_for(pipeline, results_prefix=RESULTS)
    deps.rekognition = CountingRekognition()
    clock = ManualClock(0.0)
    deps.throughput = ThroughputControl(clock=clock, sleep=clock.sleep)
    record = SQSRecord({"messageId": "m-1", "receiptHandle": "r", "body": body, "attributes": {}})

    try:
        process_message(record, deps)
        function = "image" if deps.rekognition.calls else "never"
    except UnreadableMessageError:
        function = "unknown"

    event(f"{drawn.shape}: {function}")  # --hypothesis-show-statistics: every shape meets every answer it can
    assert message_kind(body, PREFIX, RESULTS) == function, body
