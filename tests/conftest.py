"""Shared fixtures: an offline environment, synthesized templates, and moto S3/SQS."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Offline and deterministic: fake credentials, a fixed region, Powertools outside Lambda, quiet jsii.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "customlabels-inference-test",
    "POWERTOOLS_METRICS_NAMESPACE": "CustomLabelsPipelineTest",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
})
for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_REKOGNITION"):
    os.environ.pop(variable, None)

# The gate runs the same examples every time (a property that fails once fails always, and says how to
# reproduce it); HYPOTHESIS_PROFILE=explore draws new ones, to look for counterexamples on purpose.
settings.register_profile("gate", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))

MODEL_ARN = "arn:aws:rekognition:eu-west-1:123456789012:project/bees/version/bees.2021-03-11T15.05.33/1615479933000"


TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items):
    """Every test belongs to exactly one tier (a module's `pytestmark`, or a mark on the test in a module
    that mixes tiers), so `-m unit` and friends select the whole suite between them, nothing twice."""
    problems = []
    for item in items:
        tiers = {marker.name for marker in item.iter_markers() if marker.name in TIERS}
        if len(tiers) != 1:
            problems.append(f"{item.nodeid}: {sorted(tiers) or 'no tier'}")
    if problems:
        raise pytest.UsageError("Mark each test with exactly one of " + ", ".join(TIERS) + " (see "
                                "pyproject.toml's markers):\n  " + "\n  ".join(problems))


def cdk_json_context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def synth_context(**overrides) -> dict:
    """cdk.json's context plus a model ARN, with Lambda bundling skipped (tests/test_packaging.py bundles)."""
    return {**cdk_json_context(), "model_arn": MODEL_ARN, "aws:cdk:bundling-stacks": [], **overrides}


def synth_template(tmp_path: Path, **overrides):
    """Synthesize the app (cdk-nag included) and return the stack's `Template`."""
    from aws_cdk.assertions import Template

    from stacks.application import build_app

    app = build_app(synth_context(**overrides), outdir=str(tmp_path / "cdk.out"))
    assembly = app.synth()
    return Template.from_json(assembly.stacks[0].template)


@pytest.fixture(scope="session")
def default_template(tmp_path_factory):
    return synth_template(tmp_path_factory.mktemp("default"))


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright. `make test` installs chromium when it is missing."""
    import shutil

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed and `make browser` could not install it (it runs "
                    "`apt-get install chromium`, which needs root or sudo): the gallery's browser checks need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
