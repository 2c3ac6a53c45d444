"""The latency budget in the stack: `max_wait_minutes` reaches the model manager as MAX_WAIT_SECONDS (with its
interval), the WaitBudgetMissed alarm notifies the topic, and the oldest-image alarm moves past the budget."""

import pytest

from support.cloudformation import synth_template

pytestmark = pytest.mark.integration


def manager_environment(template):
    [manager] = [
        resource["Properties"]
        for logical_id, resource in template.find_resources("AWS::Lambda::Function").items()
        if "ModelLifecycleManager" in logical_id
    ]
    return manager["Environment"]["Variables"]


def alarm(template, metric):
    found = [
        resource["Properties"]
        for resource in template.find_resources("AWS::CloudWatch::Alarm").values()
        if resource["Properties"].get("MetricName") == metric
    ]
    return found[0] if found else None


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory):
    return synth_template(tmp_path_factory.mktemp("budget"), max_wait_minutes="360")  # cdk-nag included


def test_the_setting_reaches_the_manager_with_its_interval(budgeted, default_template):
    assert (
        manager_environment(budgeted)["MAX_WAIT_SECONDS"],
        manager_environment(budgeted)["MANAGER_INTERVAL_SECONDS"],
    ) == (
        "21600",
        "60",
    )
    assert manager_environment(default_template)["MAX_WAIT_SECONDS"] == "0"  # unset: today's behaviour


def test_an_image_past_its_budget_raises_an_alarm_that_says_where_to_look(budgeted, default_template):
    missed = alarm(budgeted, "WaitBudgetMissed")
    [(topic_id, _)] = budgeted.find_resources("AWS::SNS::Topic").items()
    assert (missed["Threshold"], missed["Statistic"], missed["AlarmActions"]) == (0, "Maximum", [{"Ref": topic_id}])
    assert "customlabels model status" in missed["AlarmDescription"] and "360 min" in missed["AlarmDescription"]
    assert alarm(default_template, "WaitBudgetMissed") is None


def test_the_oldest_image_alarm_moves_past_the_budget(budgeted, default_template):
    assert alarm(budgeted, "ApproximateAgeOfOldestMessage")["Threshold"] == (360 + 2) * 60
    assert alarm(default_template, "ApproximateAgeOfOldestMessage")["Threshold"] == 3600
