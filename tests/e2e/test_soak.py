"""Nothing is lost: many uploads through the local stack under faults, with bad input mixed in.

For every object: exactly one result JSON, reflecting its last upload (VersionId and ETag), with
detections or the right error code; nothing in the DLQ; no result for non-images; no invocation for a
result. `make test` runs 100 images, `make soak` 1,000.
"""

import json
import time
from collections import Counter

import pytest

from customlabels.local.emulator.options import ModelOptions
from customlabels.local.pipeline import LocalPipeline, load_config
from customlabels.results.schema_check import schema_problems
from customlabels_runtime.result_events import event_detail
from customlabels_runtime.schemas import EVENT
from support.events import s3_event
from support.images import image_bytes

pytestmark = pytest.mark.e2e


SHAPES = [
    "plain-{i}.jpg",
    "with space {i}.jpg",
    "a+b {i}.png",
    "100% {i}.jpeg",
    "ünïcödé/蜂 {i}.JPG",
    "deep/er/nest/ed/{i}.PNG",
]


SMALL = (160, 120)
"""The soak's pictures are small: a thousand of them go through the local stack."""


def bad_inputs() -> dict[str, tuple[bytes, str]]:
    """key -> (content, expected outcome)."""
    return {
        "test_images/bad/corrupt.jpg": (image_bytes("JPEG", SMALL)[:300], "error:InvalidImageFormatException"),
        "test_images/bad/zero bytes.jpg": (b"", "error:InvalidImageFormatException"),
        "test_images/bad/gif named.jpg": (image_bytes("GIF", SMALL), "error:InvalidImageFormatException"),
        "test_images/bad/png named.jpg": (image_bytes("PNG", SMALL), "nothing"),
        "test_images/bad/over 15 MB.jpg": (
            b"\xff\xd8\xff\xe0" + b"\0" * (15 * 1024 * 1024 + 1),
            "error:ImageTooLargeException",
        ),
        "test_images/bad/wide.png": (image_bytes("PNG", (4097, 64)), "error:InvalidParameterException"),
        "test_images/bad/tiny.png": (image_bytes("PNG", (63, 63)), "error:InvalidParameterException"),
        "test_images/notes.txt": (b"not an image", "not-an-image"),
        "test_images/real.gif": (image_bytes("GIF", SMALL), "not-an-image"),
    }


