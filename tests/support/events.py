"""Messages as AWS delivers them, each built after the example in the service's documentation: an S3 event
notification, S3's test event, SNS's envelope and EventBridge's S3 event."""

import json


def s3_event(*keys, event_name="ObjectCreated:Put", bucket="b", **object_fields):
    """An S3 event notification as S3 sends it to a queue: one record per key, the key URL-encoded by the caller,
    `object_fields` (versionId, eTag) added to each object (S3 docs, "Event message structure")."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventName": event_name,
                    "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1, **object_fields}},
                }
                for key in keys
            ]
        }
    )


TEST_EVENT = json.dumps(
    {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b", "Time": "2026-11-22T12:00:00.000Z"}
)
"""What S3 sends a queue when its notification configuration is set (S3 docs, "Event message structure")."""


def sns_notification(message: str) -> str:
    """`message` as SNS delivers it to an SQS queue without raw message delivery: a JSON envelope with the message
    as a string (SNS docs, "Amazon SNS raw message delivery", the example with raw message delivery disabled)."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "dc1e94d9-56c5-5e96-808d-cc7f68faa162",
            "TopicArn": "arn:aws:sns:us-east-2:111122223333:ExampleTopic1",
            "Subject": "Amazon S3 Notification",
            "Message": message,
            "Timestamp": "2021-02-16T21:41:19.978Z",
            "SignatureVersion": "1",
            "Signature": "FMG5tlZhJNHLHUXvZgtZzlk24FzVa7oX0T4P03neeXw8ZEXZx6z35j2FOTuNYShn2h0bKNC/zLTnMyIx",
            "SigningCertURL": "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-010a507c1833636cd94bdb98bd93083a.pem",
            "UnsubscribeURL": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:111122223333:ExampleTopic1:e1039402-24e7-40a3-a0d4-797da162b297",
        }
    )


def eventbridge_object_created(key, bucket="b", detail_type="Object Created"):
    """An S3 event as EventBridge delivers it, the key as is (S3 docs, "EventBridge event message structure",
    the `Object Created` example)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2021-11-12T00:00:00Z",
        "region": "ca-central-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                "sequencer": "617f08299329d189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }
