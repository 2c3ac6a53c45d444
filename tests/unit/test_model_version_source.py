"""The inference function's source of the version in service: the deploy-time ARN until the parameter says
otherwise, the parameter's version once the cache expires, the last good version when it cannot be read."""

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from customlabels.local.emulator.clock import ManualClock
from customlabels_runtime.inference.model_version_source import KEPT_CONTROLS, ModelVersionSource
from customlabels_runtime.inference.throughput import ThroughputControl
from customlabels_runtime.model_version import initial_document
from support.aws import MODEL_ARN
from support.inference import Rejections
from support.versions import OTHER_PROJECT_ARN, SECOND_ARN, VERSION_PARAMETER, CachedParameters, promoted

pytestmark = pytest.mark.unit

UNREADABLE = ClientError({"Error": {"Code": "ParameterNotFound", "Message": "gone"}}, "GetParameter")


def source(parameters, rejected, max_age=60):
    return ModelVersionSource(VERSION_PARAMETER, parameters.get, MODEL_ARN, rejected, max_age=max_age)


def test_the_function_switches_to_the_new_version_once_its_cache_expires():
    clock = ManualClock(0.0)
    parameters = CachedParameters(clock, {VERSION_PARAMETER: initial_document(MODEL_ARN)})
    versions = source(parameters, Rejections())
    assert versions.current() == MODEL_ARN
    clock.advance(10)
    parameters.store[VERSION_PARAMETER] = promoted()  # `model promote` switches
    clock.advance(49.9)
    assert versions.current() == MODEL_ARN  # 59.9 s after the read: still cached
    clock.advance(0.1)
    assert versions.current() == SECOND_ARN
    assert parameters.reads == [(VERSION_PARAMETER, 60), (VERSION_PARAMETER, 60)]


def test_without_a_parameter_the_deploy_time_version_answers():
    versions = ModelVersionSource(None, lambda *_, **__: pytest.fail("read"), MODEL_ARN, Rejections())
    assert versions.current() == MODEL_ARN


@pytest.mark.parametrize(
    ("value", "reason", "problem"),
    [
        (UNREADABLE, "ModelVersionUnreadable", "ParameterNotFound"),
        ("not json", "ModelVersionInvalid", "not a version document"),
        ('{"previous_arn": "x"}', "ModelVersionInvalid", "not a version document"),
        (initial_document(OTHER_PROJECT_ARN), "ModelVersionInvalid", "not a version of the pipeline's project"),
        (initial_document("bees"), "ModelVersionInvalid", "not a version of the pipeline's project"),
    ],
)
def test_an_unreadable_or_invalid_document_keeps_the_last_version_and_is_reported_once(value, reason, problem):
    clock = ManualClock(0.0)
    parameters = CachedParameters(clock, {VERSION_PARAMETER: promoted()})
    rejected = Rejections()
    versions = source(parameters, rejected, max_age=0)
    assert versions.current() == SECOND_ARN
    parameters.store[VERSION_PARAMETER] = value
    assert versions.current() == SECOND_ARN
    assert versions.current() == SECOND_ARN
    assert len(rejected.seen) == 1 and rejected.seen[0][1] == reason and problem in rejected.seen[0][0]


def test_each_version_gets_a_throughput_control_of_its_own():
    """A new version has its own capacity: what the control learned of the old one is not the new one's."""
    made = []

    def new_control():
        made.append(ThroughputControl())
        return made[-1]

    versions = ModelVersionSource(VERSION_PARAMETER, None, MODEL_ARN, Rejections(), new_control=new_control)
    first = ThroughputControl()
    assert versions.throughput_for(MODEL_ARN, first) is first
    second = versions.throughput_for(SECOND_ARN, first)
    assert second is made[0] and second is not first
    assert versions.throughput_for(MODEL_ARN, first) is first  # images in flight on the old version keep theirs
    assert versions.throughput_for(SECOND_ARN, first) is second
    third = versions.throughput_for(OTHER_PROJECT_ARN, first)
    assert len(made) == 2 and third is made[1]
    assert KEPT_CONTROLS == 2 and versions.throughput_for(MODEL_ARN, first) is made[2]  # dropped, learns afresh


documents = st.one_of(
    st.sampled_from([promoted(), initial_document(MODEL_ARN), initial_document(OTHER_PROJECT_ARN), "{}", "[]"]),
    st.builds(lambda arn: initial_document(arn), st.sampled_from([MODEL_ARN, SECOND_ARN])),
    st.text(max_size=20),
    st.just(UNREADABLE),
)


@given(st.lists(documents, max_size=12))
def test_the_version_is_always_the_last_good_one_of_the_project(values):
    clock = ManualClock(0.0)
    parameters = CachedParameters(clock, {VERSION_PARAMETER: initial_document(MODEL_ARN)})
    versions = source(parameters, Rejections(), max_age=0)
    expected = MODEL_ARN
    for value in values:
        parameters.store[VERSION_PARAMETER] = value
        if isinstance(value, str) and value in (promoted(), initial_document(SECOND_ARN)):
            expected = SECOND_ARN
        elif isinstance(value, str) and value == initial_document(MODEL_ARN):
            expected = MODEL_ARN
        assert versions.current() == expected
