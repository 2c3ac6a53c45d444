"""`customlabels model train` in this process against the emulator (behind HTTP, on a manual clock) and moto's S3:
a training followed to its end with its evaluation, the project and datasets reused the second time, a failed
training, Ctrl-C from the injected sleep, and every refusal of bad input as one line naming the fix."""

import json

import pytest

from customlabels.cli import build_parser
from support.cli import refused
from support.emulator import emulated_training

pytestmark = pytest.mark.integration

BUCKET = "pipeline-bucket"


def train_auto_split(run, manifest, version, **options):
    """`model train --bucket BUCKET --project bees --train-manifest MANIFEST --auto-split --version-name VERSION`."""
    words = ["--bucket", BUCKET, "--project", "bees", "--train-manifest", manifest, "--auto-split"]
    return run(*words, "--version-name", version, **options)


@pytest.fixture
def trainer(monkeypatch, tmp_path):
    world = emulated_training(monkeypatch, tmp_path, BUCKET, "us-east-1")
    yield next(world)
    next(world, None)


def test_a_training_is_followed_to_its_end_and_its_evaluation_printed(trainer, capsys):
    run, service, s3, manifest, calls = trainer
    code = train_auto_split(run, manifest, "v1")
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    [version] = [m for m in service.models.values() if m.version_name == "v1"]
    assert version.status == "TRAINING_COMPLETED"
    assert "created project" in out and "created the train dataset" in out and "--auto-split: 20%" in out
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key=version.evaluation_summary[1])["Body"].read())
    for item in summary["LabelEvaluationResults"]:  # every label with the service's numbers and threshold
        metrics = item["Metrics"]
        row = [item["Label"], *(f"{metrics[name]:.3f}" for name in ("F1Score", "Precision", "Recall"))]
        assert " │ ".join([*row, f"{metrics['Threshold'] * 100:.1f}", str(item["NumberOfTestingImages"])]) in out
    assert (
        f"Next: customlabels model promote {version.arn} --stack <the stack of a pipeline serving this project>" in out
    )
    uploads = [params["Key"] for _, op, params in calls.made if op == "PutObject"]
    assert uploads[0] == "training/v1/train.manifest"  # the command's upload, then training's output
    assert all(key.startswith("training/output/v1/") for key in uploads[1:])  # never under the input prefix
    assert version.trained["OutputConfig"] == {"S3Bucket": BUCKET, "S3KeyPrefix": "training/output/"}
    assert not any(key.startswith("test_images/") for key in [*uploads, version.evaluation_summary[1]])


def test_a_second_training_reuses_the_project_and_its_datasets_and_says_so(trainer, capsys):
    run, service, _, manifest, _ = trainer
    assert train_auto_split(run, manifest, "v1") == 0
    capsys.readouterr()
    assert train_auto_split(run, manifest, "v2") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "reused project" in out and "reused the train dataset" in out and "20 line(s) added or updated" in out
    assert "the test dataset already holds 4 image(s); kept as it is" in out
    assert len(service.projects) == 1


def test_a_failed_training_prints_the_services_message_in_one_line_and_exits_1(trainer, capsys):
    run, service, _, manifest, _ = trainer
    service.plan_training_failure("v1", "The manifest file contains too many invalid rows.")
    assert train_auto_split(run, manifest, "v1") == 1
    out = capsys.readouterr().out
    assert "TRAINING_FAILED" in out and "The manifest file contains too many invalid rows." in out
    assert "Traceback" not in out


