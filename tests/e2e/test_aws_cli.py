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

from helpers import ROOT, picture

pytestmark = pytest.mark.e2e

AWS = Path(sys.executable).with_name("aws")


def served_environment(serve, tmp_path):
    printed = ""
    while "aws s3 cp s3://" not in printed:  # the last thing `local serve` prints once the stack is up
        line = serve.stdout.readline()
        assert line, f"local serve ended early: {printed}"
        printed += line
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


def test_aws_cli_v1_reads_the_s3_and_ssm_endpoints_local_serve_exports_but_not_sqs(tmp_path):
    assert AWS.exists(), "awscli is in requirements-dev.txt: run `make install`"
    version = subprocess.run([str(AWS), "--version"], capture_output=True, text=True, check=True)
    assert re.match(r"aws-cli/1\.46\.3 ", version.stdout + version.stderr), "the version the README names"
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
        (tmp_path / "bee.jpg").write_bytes(picture())
        copied = aws(environment, "s3", "cp", str(tmp_path / "bee.jpg"), f"s3://{names['Bucket']}/test_images/bee.jpg")
        assert copied.returncode == 0, copied.stderr
        parameter = aws(environment, "ssm", "get-parameter", "--name", names["Thresholds parameter"])
        assert parameter.returncode == 0 and names["Thresholds parameter"] in parameter.stdout, parameter.stderr

        queue = ["sqs", "get-queue-attributes", "--queue-url", names["Queue"], "--attribute-names", "QueueArn"]
        ignored = aws(environment, *queue)
        assert ignored.returncode != 0 and "QueueArn" not in ignored.stdout, "v1 ignores AWS_ENDPOINT_URL_SQS"
        given = aws(environment, *queue, "--endpoint-url", environment["AWS_ENDPOINT_URL_SQS"])
        assert given.returncode == 0 and "QueueArn" in given.stdout, given.stderr
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=120) == 0
