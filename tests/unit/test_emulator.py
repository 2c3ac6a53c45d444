"""The Rekognition Custom Labels emulator against the documented API, called in process: states, limits, TPS cap,
thresholds, faults."""

import re

import pytest

from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.faults import PlannedFault, parse_fault_plan, parse_faults
from support.aws import MODEL_ARN, PROJECT_ARN
from support.emulator import SEEN, Sees
from support.images import huge_png, image_bytes

pytestmark = pytest.mark.unit


def detect(service, key="bee.jpg", **extra):
    return service.dispatch(
        "DetectCustomLabels",
        {"ProjectVersionArn": MODEL_ARN, "Image": {"S3Object": {"Bucket": "images", "Name": key}}, **extra},
    )


def error_of(call) -> str:
    with pytest.raises(ServiceError) as raised:
        call()
    return raised.value.code


def status(service):
    return describe(service)["Status"]


def describe(service):
    return service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN})["ProjectVersionDescriptions"][0]


def start(service, units=1, **extra):
    return service.dispatch(
        "StartProjectVersion", {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": units, **extra}
    )


def stop(service):
    return service.dispatch("StopProjectVersion", {"ProjectVersionArn": MODEL_ARN})


# --- model states ----------------------------------------------------------------------------------------
def test_a_new_version_is_training_completed_and_not_ready(service):
    assert status(service) == "TRAINING_COMPLETED"
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"


def test_start_goes_through_starting_to_running_after_the_start_delay(service, clock):
    assert start(service) == {"Status": "STARTING"}
    assert status(service) == "STARTING"
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"
    clock.now += 29.9
    assert status(service) == "STARTING"
    clock.now += 0.1
    assert status(service) == "RUNNING"
    assert detect(service)["CustomLabels"]


def test_stop_goes_through_stopping_to_stopped(service, clock):
    start(service)
    clock.now += 30
    assert stop(service) == {"Status": "STOPPING"}
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"
    clock.now += 10
    assert status(service) == "STOPPED"


def test_starting_twice_or_stopping_a_stopped_model_is_refused(service):
    assert error_of(lambda: stop(service)) == "ResourceInUseException"
    start(service)
    assert error_of(lambda: start(service)) == "ResourceInUseException"


def test_unknown_model_and_bad_inference_units(service):
    other = MODEL_ARN.replace("/1615479933000", "/1615479933001")
    image = {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}}
    assert (
        error_of(lambda: service.dispatch("DetectCustomLabels", {"ProjectVersionArn": other, "Image": image}))
        == "ResourceNotFoundException"
    )
    assert error_of(lambda: start(service, 0)) == "ValidationException"  # botocore's model: at least 1


def test_describe_reports_inference_units_and_filters_by_version_name(service):
    service.dispatch(
        "StartProjectVersion", {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 2, "MaxInferenceUnits": 3}
    )
    [description] = service.dispatch(
        "DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, "VersionNames": ["bees.2021-03-11T15.05.33"]}
    )["ProjectVersionDescriptions"]
    assert (description["MinInferenceUnits"], description["MaxInferenceUnits"]) == (2, 3)
    assert (
        service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, "VersionNames": ["other"]})[
            "ProjectVersionDescriptions"
        ]
        == []
    )


# --- throughput: each model's own units, auto-scaling ---------------------------------------------------
OTHER_ARN = MODEL_ARN.replace("bees.2021-03-11T15.05.33/1615479933000", "bees.2021-04-01T10.00.00/1617271200000")


def run(service, arn=MODEL_ARN, **units):
    """Make the model RUNNING now (as add_model(running=True) does), keeping its backend."""
    model = service.models[arn]
    model.status = "RUNNING"
    model.capacity.start(service.clock(), units.get("minimum", 1), units.get("maximum"))
    return model


def calls(service, count, spacing, arn=MODEL_ARN):
    """`count` calls `spacing` seconds apart; the answers (`ok` or the error code)."""
    answers = []
    for _ in range(count):
        try:
            service.dispatch(
                "DetectCustomLabels",
                {"ProjectVersionArn": arn, "Image": {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}}},
            )
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
    service.models[MODEL_ARN].capacity.scale_up_after = 60
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
    service.models[MODEL_ARN].capacity.scale_up_after = 60
    model = run(service, minimum=1, maximum=2)
    for _ in range(3):
        calls(service, 12 * 40, 1 / 12)  # 40 s of overload, then 5 s of silence
        clock.now += 5
    assert model.inference_units == 1