def test_ctrl_c_leaves_the_training_running_and_says_how_to_follow_it_again(trainer, capsys):
    run, service, _, manifest, _ = trainer
    sleeps = []

    def interrupted(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:  # a planned Ctrl-C while following
            raise KeyboardInterrupt

    code = train_auto_split(run, manifest, "v1", sleep=interrupted)
    out = " ".join(capsys.readouterr().out.split())
    [version] = service.models.values()
    assert code == 130 and "Traceback" not in out
    assert version.status == "TRAINING_IN_PROGRESS"
    assert f"customlabels model train --follow {version.arn} --bucket {BUCKET}" in out
    assert run("--follow", version.arn, "--bucket", BUCKET, "--project", "bees") == 0
    assert version.status == "TRAINING_COMPLETED"
    assert "Overall F1" in capsys.readouterr().out
    service.set_status(version.arn, "RUNNING")  # followed again later, once it was put in service: no endless wait
    assert run("--follow", version.arn, "--bucket", BUCKET, "--project", "bees") == 0
    assert "Overall F1" in capsys.readouterr().out


def test_without_a_manifest_the_projects_datasets_are_trained_as_they_are(trainer, capsys):
    """The loop's order: `dataset update` sent the reviewed lines, then `model train` trains what the datasets hold."""
    run, service, _, manifest, calls = trainer
    assert train_auto_split(run, manifest, "v1") == 0
    capsys.readouterr()
    uploads_before = sum(1 for _, op, _ in calls.made if op == "PutObject")
    assert run("--bucket", BUCKET, "--project", "bees", "--version-name", "v2") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "reused the train dataset" in out and "as it is" in out and "reused the test dataset" in out
    assert not any(
        op == "PutObject" and params["Key"].startswith("training/v2/") for _, op, params in calls.made[uploads_before:]
    ), "no manifest uploaded"
    [version] = [m for m in service.models.values() if m.version_name == "v2"]
    assert version.status == "TRAINING_COMPLETED"


def test_bad_input_is_one_error_naming_the_fix(trainer, capsys, tmp_path):
    _run, _, _, manifest, _ = trainer
    broken = tmp_path / "broken.manifest"
    broken.write_text('{"source-ref": "s3://pipeline-bucket/a.jpg", "x": 1}\n')
    base = ["model", "train", "--bucket", BUCKET]
    assert "--train-manifest" in refused(
        capsys, [*base, "--project", "bees", "--train-manifest", str(tmp_path / "none")]
    )
    message = refused(capsys, [*base, "--project", "bees", "--train-manifest", str(broken), "--auto-split"])
    assert "problem(s)" in message and "manifest validate" in message
    message = refused(capsys, [*base, "--project", "my bees", "--train-manifest", str(manifest), "--auto-split"])
    assert "--project 'my bees'" in message and "Fix: e.g. --project my-bees" in message
    message = refused(capsys, [*base, "--project", "bees", "--auto-split"])
    assert "project bees has no training dataset to train as it is" in message and "--train-manifest FILE" in message
    message = refused(capsys, [*base, "--project", "bees", "--train-manifest", str(manifest)])
    assert "has no test dataset" in message and "--auto-split" in message
    message = refused(
        capsys, ["model", "train", "--follow", "arn:aws:rekognition:nope", "--bucket", BUCKET, "--project", "b"]
    )
    assert "not a project version ARN" in message
    with pytest.raises(SystemExit) as usage:
        build_parser().parse_args(
            [*base, "--train-manifest", str(manifest), "--test-manifest", str(manifest), "--auto-split"]
        )
    assert usage.value.code == 2
    assert "not allowed with argument --test-manifest" in capsys.readouterr().err


def test_the_stack_gives_the_bucket_and_the_project_of_its_model(trainer, capsys):
    import boto3

    run, service, _, manifest, _ = trainer
    model_arn = "arn:aws:rekognition:us-east-1:123456789012:project/hives/version/hives.v0/1764000000000"
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="Bees",
        TemplateBody=json.dumps(
            {
                "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"BucketName": {"Value": BUCKET}, "ModelArn": {"Value": model_arn}},
            }
        ),
    )
    assert run("--stack", "Bees", "--train-manifest", manifest, "--auto-split", "--version-name", "v1") == 0
    out = " ".join(capsys.readouterr().out.split())
    [project] = service.projects.values()
    assert project.name == "hives" and f"s3://{BUCKET}/training/v1/train.manifest" in out
    assert "--stack Bees" in out
