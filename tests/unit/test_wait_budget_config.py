"""`max_wait_minutes`, the latency budget's setting: checked with the model manager's group, converted from context,
passed to the manager with its interval, and moving the oldest-image alarm past the budget."""

import pytest

from customlabels.config import MODEL_ARN_EXAMPLE, ConfigError, PipelineConfig
from customlabels_runtime.model_manager.dependencies import Settings

pytestmark = pytest.mark.unit

NAMES = {"QUEUE_URL": "q", "MAPPING_UUID": "m", "STATE_PARAMETER": "s"}


def test_unset_is_todays_behaviour():
    config = PipelineConfig(MODEL_ARN_EXAMPLE)
    assert config.max_wait_minutes is None
    settings = Settings.from_environ({**config.manager_environment(), **NAMES})
    assert (settings.max_wait_seconds, settings.interval_seconds) == (0, 60)
    assert config.oldest_image_alarm_minutes == config.max_message_age_minutes


def test_the_manager_gets_the_budget_and_its_interval_in_seconds():
    config = PipelineConfig(MODEL_ARN_EXAMPLE, max_wait_minutes=360, manager_interval_minutes=2)
    settings = Settings.from_environ({**config.manager_environment(), **NAMES})
    assert (settings.max_wait_seconds, settings.interval_seconds) == (21_600, 120)
    assert config.oldest_image_alarm_minutes == 360 + 2 * 2
    assert PipelineConfig(MODEL_ARN_EXAMPLE, max_wait_minutes=10).oldest_image_alarm_minutes == 60


@pytest.mark.parametrize("value", [0, -5, 1441, 2.5, "60", True])
def test_a_budget_out_of_range_names_the_key_and_the_fix(value):
    with pytest.raises(ConfigError, match=r"max_wait_minutes=.* is out of range.*Fix: -c max_wait_minutes=<1-1440>"):
        PipelineConfig(MODEL_ARN_EXAMPLE, max_wait_minutes=value)


@pytest.mark.parametrize("mode", ["always-on", "manual"])
def test_a_budget_needs_the_on_demand_mode(mode):
    with pytest.raises(ConfigError, match=f"max_wait_minutes is set, but with model_lifecycle={mode}.*Fix: leave it"):
        PipelineConfig(MODEL_ARN_EXAMPLE, model_lifecycle=mode, max_wait_minutes=60)


@pytest.mark.parametrize(("given", "expected"), [("90", 90), (" 15 ", 15), ("none", None), ("", None), (None, None)])
def test_context_values_are_converted(given, expected):
    context = {"model_arn": MODEL_ARN_EXAMPLE, "max_wait_minutes": given}
    assert PipelineConfig.from_context(context.get).max_wait_minutes == expected


def test_a_context_value_that_is_not_a_whole_number_is_refused():
    context = {"model_arn": MODEL_ARN_EXAMPLE, "max_wait_minutes": "an hour"}
    with pytest.raises((ConfigError, ValueError), match="max_wait_minutes='an hour' is not a whole number"):
        PipelineConfig.from_context(context.get)
