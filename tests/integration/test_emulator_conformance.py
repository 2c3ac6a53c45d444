"""The Rekognition emulator held against references we did not write: every answer of every operation validated
against botocore's output shapes (with botocore's Stubber), every modeled error raised as boto3's own exception
class with the HTTP status the API reference lists, and botocore's waiters and paginators driving it."""

import base64

import boto3
import botocore.waiter
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import WaiterError
from botocore.stub import Stubber

from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.faults import PlannedFault
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.server import serve
from customlabels.local.emulator.validation import service_model
from support.aws import MODEL_ARN, PROJECT_ARN
from support.emulator import OPERATIONS, SEEN, Sees
from support.images import image_bytes

pytestmark = pytest.mark.integration

LATER_ARN = MODEL_ARN.replace("bees.2021-03-11T15.05.33/1615479933000", "bees.2021-04-01T10.00.00/1617271200000")
IMAGE = {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}}
SERVER_ERRORS = {"InternalServerError": 500, "ThrottlingException": 500}
"""The API reference's "Errors" sections: these two are HTTP 500, every other Rekognition error 400."""


@pytest.fixture
def world(monkeypatch):
    """The emulator behind HTTP on a manual clock; botocore's waiters sleep on that clock too."""
    clock = ManualClock()
    objects = {
        ("images", "bee.jpg"): image_bytes(),
        ("images", "anim.jpg"): image_bytes("GIF"),
        ("images", "tiny.jpg"): image_bytes("PNG", (32, 32)),
    }
    service = CustomLabelsService(
        read_s3_object=lambda bucket, key, _version: objects[(bucket, key)],
        start_delay=30,
        stop_delay=10,
        clock=clock,
        sleep=clock.sleep,
    )
    service.add_model(MODEL_ARN, backend=Sees(SEEN))
    service.add_model(LATER_ARN, backend=Sees(SEEN))
    monkeypatch.setattr(botocore.waiter.time, "sleep", clock.sleep)
    server = serve(service)
    client = boto3.client(
        "rekognition",
        region_name="eu-west-1",
        config=Config(retries={"total_max_attempts": 1}),
        endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
    )  # each answer as it comes
    yield service, client, clock
    server.shutdown()


def run_now(service, clock, arn=MODEL_ARN):
    service.dispatch("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    clock.advance(30)


def conforms(operation, raw):
    """botocore's Stubber validates a response against the operation's output shape; it refuses unknown members,
    wrong types and missing required ones (the parsed boto3 answer would silently drop unknown ones)."""
    client = boto3.client("rekognition", region_name="eu-west-1")
    with Stubber(client) as stubber:
        stubber.add_response(xform_name(operation), raw)
    return True


# --- every operation's answers against botocore's output shapes ------------------------------------------
def test_every_operations_answers_fit_botocores_output_shapes(world):
    service, _, clock = world
    answers = {
        "StartProjectVersion": [
            service.dispatch(
                "StartProjectVersion", {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 2}
            )
        ]
    }
    clock.advance(30)
    answers["DetectCustomLabels"] = [
        service.dispatch("DetectCustomLabels", {"ProjectVersionArn": MODEL_ARN, "Image": IMAGE, "MinConfidence": 0}),
        service.dispatch("DetectCustomLabels", {"ProjectVersionArn": MODEL_ARN, "Image": IMAGE, "MaxResults": 0}),
        service.dispatch(
            "DetectCustomLabels",
            {"ProjectVersionArn": MODEL_ARN, "Image": {"Bytes": base64.b64encode(image_bytes()).decode()}},
        ),
    ]
    answers["DescribeProjects"] = [
        service.dispatch("DescribeProjects", {}),
        service.dispatch("DescribeProjects", {"ProjectNames": ["bees"], "MaxResults": 1}),
    ]
    answers["DescribeProjectVersions"] = [
        service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN}),
        service.dispatch("DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, "MaxResults": 1}),
    ]
    answers["StopProjectVersion"] = [service.dispatch("StopProjectVersion", {"ProjectVersionArn": MODEL_ARN})]
    assert sorted(answers) == sorted(OPERATIONS)
    assert "NextToken" in answers["DescribeProjectVersions"][1]
    assert all(conforms(operation, raw) for operation, raws in answers.items() for raw in raws)


