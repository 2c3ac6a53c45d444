"""`customlabels model` and `customlabels cost` as commands in processes of their own, against the emulator."""

import pytest

from support.aws import MODEL_ARN
from support.cli import customlabels

pytestmark = pytest.mark.e2e


def test_model_start_wait_status_stop_wait(emulator, clock):
    service, endpoint = emulator
    env = {"AWS_ENDPOINT_URL_REKOGNITION": endpoint}
    service.start_delay = 0  # RUNNING at the first read: the command's own wait is tested in-process below
    started = customlabels(
        "model", "start", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1", "--inference-units", "2", env=env
    )
    assert started.returncode == 0, started.stderr
    assert "billed per inference-unit hour" in started.stdout and "Model RUNNING" in started.stdout
    assert service.models[MODEL_ARN].inference_units == 2
    status = customlabels("model", "status", "--model-arn", MODEL_ARN, env=env)
    assert "RUNNING: The model is running" in status.stdout and "2 (max 2)" in status.stdout
    service.stop_project_version({"ProjectVersionArn": MODEL_ARN})
    clock.advance(service.stop_delay)
    settled = customlabels("model", "status", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1", env=env)
    assert "Model STOPPED" in settled.stdout
    service.start_delay = 30
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1})
    refused = customlabels("model", "stop", "--model-arn", MODEL_ARN, env=env)  # STARTING until the clock moves
    assert refused.returncode == 1 and "cannot be stopped while STARTING" in refused.stderr
    assert "Traceback" not in refused.stderr
    clock.advance(service.start_delay)
    assert (
        "Model RUNNING"
        in customlabels("model", "status", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1", env=env).stdout
    )
    service.stop_delay = 0
    stopped = customlabels("model", "stop", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1", env=env)
    assert stopped.returncode == 0 and "Model STOPPED" in stopped.stdout


def test_model_rejects_a_bad_arn():
    run = customlabels("model", "status", "--model-arn", "arn:aws:rekognition:eu-west-1:1:project/x")
    assert run.returncode != 0 and "is not a project version ARN" in run.stderr


def test_cost_command_prints_both_modes_and_the_saving():
    run = customlabels("cost", "--images-per-day", "5000", "--burst-hours", "2")
    assert run.returncode == 0
    assert "always-on" in run.stdout and "on-demand" in run.stdout
    assert "On demand saves 86.01 USD a day (90%)" in run.stdout


def test_cost_command_prints_unit_hours_per_1000_images_against_the_minimum_for_the_models_capacity():
    """5,000 images in 2 h on 1 unit: on demand 2.5 h -> 0.5 unit hours per 1,000 images, always on 24 h -> 4.8; the
    minimum at 8 images/s is 1,000 / 8 s = 0.035 h."""
    run = customlabels("cost", "--images-per-day", "5000", "--burst-hours", "2", "--tps-per-inference-unit", "8")
    assert run.returncode == 0
    row = next(line for line in run.stdout.splitlines() if "Unit hours / 1,000 images" in line)
    assert "4.800" in row and "0.500" in row
    assert "The minimum, 0.035 inference-unit hours per 1,000 images" in " ".join(run.stdout.split())
