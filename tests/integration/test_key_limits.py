"""S3's key rules where the pipeline meets them (issue 27, item 4): the function and an image whose result key S3
cannot store, and the local twin's S3, which must refuse what S3 refuses and accept what S3 accepts.

S3 (Naming Amazon S3 objects, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html): a key is
"a sequence of Unicode characters encoded in UTF-8, with a maximum length of 1,024 bytes", prefix and delimiters
included; a longer one is refused with `KeyTooLongError`, 400 Bad Request, "Your key is too long." (Error
responses, List of error codes, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). Any UTF-8
character is allowed, control characters among them (with "special handling" in XML listings, which boto3's
`EncodingType=url` takes care of)."""

import io
import json

import pytest
from botocore.exceptions import ClientError

from customlabels.local.aws import client, start_moto
from customlabels_runtime.contract import KEY_TOO_LONG, MAX_KEY_BYTES, METRICS_NAMESPACE
from customlabels_runtime.inference.logic import handle_event
from support.inference import BUCKET, deps_for

pytestmark = pytest.mark.integration


def test_the_function_skips_an_image_whose_result_key_s3_cannot_store_without_calling_the_model(
    pipeline, capsys, caplog, default_template, monkeypatch
):
    """A 1,020-byte image key is stored; its result key (`.json` added) would be 1,025 bytes. No retry can help, so
    the function spends no inference and no receive on it: it logs why, counts it, and lets the message go."""
    key = "test_images/" + "d" * 200 + "/" + "n" * (1020 - len("test_images/") - 201 - 4) + ".jpg"
    assert len(key.encode()) == 1020
    pipeline.upload(key)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", deployed_service_name(default_template))
    response = handle_event(pipeline.receive(2), None, deps_for(pipeline))  # the stub answers no DetectCustomLabels
    assert response == {"batchItemFailures": []}
    assert pipeline.object_keys() == [key], "no result, and nothing retried"
    pipeline.stub.assert_no_pending_responses()
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failed = [blob for blob in metrics if "ImagesFailed" in blob]
    assert failed and failed[0]["ErrorCode"] == KEY_TOO_LONG
    assert alarm_reading(default_template, "ImagesThatCanHaveNoResult") == emitted_metric(failed[0], "ImagesFailed"), (
        "the alarm watches exactly the metric the function emits for it"
    )
    logged = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [(record.key, record.result_key_bytes) for record in logged] == [(key, 1025)]
    assert "can never get a result; upload it again under a shorter name" in logged[0].getMessage()


def emitted_metric(blob, name):
    """An EMF blob's metric as CloudWatch stores it: the name, its dimensions and their values (the namespace is the
    test's own)."""
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    [dimensions] = directive["Dimensions"]
    return name, {dimension: blob[dimension] for dimension in dimensions}


def deployed_service_name(template):
    """The service name the deployed inference function's metrics carry (its environment in the template)."""
    [name] = [
        variables["POWERTOOLS_SERVICE_NAME"]
        for function in template.find_resources("AWS::Lambda::Function").values()
        if "inference" in str(function["Properties"].get("Handler"))
        and "POWERTOOLS_SERVICE_NAME" in (variables := function["Properties"]["Environment"]["Variables"])
    ]
    return name


def alarm_reading(template, alarm_id_prefix):
    [alarm] = [
        resource["Properties"]
        for logical_id, resource in template.find_resources("AWS::CloudWatch::Alarm").items()
        if alarm_id_prefix in logical_id
    ]
    assert alarm["Namespace"] == METRICS_NAMESPACE and alarm["Threshold"] == 0
    return alarm["MetricName"], {dimension["Name"]: dimension["Value"] for dimension in alarm["Dimensions"]}


@pytest.fixture(scope="module")
def twin_s3():
    server, endpoint = start_moto()
    s3 = client("s3", endpoint, "eu-west-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield s3
    server.stop()


def refusal(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_twin_refuses_a_key_over_1024_bytes_as_s3_does_and_stores_one_of_1024(twin_s3, tmp_path):
    longest, too_long = "k" * MAX_KEY_BYTES, "é" * 512 + "k"  # 1,024 bytes; 1,025 bytes in 513 characters
    twin_s3.put_object(Bucket=BUCKET, Key=longest, Body=b"x")
    assert twin_s3.get_object(Bucket=BUCKET, Key=longest)["Body"].read() == b"x"
    assert refusal(lambda: twin_s3.put_object(Bucket=BUCKET, Key=too_long, Body=b"x")) == (KEY_TOO_LONG, 400)
    copy = {"Bucket": BUCKET, "Key": too_long, "CopySource": {"Bucket": BUCKET, "Key": longest}}
    assert refusal(lambda: twin_s3.copy_object(**copy)) == (KEY_TOO_LONG, 400)
    assert refusal(lambda: twin_s3.create_multipart_upload(Bucket=BUCKET, Key=too_long)) == (KEY_TOO_LONG, 400)
    with pytest.raises(Exception, match=KEY_TOO_LONG):  # boto3's transfer wraps it, as against S3
        twin_s3.upload_fileobj(io.BytesIO(b"x"), BUCKET, too_long)
    assert too_long not in {o["Key"] for o in twin_s3.list_objects_v2(Bucket=BUCKET)["Contents"]}


ODD = ["test_images/new\nline.jpg", "test_images/cr\rlf\r\n.jpg", "test_images/tab\t.jpg", "test_images/\x01.jpg"]


@pytest.mark.parametrize("key", ODD)
def test_the_twin_takes_every_character_s3_takes_in_a_key(twin_s3, key):
    """moto's server routed object requests by `.+`, which stops at a line feed: 404 to every request for such a
    key, which S3 accepts."""
    twin_s3.put_object(Bucket=BUCKET, Key=key, Body=b"image")
    assert twin_s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 5
    assert twin_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"image"
    assert key in {o["Key"] for o in twin_s3.list_objects_v2(Bucket=BUCKET, Prefix="test_images/")["Contents"]}
    twin_s3.delete_object(Bucket=BUCKET, Key=key)


def test_the_twins_upload_rule_fires_for_a_key_with_a_line_feed_as_eventbridge_does(twin_s3):
    """EventBridge's `wildcard` `*` is any characters; moto's became the regex `.*`, which stops at a line feed, so the
    model manager's upload rule stayed silent for such an image in the twin."""
    from moto.events.models import EventPattern

    from customlabels.local.pipeline import load_config

    rule = EventPattern.load(json.dumps(load_config().upload_event_pattern(BUCKET)))

    def created(key):
        return {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}},
        }

    assert rule.matches_event(created("test_images/new\nline.jpg"))
    assert rule.matches_event(created("test_images/a\n/b\n\n.png"))
    assert not rule.matches_event(created("test_images/new\nline.jpg.json"))
    assert not rule.matches_event(created("other/new\nline.jpg"))
