"""`customlabels model train` in a process of its own against `customlabels local serve`, with the variables
`local serve` exports: the project and datasets created, the training followed to TRAINING_COMPLETED, the
evaluation printed, and the summary file in the local bucket; then the trained version, started, answers like the
manifest it was trained on."""

import json
import re
import signal

import boto3
import pytest

from support.cli import customlabels, started, until_served
from support.emulator import labels_line, manifest_text
from support.images import image_bytes

pytestmark = pytest.mark.e2e


def served(serve, env_file):
    printed = until_served(serve)
    exported = dict(re.findall(r"^export (\w+)=(\S+)$", env_file.read_text(), re.MULTILINE))
    [bucket] = re.findall(r"^  Bucket:\s+(\S+)$", printed, re.MULTILINE)
    return exported, bucket


def test_model_train_trains_a_version_on_local_serve_that_answers_like_its_manifest(tmp_path):
    env_file = tmp_path / "local.env"
    serve = started("local", "serve", "--log", tmp_path / "l.log", "--env-file", env_file, "--training-delay", "2")
    try:
        environment, bucket = served(serve, env_file)
        kinds = ("bee", "wasp")
        manifest = tmp_path / "train.manifest"
        manifest.write_text(
            manifest_text(*(labels_line(f"garden/{n}.jpg", kinds[n % 2], bucket=bucket) for n in range(10)))
        )
        trained = customlabels(
            "model", "train", "--bucket", bucket, "--project", "garden", "--train-manifest", manifest,
            "--auto-split", "--version-name", "v1", "--poll", "0.5",
            env=environment,
        )  # fmt: skip
        out = " ".join(trained.stdout.split())
        assert trained.returncode == 0, trained.stdout + trained.stderr
        assert "created project" in out and "--auto-split: 20%" in out and "Overall F1" in out
        [version_arn] = re.findall(r"model promote (\S+) --stack", out)

        def client(service):
            return boto3.client(
                service,
                endpoint_url=environment[f"AWS_ENDPOINT_URL_{service.upper()}"],
                region_name=environment["AWS_DEFAULT_REGION"],
                aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
            )

        s3, rekognition = client("s3"), client("rekognition")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="training/")["Contents"]]
        assert "training/v1/train.manifest" in keys and "training/output/v1/EvaluationSummary-garden-v1.json" in keys
        summary = json.loads(
            s3.get_object(Bucket=bucket, Key="training/output/v1/EvaluationSummary-garden-v1.json")["Body"].read()
        )
        assert {item["Label"] for item in summary["LabelEvaluationResults"]} == set(kinds)
        s3.put_object(Bucket=bucket, Key="garden/3.jpg", Body=image_bytes())
        started_model = customlabels(
            "model", "start", "--model-arn", version_arn, "--wait", "--poll", "0.5", env=environment
        )
        assert started_model.returncode == 0, started_model.stdout + started_model.stderr
        answer = rekognition.detect_custom_labels(
            ProjectVersionArn=version_arn,
            Image={"S3Object": {"Bucket": bucket, "Name": "garden/3.jpg"}},
            MinConfidence=0,
        )
        assert [label["Name"] for label in answer["CustomLabels"]] == ["wasp"]  # line 3 of the manifest says so
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
