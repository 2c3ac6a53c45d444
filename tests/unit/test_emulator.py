"""The Rekognition Custom Labels emulator against the documented API, called in process: states, limits, TPS cap,
thresholds, faults."""

import re

import pytest

from customlabels.local.emulator.rekognition import PlannedFault, ServiceError, parse_fault_plan, parse_faults
from helpers import ARN, image_bytes

pytestmark = pytest.mark.unit


PROJECT_ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/bees/1615479933000"


def detect(service, key="bee.jpg", **extra):
    return service.detect_custom_labels({"ProjectVersionArn": ARN,
                                         "Image": {"S3Object": {"Bucket": "images", "Name": key}}, **extra})


def error_of(call) -> str:
    with pytest.raises(ServiceError) as raised:
        call()
    return raised.value.code


def status(service):
    return service.describe_project_versions({"ProjectArn": PROJECT_ARN})["ProjectVersionDescriptions"][0]["Status"]


# --- model states ----------------------------------------------------------------------------------------
def test_a_stopped_model_is_not_ready(service):
    assert status(service) == "STOPPED"
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"


def test_start_goes_through_starting_to_running_after_the_start_delay(service, clock):
    assert service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 1}) == {"Status": "STARTING"}
    assert status(service) == "STARTING"
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"
    clock.now += 29.9
    assert status(service) == "STARTING"
    clock.now += 0.1
    assert status(service) == "RUNNING"
    assert detect(service)["CustomLabels"]


def test_stop_goes_through_stopping_to_stopped(service, clock):
    service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 1})
    clock.now += 30
    assert service.stop_project_version({"ProjectVersionArn": ARN}) == {"Status": "STOPPING"}
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"
    clock.now += 10
    assert status(service) == "STOPPED"


def test_starting_twice_or_stopping_a_stopped_model_is_refused(service):
    assert error_of(lambda: service.stop_project_version({"ProjectVersionArn": ARN})) == "ResourceInUseException"
    service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 1})
    assert error_of(lambda: service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 1})) \
        == "ResourceInUseException"


def test_unknown_model_and_bad_inference_units(service):
    other = ARN.replace("/1615479933000", "/1615479933001")
    assert error_of(lambda: service.detect_custom_labels({"ProjectVersionArn": other})) == "ResourceNotFoundException"
    assert error_of(lambda: service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 0})) \
        == "InvalidParameterException"


def test_describe_reports_inference_units_and_filters_by_version_name(service):
    service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 2, "MaxInferenceUnits": 3})
    [description] = service.describe_project_versions(
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["bees.2021-03-11T15.05.33"]})["ProjectVersionDescriptions"]
    assert (description["MinInferenceUnits"], description["MaxInferenceUnits"]) == (2, 3)
    assert service.describe_project_versions(
        {"ProjectArn": PROJECT_ARN, "VersionNames": ["other"]})["ProjectVersionDescriptions"] == []


# --- throughput ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("units", "cap"), [(1, 5), (2, 10)])
def test_throughput_is_capped_at_5_tps_per_inference_unit(service, clock, units, cap):
    service.models[ARN].status, service.models[ARN].inference_units = "RUNNING", units
    for _ in range(cap):
        detect(service)
        clock.now += 0.01
    assert error_of(lambda: detect(service)) == "ProvisionedThroughputExceededException"
    clock.now += 1.0
    detect(service)


# --- image limits, by content ----------------------------------------------------------------------------
@pytest.fixture
def running(service):
    service.models[ARN].status, service.models[ARN].inference_units = "RUNNING", 1
    service.tps_per_inference_unit = 1000
    return service


@pytest.mark.parametrize(("content", "code"), [
    (image_bytes("PNG"), None),  # a PNG named .jpg is fine: the content decides
    (image_bytes("GIF"), "InvalidImageFormatException"),
    (image_bytes("JPEG")[:200], "InvalidImageFormatException"),  # truncated
    (b"", "InvalidImageFormatException"),
    (b"\xff\xd8\xff" + b"\0" * (15 * 1024 * 1024), "ImageTooLargeException"),
    (image_bytes("PNG", (63, 200)), "InvalidParameterException"),
    (image_bytes("PNG", (4097, 64)), "InvalidParameterException"),
    (image_bytes("PNG", (64, 4096)), None),
])
def test_image_limits_are_enforced_by_content(running, objects, content, code):
    objects[("images", "bee.jpg")] = content
    if code is None:
        assert detect(running)["CustomLabels"]
    else:
        assert error_of(lambda: detect(running)) == code