def test_units_are_removed_one_delay_each_once_the_load_falls_never_below_the_minimum(service, clock):
    capacity = service.models[MODEL_ARN].capacity
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
    assert "1 inference unit(s) in service." in describe(service)["StatusMessage"]


def test_a_started_model_scales_between_the_units_of_its_start_request(service, clock):
    service.models[MODEL_ARN].capacity.scale_up_after = 10
    service.dispatch(
        "StartProjectVersion", {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 2}
    )
    clock.now += 30
    assert status(service) == "RUNNING"
    calls(service, 12 * 11, 1 / 12)
    assert service.models[MODEL_ARN].inference_units == 2
    stop(service)
    clock.now += 10
    assert status(service) == "STOPPED" and service.models[MODEL_ARN].inference_units == 0


# --- image limits, by content ----------------------------------------------------------------------------
@pytest.fixture
def running(service):
    run(service)
    service.models[MODEL_ARN].capacity.tps_per_inference_unit = 1000
    return service


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (image_bytes("PNG"), None),  # a PNG named .jpg is fine: the content decides
        (image_bytes("GIF"), "InvalidImageFormatException"),
        (image_bytes("JPEG")[:200], "InvalidImageFormatException"),  # truncated
        (b"", "InvalidImageFormatException"),
        (b"\xff\xd8\xff" + b"\0" * (15 * 1024 * 1024), "ImageTooLargeException"),
        (image_bytes("PNG", (63, 200)), "InvalidParameterException"),
        (image_bytes("PNG", (4097, 64)), "InvalidParameterException"),
        (image_bytes("PNG", (64, 4096)), "InvalidParameterException"),  # 64:1, over the 20:1 maximum
        (image_bytes("PNG", (64, 1280)), None),  # 20:1 exactly
        (image_bytes("PNG", (4096, 4096)), None),
    ],
)
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


@pytest.mark.parametrize(
    ("min_confidence", "expected"), [(0, ["bee", "flower", "wasp"]), (60, ["bee", "flower"]), (91, ["bee"]), (91.5, [])]
)
def test_min_confidence_replaces_the_assumed_thresholds(running, min_confidence, expected):
    assert names(detect(running, MinConfidence=min_confidence)) == expected


def test_max_results_keeps_the_most_confident(running):
    assert names(detect(running, MinConfidence=0, MaxResults=2)) == ["bee", "flower"]


@pytest.mark.parametrize("bad", [-0.1, 100.1])
def test_min_confidence_out_of_range_is_invalid(running, bad):
    assert error_of(lambda: detect(running, MinConfidence=bad)) == "ValidationException"


# --- faults ----------------------------------------------------------------------------------------------
def test_faults_parse_aliases_and_codes():
    assert parse_faults("throttle=0.1,internal=0.02,ImageTooLargeException=1") == {
        "ThrottlingException": 0.1,
        "InternalServerError": 0.02,
        "ImageTooLargeException": 1.0,
    }
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
    answers = [
        error_of(lambda: detect(running)),
        error_of(lambda: detect(running, "wasp.jpg")),
        error_of(lambda: detect(running)),
        error_of(lambda: detect(running, "wasp.jpg")),
    ]
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
        PlannedFault("ThrottlingException", 3),
        PlannedFault("ResourceNotReadyException", 1, "test_images/a*"),
        PlannedFault("InternalServerError"),
    ]
    for bad in ("throttle:0", "throttle:x", ":3"):
        with pytest.raises(ValueError, match=r"e\.g\. throttle:5"):
            parse_fault_plan(bad)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("bogus", "use NAME=RATE"),
        ("bogus=0.1", "unknown error 'bogus'"),
        ("throttle", "use NAME=RATE"),
        ("throttle=abc", "use NAME=RATE"),
        ("=0.1", "unknown error ''"),
        ("throtle=0.1", "unknown error 'throtle'"),
    ],
)
def test_bad_fault_rates_say_how_to_write_them(spec, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_faults(spec)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("throtle:3", "unknown error 'throtle'; use throttle, throughput, internal, not-ready"),
        ("bogus:x", "whole number above 0"),
        ("throttle:3@", "give a key pattern after @"),
    ],
)
def test_bad_fault_plans_say_how_to_write_them(spec, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_fault_plan(spec)


# --- projects and versions -------------------------------------------------------------------------------
def test_a_project_has_its_own_arn_and_lists_its_versions_newest_first(service):
    service.add_model(OTHER_ARN)  # a later version of the same project
    [project] = service.dispatch("DescribeProjects", {"ProjectNames": ["bees"]})["ProjectDescriptions"]
    assert project["ProjectArn"] == PROJECT_ARN == service.models[OTHER_ARN].project_arn
    versions = service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN})["ProjectVersionDescriptions"]
    assert [v["ProjectVersionArn"] for v in versions] == [OTHER_ARN, MODEL_ARN]
    [other] = service.dispatch(
        "DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, "VersionNames": ["bees.2021-04-01T10.00.00"]}
    )["ProjectVersionDescriptions"]
    assert other["ProjectVersionArn"] == OTHER_ARN and other["Status"] == "TRAINING_COMPLETED"


