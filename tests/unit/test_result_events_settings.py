"""`result_events`: the default bus, a bus name PutEvents takes (botocore's model for EventBusName), or off; anything
else is refused with the fix."""

import re

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels.config import ConfigError, PipelineConfig
from support.aws import MODEL_ARN

pytestmark = pytest.mark.unit

ENTRY = botocore.session.get_session().get_service_model("events").operation_model("PutEvents").input_shape
BUS_NAME_SHAPE = ENTRY.members["Entries"].member.members["EventBusName"]


def config(**values):
    return PipelineConfig.from_mapping({"model_arn": MODEL_ARN, **values})


def test_by_default_results_are_announced_on_the_default_bus():
    assert config().result_event_bus == "default"
    assert config().function_environment()["RESULT_EVENT_BUS"] == "default"


def test_off_announces_nothing_and_a_name_names_the_bus():
    assert config(result_events="off").result_event_bus is None
    assert config(result_events="off").function_environment()["RESULT_EVENT_BUS"] == ""
    assert config(result_events="orders.bees-2_x").function_environment()["RESULT_EVENT_BUS"] == "orders.bees-2_x"


@pytest.mark.parametrize("value", ["", "has space", "aws.partner-bus", "a/b", "x" * 257, 3])
def test_anything_else_is_refused_with_the_fix(value):
    with pytest.raises(ConfigError) as refused:
        config(result_events=value)
    message = str(refused.value)
    assert f"result_events={value!r} is not an EventBridge bus name" in message
    assert "Fix: -c result_events=default" in message and "-c result_events=off" in message


OFF_LOOKALIKES = ["false", "False", "none", "None", "null", "no", "disabled", "Disable", "OFF", "Off", " off", "0"]
DEFAULT_LOOKALIKES = ["Default", "DEFAULT", "default ", "true", "yes", "on", "enabled"]


@pytest.mark.parametrize(
    ("value", "meant"),
    [
        *((value, "off") for value in [*OFF_LOOKALIKES, False, None]),
        *((value, "default") for value in [*DEFAULT_LOOKALIKES, True]),
    ],
)
def test_a_look_alike_of_off_or_default_is_refused_not_taken_as_a_bus_name(value, meant):
    """From `-c` (a string) or cdk.json (a JSON false, true or null as well)."""
    with pytest.raises(ConfigError) as refused:
        PipelineConfig(model_arn=MODEL_ARN, result_events=value)
    message = " ".join(str(refused.value).split())
    assert f"result_events={value!r} looks like {meant}" in message
    assert f"did you mean {meant}? Fix: -c result_events={meant}" in message


@pytest.mark.parametrize("value", ["offline", "default-bus", "nobody", "bees"])
def test_a_name_that_merely_contains_off_or_default_is_a_bus_name(value):
    assert config(result_events=value).result_event_bus == value


def test_a_bus_arn_is_refused_with_its_name_as_the_fix():
    with pytest.raises(ConfigError) as refused:
        config(result_events="arn:aws:events:eu-west-1:210987654321:event-bus/bees")
    message = " ".join(str(refused.value).split())
    assert "give the bus's name, not its ARN. Fix: -c result_events=bees" in message
    assert "a bus of another account is not supported" in message


@pytest.mark.parametrize("value", ["OFF", "a b", "arn:aws:events:eu-west-1:123456789012:event-bus/bees"])
def test_the_fix_is_spelled_as_the_flag_the_user_gave(value):
    from customlabels.result_events_settings import result_events_problems

    [problem] = result_events_problems(value, "--result-events")
    assert problem.startswith(f"--result-events {value!r} ")
    assert "Fix: --result-events " in problem and "-c result_events" not in problem


@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=300))
def test_every_accepted_name_is_one_put_events_takes(name):
    try:
        accepted = config(result_events=name).result_event_bus
    except ConfigError:
        return
    if accepted is not None:
        assert re.fullmatch(BUS_NAME_SHAPE.metadata["pattern"], accepted)
        assert BUS_NAME_SHAPE.metadata["min"] <= len(accepted) <= 256
