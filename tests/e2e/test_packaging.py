"""The pinned CDK CLI synthesizes through cdk.json, and the bundled asset runs with nothing but boto3 beside it."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from customlabels.config import PipelineConfig
from support.aws import MODEL_ARN
from support.lambda_asset import BOTO3_CLOSURE, invoke_with_test_event, linked, run_clean
from support.project import ROOT

pytestmark = pytest.mark.e2e


CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"


@pytest.fixture(scope="module")
def cli_synth(tmp_path_factory):
    """`cdk synth` with the project's pinned CLI, exactly as `make synth` runs it (bundling included)."""
    assert CDK_CLI.exists(), "the pinned CDK CLI is missing: run `make install` (make test does)"
    outdir = tmp_path_factory.mktemp("cli") / "cdk.out"
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "1", "CDK_DISABLE_VERSION_CHECK": "1"}
    run = subprocess.run(
        [
            str(CDK_CLI),
            "synth",
            "--no-notices",
            "--quiet",
            "-c",
            f"model_arn={MODEL_ARN}",
            "-c",
            "min_confidence=90",
            "--output",
            str(outdir),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return outdir


def inference_function(outdir: Path) -> dict:
    template = json.loads((outdir / "CustomLabelsPipeline.template.json").read_text())
    [function] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and "THRESHOLDS_PARAMETER" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    return function


def inference_asset(outdir: Path) -> Path:
    asset_hash = inference_function(outdir)["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    return outdir / f"asset.{asset_hash}"


def test_cli_synth_reads_cdk_json_and_the_context_overrides(cli_synth):
    template = json.loads((cli_synth / "CustomLabelsPipeline.template.json").read_text())
    variables = [
        r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and "THRESHOLDS_PARAMETER" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert variables[0]["MIN_CONFIDENCE"] == "90.0"
    assert variables[0]["MODEL_ARN"] == MODEL_ARN


def test_asset_holds_the_handler_and_its_dependencies_but_not_boto3(cli_synth):
    asset = inference_asset(cli_synth)
    names = {path.name for path in asset.iterdir()}
    assert {"customlabels_runtime", "aws_lambda_powertools"} <= names
    assert not {"boto3", "botocore", "customlabels", "requirements.txt", "__pycache__"} & names
    package = {path.relative_to(asset).as_posix() for path in (asset / "customlabels_runtime").rglob("*")}
    assert {
        "customlabels_runtime/__init__.py",
        "customlabels_runtime/contract.py",
        "customlabels_runtime/inference/handler.py",
        "customlabels_runtime/inference/logic.py",
        "customlabels_runtime/inference/result_publishing.py",
        "customlabels_runtime/result_events.py",
        "customlabels_runtime/schemas/__init__.py",
        "customlabels_runtime/schemas/result.schema.json",
        "customlabels_runtime/schemas/event.schema.json",
    } <= package
    assert not [name for name in package if "model_manager" in name or name.endswith(("requirements.txt", ".pyc"))]
    assert inference_function(cli_synth)["Properties"]["Handler"] == "customlabels_runtime.inference.handler.handler"


def test_handler_imports_and_runs_from_the_asset_in_a_clean_interpreter(cli_synth, tmp_path):
    asset = inference_asset(cli_synth)
    boto3_only = linked(tmp_path / "boto3-only", BOTO3_CLOSURE)
    checks = f"""
        import aws_lambda_powertools, customlabels_runtime
        assert customlabels_runtime.__file__.startswith({str(asset)!r}), customlabels_runtime.__file__
        assert aws_lambda_powertools.__file__.startswith({str(asset)!r}), aws_lambda_powertools.__file__
        from customlabels_runtime.schemas import schema  # the published schemas travel with the function
        assert schema("result")["$id"] and schema("event")["$id"]
    """
    script = invoke_with_test_event(inference_function(cli_synth)["Properties"]["Handler"], 512, checks)
    # Only the asset and boto3 on the path (the Lambda runtime's task root and its own boto3).
    environment = PipelineConfig(model_arn=MODEL_ARN).function_environment()
    run = run_clean(script, [asset, boto3_only], environment, tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"batchItemFailures": []}