def test_versions_page_by_max_results_and_next_token(service):
    for day in range(1, 5):
        service.add_model(
            MODEL_ARN.replace(
                "bees.2021-03-11T15.05.33/1615479933000", f"bees.2021-05-0{day}T00.00.00/16{day}0000000000"
            )
        )
    seen, request = [], {"ProjectArn": PROJECT_ARN, "MaxResults": 2}
    while True:
        answer = service.dispatch("DescribeProjectVersions", request)
        assert len(answer["ProjectVersionDescriptions"]) <= 2
        seen += [v["ProjectVersionArn"] for v in answer["ProjectVersionDescriptions"]]
        if "NextToken" not in answer:
            break
        request = {**request, "NextToken": answer["NextToken"]}
    assert sorted(seen) == sorted(service.models) and len(seen) == 5


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"NextToken": "junk"}, "InvalidPaginationTokenException"),
        ({"NextToken": "WyJwcm9qZWN0cyIsIDJd"}, "InvalidPaginationTokenException"),  # DescribeProjects' token
        ({"MaxResults": 500}, "ValidationException"),
        ({"MaxResults": 0}, "ValidationException"),
        ({"VersionNames": [f"v{n}" for n in range(11)]}, "ValidationException"),
        ({"ProjectArn": "arn:aws:rekognition:eu-west-1:123456789012:project/bees"}, "ValidationException"),
        (
            {"ProjectArn": "arn:aws:rekognition:eu-west-1:123456789012:project/wasps/1615479933000"},
            "ResourceNotFoundException",
        ),
    ],
)
def test_describe_project_versions_refuses_what_botocores_model_and_the_reference_refuse(service, request_, code):
    assert (
        error_of(lambda: service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, **request_})) == code
    )


# --- lifecycle states to rehearse ------------------------------------------------------------------------
def test_a_version_can_fail_its_start(service, clock):
    service.models[MODEL_ARN].fails_to_start = True
    start(service)
    clock.now += 30
    assert status(service) == "FAILED"
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"
    assert service.models[MODEL_ARN].inference_units == 0


@pytest.mark.parametrize("settled", ["EXPIRED", "DEPRECATED", "FAILED"])
def test_expired_deprecated_and_failed_versions_cannot_start_or_answer(service, settled):
    service.set_status(MODEL_ARN, settled)
    assert status(service) == settled
    assert error_of(lambda: start(service)) == "ResourceInUseException"
    assert error_of(lambda: detect(service)) == "ResourceNotReadyException"


def test_a_running_version_that_expires_takes_its_units_out_of_service(service):
    model = run(service, minimum=2)
    service.set_status(MODEL_ARN, "EXPIRED", "Expired on purpose")
    assert model.inference_units == 0
    description = describe(service)
    assert (description["Status"], description["StatusMessage"]) == ("EXPIRED", "Expired on purpose")
    with pytest.raises(ValueError, match="use one of"):
        service.set_status(MODEL_ARN, "STARTING")


