"""The onnx backend's function against moto S3: the same handler logic as Custom Labels' with the own model
answering, so the same outcomes (one result per image, permanent errors as results, partial batch failures), the
result contract with `Model` instead of `ProjectVersionArn`, Rekognition's image limits and EXIF orientation."""

import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import Image

from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.images import check_image
from customlabels.results.model import result_from_document
from customlabels.results.schema_check import schema_problems
from customlabels_runtime.inference.logic import handle_event
from customlabels_runtime.inference.thresholds import Thresholds
from customlabels_runtime.onnx_inference import images
from customlabels_runtime.onnx_inference.answer import OwnModelAnswer
from customlabels_runtime.onnx_inference.model_source import load_model
from customlabels_runtime.onnx_model.spec import SpecError
from customlabels_runtime.result_events import event_detail
from support.images import huge_png, image_bytes
from support.inference import BUCKET, deps_for
from support.onnx_models import UINT8, constant_model, image_input, save

pytestmark = pytest.mark.integration

# One box in the input's top-left quarter (stretched 640x640 input): x 0-320, y 0-160 of the input.
BOX_ROW = [0, 0, 320, 160, 0.8, 1]
SPEC = {"format": "yolo-e2e", "labels": ["bee", "flower"], "input": {"resize": "stretch"}}


@pytest.fixture
def model(tmp_path):
    path = save(constant_model({"output0": [[BOX_ROW]]}), tmp_path / "bees.onnx", SPEC)
    return load_model(str(path), s3=None)


def onnx_deps(pipeline, model, **settings):
    deps = deps_for(pipeline, model_arn="", **settings)
    deps.settings = dataclasses.replace(deps.settings, model=model.identity.to_document())
    deps.own_model = OwnModelAnswer(model, pipeline.s3)
    deps.rekognition = None  # no Rekognition with onnx: a call would fail
    return deps


def jpeg(size=(400, 300), exif_orientation=None) -> bytes:
    buffer = io.BytesIO()
    picture = Image.new("RGB", size, (120, 160, 60))
    exif = picture.getexif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    picture.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_an_image_gets_its_result_naming_the_own_model(pipeline, model):
    put = pipeline.upload("test_images/bee.jpg", jpeg())
    response = handle_event(pipeline.receive(2), None, onnx_deps(pipeline, model))
    assert response == {"batchItemFailures": []}
    document = pipeline.result("test_images/bee.jpg.json")
    assert "ProjectVersionArn" not in document
    assert document["Model"] == {"Uri": "bees.onnx", "Sha256": model.identity.sha256}
    assert len(model.identity.sha256) == 64
    assert document["Image"]["VersionId"] == put["VersionId"]
    assert document["CustomLabels"] == [
        {
            "Name": "flower",
            "Confidence": 80.0,
            "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.25, "Left": 0.0, "Top": 0.0}},
        }
    ]
    assert document["MinConfidence"] is None and document["Thresholds"] == {"min_confidence": None, "labels": {}}
    # The published schema takes it; the tool's readers and the result event name it by URI and SHA-256's start.
    assert schema_problems(document) == []
    assert schema_problems({**document, "Model": {"Uri": "bees.onnx", "Sha256": "not hex"}}) != []
    named = f"bees.onnx@sha256:{model.identity.sha256[:12]}"
    assert result_from_document(document).model == named
    assert event_detail(document, "test_images/bee.jpg.json")["Model"] == named


def test_thresholds_global_and_per_label_apply_to_the_own_model(pipeline, model):
    pipeline.upload("test_images/a.jpg", jpeg())
    handle_event(pipeline.receive(2), None, onnx_deps(pipeline, model, min_confidence=85.0))
    assert pipeline.result("test_images/a.jpg.json")["CustomLabels"] == []
    deps = onnx_deps(pipeline, model)
    deps.thresholds = None
    deps.settings = dataclasses.replace(deps.settings, min_confidence=None)
    answer = deps.own_model
    image = images.ObjectCreated(BUCKET, "test_images/a.jpg")
    assert answer(image, Thresholds(None, {"flower": 79.0})).response["CustomLabels"][0]["Name"] == "flower"
    assert answer(image, Thresholds(None, {"flower": 81.0})).response["CustomLabels"] == []
    assert answer(image, Thresholds(90.0, {"flower": 75.0})).response["CustomLabels"][0]["Confidence"] == 80.0


BAD_IMAGES = {
    "not-an-image.jpg": b"\xff\xd8 not decoded",
    "tiny.png": None,
    "thin.jpg": None,
    "huge.png": None,
}


