"""Alarms to an encrypted SNS topic, the optional e-mail subscription, and the dashboard."""

import fnmatch
import json

import pytest
from aws_cdk.assertions import Match

from customlabels.config import ConfigError, PipelineConfig
from customlabels_runtime import contract
from support.aws import MODEL_ARN
from support.cloudformation import synth_template

pytestmark = pytest.mark.integration


def alarms_by_metric(template):
    """The pipeline's alarms by metric name; the two functions' Errors alarms by the function's logical id."""
    alarms = {}
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        name = props.get("MetricName")
        if name == "Errors":
            [dimension] = props["Dimensions"]
            name = f"Errors of {dimension['Value']['Ref']}"
        alarms[name] = props
    return alarms


def errors_alarm(template, function_prefix):
    [props] = [v for k, v in alarms_by_metric(template).items() if k.startswith(f"Errors of {function_prefix}")]
    return props


def test_every_alarm_notifies_the_encrypted_tls_only_topic(default_template):
    [(topic_id, topic)] = default_template.find_resources("AWS::SNS::Topic").items()
    [key_id] = default_template.find_resources("AWS::KMS::Key")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    [policy] = default_template.find_resources("AWS::SNS::TopicPolicy").values()
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )
    alarms = default_template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 9  # with ImagesThatCanHaveNoResult and ResultEventsFailed (result_events on by default)
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_alarms_watch_the_dlq_the_oldest_image_errors_throttles_and_the_idle_model(default_template):
    alarms = alarms_by_metric(default_template)
    dlq = alarms["ApproximateNumberOfMessagesVisible"]
    assert (dlq["Threshold"], dlq["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    dlq_ids = [
        k
        for k, v in default_template.find_resources("AWS::SQS::Queue").items()
        if "RedrivePolicy" not in v["Properties"]
    ]
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_ids[0], "QueueName"]}}]
    assert "customlabels dlq redrive" in dlq["AlarmDescription"]
    assert alarms["ApproximateAgeOfOldestMessage"]["Threshold"] == 3600
    assert errors_alarm(default_template, "InferenceHandlerFunction")["Threshold"] == 0
    assert alarms["Throttles"]["Threshold"] == 0
    assert alarms["ModelRunningIdleMinutes"]["Threshold"] == 60
    assert (alarms["SpendGuardPaused"]["Threshold"], alarms["SpendGuardPaused"]["Statistic"]) == (0, "Maximum")
    assert "customlabels model resume" in alarms["SpendGuardPaused"]["AlarmDescription"]


# What AWS documents for CloudWatch alarms publishing to an encrypted topic (placeholders in capitals):
# re:Post knowledge center "cloudwatch-receive-sns-for-alarm-trigger" (topic policy, with the ArnLike
# aws:SourceArn restriction to alarms) and "cloudwatch-configure-alarm-sns" (customer managed key policy; the
# SNS developer guide's "Key management", compatibility with AWS services, gives the same statement).
DOCUMENTED_TOPIC_STATEMENT = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": "TOPIC_ARN",
    "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:REGION:ACCOUNT_ID:alarm:ALARM_NAME"}},
}


DOCUMENTED_KEY_STATEMENT = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
}


def cloudwatch_statements(statements):
    return [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]


