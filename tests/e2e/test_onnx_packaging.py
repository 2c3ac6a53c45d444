"""`cdk synth -c backend=onnx -c onnx_model=PATH` with the pinned CLI, bundling included: the function's asset holds
the model, its spec, the runtime's onnx code and onnxruntime, numpy and Pillow built for Linux aarch64, under
Lambda's 250 MB unzipped; and the bundled handler imports and runs in a clean interpreter.

What cannot run here: the asset's onnxruntime, numpy and Pillow are aarch64 binaries and this machine is x86-64. The
clean interpreter therefore takes those three packages (the same pinned versions, checked) from this machine's x86
wheels, and everything else from the asset: the handler, the inference logic, the onnx code, Powertools, the model
and its spec. The aarch64 binaries are checked to be aarch64 ELF files, not run."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from support.lambda_asset import BOTO3_CLOSURE, invoke_with_test_event, linked, run_clean
from support.onnx_models import constant_model, save
from support.project import ROOT

pytestmark = pytest.mark.e2e

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
LAMBDA_UNZIPPED_LIMIT = 262_144_000
"""Lambda's "250 MB" deployment package limit, unzipped, in bytes (Lambda quotas: 262,144,000 bytes)."""
SPEC = {"format": "yolo-e2e", "labels": ["bee", "flower"], "input": {"resize": "stretch"}}
X86_PACKAGES = ("numpy", "numpy.libs", "onnxruntime", "PIL", "pillow.libs", "flatbuffers", "packaging", "google")
"""What the clean interpreter takes from this machine's x86-64 site-packages instead of the asset's aarch64 builds."""
EM_AARCH64 = 183


@pytest.fixture(scope="module")
def onnx_synth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    model = save(constant_model({"output0": [[[0, 0, 320, 160, 0.8, 1]]]}), folder / "bees.onnx", SPEC)
    outdir = folder / "cdk.out"
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "1", "CDK_DISABLE_VERSION_CHECK": "1"}
    command = [str(CDK_CLI), "synth", "--no-notices", "--quiet", "-c", "backend=onnx", "-c", f"onnx_model={model}"]
    run = subprocess.run(
        [*command, "--output", str(outdir)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout + run.stderr
    template = json.loads((outdir / "CustomLabelsPipeline.template.json").read_text())
    [function] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and "ONNX_MODEL" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    asset = outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"
    return function, asset, model


def size_of(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def test_the_asset_is_under_lambdas_250_mb_unzipped(onnx_synth):
    _, asset, _ = onnx_synth
    size = size_of(asset)
    print(f"onnx function asset: {size / 1e6:.1f} MB unzipped")
    assert size < LAMBDA_UNZIPPED_LIMIT


def test_the_asset_holds_the_model_its_spec_the_onnx_code_and_aarch64_binaries(onnx_synth):
    function, asset, model = onnx_synth
    assert (asset / "model" / "bees.onnx").read_bytes() == model.read_bytes()
    assert json.loads((asset / "model" / "bees.onnx.json").read_text()) == SPEC
    package = {path.relative_to(asset).as_posix() for path in (asset / "customlabels_runtime").rglob("*.py")}
    for module in ("onnx_inference/handler.py", "inference/logic.py", "onnx_model/model.py", "contract.py"):
        assert f"customlabels_runtime/{module}" in package
    assert not [name for name in package if "model_manager" in name]
    names = {path.name for path in asset.iterdir()}
    assert {"onnxruntime", "numpy", "PIL", "aws_lambda_powertools"} <= names
    assert not {"boto3", "botocore", "customlabels", "requirements.txt"} & names
    [extension] = (asset / "onnxruntime" / "capi").glob("onnxruntime_pybind11_state*.so")
    header = extension.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == EM_AARCH64
    assert function["Properties"]["Architectures"] == ["arm64"]


def test_the_bundled_handler_imports_loads_the_model_and_runs_in_a_clean_interpreter(onnx_synth, tmp_path):
    function, asset, _ = onnx_synth
    site_packages = Path(__import__("numpy").__file__).parent.parent
    for name in ("numpy", "onnxruntime", "pillow"):  # the x86 stand-ins are the asset's pinned versions
        [bundled], [here] = asset.glob(f"{name}-*.dist-info"), site_packages.glob(f"{name}-*.dist-info")
        assert bundled.name == here.name
    x86 = linked(tmp_path / "x86", (*X86_PACKAGES, *BOTO3_CLOSURE))
    then = f"""
        import aws_lambda_powertools, customlabels_runtime, onnxruntime
        from PIL import Image
        assert customlabels_runtime.__file__.startswith({str(asset)!r}), customlabels_runtime.__file__
        assert aws_lambda_powertools.__file__.startswith({str(asset)!r}), aws_lambda_powertools.__file__
        assert onnxruntime.__file__.startswith({str(x86)!r}), onnxruntime.__file__
        model = importlib.import_module(module).dependencies().own_model.model
        print(json.dumps({{"identity": model.identity.to_document(),
                           "labels": model.custom_labels(Image.new("RGB", (800, 600)), lambda label: None)}}))
    """
    script = invoke_with_test_event(function["Properties"]["Handler"], 2048, then)
    environment = {**function["Properties"]["Environment"]["Variables"], "THRESHOLDS_PARAMETER": ""}
    run = run_clean(script, [x86, asset], environment, tmp_path)
    assert run.returncode == 0, run.stderr
    batch, answer = (json.loads(line) for line in run.stdout.strip().splitlines()[-2:])
    assert batch == {"batchItemFailures": []}
    assert answer["identity"]["Uri"] == "bees.onnx" and len(answer["identity"]["Sha256"]) == 64
    assert answer["labels"] == [
        {
            "Name": "flower",
            "Confidence": 80.0,
            "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.25, "Left": 0.0, "Top": 0.0}},
        }
    ]
