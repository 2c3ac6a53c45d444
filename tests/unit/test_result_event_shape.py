"""The result event's shape against references we did not write: botocore's service model for a PutEvents entry,
EventBridge's documented entry size limit, the published JSON Schemas (validated by `jsonschema`), and
moto's EventPattern for the rules consumers write. Hypothesis sweeps the result documents."""

import json
from datetime import UTC, datetime

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from moto.events.models import EventPattern

from customlabels.results.schema_check import EVENT_DETAIL, schema_problems
from customlabels_runtime.result_events import (
    DETAIL_TYPE,
    MAX_ENTRY_BYTES,
    MAX_LABEL_NAME_CHARACTERS,
    MAX_LABELS,
    SCHEMA_VERSION,
    SOURCE,
    entry_size,
    event_detail,
    put_events_entry,
)
from customlabels_runtime.schemas import EVENT, RESULT, schema

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
NOW_TEXT = "2026-11-22T10:00:00Z"
PUT_EVENTS = botocore.session.get_session().get_service_model("events").operation_model("PutEvents")


def s3_key(min_size=1):
    """Keys of at most S3's 1,024 bytes of UTF-8, control characters and quotes included (they grow in JSON)."""
    return st.text(min_size=min_size, max_size=1024).filter(lambda key: len(key.encode("utf-8")) <= 1024)


labels = st.lists(
    st.fixed_dictionaries(
        {
            "Name": st.one_of(st.sampled_from(["bee", "wasp", "flower"]), st.text(max_size=300)),
            "Confidence": st.floats(0, 100),
        }
    ),
    max_size=400,
)


@st.composite
def results(draw):
    error = draw(st.one_of(st.none(), st.sampled_from(["InvalidImageFormatException", "ImageTooLargeException"])))
    return {
        "Image": {
            "Bucket": draw(st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)),
            "Key": draw(s3_key()),
            "VersionId": draw(st.one_of(st.none(), st.text(min_size=1, max_size=1024))),
            "ETag": draw(st.one_of(st.none(), st.from_regex(r"[0-9a-f]{32}(-[0-9]{1,5})?", fullmatch=True))),
        },
        "ProjectVersionArn": "arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1" + "9" * 1900,
        "MinConfidence": None,
        "Thresholds": {"min_confidence": None, "labels": {}},
        "CustomLabels": [] if error else draw(labels),
        **({"Error": {"Code": error, "Message": "x" * 100_000}} if error else {}),
        "ProcessedAt": "2026-11-22T10:00:00Z",
    }


