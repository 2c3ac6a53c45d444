"""`customlabels model` against the emulator, stack outputs from moto CloudFormation, and `customlabels cost`."""

import json
import os
import subprocess
import sys

import boto3
import pytest
from conftest import MODEL_ARN, ROOT
from moto import mock_aws

from customlabels import model
from customlabels.cost import Prices, Workload, estimate, model_hours
from customlabels.emulator.clock import ManualClock
from customlabels.emulator.rekognition import CustomLabelsService, serve


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "customlabels", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})})


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def emulator(clock):
    """The emulator on a manual clock: a model STARTING or STOPPING stays so until the test advances time."""
    service = CustomLabelsService(start_delay=30, stop_delay=10, clock=clock, sleep=clock.sleep)
    service.add_model(MODEL_ARN)
    server = serve(service)
    yield service, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.e2e
def test_model_start_wait_status_stop_wait(emulator, clock):
    service, endpoint = emulator
    env = {"AWS_ENDPOINT_URL_REKOGNITION": endpoint}
    service.start_delay = 0  # RUNNING at the first read: the command's own wait is tested in-process below
    started = run_cli("model", "start", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1",
                      "--inference-units", "2", env=env)
    assert started.returncode == 0, started.stderr
    assert "billed per inference-unit hour" in started.stdout and "Model RUNNING" in started.stdout
    assert service.models[MODEL_ARN].inference_units == 2
    status = run_cli("model", "status", "--model-arn", MODEL_ARN, env=env)
    assert "RUNNING: The model is running." in status.stdout and "2 (max 2)" in status.stdout
    service.stop_project_version({"ProjectVersionArn": MODEL_ARN})
    clock.advance(service.stop_delay)
    settled = run_cli("model", "status", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1", env=env)
    assert "Model STOPPED" in settled.stdout
    service.start_delay = 30
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1})
    refused = run_cli("model", "stop", "--model-arn", MODEL_ARN, env=env)  # STARTING until the clock moves
    assert refused.returncode == 1 and "cannot be stopped while STARTING" in refused.stderr
    assert "Traceback" not in refused.stderr
    clock.advance(service.start_delay)
    assert "Model RUNNING" in run_cli("model", "status", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1",
                                      env=env).stdout
    service.stop_delay = 0
    stopped = run_cli("model", "stop", "--model-arn", MODEL_ARN, "--wait", "--poll", "0.1", env=env)
    assert stopped.returncode == 0 and "Model STOPPED" in stopped.stdout


@pytest.mark.integration
def test_wait_polls_through_starting_until_running_on_the_clock(emulator, clock):
    """`--wait` polls every `poll` seconds of its clock and sees each state the model passes through."""
    service, endpoint = emulator
    rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1})
    seen = []
    final = model.wait_for(rekognition, MODEL_ARN, {"RUNNING"}, timeout=300, poll=10, on_status=seen.append,
                           clock=clock, sleep=clock.sleep)
    assert final == "RUNNING"
    assert seen == ["STARTING"] * 3 + ["RUNNING"]  # 30 s start delay, read at 0, 10, 20 and 30 s
    assert clock.slept == [10, 10, 10]


@pytest.mark.integration
def test_wait_gives_up_at_its_timeout_with_the_last_status(emulator, clock):
    service, endpoint = emulator
    rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 1})
    assert model.wait_for(rekognition, MODEL_ARN, {"RUNNING"}, timeout=15, poll=10, clock=clock,
                          sleep=clock.sleep) == "STARTING"
    assert clock.slept == [10, 10]


@pytest.mark.e2e
def test_model_rejects_a_bad_arn():
    run = run_cli("model", "status", "--model-arn", "arn:aws:rekognition:eu-west-1:1:project/x")
    assert run.returncode != 0 and "is not a project version ARN" in run.stderr


@pytest.mark.integration
def test_stack_outputs_name_the_model_and_the_managers_state(emulator):
    _, endpoint = emulator
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
        ssm.put_parameter(Name="/state", Type="String", Value=json.dumps({
            "model_status": "STOPPED", "model_status_since": "2026-11-22T09:00:00+00:00",
            "last_activity": "2026-11-22T08:30:00+00:00"}))
        cloudformation.create_stack(StackName="CustomLabelsPipeline", TemplateBody=json.dumps({
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"ModelArn": {"Value": MODEL_ARN}, "ModelManagerStateParameter": {"Value": "/state"},
                        "ModelLifecycleMode": {"Value": "on-demand"}}}))
        target = model.stack_target(cloudformation, "CustomLabelsPipeline")
        rekognition = boto3.client("rekognition", region_name="eu-west-1", endpoint_url=endpoint)
        current = model.status(rekognition, target, ssm)
        with pytest.raises(SystemExit, match="--stack Missing"):
            model.stack_target(cloudformation, "Missing")
    assert target == model.Target(MODEL_ARN, "/state", "on-demand")
    assert (current.status, current.since, current.last_activity) == (
        "STOPPED", "2026-11-22T09:00:00+00:00", "2026-11-22T08:30:00+00:00")


# --- cost ------------------------------------------------------------------------------------------------


@pytest.mark.unit
def test_cost_by_hand_for_5000_images_in_one_two_hour_burst():
    workload = Workload(images_per_day=5000, burst_hours=2)
    always, on_demand = estimate(workload, "always-on"), estimate(workload, "on-demand")
    assert (always.model_hours, on_demand.model_hours) == (24, 2.5)  # the burst plus 30 idle minutes
    assert (always.model, on_demand.model) == (96.0, 10.0)
    # 5000 x 0.15 s x 0.5 GB + (1440 scheduled + 5000 on-upload) x 0.1 s x 0.25 GB = 536 GB-s; 500 + 6440 requests
    assert on_demand.lambda_ == pytest.approx(536 * 0.0000133334 + 6940 * 0.2e-6)
    # 5000 sends + 1000 receives/deletes + 5 pollers x 180 polls/h x hours + 1440 depth reads
    assert on_demand.sqs == pytest.approx((5000 + 1000 + 900 * 2.5 + 1440) * 0.4e-6)
    assert always.sqs == pytest.approx((5000 + 1000 + 900 * 24 + 1440) * 0.4e-6)
    assert on_demand.s3 == pytest.approx(10_000 * 0.005 / 1000 + 15_000 * 0.0004 / 1000)


@pytest.mark.unit
def test_on_demand_never_runs_more_than_a_day_and_prices_are_parameters():
    assert model_hours(Workload(100, burst_hours=8, bursts_per_day=3), "on-demand") == 24
    cheap = estimate(Workload(100, burst_hours=1, inference_units=2), "on-demand", Prices(inference_unit_hour=1.5))
    assert cheap.model == pytest.approx(1.5 * 2 * 1.5)


@pytest.mark.e2e
def test_cost_command_prints_both_modes_and_the_saving():
    run = run_cli("cost", "--images-per-day", "5000", "--burst-hours", "2")
    assert run.returncode == 0
    assert "always-on" in run.stdout and "on-demand" in run.stdout
    assert "On demand saves 86.01 USD a day (90%)" in run.stdout
