"""The emulator under Hypothesis: every raw request, however malformed, gets an HTTP answer (never a dropped
connection, never a 500 for the caller's mistake), and every valid JPEG or PNG within the documented limits, however
unusual (CMYK, progressive, 16-bit, alpha, palette, EXIF-rotated, MPO), gets labels."""

import base64
import http.client
import io
import json

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.server import serve
from support.aws import MODEL_ARN, PROJECT_ARN
from support.emulator import OPERATIONS, SEEN, Sees
from support.images import huge_png, image_bytes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def endpoint():
    """A RUNNING model that never throttles (the fuzz is about answers, not capacity), on a clock that stands."""
    clock = ManualClock()
    objects = {("images", "bee.jpg"): image_bytes(), ("images", "huge.png"): huge_png()}
    service = CustomLabelsService(
        read_s3_object=lambda bucket, key, _version: objects[(bucket, key)], clock=clock, sleep=clock.sleep
    )
    service.add_model(MODEL_ARN, backend=Sees(SEEN), running=True, tps_per_inference_unit=1e9)
    server = serve(service)
    yield service, server.server_address[1]
    server.shutdown()


def post(port: int, target: str | None, body: bytes, content_length: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "Content-Length": content_length if content_length is not None else str(len(body)),
    }
    if target is not None:
        headers["X-Amz-Target"] = target
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- malformed raw requests --------------------------------------------------------------------------------
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
VALID = {
    "DetectCustomLabels": {
        "ProjectVersionArn": MODEL_ARN,
        "Image": {"S3Object": {"Bucket": "images", "Name": "bee.jpg"}},
        "MinConfidence": 50,
        "MaxResults": 5,
    },
    "DescribeProjects": {"ProjectNames": ["bees"], "MaxResults": 5},
    "DescribeProjectVersions": {
        "ProjectArn": PROJECT_ARN,
        "VersionNames": ["bees.2021-03-11T15.05.33"],
        "MaxResults": 5,
    },
    "StartProjectVersion": {"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1, "MaxInferenceUnits": 2},
    "StopProjectVersion": {"ProjectVersionArn": MODEL_ARN},
}


@st.composite
def malformed_requests(draw):
    """A request with one thing wrong: a member of a valid request replaced, dropped or added; any JSON; bytes."""
    operation = draw(st.sampled_from(OPERATIONS))
    target = draw(st.sampled_from([f"RekognitionService.{operation}", "RekognitionService.DeleteEverything", "", None]))
    kind = draw(st.sampled_from(["replace", "drop", "add", "nested", "any-json", "bytes"]))
    request = json.loads(json.dumps(VALID[operation]))
    if kind == "replace":
        request[draw(st.sampled_from(sorted(request)))] = draw(json_values)
    elif kind == "drop":
        request.pop(draw(st.sampled_from(sorted(request))))
    elif kind == "add":
        request[draw(st.text(max_size=12))] = draw(json_values)
    elif kind == "nested" and operation == "DetectCustomLabels":
        request["Image"] = draw(
            st.sampled_from(
                [
                    {"Bytes": draw(st.text(max_size=40))},
                    {"Bytes": base64.b64encode(draw(st.binary(max_size=200))).decode()},
                    {"S3Object": {"Bucket": draw(st.text(max_size=8)), "Name": draw(st.text(max_size=8))}},
                    {"S3Object": {"Bucket": "images", "Name": "huge.png"}},
                    {"S3Object": draw(json_values)},
                    draw(json_values),
                ]
            )
        )
    elif kind == "any-json":
        request = draw(json_values)
    body = draw(st.binary(max_size=300)) if kind == "bytes" else json.dumps(request).encode()
    return target, body


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(malformed_requests())
@example(
    (
        "RekognitionService.DetectCustomLabels",  # once answered 500: a JSON null taken for a member
        json.dumps({"ProjectVersionArn": MODEL_ARN, "Image": {"S3Object": None}}).encode(),
    )
)
def test_every_raw_request_gets_an_answer_and_the_callers_mistakes_are_400(endpoint, request_):
    service, port = endpoint
    target, body = request_
    status, headers, payload = post(port, target, body)
    answer = json.loads(payload)
    assert headers.get("x-amzn-RequestId")
    assert status in (200, 400), answer  # a 500 here is an emulator bug: the request's mistake was not foreseen
    if status == 400:
        assert answer["__type"] and answer["Message"]
    service.set_status(MODEL_ARN, "RUNNING")  # whatever a valid Start/Stop did, the next example finds it running


@pytest.mark.parametrize("content_length", ["abc", "-5"])
def test_a_nonsense_content_length_is_answered_400(endpoint, content_length):
    _, port = endpoint
    status, _, payload = post(port, "RekognitionService.DescribeProjects", b"{}", content_length)
    assert status == 400 and json.loads(payload)["__type"] == "SerializationException"


def test_an_unforeseen_failure_is_answered_500_not_dropped(endpoint, monkeypatch):
    service, port = endpoint

    def broken(_request):
        raise KeyError("a bug in the emulator")

    monkeypatch.setattr(service, "describe_projects", broken)
    status, headers, payload = post(port, "RekognitionService.DescribeProjects", b"{}")
    assert status == 500 and json.loads(payload)["__type"] == "InternalServerError"
    assert headers.get("x-amzn-RequestId")


# --- unusual but valid images ------------------------------------------------------------------------------
def encode(kind: str, size: tuple[int, int]) -> bytes:
    """One of the JPEG and PNG variants cameras, phones and editors write."""
    buffer = io.BytesIO()
    rgb = Image.new("RGB", size, (200, 120, 40))
    if kind == "mpo":
        return image_bytes("MPO", size)
    if kind == "jpeg-cmyk":
        rgb.convert("CMYK").save(buffer, "JPEG")
    elif kind == "jpeg-gray":
        rgb.convert("L").save(buffer, "JPEG")
    elif kind == "jpeg-progressive":
        rgb.save(buffer, "JPEG", progressive=True, quality=70)
    elif kind == "jpeg-exif-rotated":
        exif = Image.Exif()
        exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
        rgb.save(buffer, "JPEG", exif=exif.tobytes())
    elif kind == "png-rgba":
        rgb.convert("RGBA").save(buffer, "PNG")
    elif kind == "png-gray-alpha":
        rgb.convert("LA").save(buffer, "PNG")
    elif kind == "png-16-bit":
        Image.new("I;16", size, 40000).save(buffer, "PNG")
    elif kind == "png-palette":
        rgb.convert("P", palette=Image.Palette.ADAPTIVE).save(buffer, "PNG")
    elif kind == "png-1-bit":
        rgb.convert("1").save(buffer, "PNG")
    else:
        rgb.save(buffer, "JPEG" if kind == "jpeg" else "PNG")
    return buffer.getvalue()


KINDS = [
    "jpeg",
    "png",
    "mpo",
    "jpeg-cmyk",
    "jpeg-gray",
    "jpeg-progressive",
    "jpeg-exif-rotated",
    "png-rgba",
    "png-gray-alpha",
    "png-16-bit",
    "png-palette",
    "png-1-bit",
]


@st.composite
def valid_images(draw):
    width = draw(st.integers(64, 700))
    height = draw(st.integers(64, 700))
    assume(max(width, height) <= 20 * min(width, height))
    return draw(st.sampled_from(KINDS)), (width, height)


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(valid_images())
def test_every_valid_jpeg_or_png_within_the_limits_gets_labels(endpoint, image):
    _, port = endpoint
    kind, size = image
    data = encode(kind, size)
    assert Image.open(io.BytesIO(data)).format in ("JPEG", "PNG", "MPO")
    client = boto3.client(
        "rekognition",
        region_name="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"total_max_attempts": 1}),
    )
    labels = client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image={"Bytes": data}, MinConfidence=0)
    assert [label["Name"] for label in labels["CustomLabels"]] == ["bee", "flower", "wasp"], (kind, size)


@pytest.mark.parametrize("size", [(64, 64), (4096, 4096), (64, 1280), (1280, 64), (4096, 205)])
def test_the_edges_of_the_limits_get_labels(endpoint, size):
    _, port = endpoint
    client = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{port}")
    labels = client.detect_custom_labels(ProjectVersionArn=MODEL_ARN, Image={"Bytes": encode("png-1-bit", size)})
    assert labels["CustomLabels"]
