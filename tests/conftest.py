"""Shared fixtures: an offline environment, the tier check, synthesized templates, a browser, and the fixtures
that tests of more than one tier use (emulator, handler pipeline, gallery, upload folder)."""

import json
import os

import pytest
from hypothesis import settings

# Offline and deterministic: fake credentials, a fixed region, Powertools outside Lambda, quiet jsii.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "customlabels-inference-test",
        "POWERTOOLS_METRICS_NAMESPACE": "CustomLabelsPipelineTest",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_REKOGNITION"):
    os.environ.pop(variable, None)

# The gate runs the same examples every time (a property that fails once fails always, and says how to
# reproduce it); HYPOTHESIS_PROFILE=explore draws new ones, to look for counterexamples on purpose.
settings.register_profile("gate", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))

import boto3
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws
from PIL import Image

from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.server import serve
from customlabels.operations import transfer
from customlabels_runtime.inference.logic import REKOGNITION_RETRIES
from helpers import (
    ARN,
    BUCKET,
    ERROR,
    GALLERY_RESULTS,
    MODEL_ARN,
    REGION,
    SEEN,
    Clock,
    Pipeline,
    Sees,
    image_bytes,
    notify_queue,
    synth_template,
    write_picture,
)

TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items):
    """Every test belongs to exactly one tier (its module's `pytestmark`), so `-m unit` and friends select the
    whole suite between them, nothing twice; and a module in a tier's folder (tests/unit/, ...) is of that tier."""
    problems = []
    for item in items:
        tiers = {marker.name for marker in item.iter_markers() if marker.name in TIERS}
        folder = item.path.parent.name
        if len(tiers) != 1:
            problems.append(f"{item.nodeid}: {sorted(tiers) or 'no tier'}")
        elif folder in TIERS and tiers != {folder}:
            problems.append(f"{item.nodeid}: marked {tiers.pop()} but in tests/{folder}/")
    if problems:
        raise pytest.UsageError(
            "Mark each test with exactly one of " + ", ".join(TIERS) + " (see "
            "pyproject.toml's markers):\n  " + "\n  ".join(problems)
        )


@pytest.fixture(scope="session")
def default_template(tmp_path_factory):
    return synth_template(tmp_path_factory.mktemp("default"))


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright. `make test` installs chromium when it is missing."""
    import shutil

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip(
            "Chromium is not installed and `make browser` could not install it (it runs "
            "`apt-get install chromium`, which needs root or sudo): the gallery's browser checks need it"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


# --- the emulator tests' --------------------------------------------------------------------------------------------
@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def objects():
    return {("images", "bee.jpg"): image_bytes()}


@pytest.fixture
def service(clock, objects):
    def read(bucket, key, version):
        return objects[(bucket, key)]

    service = CustomLabelsService(read_s3_object=read, start_delay=30, stop_delay=10, clock=clock, sleep=lambda _: None)
    service.add_model(ARN, backend=Sees(SEEN), assumed_thresholds={"bee": 80.0, "flower": 70.0, "wasp": 40.0})
    return service


# --- the gallery tests' ---------------------------------------------------------------------------------------------
@pytest.fixture
def gallery_run(tmp_path):
    """Images (one unreadable, one without a result) and result JSONs as `local run` writes them."""
    images, results = tmp_path / "images", tmp_path / "results"
    (images / "meadow").mkdir(parents=True)
    for name, size in (
        ("meadow/bee #1.jpg", (640, 480)),
        ("flowers.png", (300, 400)),
        ("empty.jpg", (200, 200)),
        ("waiting.jpg", (320, 240)),
    ):
        Image.new("RGB", size, (90, 160, 90)).save(images / name)
    (images / "broken.jpg").write_text("not a picture")
    documents = {
        name: {"Image": {"Bucket": "b", "Key": f"test_images/{name}"}, "CustomLabels": labels}
        for name, labels in GALLERY_RESULTS.items()
    }
    documents["broken.jpg"] = {
        "Image": {"Bucket": "b", "Key": "test_images/broken.jpg"},
        "CustomLabels": [],
        "Error": ERROR,
    }
    for name, document in documents.items():
        path = results / "test_images" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))
    return images, results, documents


# --- the handler tests' ---------------------------------------------------------------------------------------------
@pytest.fixture
def pipeline():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        # Prefix only (no suffix filter), so that the handler's own guard against non-images is exercised.
        queue_url, queue_arn = notify_queue(s3, sqs, BUCKET)
        # The function's own retry configuration: throttles reach its throughput control, not botocore's backoff.
        rekognition = boto3.client("rekognition", region_name=REGION, config=Config(retries=dict(REKOGNITION_RETRIES)))
        with Stubber(rekognition) as stub:
            yield Pipeline(s3, sqs, queue_url, queue_arn, rekognition, stub)
            stub.assert_no_pending_responses()


# --- the model cli tests' -------------------------------------------------------------------------------------------
@pytest.fixture
def manual_clock():
    return ManualClock()


@pytest.fixture
def emulator(manual_clock):
    """The emulator on a manual clock: a model STARTING or STOPPING stays so until the test advances time."""
    service = CustomLabelsService(start_delay=30, stop_delay=10, clock=manual_clock, sleep=manual_clock.sleep)
    service.add_model(MODEL_ARN)
    server = serve(service)
    yield service, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# --- the transfer tests' --------------------------------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    """Two good images, one PNG named .jpg (fine: Rekognition reads the content), and seven that would fail."""
    images = tmp_path / "images"
    write_picture(images / "bee.jpg")
    write_picture(images / "meadow" / "flower 1.png")
    write_picture(images / "disguised.jpg", fmt="PNG")
    (images / "notes.jpg").write_text("not an image")
    write_picture(images / "anim.gif", fmt="GIF")
    write_picture(images / "tiny.png", size=(32, 32))
    write_picture(images / "huge.png", size=(4100, 64))
    write_picture(images / "photo.dat", fmt="JPEG")
    write_picture(images / "mixed.Jpg", fmt="JPEG")
    (images / "big.jpg").write_bytes(b"\xff\xd8" + bytes(transfer.MAX_S3_IMAGE_BYTES))
    return images