def bad_image(name):
    if name == "tiny.png":
        buffer = io.BytesIO()
        Image.new("RGB", (63, 100)).save(buffer, "PNG")
        return buffer.getvalue()
    if name == "thin.jpg":
        return jpeg(size=(2100, 100))  # 21:1
    if name == "huge.png":
        return huge_png()
    return BAD_IMAGES[name]


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_an_image_rekognition_would_refuse_gets_the_same_error_result(pipeline, model, name):
    data = bad_image(name)
    with pytest.raises(ServiceError) as emulated:
        check_image(data)
    pipeline.upload(f"test_images/{name}", data)
    response = handle_event(pipeline.receive(2), None, onnx_deps(pipeline, model))
    assert response == {"batchItemFailures": []}  # permanent: a result, not a retry
    document = pipeline.result(f"test_images/{name}.json")
    assert document["Error"]["Code"] == emulated.value.code
    assert document["CustomLabels"] == []


def test_an_image_over_15_mb_is_refused_before_it_is_read(model):
    class S3:
        def get_object(self, **_request):
            return {"ContentLength": images.MAX_S3_IMAGE_BYTES + 1, "Body": io.BytesIO(b"")}

    with pytest.raises(images.ImageRejectedError) as refused:
        images.read_image(images.ObjectCreated(BUCKET, "test_images/big.jpg"), S3())
    assert refused.value.response["Error"]["Code"] == "ImageTooLargeException"


def test_the_limits_are_rekognitions_as_the_emulator_and_upload_hold_them():
    from customlabels import limits

    assert (images.MAX_S3_IMAGE_BYTES, images.MIN_SIDE, images.MAX_SIDE, images.MAX_ASPECT_RATIO) == (
        limits.MAX_S3_IMAGE_BYTES,
        limits.MIN_SIDE,
        limits.MAX_SIDE,
        limits.MAX_ASPECT_RATIO,
    )


def test_a_phones_mpo_jpeg_is_a_jpeg(pipeline, model):
    pipeline.upload("test_images/phone.jpg", image_bytes("MPO"))
    handle_event(pipeline.receive(2), None, onnx_deps(pipeline, model))
    assert pipeline.result("test_images/phone.jpg.json")["CustomLabels"][0]["Name"] == "flower"


def test_exif_orientation_is_applied_so_boxes_are_ratios_of_the_upright_image(pipeline, tmp_path):
    # A 400x200 picture stored sideways with orientation 6 ("rotate 90 CW to view") is shown 200x400. A classifier
    # of the mean of each input row half tells which way up the model saw it: the stored top half is red.
    stored = Image.new("RGB", (400, 200), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 400, 100))
    exif = stored.getexif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif, quality=95)
    upright = images.open_image(buffer.getvalue())
    assert upright.size == (200, 400)
    # Rotated 90 degrees clockwise for viewing, the stored top (red) is the right half of the upright image.
    pixels = np.asarray(upright)
    assert pixels[:, 150:, 0].mean() > 200 and pixels[:, :50, 0].mean() < 60
    assert images.open_image(jpeg(size=(400, 200))).size == (400, 200)  # no orientation: as stored


def test_an_image_deleted_before_processing_gets_its_result_without_a_model_call(pipeline, model):
    pipeline.upload("test_images/gone.jpg", jpeg())
    event = pipeline.receive(2)
    pipeline.s3.delete_object(Bucket=BUCKET, Key="test_images/gone.jpg")
    calls = []
    deps = onnx_deps(pipeline, model)
    answer = deps.own_model
    deps.own_model = lambda image, thresholds: calls.append(image) or answer(image, thresholds)
    handle_event(event, None, deps)
    assert calls == []
    assert pipeline.result("test_images/gone.jpg.json")["Error"]["Code"] == "ImageDeletedBeforeProcessing"


def test_a_transient_s3_failure_fails_the_record_for_sqs_to_retry(pipeline, model):
    pipeline.upload("test_images/bee.jpg", jpeg())
    event = pipeline.receive(2)
    deps = onnx_deps(pipeline, model)

    class Flaky:
        def __init__(self, s3):
            self.s3 = s3

        def get_object(self, **_request):
            raise images.ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "GetObject")

    deps.own_model = OwnModelAnswer(model, Flaky(pipeline.s3))
    response = handle_event(event, None, deps)
    image_record = event["Records"][1]["messageId"]
    assert {failure["itemIdentifier"] for failure in response["batchItemFailures"]} == {image_record}
    assert "test_images/bee.jpg.json" not in pipeline.object_keys()