def test_a_missing_object_is_an_invalid_s3_object(running):
    assert error_of(lambda: detect(running, key="nothing-here.jpg")) == "InvalidS3ObjectException"


# --- thresholds ------------------------------------------------------------------------------------------
def names(response):
    return [label["Name"] for label in response["CustomLabels"]]


def test_without_min_confidence_each_labels_assumed_threshold_applies(running):
    assert names(detect(running)) == ["bee", "wasp"]  # flower 62 < its 70; wasp 45 >= its 40


@pytest.mark.parametrize(("min_confidence", "expected"), [(0, ["bee", "flower", "wasp"]), (60, ["bee", "flower"]),
                                                          (91, ["bee"]), (91.5, [])])
def test_min_confidence_replaces_the_assumed_thresholds(running, min_confidence, expected):
    assert names(detect(running, MinConfidence=min_confidence)) == expected


def test_max_results_keeps_the_most_confident(running):
    assert names(detect(running, MinConfidence=0, MaxResults=2)) == ["bee", "flower"]


@pytest.mark.parametrize("bad", [-0.1, 100.1])
def test_min_confidence_out_of_range_is_invalid(running, bad):
    assert error_of(lambda: detect(running, MinConfidence=bad)) == "InvalidParameterException"


# --- faults ----------------------------------------------------------------------------------------------
def test_faults_parse_aliases_and_codes():
    assert parse_faults("throttle=0.1,internal=0.02,ImageTooLargeException=1") == {
        "ThrottlingException": 0.1, "InternalServerError": 0.02, "ImageTooLargeException": 1.0}
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_faults("throttle=2")


def test_injected_faults_fire_at_their_rate(running):
    running.faults = parse_faults("throttle=0.3")
    outcomes = []
    for _ in range(400):
        try:
            detect(running)
            outcomes.append("ok")
        except ServiceError as error:
            outcomes.append(error.code)
    share = outcomes.count("ThrottlingException") / len(outcomes)
    assert 0.2 < share < 0.4
    assert set(outcomes) == {"ok", "ThrottlingException"}


def test_a_fault_plan_fires_for_each_image_on_its_first_calls_then_lets_it_through(running, objects):
    objects[("images", "wasp.jpg")] = image_bytes()
    running.fault_plan = parse_fault_plan("throttle:2")
    answers = [error_of(lambda: detect(running)), error_of(lambda: detect(running, "wasp.jpg")),
               error_of(lambda: detect(running)), error_of(lambda: detect(running, "wasp.jpg"))]
    assert answers == ["ThrottlingException"] * 4
    assert detect(running)["CustomLabels"] and detect(running, "wasp.jpg")["CustomLabels"]
    assert running.image_calls == {"bee.jpg": 3, "wasp.jpg": 3}


def test_a_fault_plan_can_fail_every_call_for_the_images_it_names(running, objects):
    objects[("images", "bad/bee.jpg")] = image_bytes()
    running.fault_plan = parse_fault_plan("internal@bad/*")
    for _ in range(5):
        assert error_of(lambda: detect(running, "bad/bee.jpg")) == "InternalServerError"
    assert detect(running)["CustomLabels"]


def test_fault_plans_parse_and_bad_ones_say_how_to_write_them():
    assert parse_fault_plan("throttle:3, not-ready:1@test_images/a*,InternalServerError") == [
        PlannedFault("ThrottlingException", 3), PlannedFault("ResourceNotReadyException", 1, "test_images/a*"),
        PlannedFault("InternalServerError")]
    for bad in ("throttle:0", "throttle:x", ":3"):
        with pytest.raises(ValueError, match=r"e\.g\. throttle:5"):
            parse_fault_plan(bad)


@pytest.mark.parametrize(("spec", "says"), [
    ("bogus", "use NAME=RATE"), ("bogus=0.1", "unknown error 'bogus'"), ("throttle", "use NAME=RATE"),
    ("throttle=abc", "use NAME=RATE"), ("=0.1", "unknown error ''"), ("throtle=0.1", "unknown error 'throtle'")])
def test_bad_fault_rates_say_how_to_write_them(spec, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_faults(spec)


@pytest.mark.parametrize(("spec", "says"), [
    ("throtle:3", "unknown error 'throtle'; use throttle, throughput, internal, not-ready"),
    ("bogus:x", "whole number above 0"), ("throttle:3@", "give a key pattern after @")])
def test_bad_fault_plans_say_how_to_write_them(spec, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_fault_plan(spec)
