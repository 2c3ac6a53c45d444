"""The emulator's options object judges its own options, once: typed values from Python callers (bench, tests) and
the words a user types (`local run`), with messages that name each option the way its caller spells it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels.local.emulator.backends import NOISE_RANGES, Noise, manifest_model
from customlabels.local.emulator.errors import OptionError
from customlabels.local.emulator.faults import PlannedFault
from customlabels.local.emulator.options import ModelOptions

pytestmark = pytest.mark.unit


def flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def test_a_message_names_the_options_as_the_caller_spells_them_and_keeps_the_values_as_given():
    with pytest.raises(OptionError) as refused:
        ModelOptions(inference_units=3, max_inference_units=2)
    assert str(refused.value) == (
        "max_inference_units 2 is below inference_units 3. Fix: max_inference_units 3 or more (or leave it out)"
    )
    assert refused.value.spelled(flag) == (
        "--max-inference-units 2 is below --inference-units 3. Fix: --max-inference-units 3 or more (or leave it out)"
    )
    braces = OptionError("{model} {spec!r}: bad", spec="manifest:{a}.jsonl")
    assert braces.spelled(flag) == "--model 'manifest:{a}.jsonl': bad"


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"inference_units": 0}, "inference_units 0: give 1 or more"),
        ({"tps_per_inference_unit": 0}, "tps_per_inference_unit 0: give more than 0"),
        ({"latency": -0.5}, "latency -0.5: give 0 or more seconds"),
        ({"start_delay": -1}, "start_delay -1: give 0 or more seconds"),
        ({"scale_down_after": -1}, "scale_after: negative delay; use up=SECONDS,down=SECONDS"),
        ({"faults": {"ThrottlingException": 1.5}}, "fault rate for ThrottlingException must be between 0 and 1"),
        ({"faults": {"Throttle": 0.1}}, "unknown error 'Throttle'"),
    ],
)
def test_typed_values_the_emulator_cannot_run_with_are_refused_naming_the_option(values, says):
    with pytest.raises(OptionError, match=says):
        ModelOptions(**values)


def test_the_words_a_user_types_become_typed_options():
    options = ModelOptions.from_specs(
        faults="throttle=0.1", fault_plan="internal@*/bad.jpg", scale_after={"up": 5}, inference_units=2
    )
    assert options.faults == {"ThrottlingException": 0.1}
    assert options.fault_plan == [PlannedFault("InternalServerError", None, "*/bad.jpg")]
    assert (options.scale_up_after, options.scale_down_after, options.inference_units) == (5, 300, 2)
    assert ModelOptions.from_specs() == ModelOptions()


def test_an_unknown_scaling_delay_is_refused_naming_it():
    with pytest.raises(OptionError) as refused:
        ModelOptions.from_specs(scale_after={"up": 5, "sideways": 3})
    assert refused.value.spelled(flag).startswith("--scale-after: unknown sideways; use up=SECONDS,down=SECONDS")


@given(
    st.fixed_dictionaries(
        {},
        optional={name: st.floats(low - 5, high + 5, allow_nan=False) for name, (low, high, _) in NOISE_RANGES.items()},
    )
)
def test_noise_is_accepted_exactly_within_its_ranges(values):
    inside = all(NOISE_RANGES[name][0] <= value <= NOISE_RANGES[name][1] for name, value in values.items())
    try:
        noise = Noise.from_mapping(values)
    except OptionError as error:
        assert not inside
        assert error.spelled(flag).startswith("--noise ") and "is out of range: give" in str(error)
    else:
        assert inside
        assert {name: getattr(noise, name) for name in values} == values


def test_noise_without_a_manifest_model_and_an_unknown_noise_are_refused():
    with pytest.raises(OptionError, match="noise makes a manifest model imperfect: give model manifest:FILE too"):
        manifest_model(None, {"miss": 0.1})
    assert manifest_model(None) is None
    with pytest.raises(OptionError, match="noise: unknown bogus; use miss, spurious, jitter, confidence"):
        Noise.from_mapping({"bogus": 1})
