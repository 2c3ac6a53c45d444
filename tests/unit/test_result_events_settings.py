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


@pytest.mark.parametrize("value", ["", "has space", "aws.partner-bus", "a/b", "x" * 257, 3, None])
def test_anything_else_is_refused_with_the_fix(value):
    with pytest.raises(ConfigError) as refused:
        config(result_events=value) if value is not None else PipelineConfig(model_arn=MODEL_ARN, result_events=None)
    message = str(refused.value)
    assert f"result_events={value!r} is not an EventBridge bus name" in message
    assert "Fix: -c result_events=default" in message and "-c result_events=off" in message


@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=300))
def test_every_accepted_name_is_one_put_events_takes(name):
    try:
        accepted = config(result_events=name).result_event_bus
    except ConfigError:
        return
    if accepted is not None:
        assert re.fullmatch(BUS_NAME_SHAPE.metadata["pattern"], accepted)
        assert BUS_NAME_SHAPE.metadata["min"] <= len(accepted) <= 256
