"""`customlabels model promote|rollback|status` in process, against a stack in moto CloudFormation (its outputs
naming the version parameter and the drain), moto SSM and S3, and the Rekognition emulator behind HTTP: the gate on
the service's evaluation (the summary file in Rekognition's documented layout) and on a manifest both versions
answer, whose figures are `evaluate`'s on the same results."""

import json

import boto3
import pytest
from moto import mock_aws

from customlabels.cli import main
from customlabels.cli.common import console
from customlabels.datasets.manifest import read_manifest
from customlabels.lifecycle import figures
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.server import serve
from customlabels_runtime.inference.thresholds import Thresholds
from customlabels_runtime.model_version import Promotion, Retiring, VersionDocument, initial_document
from support.aws import ACCOUNT, MODEL_ARN, REGION
from support.emulator import Sees
from support.images import image_bytes

pytestmark = pytest.mark.integration

CANDIDATE = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/bees.2026-12-01/1764547200000"
OTHER = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/bees.2026-12-02/1764633600000"
STACK, PARAMETER, THRESHOLDS = "Bees", "/bees/model/version", "/bees/inference/thresholds"
IMAGES = {"test_images/a.jpg": "bee", "test_images/b.jpg": "bee", "test_images/c.jpg": "wasp"}
SUMMARY = {  # Rekognition's documented layout ("Reference: Training results summary file"), shortened
    "Version": 1,
    "AggregatedEvaluationResults": {"F1Score": 0.93, "Precision": 0.95, "Recall": 0.91},
    "EvaluationDetails": {"Labels": ["bee", "wasp"], "ProjectVersionArn": CANDIDATE},
    "LabelEvaluationResults": [
        {"Label": "bee", "Metrics": {"F1Score": 0.94, "Precision": 0.96, "Recall": 0.85, "Threshold": 0.6}},
        {"Label": "wasp", "Metrics": {"F1Score": 0.9, "Precision": 0.9, "Recall": 0.9, "Threshold": 0.5}},
    ],
}


def outputs(**values):
    return {name: {"Value": value} for name, value in values.items()}


@pytest.fixture
def deployed(clock, monkeypatch, tmp_path):
    """The version in service RUNNING (it sees a wasp in every image), a trained candidate (a bee) with its
    evaluation summary, three images and their manifest, and a stack whose outputs name it all."""
    monkeypatch.setattr(console, "width", 400)  # a table row on one line
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="ground-truth", CreateBucketConfiguration={"LocationConstraint": REGION})
        for key in IMAGES:
            s3.put_object(Bucket="ground-truth", Key=key, Body=image_bytes())
        s3.put_object(Bucket="ground-truth", Key="eval/summary.json", Body=json.dumps(SUMMARY).encode())
        service = CustomLabelsService(
            read_s3_object=lambda bucket, key, version: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
            clock=clock,
            sleep=clock.sleep,
            tps_per_inference_unit=100,  # the clock stands still: no call is throttled
        )
        service.add_model(MODEL_ARN, backend=Sees([{"Name": "wasp", "Confidence": 90.0}]), running=True)
        candidate = service.add_model(CANDIDATE, backend=Sees([{"Name": "bee", "Confidence": 90.0}]))
        candidate.evaluation_summary = ("ground-truth", "eval/summary.json")
        server = serve(service)
        monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", f"http://127.0.0.1:{server.server_address[1]}")
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name=PARAMETER, Type="String", Value=initial_document(MODEL_ARN))
        ssm.put_parameter(Name=THRESHOLDS, Type="String", Value='{"min_confidence": null, "labels": {}}')
        stack_outputs = outputs(
            ModelArn=MODEL_ARN,
            ModelVersionParameter=PARAMETER,
            ModelVersionDrainSeconds="0",
            ThresholdsParameter=THRESHOLDS,
        )
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=STACK,
            TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": stack_outputs}),
        )
        manifest = tmp_path / "gt.manifest"
        manifest.write_text(
            "".join(
                json.dumps(
                    {
                        "source-ref": f"s3://ground-truth/{key}",
                        "class": 0,
                        "class-metadata": {"class-name": label, "type": "groundtruth/image-classification"},
                    }
                )
                + "\n"
                for key, label in IMAGES.items()
            )
        )
        yield {"service": service, "ssm": ssm, "manifest": manifest}
        server.shutdown()


def in_service(ssm):
    return json.loads(ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])


def run(capsys, *args):
    code = main(["model", *args, "--stack", STACK])
    captured = capsys.readouterr()
    said = " ".join((captured.out + captured.err).split())
    assert "Traceback" not in said
    return code, said


def test_promote_on_the_services_evaluation_then_status_shows_the_version_in_service(deployed, capsys):
    code, said = run(capsys, "promote", CANDIDATE, "--gate", "f1>=0.9,bee.recall>=0.8,wasp.precision>=0.85")
    assert code == 0, said
    assert "PASS f1>=0.9: 0.9300 against 0.9000" in said
    assert "PASS bee.recall>=0.8: 0.8500 against 0.8000" in said
    assert "Both versions run, and are billed" in said
    assert f"In service: {CANDIDATE} (previous: {MODEL_ARN}" in said
    document = in_service(deployed["ssm"])
    assert (document["version_arn"], document["previous_arn"], document["retiring"]) == (CANDIDATE, MODEL_ARN, None)
    code, said = run(capsys, "status")
    assert code == 0
    assert f"Model │ {CANDIDATE}" in said  # the version in service, not the deploy-time ModelArn output
    assert f"In service │ {CANDIDATE} (since " in said and f"Previous │ {MODEL_ARN}" in said