def test_an_s3_model_is_read_with_its_spec_object_beside_it(pipeline, tmp_path):
    path = save(constant_model({"output0": [[BOX_ROW]]}), tmp_path / "m.onnx")
    pipeline.s3.put_object(Bucket=BUCKET, Key="models/m.onnx", Body=path.read_bytes())
    with pytest.raises(SpecError) as no_spec:
        load_model(f"s3://{BUCKET}/models/m.onnx", pipeline.s3)
    assert "no spec" in str(no_spec.value) and "--write-spec" in str(no_spec.value)
    pipeline.s3.put_object(Bucket=BUCKET, Key="models/m.onnx.json", Body=json.dumps(SPEC).encode())
    model = load_model(f"s3://{BUCKET}/models/m.onnx", pipeline.s3)
    assert model.identity.uri == f"s3://{BUCKET}/models/m.onnx" and model.spec.labels == ("bee", "flower")


def test_an_s3_model_whose_spec_does_not_fit_fails_the_start_naming_the_field_and_the_fix(pipeline, tmp_path):
    path = save(constant_model({"output0": [[BOX_ROW]]}), tmp_path / "m.onnx")
    pipeline.s3.put_object(Bucket=BUCKET, Key="models/m.onnx", Body=path.read_bytes())
    wrong = {**SPEC, "input": {"width": 320, "dtype": "uint8"}}
    pipeline.s3.put_object(Bucket=BUCKET, Key="models/m.onnx.json", Body=json.dumps(wrong).encode())
    with pytest.raises(SpecError) as refused:
        load_model(f"s3://{BUCKET}/models/m.onnx", pipeline.s3)
    assert refused.value.problems == [
        f"the spec of s3://{BUCKET}/models/m.onnx does not fit the model: input.dtype is uint8 but the input "
        'images [1, 3, 640, 640] float is not. Fix: "input": {"dtype": "float32"}',
        f"the spec of s3://{BUCKET}/models/m.onnx does not fit the model: input.width is 320 but the input "
        'images [1, 3, 640, 640] float takes 640. Fix: "input": {"width": 640}',
    ]


# Each format's graph answering the same thing: a flower at 80% over x 0-50%, y 0-25% of the image (stretched
# input, so ratios of the input are ratios of the image), or for the classifier, the flower as an image-level label.
FLOWER_BOX = {"Width": 0.5, "Height": 0.25, "Left": 0.0, "Top": 0.0}
EVERY_FORMAT = {
    "yolo-e2e": (constant_model({"output0": [[BOX_ROW]]}), SPEC),
    "yolo-raw": (
        constant_model({"output0": np.array([[160, 80, 320, 160, 0.1, 0.8]], np.float32).T[np.newaxis]}),
        {"format": "yolo-raw", "labels": ["bee", "flower"], "input": {"resize": "stretch"}},
    ),
    "tf-od-api": (
        constant_model(
            {
                "detection_boxes": [[[0.0, 0.0, 0.25, 0.5]]],  # ymin, xmin, ymax, xmax
                "detection_scores": [[0.8]],
                "detection_classes": [[2.0]],  # 1-based: flower
                "num_detections": [1.0],
            },
            graph_input=image_input("NHWC", UINT8, 320, 320, name="input_tensor"),
        ),
        {
            "format": "tf-od-api",
            "labels": ["bee", "flower"],
            "input": {"width": 320, "height": 320, "resize": "stretch"},
        },
    ),
    "classifier": (
        constant_model({"scores": [[0.2, 0.8]]}, graph_input=image_input(width=224, height=224)),
        {"format": "classifier", "labels": ["bee", "flower"], "input": {"width": 224, "height": 224}},
    ),
}


@pytest.mark.parametrize("model_format", sorted(EVERY_FORMAT))
def test_every_format_answers_through_the_function_as_its_graph_says(pipeline, tmp_path, model_format):
    """The four formats through the whole function (S3 image, the model, the result JSON in the contract and the
    schema), not only through the decoding: the same flower whichever way the graph says it."""
    graph, spec = EVERY_FORMAT[model_format]
    model = load_model(str(save(graph, tmp_path / f"{model_format}.onnx", spec)), s3=None)
    pipeline.upload("test_images/flower.jpg", jpeg((400, 300)))
    assert handle_event(pipeline.receive(2), None, onnx_deps(pipeline, model)) == {"batchItemFailures": []}
    document = pipeline.result("test_images/flower.jpg.json")
    assert schema_problems(document) == []
    [label] = document["CustomLabels"]  # the bee's 20% is under the default threshold of 50%
    assert (label["Name"], label["Confidence"]) == ("flower", pytest.approx(80.0, abs=1e-3))
    if model_format == "classifier":
        assert "Geometry" not in label
    else:
        assert label["Geometry"]["BoundingBox"] == pytest.approx(FLOWER_BOX, abs=1e-6)