def test_the_conformance_check_refuses_an_answer_that_does_not_fit(world):
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        conforms("DetectCustomLabels", {"CustomLabels": [{"Name": "bee", "Confidence": "high"}]})
    with pytest.raises(ParamValidationError):
        conforms("StopProjectVersion", {"Status": "STOPPING", "Extra": 1})


@pytest.mark.parametrize("status", ["TRAINING_COMPLETED", "RUNNING", "FAILED", "EXPIRED", "DEPRECATED", "STOPPED"])
def test_every_lifecycle_state_is_described_in_botocores_shape(world, status):
    service, _, _ = world
    service.set_status(MODEL_ARN, status)
    [description] = service.dispatch(
        "DescribeProjectVersions", {"ProjectArn": PROJECT_ARN, "VersionNames": ["bees.2021-03-11T15.05.33"]}
    )["ProjectVersionDescriptions"]
    assert description["Status"] == status
    assert conforms("DescribeProjectVersions", {"ProjectVersionDescriptions": [description]})


# --- every modeled error as boto3's own class, with the documented status ---------------------------------
def modeled_errors(operation):
    return [shape.name for shape in service_model().operation_model(operation).error_shapes]


@pytest.mark.parametrize("code", modeled_errors("DetectCustomLabels"))
def test_every_error_detect_custom_labels_models_arrives_as_its_class_and_status(world, code):
    service, client, clock = world
    run_now(service, clock)
    service.fault_plan = [PlannedFault(code)]
    with pytest.raises(getattr(client.exceptions, code)) as raised:
        client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image=IMAGE)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == SERVER_ERRORS.get(code, 400)
    assert raised.value.response["ResponseMetadata"]["RequestId"]


def natural_errors(service, client, clock):
    """Each error the emulator answers by itself, from what a request or the model's state really is."""
    missing = MODEL_ARN.replace("1615479933000", "1615479933999")
    yield "ResourceNotFoundException", lambda: client.detect_custom_labels(ProjectVersionArn=missing, Image=IMAGE)
    yield (
        "ResourceNotFoundException",
        lambda: client.describe_project_versions(ProjectArn=PROJECT_ARN.replace("bees", "wasps")),
    )
    yield "ResourceNotReadyException", lambda: client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image=IMAGE)
    yield "ResourceInUseException", lambda: client.stop_project_version(ProjectVersionArn=MODEL_ARN)
    yield (
        "LimitExceededException",
        lambda: client.start_project_version(ProjectVersionArn=MODEL_ARN, MinInferenceUnits=1000),
    )
    yield (
        "InvalidParameterException",
        lambda: client.start_project_version(ProjectVersionArn=MODEL_ARN, MinInferenceUnits=3, MaxInferenceUnits=2),
    )
    yield (
        "InvalidPaginationTokenException",
        lambda: client.describe_project_versions(ProjectArn=PROJECT_ARN, NextToken="junk"),
    )
    yield "InvalidPaginationTokenException", lambda: client.describe_projects(NextToken="junk")
    run_now(service, clock, LATER_ARN)
    yield (
        "ResourceInUseException",
        lambda: client.start_project_version(ProjectVersionArn=LATER_ARN, MinInferenceUnits=1),
    )
    detect = client.detect_custom_labels
    yield (
        "InvalidS3ObjectException",
        lambda: detect(ProjectVersionArn=LATER_ARN, Image={"S3Object": {"Bucket": "images", "Name": "missing.jpg"}}),
    )
    yield (
        "InvalidImageFormatException",
        lambda: detect(ProjectVersionArn=LATER_ARN, Image={"S3Object": {"Bucket": "images", "Name": "anim.jpg"}}),
    )
    yield (
        "InvalidParameterException",
        lambda: detect(ProjectVersionArn=LATER_ARN, Image={"S3Object": {"Bucket": "images", "Name": "tiny.jpg"}}),
    )
    yield "InvalidParameterException", lambda: detect(ProjectVersionArn=LATER_ARN, Image={**IMAGE, "Bytes": b"x"})
    yield (
        "ImageTooLargeException",
        lambda: detect(ProjectVersionArn=LATER_ARN, Image={"Bytes": b"\xff\xd8" + bytes(4_200_000)}),
    )
    clock.advance(1)  # a new one-second window, and one call a second
    service.models[LATER_ARN].capacity.tps_per_inference_unit = 1
    detect(ProjectVersionArn=LATER_ARN, Image=IMAGE)
    yield "ProvisionedThroughputExceededException", lambda: detect(ProjectVersionArn=LATER_ARN, Image=IMAGE)


