"""What every test shares: an offline environment, Hypothesis's profiles, the tier check, and the fixtures that
tests of more than one tier use (the manual clock, the emulator, a gallery run, an upload folder). Fixtures of one
tier are in its own conftest.py (tests/integration/: templates, the handler's pipeline; tests/e2e/: the browser)."""

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


from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.server import serve
from customlabels.operations import transfer
from support.aws import MODEL_ARN
from support.emulator import SEEN, Sees
from support.images import image_bytes, write_image
from support.results import ERROR, GALLERY_RESULTS, result_document

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


# --- the emulator tests' and the model commands' ----------------------------------------------------------------
@pytest.fixture
def clock():
    """The product's manual clock (customlabels/local/emulator/clock.py): time moves only when the test says."""
    return ManualClock()


@pytest.fixture
def objects():
    return {("images", "bee.jpg"): image_bytes()}


@pytest.fixture
def service(clock, objects):
    def read(bucket, key, version):
        return objects[(bucket, key)]

    service = CustomLabelsService(read_s3_object=read, start_delay=30, stop_delay=10, clock=clock, sleep=lambda _: None)
    service.add_model(MODEL_ARN, backend=Sees(SEEN), assumed_thresholds={"bee": 80.0, "flower": 70.0, "wasp": 40.0})
    return service


@pytest.fixture
def emulator(clock):
    """The emulator behind HTTP on the manual clock: a model STARTING or STOPPING stays so until the test advances
    time, and a wait's sleep moves the clock."""
    service = CustomLabelsService(start_delay=30, stop_delay=10, clock=clock, sleep=clock.sleep)
    service.add_model(MODEL_ARN)
    server = serve(service)
    yield service, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# --- the gallery tests' ---------------------------------------------------------------------------------------------
@pytest.fixture
def gallery_run(tmp_path):
    """Images (one unreadable, one without a result) and result JSONs as `local run` writes them."""
    images, results = tmp_path / "images", tmp_path / "results"
    for name, size in (
        ("meadow/bee #1.jpg", (640, 480)),
        ("flowers.png", (300, 400)),
        ("empty.jpg", (200, 200)),
        ("waiting.jpg", (320, 240)),
    ):
        write_image(images / name, size)
    (images / "broken.jpg").write_text("not a picture")
    documents = {name: result_document(f"test_images/{name}", labels) for name, labels in GALLERY_RESULTS.items()}
    documents["broken.jpg"] = result_document("test_images/broken.jpg", error=ERROR)
    for name, document in documents.items():
        path = results / "test_images" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))
    return images, results, documents


# --- the transfer tests' --------------------------------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    """Two good images, one PNG named .jpg (fine: Rekognition reads the content), and seven that would fail."""
    images = tmp_path / "images"
    write_image(images / "bee.jpg")
    write_image(images / "meadow" / "flower 1.png")
    write_image(images / "disguised.jpg", fmt="PNG")
    (images / "notes.jpg").write_text("not an image")
    write_image(images / "anim.gif", fmt="GIF")
    write_image(images / "tiny.png", size=(32, 32))
    write_image(images / "huge.png", size=(4100, 64))
    write_image(images / "photo.dat", fmt="JPEG")
    write_image(images / "mixed.Jpg", fmt="JPEG")
    (images / "big.jpg").write_bytes(b"\xff\xd8" + bytes(transfer.MAX_S3_IMAGE_BYTES))
    return images