@given(results(), s3_key())
def test_every_event_is_a_valid_put_events_entry_far_below_the_size_limit(document, result_key):
    entry = put_events_entry(event_detail(document, result_key + ".json"), "default")
    report = ParamValidator().validate({"Entries": [entry]}, PUT_EVENTS.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert isinstance(entry["Detail"], str) and isinstance(json.loads(entry["Detail"]), dict)  # "a valid JSON object"
    assert len(entry["DetailType"]) <= 128 and not entry["Source"].startswith("aws.")
    assert entry["Time"] == NOW  # when the result was written
    assert "EventBusName" not in entry  # the default bus
    # Keys of 1,024 bytes, 25 names of 256 characters and a 2 KB model ARN, whatever the detections or the message.
    assert entry_size(entry) < MAX_ENTRY_BYTES / 4


@given(results(), s3_key())
def test_every_event_validates_against_the_published_schema_and_says_what_it_left_out(document, result_key):
    detail = event_detail(document, result_key + ".json")
    assert schema_problems(detail, EVENT_DETAIL) == []
    names = {label["Name"] for label in document["CustomLabels"]}
    assert len(detail["Labels"]) <= MAX_LABELS
    assert len(detail["Labels"]) + detail["LabelsOmitted"] == len(names)
    assert detail["Detections"] == len(document["CustomLabels"])
    fitting = [label for label in document["CustomLabels"] if len(label["Name"]) <= MAX_LABEL_NAME_CHARACTERS]
    for name, summary in detail["Labels"].items():
        own = [label["Confidence"] for label in fitting if label["Name"] == name]
        assert summary == {"MaxConfidence": max(own), "Count": len(own)}
    left_out = {label["Name"] for label in fitting} - set(detail["Labels"])
    if left_out and detail["Labels"]:  # the most confident names are the ones listed
        lowest_listed = min(summary["MaxConfidence"] for summary in detail["Labels"].values())
        assert all(label["Confidence"] <= lowest_listed for label in fitting if label["Name"] in left_out)


def test_the_event_names_the_schema_version_it_follows():
    assert schema(EVENT)["$id"] == f"urn:customlabels:schema:event:{SCHEMA_VERSION}"
    assert schema(RESULT)["$id"].startswith("urn:customlabels:schema:result:1.")
    pattern = schema(EVENT)["$defs"]["detail"]["properties"]["SchemaVersion"]["pattern"]
    assert pattern == "^" + SCHEMA_VERSION.split(".")[0] + "\\.[0-9]+$"  # the schema accepts its major version


def test_a_named_bus_is_the_entrys_bus():
    detail = {"ProcessedAt": NOW_TEXT}
    assert put_events_entry(detail, "consumers")["EventBusName"] == "consumers"


def test_the_schemas_are_draft_2020_12_and_catch_what_breaks_the_contract():
    for name in (RESULT, EVENT):
        Draft202012Validator.check_schema(schema(name))
        assert schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    document = {
        "Image": {"Bucket": "images", "Key": "test_images/bee.jpg", "VersionId": None, "ETag": "e"},
        "ProjectVersionArn": "arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1",
        "MinConfidence": None,
        "Thresholds": {"min_confidence": None, "labels": {}},
        "CustomLabels": [{"Name": "bee", "Confidence": 120}],
        "Error": {"Code": "InvalidImageFormatException", "Message": "m"},
        "ProcessedAt": "2026-11-22 10:00",
    }
    assert schema_problems(document) == [
        "CustomLabels: 1 item(s), expected none with Error",
        "CustomLabels[0].Confidence: 120 is greater than the maximum of 100",
        "ProcessedAt: '2026-11-22 10:00' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'",
    ]
    detail = event_detail({**document, "CustomLabels": [], "ProcessedAt": NOW_TEXT}, "test_images/bee.jpg.json")
    assert schema_problems(detail, EVENT_DETAIL) == []
    assert schema_problems({**detail, "Outcome": "labels"}, EVENT_DETAIL) == [
        "Detections: 0 is less than the minimum of 1",
        "Outcome: 'error' was expected",
    ]
    assert schema_problems({**detail, "Error": {}}, EVENT_DETAIL) == ["Error: 'Code' is a required property"]


def event_of(custom_labels):
    document = {
        "Image": {"Bucket": "images", "Key": "test_images/bee.jpg", "VersionId": "v", "ETag": "e"},
        "ProjectVersionArn": "arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1",
        "CustomLabels": custom_labels,
        "ProcessedAt": "2026-11-22T10:00:00Z",
    }
    return {"source": SOURCE, "detail-type": DETAIL_TYPE, "detail": event_detail(document, "test_images/bee.jpg.json")}


def test_labels_keyed_by_name_let_a_rule_ask_for_one_labels_confidence():
    """EventBridge matches each field of an array of objects on its own, so with a list of labels, "bee at 90 or
    more" would match a bee at 50 beside a wasp at 95; keyed by name, the rule asks about the bee's confidence."""
    bee_at_90 = EventPattern.load(
        json.dumps({"detail": {"Labels": {"bee": {"MaxConfidence": [{"numeric": [">=", 90]}]}}}})
    )
    assert bee_at_90.matches_event(event_of([{"Name": "bee", "Confidence": 97.0}, {"Name": "bee", "Confidence": 40.0}]))
    assert not bee_at_90.matches_event(
        event_of([{"Name": "bee", "Confidence": 50.0}, {"Name": "wasp", "Confidence": 95.0}])
    )
    assert not bee_at_90.matches_event(event_of([]))
    errors = EventPattern.load(json.dumps({"detail": {"Outcome": ["error"]}}))
    assert not errors.matches_event(event_of([{"Name": "bee", "Confidence": 97.0}]))


def test_the_largest_event_stays_under_a_quarter_of_the_entry_limit():
    """Everything at its longest, in the characters JSON escapes most (a control character takes 6 bytes): keys
    of 1,024 of them, 1,000 label names of 256 each detected 5 times (a 7.8 MB result), a 2 KB model ARN."""
    names = [("\x01" * 253) + f"{index:03}" for index in range(1000)]
    document = {
        "Image": {"Bucket": "b" * 63, "Key": "\x01" * 1024, "VersionId": "v" * 1024, "ETag": "e" * 40},
        "ProjectVersionArn": "a" * 2048,
        "CustomLabels": [{"Name": name, "Confidence": 50 + index / 100} for index, name in enumerate(names)] * 5,
        "ProcessedAt": NOW_TEXT,
    }
    entry = put_events_entry(event_detail(document, "\x01" * 1019 + ".json"), "default")
    assert len(json.dumps(document).encode()) > 7_000_000
    assert entry_size(entry) < MAX_ENTRY_BYTES / 4
    assert not ParamValidator().validate({"Entries": [entry]}, PUT_EVENTS.input_shape).has_errors()
    detail = json.loads(entry["Detail"])
    assert list(detail["Labels"]) == names[::-1][:MAX_LABELS] and detail["LabelsOmitted"] == 1000 - MAX_LABELS
