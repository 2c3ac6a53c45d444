"""The result events in the template (issue 31): PutEvents on the configured bus only, the alarm on failed puts, the
pattern output that matches the pipeline's own events (evaluated by moto's EventPattern), and `result_events=off`."""

import json

import pytest
from aws_cdk.assertions import Match
from moto.events.models import EventPattern

from customlabels_runtime.result_events import DETAIL_TYPE, SOURCE, event_detail, result_event_pattern
from support.aws import MODEL_ARN
from support.cloudformation import concrete_values, resolve, synth_template

pytestmark = pytest.mark.integration


RESULT = {
    "Image": {"Bucket": "placeholder", "Key": "test_images/bee.jpg", "VersionId": "v1", "ETag": "e1"},
    "ProjectVersionArn": MODEL_ARN,
    "CustomLabels": [{"Name": "bee", "Confidence": 97.5}],
    "ProcessedAt": "2026-11-22T10:00:00Z",
}


def statements_with(template, action):
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    ]


def bus_arn(template) -> str:
    [statement] = statements_with(template, "events:PutEvents")
    return resolve(statement["Resource"], concrete_values(template.to_json()))


def function_variables(template) -> dict:
    [function] = template.find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"Environment": {"Variables": Match.object_like({"THRESHOLDS_PARAMETER": Match.any_value()})}}},
    ).values()
    return function["Properties"]["Environment"]["Variables"]


def test_the_function_may_put_this_pipelines_events_on_the_default_bus_only(default_template):
    [statement] = statements_with(default_template, "events:PutEvents")
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"] == {"StringEquals": {"events:source": SOURCE, "events:detail-type": DETAIL_TYPE}}
    assert bus_arn(default_template) == "arn:aws:events:eu-west-1:123456789012:event-bus/default"
    assert function_variables(default_template)["RESULT_EVENT_BUS"] == "default"


def test_failed_puts_raise_an_alarm_on_the_alarm_topic(default_template):
    [(_, alarm)] = default_template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "ResultEventsFailed"}}
    ).items()
    props = alarm["Properties"]
    assert props["Namespace"] == "CustomLabelsPipeline"
    assert props["Dimensions"] == [{"Name": "service", "Value": "customlabels-inference"}]
    assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    [topic_id] = default_template.find_resources("AWS::SNS::Topic")
    assert props["AlarmActions"] == [{"Ref": topic_id}]
    description = props["AlarmDescription"]
    assert "permission (AccessDeniedException" in description and "a missing bus" in description
    assert "aws events create-event-bus --name" in description
    assert len(description) <= 1024  # CloudWatch's limit on AlarmDescription


def test_the_pattern_output_matches_the_pipelines_events_and_no_other_buckets(default_template):
    template = default_template.to_json()
    values = concrete_values(template)
    pattern = json.loads(resolve(template["Outputs"]["ResultEventPattern"]["Value"], values))
    [bucket] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::S3::Bucket" and "LoggingConfiguration" in resource["Properties"]
    ]
    assert pattern == result_event_pattern(bucket)

    def event(bucket_name):
        document = {**RESULT, "Image": {**RESULT["Image"], "Bucket": bucket_name}}
        return {
            "source": SOURCE,
            "detail-type": DETAIL_TYPE,
            "detail": event_detail(document, "test_images/bee.jpg.json"),
        }

    matcher = EventPattern.load(json.dumps(pattern))
    assert matcher.matches_event(event(bucket))
    assert not matcher.matches_event(event("someone-elses-bucket"))
    assert not matcher.matches_event({**event(bucket), "source": "aws.s3"})


def test_a_named_bus_is_the_only_one_granted(tmp_path):
    template = synth_template(tmp_path, result_events="consumers")
    assert bus_arn(template) == "arn:aws:events:eu-west-1:123456789012:event-bus/consumers"
    assert function_variables(template)["RESULT_EVENT_BUS"] == "consumers"


def test_off_puts_nothing_grants_nothing_and_alarms_on_nothing(tmp_path):
    template = synth_template(tmp_path, result_events="off")
    assert statements_with(template, "events:PutEvents") == []
    assert template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "ResultEventsFailed"}}) == {}
    assert {"ResultEventPattern", "ResultEventBusArn"}.isdisjoint(template.to_json()["Outputs"])
    assert function_variables(template)["RESULT_EVENT_BUS"] == ""