# --- requests the front end refuses ----------------------------------------------------------------------
IMAGE = {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}}


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("DetectCustomLabels", {"ProjectVersionArn": "not-an-arn", "Image": IMAGE}, "ValidationException"),
        (
            "DetectCustomLabels",
            {"ProjectVersionArn": MODEL_ARN, "Image": {**IMAGE, "Bytes": "AAAA"}},
            "InvalidParameterException",
        ),
        ("DetectCustomLabels", {"ProjectVersionArn": MODEL_ARN, "Image": {}}, "InvalidParameterException"),
        (
            "DetectCustomLabels",
            {"ProjectVersionArn": MODEL_ARN, "Image": {"S3Object": None, "Bytes": None}},
            "InvalidParameterException",
        ),  # JSON nulls are absent members
        (
            "DetectCustomLabels",
            {"ProjectVersionArn": MODEL_ARN, "Image": {"Bytes": "not base64!"}},
            "SerializationException",
        ),
        (
            "DetectCustomLabels",
            {"ProjectVersionArn": MODEL_ARN, "Image": IMAGE, "MinConfidence": "high"},
            "SerializationException",
        ),
        (
            "DetectCustomLabels",
            {"ProjectVersionArn": MODEL_ARN, "Image": IMAGE, "MaxResults": 2.5},
            "SerializationException",
        ),
        ("DetectCustomLabels", {"ProjectVersionArn": MODEL_ARN, "Image": [IMAGE]}, "SerializationException"),
        ("DetectCustomLabels", ["not", "an", "object"], "SerializationException"),
        ("StartProjectVersion", {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1000}, "LimitExceededException"),
        (
            "StartProjectVersion",
            {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 3, "MaxInferenceUnits": 2},
            "InvalidParameterException",
        ),
        ("StartProjectVersion", {"ProjectVersionArn": MODEL_ARN}, "ValidationException"),
        ("StopProjectVersion", {"ProjectVersionArn": MODEL_ARN + "/extra"}, "ValidationException"),
        ("DeleteProject", {"ProjectArn": PROJECT_ARN}, "UnknownOperationException"),
    ],
)
def test_malformed_requests_are_refused_with_the_front_ends_codes(running, operation, request_, code):
    assert error_of(lambda: running.dispatch(operation, request_)) == code


def test_validation_errors_name_the_member_and_the_constraint(service):
    with pytest.raises(ServiceError) as raised:
        service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, "MaxResults": 500})
    assert raised.value.message == (
        "1 validation error detected: Value '500' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )


def test_inline_bytes_are_analysed_and_limited_to_4_mb(running):
    import base64

    inline = {"ProjectVersionArn": MODEL_ARN, "Image": {"Bytes": base64.b64encode(image_bytes()).decode()}}
    assert running.dispatch("DetectCustomLabels", inline)["CustomLabels"]
    big = {
        "ProjectVersionArn": MODEL_ARN,
        "Image": {"Bytes": base64.b64encode(b"\xff\xd8" + bytes(4_300_000)).decode()},
    }
    assert error_of(lambda: running.dispatch("DetectCustomLabels", big)) == "ImageTooLargeException"
    huge = {"ProjectVersionArn": MODEL_ARN, "Image": {"Bytes": base64.b64encode(bytes(5_300_000)).decode()}}
    assert error_of(lambda: running.dispatch("DetectCustomLabels", huge)) == "ValidationException"  # model: 5 MiB


def test_a_jpeg_with_an_embedded_second_image_is_a_jpeg(running, objects):
    objects[("images", "bee.jpg")] = image_bytes("MPO")
    assert detect(running)["CustomLabels"]


def test_a_small_file_declaring_a_huge_picture_is_refused_for_its_size_not_decompressed(running, objects):
    objects[("images", "bee.jpg")] = huge_png()
    with pytest.raises(ServiceError) as raised:
        detect(running)
    assert raised.value.code == "InvalidParameterException" and "4096" in raised.value.message


def test_a_client_that_goes_away_mid_request_prints_no_traceback(capsys):
    """A killed command resets its connection: the endpoint carries on, saying nothing (a review saw a traceback)."""
    from customlabels.local.emulator.rekognition import CustomLabelsService
    from customlabels.local.emulator.server import serve

    server = serve(CustomLabelsService())
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a real fault")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "ValueError: a real fault" in capsys.readouterr().err
    finally:
        server.shutdown()
