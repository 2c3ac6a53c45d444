"""The Rekognition Custom Labels emulator against the documented API, called in process: states, limits, TPS cap,
thresholds, faults."""

import re

import pytest

from customlabels.local.emulator.rekognition import PlannedFault, ServiceError, parse_fault_plan, parse_faults
from helpers import ARN, SEEN, Sees, image_bytes

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


# --- throughput: each model's own units, auto-scaling ---------------------------------------------------
OTHER_ARN = ARN.replace("bees.2021-03-11T15.05.33/1615479933000", "bees.2021-04-01T10.00.00/1617271200000")


def run(service, arn=ARN, **units):
    """Make the model RUNNING now (as add_model(running=True) does), keeping its backend."""
    model = service.models[arn]
    model.status = "RUNNING"
    model.capacity.start(service.clock(), units.get("minimum", 1), units.get("maximum"))
    return model


def calls(service, count, spacing, arn=ARN):
    """`count` calls `spacing` seconds apart; the answers (`ok` or the error code)."""
    answers = []
    for _ in range(count):
        try:
            service.detect_custom_labels({"ProjectVersionArn": arn,
                                          "Image": {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}}})
            answers.append("ok")
        except ServiceError as error:
            answers.append(error.code)
        service.clock.now += spacing
    return answers


@pytest.mark.parametrize(("units", "cap"), [(1, 5), (2, 10)])
def test_throughput_is_capped_at_the_capacity_per_inference_unit_times_units(service, clock, units, cap):
    run(service, minimum=units)
    for _ in range(cap):
        detect(service)
        clock.now += 0.01
    assert error_of(lambda: detect(service)) == "ProvisionedThroughputExceededException"
    clock.now += 1.0
    detect(service)


def test_the_capacity_per_unit_is_a_parameter_of_each_model(service, clock):
    service.add_model(OTHER_ARN, backend=Sees(SEEN), running=True, tps_per_inference_unit=8)
    run(service)  # the default, 5
    assert calls(service, 10, 0.01, OTHER_ARN).count("ok") == 8
    assert calls(service, 10, 0.01).count("ok") == 5


def test_each_model_has_its_own_window(service, clock):
    service.add_model(OTHER_ARN, backend=Sees(SEEN), running=True)
    run(service)
    assert calls(service, 5, 0.01) == ["ok"] * 5
    assert calls(service, 5, 0.01, OTHER_ARN) == ["ok"] * 5  # the first model's calls take nothing from it


def test_without_a_maximum_the_units_never_change(service, clock):
    model = run(service, minimum=1)
    calls(service, 10 * 200, 0.1)  # 10 TPS offered to 5 for 200 s
    assert model.inference_units == 1


def test_sustained_overload_adds_units_up_to_the_maximum_after_the_scale_up_delay(service, clock):
    service.models[ARN].capacity.scale_up_after = 60
    model = run(service, minimum=1, maximum=3)
    answers = calls(service, 12 * 59, 1 / 12)  # 12 TPS for 59 s: throttled all along, not yet long enough
    assert model.inference_units == 1 and "ProvisionedThroughputExceededException" in answers
    calls(service, 12 * 2, 1 / 12)
    assert model.inference_units == 2  # after 60 s of overload: one more unit (10 TPS, still short of 12)
    calls(service, 12 * 61, 1 / 12)
    assert model.inference_units == 3  # another 60 s: the maximum, 15 TPS, enough
    assert calls(service, 12 * 120, 1 / 12) == ["ok"] * 12 * 120
    assert model.inference_units == 3  # never above the maximum
    assert [units for _, units in model.capacity.history] == [1, 2, 3]


def test_a_pause_restarts_the_measure_of_sustained_overload(service, clock):
    service.models[ARN].capacity.scale_up_after = 60
    model = run(service, minimum=1, maximum=2)
    for _ in range(3):
        calls(service, 12 * 40, 1 / 12)  # 40 s of overload, then 5 s of silence
        clock.now += 5
    assert model.inference_units == 1


def test_units_are_removed_one_delay_each_once_the_load_falls_never_below_the_minimum(service, clock):
    capacity = service.models[ARN].capacity
    capacity.scale_up_after, capacity.scale_down_after = 0, 300
    model = run(service, minimum=1, maximum=3)
    calls(service, 14 * 5, 1 / 14)  # 14 TPS: scales to 3 units at once (no delay)
    assert model.inference_units == 3
    calls(service, 7 * 299, 1 / 7)  # 7 TPS fits 2 units, not 1: for 299 s nothing changes
    assert model.inference_units == 3
    calls(service, 7 * 300, 1 / 7)
    assert model.inference_units == 2  # and stays there while 7 TPS needs two
    clock.now += 299
    assert status(service) == "RUNNING" and model.inference_units == 2
    clock.now += 1 + 1000
    status(service)  # describing the model brings its units up to date
    assert model.inference_units == 1
    assert "1 inference unit(s) in service" in service.describe_project_versions(
        {"ProjectArn": PROJECT_ARN})["ProjectVersionDescriptions"][0]["StatusMessage"]


def test_a_started_model_scales_between_the_units_of_its_start_request(service, clock):
    service.models[ARN].capacity.scale_up_after = 10
    service.start_project_version({"ProjectVersionArn": ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 2})
    clock.now += 30
    assert status(service) == "RUNNING"
    calls(service, 12 * 11, 1 / 12)
    assert service.models[ARN].inference_units == 2
    service.stop_project_version({"ProjectVersionArn": ARN})
    clock.now += 10
    assert status(service) == "STOPPED" and service.models[ARN].inference_units == 0


# --- image limits, by content ----------------------------------------------------------------------------
@pytest.fixture
def running(service):
    run(service)
    service.models[ARN].capacity.tps_per_inference_unit = 1000
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
