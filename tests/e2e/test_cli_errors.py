"""The command line's error boundary: on the default AWS paths, with no credentials, no region or no network,
every command prints one message naming the problem and the fix, exits 1, and shows no traceback."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


NO_CREDENTIALS = {
    "unset": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
    "set": {"AWS_DEFAULT_REGION": "eu-west-1"},
}


NO_REGION = {"unset": ["AWS_DEFAULT_REGION", "AWS_REGION"], "set": {}}


NO_NETWORK = {
    "unset": [],
    "set": {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1", "AWS_DEFAULT_REGION": "eu-west-1"},
}


NOT_A_URL = {"unset": [], "set": {"AWS_ENDPOINT_URL": "not-a-url", "AWS_DEFAULT_REGION": "eu-west-1"}}


PROBLEMS = {
    "no credentials": (NO_CREDENTIALS, "No AWS credentials found. Fix: run `aws configure`"),
    "no region": (NO_REGION, "No AWS region set. Fix: set AWS_DEFAULT_REGION"),
    "no network": (NO_NETWORK, "Could not reach http://127.0.0.1:9"),
    "endpoint not a URL": (NOT_A_URL, "AWS_ENDPOINT_URL='not-a-url' is not a URL botocore can use"),
}


COMMANDS = [
    ["model", "status"],
    ["model", "start"],
    ["model", "promote", "arn:aws:rekognition:eu-west-1:123456789012:project/bees/version/v2/1764547200000"],
    ["model", "rollback"],
    ["thresholds", "show"],
    ["thresholds", "import-assumed"],
    ["dlq", "list"],
    ["dlq", "redrive"],
    ["upload", "{images}"],
    ["results"],
    ["evaluate", "--manifest", "{manifest}", "--results", "s3://bucket/test_images/"],
]


def run(args, problem, tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in problem["unset"] and not key.startswith("AWS_ENDPOINT_URL")
    }
    nowhere = str(tmp_path / "none")
    environment.update(
        {
            "AWS_SHARED_CREDENTIALS_FILE": nowhere,
            "AWS_CONFIG_FILE": nowhere,
            "AWS_EC2_METADATA_DISABLED": "true",
            "COLUMNS": "300",
            **problem["set"],
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "customlabels", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


CASES = [
    (problem, command)
    for problem in PROBLEMS
    for command in COMMANDS
    if not (problem == "no region" and command[0] == "evaluate")
]  # S3 alone needs no region: it runs


@pytest.mark.parametrize(("problem", "command"), CASES, ids=[f"{p}: {' '.join(c[:2])}" for p, c in CASES])
def test_aws_problems_are_named_with_their_fix_never_a_traceback(tmp_path, problem, command):
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (100, 100)).save(images / "bee.jpg")
    manifest = tmp_path / "gt.manifest"
    manifest.write_text(
        '{"source-ref": "s3://gt/test_images/bee.jpg", "bee": 1, "bee-metadata": '
        '{"class-name": "bee", "type": "groundtruth/image-classification"}}\n'
    )
    environment, expected = PROBLEMS[problem]
    args = [part.format(images=images, manifest=manifest) for part in command]
    result = run(args, environment, tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert expected in " ".join(result.stderr.split()), result.stderr


@pytest.mark.parametrize("command", [["results", "--bucket", "b"], ["upload", "{images}", "--bucket", "b"]])
def test_a_service_endpoint_that_is_not_a_url_is_named_with_the_fix(tmp_path, command):
    """A mistyped AWS_ENDPOINT_URL_S3 (botocore: `ValueError: Invalid endpoint`) is one line naming the variable."""
    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    Image.new("RGB", (100, 100)).save(images / "bee.jpg")
    problem = {"unset": [], "set": {"AWS_ENDPOINT_URL_S3": "not-a-url", "AWS_DEFAULT_REGION": "eu-west-1"}}
    result = run([part.format(images=images) for part in command], problem, tmp_path)
    said = " ".join(result.stderr.split())
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "AWS_ENDPOINT_URL_S3='not-a-url' is not a URL botocore can use" in said, said
    assert "Fix: give an http(s) URL" in said


def test_debug_shows_the_traceback(tmp_path):
    result = run(["--debug", "model", "status"], NO_CREDENTIALS, tmp_path)
    assert result.returncode == 1 and "Traceback" in result.stderr and "NoCredentialsError" in result.stderr


@pytest.mark.parametrize(
    ("context", "says"),
    [
        ({"min_confidance": 90}, "unknown key min_confidance. Fix: did you mean min_confidence?"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"model_arn": ""}, "model_arn is required"),
    ],
)
def test_synth_names_a_configuration_problem_without_a_traceback(tmp_path, context, says):
    """`cdk synth` runs app.py with the merged context in CDK_CONTEXT_JSON: what it prints is what ops see."""
    from support.cloudformation import synth_context
    from support.project import ROOT

    environment = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**synth_context(), **context}),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr, result.stderr
