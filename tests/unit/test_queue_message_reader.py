"""The one reader of queue messages (`contract.read_queue_message`) against the examples AWS documents, and its
properties over arbitrary bodies. The deliveries themselves (moto's S3, SNS and EventBridge into SQS), the
inference function and the model manager on them: tests/integration/test_queue_messages.py."""

import json
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels_runtime.contract import (
    OBJECTS_CREATED,
    TEST_EVENT,
    UNREADABLE,
    ObjectCreated,
    QueueMessage,
    read_event_bridge_event,
    read_queue_message,
)
from support.events import eventbridge_object_created, s3_event, sns_notification

pytestmark = pytest.mark.unit


# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html, "Example messages":
# "After you configure an event notification on a bucket, Amazon S3 sends the following test message."
S3_TEST_MESSAGE = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2014-10-13T15:57:02.089Z",
    "Bucket": "bucketname",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}

# The same page: "Example message when an object is created using a PUT request".
S3_PUT_MESSAGE = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": "C3D13FE58DE4C810",
                "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "mybucket",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::mybucket",
                },
                "object": {
                    "key": "HappyFace.jpg",
                    "size": 1024,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }
    ]
}
HAPPY_FACE = ObjectCreated(
    "mybucket", "HappyFace.jpg", "096fKKXTRTtl3on89fVO.nfljtsv6qko", "d41d8cd98f00b204e9800998ecf8427e"
)

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html, "Object created" (helpers builds it, the
# bucket and key as parameters) and "Object deleted (using DeleteObject)", which differs in these fields.
EVENTBRIDGE_OBJECT_CREATED = eventbridge_object_created("example-key", "DOC-EXAMPLE-BUCKET1")
EVENTBRIDGE_OBJECT_DELETED = eventbridge_object_created("example-key", "DOC-EXAMPLE-BUCKET1", "Object Deleted")
EVENTBRIDGE_OBJECT_DELETED["detail"].update(
    {
        "object": {
            "key": "example-key",
            "etag": "d41d8cd98f00b204e9800998ecf8427e",
            "version-id": "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
            "sequencer": "617f0837b476e463",
        },
        "reason": "DeleteObject",
        "deletion-type": "Delete Marker Created",
    }
)


def test_s3s_test_message_is_a_test_event():
    assert read_queue_message(json.dumps(S3_TEST_MESSAGE)) == QueueMessage(TEST_EVENT, source="S3")


def test_s3s_put_notification_is_the_created_object_with_its_version_and_etag():
    assert read_queue_message(json.dumps(S3_PUT_MESSAGE)) == QueueMessage(OBJECTS_CREATED, (HAPPY_FACE,), "S3")


def test_a_notifications_key_is_url_decoded():
    """The same page: 'The object key name value is URL encoded. For example, "red flower.jpg" becomes
    "red+flower.jpg"'."""
    message = json.loads(json.dumps(S3_PUT_MESSAGE))
    message["Records"][0]["s3"]["object"]["key"] = "red+flower.jpg"
    assert read_queue_message(json.dumps(message)).objects[0].key == "red flower.jpg"


def test_an_s3_notification_in_an_sns_envelope_is_read_inside_it():
    """S3 -> SNS -> SQS without raw message delivery: SNS's JSON envelope carries the S3 event as a string in
    `Message` (https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html, the example
    with raw message delivery disabled); with it enabled "the message is sent as is": S3's own notification."""
    wrapped = read_queue_message(sns_notification(json.dumps(S3_PUT_MESSAGE)))
    assert wrapped == QueueMessage(OBJECTS_CREATED, (HAPPY_FACE,), "SNS S3")
    assert read_queue_message(sns_notification(json.dumps(S3_TEST_MESSAGE))).kind == TEST_EVENT


def test_eventbridges_object_created_is_the_object_its_key_as_is():
    expected = ObjectCreated(
        "DOC-EXAMPLE-BUCKET1", "example-key", "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "b1946ac92492d2347c6235b4d2611184"
    )
    assert read_queue_message(json.dumps(EVENTBRIDGE_OBJECT_CREATED)) == QueueMessage(
        OBJECTS_CREATED, (expected,), "EventBridge"
    )
    # EventBridge events carry the key as it is: nothing to decode (the page documents no encoding; moto sends it so).
    plus = eventbridge_object_created("test_images/a+b 100%.jpg")
    assert read_event_bridge_event(plus).objects[0].key == "test_images/a+b 100%.jpg"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json {", "the message body is not JSON"),
        (None, "the message body is not text"),
        ("[1, 2]", "JSON but not an object (list)"),
        (json.dumps({"hello": "x"}), "a JSON object that is not an S3 event (keys: hello)"),
        (json.dumps({"Records": []}), "an S3 event without records"),
        (s3_event("test_images/bee.jpg", event_name="ObjectRemoved:Delete"), "another kind ('ObjectRemoved:Delete')"),
        (json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": "x"}]}), "no bucket name or object key"),
        (json.dumps(EVENTBRIDGE_OBJECT_DELETED), "an S3 event of another kind ('Object Deleted')"),
        (json.dumps({**EVENTBRIDGE_OBJECT_CREATED, "detail": {}}), "without its bucket or key"),
        (sns_notification("not json"), "the SNS notification's Message is not JSON"),
        (sns_notification(json.dumps({"hello": "x"})), "not an S3 event"),
        (json.dumps({"x" * 5000: 1}), "keys: " + "x" * 39 + "…)"),
        (s3_event("k", event_name="Object" * 1000), "another kind ('ObjectObjectObjectObject"),
    ],
)
def test_anything_else_is_unreadable_and_says_why(body, problem):
    """An S3 event of another kind fails too: the stack subscribes the queue to ObjectCreated only, so an
    ObjectRemoved event there means the queue is subscribed to more than it should be; processing it would write
    an 'image deleted' result for an image that may never have been one."""
    message = read_queue_message(body)
    assert message.kind == UNREADABLE
    assert problem in message.problem


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
record_fields = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.sampled_from(["ObjectCreated:Put", "ObjectRemoved:Delete"]) | json_values,
        "s3": st.fixed_dictionaries(
            {},
            optional={
                "bucket": st.fixed_dictionaries({}, optional={"name": json_values}),
                "object": st.fixed_dictionaries({}, optional={"key": json_values, "versionId": json_values}),
            },
        )
        | json_values,
    },
)
hostile_bodies = st.one_of(
    st.text(),
    json_values.map(json.dumps),
    st.lists(record_fields | json_values, max_size=3).map(lambda records: json.dumps({"Records": records})),
    st.builds(lambda inner: sns_notification(inner), st.text() | json_values.map(json.dumps)),
    st.dictionaries(st.sampled_from(["source", "detail-type", "detail"]), json_values).map(json.dumps),
)


@given(body=hostile_bodies)
def test_the_reader_never_raises_and_names_every_problem(body):
    message = read_queue_message(body)
    assert message.kind in (OBJECTS_CREATED, TEST_EVENT, UNREADABLE)
    assert (message.kind == UNREADABLE) == bool(message.problem)
    assert len(message.problem) < 300, "a problem quotes a hostile message's text, never all of it"
    assert all(isinstance(item.key, str) and item.key and item.bucket for item in message.objects)


@given(key=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=64))
def test_every_key_comes_back_as_it_was_uploaded(key):
    """Keys as S3 encodes them in a notification (moto and AWS: form encoding), and as EventBridge carries them."""
    assert read_queue_message(s3_event(quote_plus(key))).objects[0].key == key
    assert read_queue_message(sns_notification(s3_event(quote_plus(key)))).objects[0].key == key
    assert read_queue_message(json.dumps(eventbridge_object_created(key))).objects[0].key == key