def test_topic_policy_lets_this_accounts_alarms_publish_as_documented(default_template):
    [topic_id] = default_template.find_resources("AWS::SNS::Topic")
    [policy] = default_template.find_resources("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    [statement] = cloudwatch_statements(policy["Properties"]["PolicyDocument"]["Statement"])
    expected = {
        **DOCUMENTED_TOPIC_STATEMENT,
        "Resource": {"Ref": topic_id},
        "Condition": {
            # the documented ArnLike, for every alarm of this account in this region ...
            "ArnLike": {
                "aws:SourceArn": {
                    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:eu-west-1:123456789012:alarm:*"]]
                }
            },
            # ... and aws:SourceAccount, which AWS recommends against the confused deputy
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        },
    }
    assert {k: v for k, v in statement.items() if k != "Sid"} == expected


def test_cloudwatch_may_use_the_key_only_for_this_account_as_documented(default_template):
    [key] = default_template.find_resources("AWS::KMS::Key").values()
    [statement] = cloudwatch_statements(key["Properties"]["KeyPolicy"]["Statement"])
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    for field in ("Effect", "Principal", "Resource"):
        assert statement[field] == DOCUMENTED_KEY_STATEMENT[field], field
    # The calls SNS makes for a publisher (Decrypt, GenerateDataKey): no more than the documented wildcard.
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert all(
        fnmatch.fnmatchcase(action, pattern) or action == pattern
        for action, pattern in zip(sorted(statement["Action"]), DOCUMENTED_KEY_STATEMENT["Action"], strict=True)
    )


def test_alarm_email_subscribes_to_the_topic(tmp_path, default_template):
    default_template.resource_count_is("AWS::SNS::Subscription", 0)
    template = synth_template(tmp_path, alarm_email="ops@example.com", max_message_age_minutes="15")
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})
    assert alarms_by_metric(template)["ApproximateAgeOfOldestMessage"]["Threshold"] == 900


LATENCY_WIDGET = "DetectCustomLabels: model latency and wait for a slot (ms)"


def dashboard_widgets(template) -> dict[str, dict]:
    """The dashboard's widgets by title, its body parsed (the tokens inside its strings, such as the region, as
    TOKEN)."""
    [dashboard] = template.find_resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))
    return {widget["properties"]["title"]: widget["properties"] for widget in body["widgets"]}


def test_dashboard_shows_images_queue_latency_function_model_and_alarms(default_template):
    assert set(dashboard_widgets(default_template)) == {
        "Images",
        "Queue",
        LATENCY_WIDGET,
        "Function",
        "Model",
        "Alarms",
    }
    default_template.has_output("AlarmTopicArn", Match.any_value())
    default_template.has_output("DashboardName", Match.any_value())


def test_dashboard_tells_the_models_latency_and_the_wait_for_a_slot_apart(default_template):
    """Two metrics side by side, each at p50 and p99, with the throttled calls on the right axis: a long wait with
    few throttles is the pipeline keeping to the model's capacity, a long latency is the model."""
    metrics = dashboard_widgets(default_template)[LATENCY_WIDGET]["metrics"]
    shown = {(metric[1], metric[4]["stat"], metric[4].get("yAxis", "left")) for metric in metrics}
    assert all(
        metric[:4] == [contract.METRICS_NAMESPACE, metric[1], "service", contract.INFERENCE_SERVICE]
        for metric in metrics
    )
    assert shown == {
        (contract.DETECT_LATENCY, "p50", "left"),
        (contract.DETECT_LATENCY, "p99", "left"),
        (contract.SLOT_WAIT, "p50", "left"),
        (contract.SLOT_WAIT, "p99", "left"),
        (contract.CALLS_THROTTLED, "Sum", "right"),
    }


@pytest.mark.parametrize("bad", ["ops", "ops@", "a b@example.com"])
def test_alarm_email_is_validated(bad):
    with pytest.raises(ConfigError, match=r"alarm_email=.* is not an e-mail address"):
        PipelineConfig.from_mapping({"model_arn": MODEL_ARN, "alarm_email": bad})


@pytest.mark.parametrize("mode", ["on-demand", "always-on", "manual"])
def test_the_model_managers_errors_alarm_notifies_the_topic_in_every_mode(tmp_path, mode):
    template = synth_template(tmp_path, model_lifecycle=mode)
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    alarm = errors_alarm(template, "ModelLifecycleManagerFunction")
    assert (alarm["Namespace"], alarm["Statistic"], alarm["Period"]) == ("AWS/Lambda", "Sum", 300)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert "model manager" in alarm["AlarmDescription"]
    # the idle alarm exists on demand only; every alarm notifies the topic
    idle = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "ModelRunningIdleMinutes"}})
    assert len(idle) == (1 if mode == "on-demand" else 0)
    for other in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert other["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