def test_errors_the_emulator_answers_by_itself_are_modeled_and_arrive_as_their_class(world):
    service, client, clock = world
    seen = set()
    for code, call in natural_errors(service, client, clock):
        with pytest.raises(getattr(client.exceptions, code)) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == SERVER_ERRORS.get(code, 400)
        seen.add(code)
    modeled = {code for operation in OPERATIONS for code in modeled_errors(operation)}
    assert seen <= modeled
    assert modeled - seen == {"AccessDeniedException", "InternalServerError", "ThrottlingException"}  # faults only


def test_front_end_refusals_are_400_validation_and_serialization_errors(world):
    _, client, _ = world
    for call, says in [
        (
            lambda: client.detect_custom_labels(
                ProjectVersionArn="arn:aws:rekognition:eu-west-1:123456789012:project/bees/version/v1", Image=IMAGE
            ),
            "regular expression pattern",
        ),
        (lambda: client.describe_project_versions(ProjectArn=PROJECT_ARN, MaxResults=500), "less than or equal"),
        (
            lambda: client.describe_project_versions(ProjectArn=PROJECT_ARN, VersionNames=["v"] * 11),
            "length less than or equal to 10",
        ),
    ]:
        with pytest.raises(client.exceptions.ClientError) as raised:
            call()
        error = raised.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
        assert says in error["Error"]["Message"]


# --- botocore's waiters and paginators ---------------------------------------------------------------------
def test_the_project_version_running_waiter_waits_through_starting(world):
    service, client, clock = world
    client.start_project_version(ProjectVersionArn=MODEL_ARN, MinInferenceUnits=1)
    clock.slept.clear()
    client.get_waiter("project_version_running").wait(
        ProjectArn=PROJECT_ARN, VersionNames=["bees.2021-03-11T15.05.33"], WaiterConfig={"Delay": 10}
    )
    assert clock.slept == [10, 10, 10]  # STARTING at 0, 10 and 20 s; RUNNING at 30
    assert service.models[MODEL_ARN].status == "RUNNING"


def test_the_running_waiter_fails_on_a_start_that_fails(world):
    service, client, _ = world
    service.models[MODEL_ARN].fails_to_start = True
    client.start_project_version(ProjectVersionArn=MODEL_ARN, MinInferenceUnits=1)
    with pytest.raises(WaiterError, match="FAILED"):
        client.get_waiter("project_version_running").wait(
            ProjectArn=PROJECT_ARN, VersionNames=["bees.2021-03-11T15.05.33"], WaiterConfig={"Delay": 10}
        )


def test_the_training_completed_waiter_accepts_a_new_version(world):
    _, client, clock = world
    clock.slept.clear()
    client.get_waiter("project_version_training_completed").wait(ProjectArn=PROJECT_ARN)
    assert clock.slept == []


@pytest.mark.parametrize("page_size", [1, 2, 3, 100])
def test_the_paginators_list_every_version_and_project_once(world, page_size):
    service, client, _ = world
    for day in range(1, 4):
        service.add_model(
            MODEL_ARN.replace(
                "bees.2021-03-11T15.05.33/1615479933000", f"bees.2021-05-0{day}T00.00.00/16{day}0000000000"
            )
        )
    service.add_model("arn:aws:rekognition:eu-west-1:123456789012:project/wasps/version/w.1/1620000000000")
    pages = list(
        client.get_paginator("describe_project_versions").paginate(
            ProjectArn=PROJECT_ARN, PaginationConfig={"PageSize": page_size}
        )
    )
    arns = [v["ProjectVersionArn"] for page in pages for v in page["ProjectVersionDescriptions"]]
    assert sorted(arns) == sorted(arn for arn in service.models if "/bees/" in arn)
    assert len(pages) == -(-5 // page_size)
    projects = [
        p["ProjectArn"]
        for page in client.get_paginator("describe_projects").paginate(PaginationConfig={"PageSize": page_size})
        for p in page["ProjectDescriptions"]
    ]
    assert sorted(projects) == sorted(p.arn for p in service.projects.values())