def soak(count: int, inference_units: int) -> None:
    config = load_config(max_receive_count=8)
    model = ModelOptions(
        faults={"ThrottlingException": 0.1, "InternalServerError": 0.02},
        seed=11,
        inference_units=inference_units,
        start_delay=0.5,
    )
    expected: dict[str, str] = {}
    bodies = {
        kind: image_bytes(kind, SMALL, (index * 40 % 255, 120, 200)) for index, kind in enumerate(["JPEG", "PNG"])
    }
    with LocalPipeline(config, model=model, visibility_timeout=20, manager_interval=0.5) as pipeline:
        for key, (content, outcome) in bad_inputs().items():
            pipeline.upload(key, content)
            expected[key] = outcome
        overwritten = "test_images/overwritten.jpg"
        pipeline.upload(overwritten, image_bytes("JPEG", SMALL, (1, 2, 3)))
        last = pipeline.upload(overwritten, image_bytes("JPEG", SMALL, (200, 100, 0)))
        expected[overwritten] = "nothing"  # no manifest: the emulated model detects nothing
        for index in range(count - len(expected)):
            key = "test_images/" + SHAPES[index % len(SHAPES)].format(i=index)
            pipeline.upload(key, bodies["PNG" if key.lower().endswith(".png") else "JPEG"])
            expected[key] = "nothing"

        # Duplicate deliveries: the same S3 event for one image sent twice more.
        duplicate = "test_images/plain-0.jpg"
        head = pipeline.s3.head_object(Bucket=pipeline.resources.bucket, Key=duplicate)
        event = s3_event(
            duplicate, bucket=pipeline.resources.bucket, versionId=head["VersionId"], eTag=head["ETag"].strip('"')
        )
        for _ in range(2):
            pipeline.sqs.send_message(QueueUrl=pipeline.resources.queue_url, MessageBody=event)

        # The model is stopped mid-run; the model manager must start it again and nothing may be lost.
        arn = config.model_arn
        while len(pipeline.result_keys()) < len(expected) // 3:
            time.sleep(0.5)
        pipeline.service.describe_project_versions({"ProjectArn": pipeline.service.models[arn].project_arn})
        if pipeline.service.models[arn].status == "RUNNING":
            pipeline.service.stop_project_version({"ProjectVersionArn": arn})

        outcomes = pipeline.wait(list(expected), timeout=300 + 2 * count)
        objects = {
            o["Key"]: o
            for page in pipeline.s3.get_paginator("list_object_versions").paginate(Bucket=pipeline.resources.bucket)
            for o in page.get("Versions", [])
        }
        heads = {
            key: pipeline.s3.head_object(Bucket=pipeline.resources.bucket, Key=key)
            for key in expected
            if not key.endswith((".txt", ".gif"))
        }
        results = {key: pipeline.result(key) for key in heads}
        events = pipeline.collect_result_events({pipeline.result_key_for(key) for key in heads})
        dead_letters = pipeline.dead_letter_keys()
        restarted = [status for _, status in pipeline.service.models[arn].history].count("RUNNING") >= 2
        log = pipeline.log_path.read_text(encoding="utf-8")

    assert {key: outcome for key, outcome in outcomes.items() if outcome != expected[key]} == {}
    assert dead_letters == set()
    assert restarted, "the model was not stopped and started again mid-run"
    for key, head in heads.items():  # one result, for the last version uploaded
        image = results[key]["Image"]
        assert (image["VersionId"], image["ETag"]) == (head["VersionId"], head["ETag"].strip('"')), key
    assert results[overwritten]["Image"]["VersionId"] == last["VersionId"]
    result_keys = {key for key in objects if key.endswith(".json")}
    assert result_keys == {pipeline.result_key_for(key) for key in heads}  # none for non-images, none twice
    assert_every_result_announced(pipeline, results, events, duplicated={pipeline.result_key_for(duplicate): 3})
    handled = [json.loads(line) for line in log.splitlines() if line.startswith('{"level"')]
    assert not [entry for entry in handled if str(entry.get("key", "")).endswith(".json")], (
        "a result triggered an invocation"
    )


def assert_every_result_announced(pipeline, results: dict, events: list, duplicated: dict[str, int]) -> None:
    """Every result and event valid by the published schemas; each result announced by exactly one event that says
    what it says, or once per delivery for an image whose S3 event came `duplicated[result key]` times (events are
    at least once). Other events only for an overwritten image's earlier version (a result since replaced)."""
    for result in results.values():
        assert schema_problems(result) == []
    for event in events:
        assert schema_problems(event, EVENT) == [], event["detail"]["Result"]["Key"]
    announcing = Counter()
    for key, result in results.items():
        result_key = pipeline.result_key_for(key)
        detail = event_detail(result, result_key)
        announcing[result_key] = sum(event["detail"] == detail for event in events)
    assert {key: count for key, count in announcing.items() if count != duplicated.get(key, 1)} == {}
    earlier = [event for event in events if event["detail"]["Result"]["Key"] not in announcing]
    assert earlier == []
    stale = Counter(event["detail"]["Result"]["Key"] for event in events) - announcing
    assert set(stale) <= {pipeline.result_key_for("test_images/overwritten.jpg")}


def test_soak_100_images_nothing_lost():
    soak(100, inference_units=2)


@pytest.mark.soak
def test_soak_1000_images_nothing_lost():
    soak(1000, inference_units=4)
