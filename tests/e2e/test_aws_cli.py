"""The real AWS CLI v1 (awscli from requirements-dev) against `local serve`, with the variables it exports: which
of them the CLI reads is what the README says (issue 27: the README said v1 ignores them all; awscli 1.46 reads
AWS_ENDPOINT_URL_S3 and _SSM and ignores _SQS, so `aws sqs` needs --endpoint-url)."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import until_served
from support.images import image_bytes
from support.project import ROOT

pytestmark = pytest.mark.e2e

AWS = Path(sys.executable).with_name("aws")
README = ROOT / "README.md"


def served_environment(serve, tmp_path):
    printed = until_served(serve)
    exported = dict(re.findall(r"^export (\w+)=(\S+)$", (tmp_path / "local.env").read_text(), re.MULTILINE))
    names = dict(re.findall(r"^  (Bucket|Queue|Thresholds parameter):\s+(\S+)$", printed, re.MULTILINE))
    clean = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {
        **clean,
        **exported,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }, names


def aws(environment, *args):
    return subprocess.run(
        [str(AWS), *args, "--cli-connect-timeout", "3", "--cli-read-timeout", "10"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_readme_says_which_endpoint_variables_aws_cli_v1_reads_of_local_serves(tmp_path):
    """What the real CLI does with each variable `local serve` exports decides; the README must say the same."""
    assert AWS.exists(), "awscli is in requirements-dev.txt: run `make install`"
    version = subprocess.run([str(AWS), "--version"], capture_output=True, text=True, check=True)
    arguments = ["local", "serve", "--log", str(tmp_path / "l.log"), "--env-file", str(tmp_path / "local.env")]
    serve = subprocess.Popen(
        [sys.executable, "-m", "customlabels", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    try:
        environment, names = served_environment(serve, tmp_path)
        (tmp_path / "bee.jpg").write_bytes(image_bytes())
        copied = aws(environment, "s3", "cp", str(tmp_path / "bee.jpg"), f"s3://{names['Bucket']}/test_images/bee.jpg")
        parameter = aws(environment, "ssm", "get-parameter", "--name", names["Thresholds parameter"])
        queue = ["sqs", "get-queue-attributes", "--queue-url", names["Queue"], "--attribute-names", "QueueArn"]
        attributes = aws(environment, *queue)
        read = {  # each variable is read when the command reached the local stack with it alone
            "_S3": copied.returncode == 0 and "upload:" in copied.stdout,
            "_SSM": parameter.returncode == 0 and names["Thresholds parameter"] in parameter.stdout,
            "_SQS": attributes.returncode == 0 and "QueueArn" in attributes.stdout,
        }
        given = aws(environment, *queue, "--endpoint-url", environment["AWS_ENDPOINT_URL_SQS"])
        assert given.returncode == 0 and "QueueArn" in given.stdout, f"--endpoint-url always works: {given.stderr}"
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=120) == 0
    said = re.search(
        r"awscli (\S+) \(v1, from PyPI\) reads (.+?) and ignores (.+?),", " ".join(README.read_text().split())
    )
    assert said, "the README says which variables AWS CLI v1 reads"
    assert version.stdout.startswith(f"aws-cli/{said[1]} "), (version.stdout, "the version the README names")
    assert set(re.findall(r"`(_\w+)`", said[2])) == {name for name, honoured in read.items() if honoured}
    assert set(re.findall(r"`(_\w+)`", said[3])) == {name for name, honoured in read.items() if not honoured}