def test_promote_takes_the_versions_name_in_the_project_of_the_version_in_service(deployed, capsys):
    code, said = run(capsys, "promote", "no-such-version")
    assert code == 1 and "project bees has no version named 'no-such-version'" in said
    assert "bees.2026-12-01" in said, "the project's versions, to choose from"
    assert in_service(deployed["ssm"])["version_arn"] == MODEL_ARN
    code, said = run(capsys, "promote", "bees.2026-12-01")
    assert code == 0, said
    assert in_service(deployed["ssm"])["version_arn"] == CANDIDATE


def test_a_gate_that_fails_exits_1_and_changes_nothing(deployed, capsys):
    code, said = run(capsys, "promote", CANDIDATE, "--gate", "bee.recall>=0.9")
    assert code == 1
    assert "FAIL bee.recall>=0.9: 0.8500 against 0.9000" in said
    assert f"The gate failed (bee.recall>=0.9). Nothing changed: {MODEL_ARN} keeps serving" in said
    assert "is being stopped" in said
    assert in_service(deployed["ssm"])["version_arn"] == MODEL_ARN


def test_the_manifest_gate_compares_both_versions_as_evaluate_does(deployed, capsys):
    code, said = run(
        capsys, "promote", CANDIDATE, "--gate", "bee.recall>=current+0.5", "--manifest", str(deployed["manifest"])
    )
    assert code == 0, said
    assert "Models compared" in said and "Which model is better" in said
    assert "PASS bee.recall>=current+0.5: 1.0000 against 0.5000" in said  # the old version finds no bee


def test_the_manifest_gates_figures_are_evaluates_on_the_same_results(deployed, capsys, tmp_path):
    """Both versions' answers written as result JSONs and scored by `customlabels evaluate --json`: the same
    figures as the gate's."""
    rekognition = boto3.client("rekognition", region_name=REGION)
    deployed["service"].set_status(CANDIDATE, "RUNNING")
    entries = read_manifest(str(deployed["manifest"]))
    versions = {"current": MODEL_ARN, "candidate": CANDIDATE}
    gate_figures = {
        name: figures.evaluation_figures(evaluation, "m")
        for name, evaluation in figures.manifest_evaluations(
            rekognition, versions, entries, Thresholds(), sleep=lambda _: None
        ).items()
    }
    for name, arn in versions.items():
        for document in figures.manifest_documents(rekognition, arn, entries, Thresholds(), sleep=lambda _: None):
            path = tmp_path / name / (document["Image"]["Key"] + ".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document))
    out = tmp_path / "comparison.json"
    argv = ["evaluate", "--manifest", str(deployed["manifest"]), "--json", str(out)]
    assert (
        main(
            [*argv, "--results", f"current={tmp_path / 'current'}", "--results", f"candidate={tmp_path / 'candidate'}"]
        )
        == 0
    )
    headline = json.loads(out.read_text())["headline"]
    for name, found in gate_figures.items():
        assert found.overall == {metric: headline[name]["summary"][metric] for metric in ("f1", "precision", "recall")}
        assert found.per_label == {
            label: {metric: values[metric] for metric in ("f1", "precision", "recall")}
            for label, values in headline[name]["per_label"].items()
        }
    assert gate_figures["candidate"].figure("bee", "recall") == 1.0


def test_rollback_goes_back_and_without_a_previous_version_is_refused(deployed, capsys):
    code, said = run(capsys, "rollback")
    assert code == 1 and "no previous version to roll back to" in said
    assert run(capsys, "promote", CANDIDATE)[0] == 0
    code, said = run(capsys, "rollback")
    assert code == 0, said
    assert in_service(deployed["ssm"])["version_arn"] == MODEL_ARN


def test_a_stack_deployed_before_model_versions_is_named_with_the_fix(deployed, capsys):
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="Old",
        TemplateBody=json.dumps(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": outputs(ModelArn=MODEL_ARN)}
        ),
    )
    code = main(["model", "promote", CANDIDATE, "--stack", "Old"])
    said = " ".join(capsys.readouterr().err.split())
    assert code == 1 and "--stack Old has no ModelVersionParameter output" in said and "Fix: cdk deploy" in said


def test_status_shows_a_promotion_under_way_and_a_version_retiring(deployed, capsys):
    document = VersionDocument(
        CANDIDATE,
        previous_arn=MODEL_ARN,
        changed_at="2026-12-02T03:00:00+00:00",
        retiring=Retiring(MODEL_ARN, "2026-12-02T03:05:00+00:00"),
        promotion=Promotion(OTHER, "gating", "2026-12-02T03:01:00+00:00"),
    )
    deployed["ssm"].put_parameter(Name=PARAMETER, Type="String", Value=document.to_json(), Overwrite=True)
    deployed["service"].add_model(OTHER)
    code, said = run(capsys, "status")
    assert code == 0, said
    assert f"Model │ {CANDIDATE}" in said and f"In service │ {CANDIDATE} (since 2026-12-02T03:00:00+00:00)" in said
    assert f"Promotion │ {OTHER}: gating since 2026-12-02T03:01:00+00:00" in said
    assert f"Retiring │ {MODEL_ARN}: answers its images in flight, stopped after 2026-12-02T03:05:00+00:00" in said
