"""`model promote` and `model rollback` refuse wrong input before any AWS client is made: exit 1, one message naming
the mistake and the fix, no traceback (in process, through the error boundary)."""

import pytest

from support.aws import MODEL_ARN
from support.cli import refused

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["model", "promote"], "model promote needs the version to promote"),
        (["model", "rollback", MODEL_ARN], "model rollback goes back to the previous version, without a gate"),
        (["model", "rollback", "--gate", "f1>=0.9"], "--gate applies to `model promote`, not `model rollback`"),
        (["model", "status", "--train-manifest", "x"], "--train-manifest applies to `model train`, not `model status`"),
        (["model", "start", "--gate", "garbage"], "--gate applies to `model promote`, not `model start`"),
        (["model", "train", "--take-over"], "--take-over applies to `model promote|rollback`, not `model train`"),
        (["model", "promote", MODEL_ARN, "--manifest", "gt.manifest"], "--manifest is where the gate is checked"),
        (["model", "promote", MODEL_ARN, "--gate", "f1>=90"], "is not a fraction from 0 to 1; did you mean 0.9?"),
        (
            ["model", "promote", MODEL_ARN, "--gate", "accuracy>0.5"],
            "'accuracy' is not a metric (allowed: f1, precision, recall). Fix: a gate is",
        ),
        (["model", "promote", MODEL_ARN, "--gate", "f1>=0.9,"], "an empty term"),
        (["model", "promote", MODEL_ARN, "--gate", ""], "--gate '': an empty term"),  # not "no gate"
        (
            ["model", "promote", MODEL_ARN, "--version-parameter", "/v"],
            "--version-parameter needs --drain-seconds",
        ),
        (["model", "promote", MODEL_ARN, "--inference-units", "2"], "apply to `model start`, not `model promote`"),
    ],
)
def test_wrong_promotions_are_named_with_the_fix(capsys, argv, said):
    assert said in refused(capsys, argv)


def test_inspect_still_takes_its_model_file(capsys, tmp_path):
    assert "missing.onnx" in refused(capsys, ["model", "inspect", str(tmp_path / "missing.onnx")])
