"""`model promote` and `model rollback` (customlabels/lifecycle/promotion.py) against moto SSM and the Rekognition
emulator behind HTTP, on the manual clock: every document the promotion writes, in order, and what each failure
leaves (nothing changed, the candidate stopped), Ctrl-C before and after the switch, and the rollback."""

import json
from dataclasses import replace
from datetime import datetime

import boto3
import pytest
from moto import mock_aws

from customlabels.errors import CommandError
from customlabels.lifecycle import promotion
from customlabels.lifecycle.gate import Figures, check_gate, parse_gate
from customlabels_runtime.model_version import Promotion, initial_document, parse_version_document
from support.aws import ACCOUNT, MODEL_ARN, REGION

pytestmark = pytest.mark.integration

CANDIDATE = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/bees.2026-12-01/1764547200000"
OTHER_PROJECT = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/wasps/version/wasps.1/1764547200000"
PARAMETER = "/customlabels/model/version"
DRAIN = 120.0


@pytest.fixture
def stage(emulator, clock):
    """The version in service RUNNING with 2 units (up to 3), a trained candidate, and the parameter naming the
    first; the promotion's clients, timing and the steps it reports."""
    service, endpoint = emulator
    service.start_project_version({"ProjectVersionArn": MODEL_ARN, "MinInferenceUnits": 2, "MaxInferenceUnits": 3})
    clock.advance(30)
    service.add_model(CANDIDATE)
    with mock_aws():
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name=PARAMETER, Type="String", Value=initial_document(MODEL_ARN))
        rekognition = boto3.client("rekognition", region_name=REGION, endpoint_url=endpoint)
        steps = []
        yield {
            "service": service,
            "ssm": ssm,
            "pipeline": promotion.Pipeline(rekognition, ssm, PARAMETER, DRAIN),
            "timing": promotion.Timing(clock=clock, sleep=clock.sleep, start_timeout=600, poll=10),
            "steps": steps,
            "on_step": steps.append,
        }


def documents(ssm):
    """Every value the parameter held, oldest first."""
    history = ssm.get_parameter_history(Name=PARAMETER)["Parameters"]
    return [json.loads(entry["Value"]) for entry in history]


def passing(candidate, current):
    return check_gate(parse_gate("f1>=0.5"), Figures("test figures", {"f1": 0.9}))


def failing(candidate, current):
    return check_gate(parse_gate("f1>=0.95,bee.recall>=0.8"), Figures("test figures", {"f1": 0.9}))


def promote(stage, candidate=CANDIDATE, **options):
    return promotion.promote(stage["pipeline"], candidate, timing=stage["timing"], on_step=stage["on_step"], **options)


def status(stage, arn):
    return stage["service"].models[arn].description()


def test_a_promotion_writes_promotion_then_the_switch_then_clears_retiring(stage, clock):
    outcome = promote(stage, gate_check=passing)
    written = documents(stage["ssm"])
    assert [d["version_arn"] for d in written] == [MODEL_ARN, MODEL_ARN, MODEL_ARN, CANDIDATE, CANDIDATE]
    assert [d["promotion"] and d["promotion"]["phase"] for d in written] == [None, "starting", "gating", None, None]
    assert written[1]["promotion"]["candidate_arn"] == CANDIDATE
    switched = written[3]
    assert switched["previous_arn"] == MODEL_ARN and switched["retiring"]["version_arn"] == MODEL_ARN
    assert written[4]["retiring"] is None and written[4]["previous_arn"] == MODEL_ARN
    parsed = parse_version_document(json.dumps(switched))
    assert parsed.retiring.stop_after > parsed.changed_at  # readable by the function's own reader
    # the candidate got the units of the version in service; the old one was stopped only after the drain
    candidate = stage["service"].models[CANDIDATE]
    assert (candidate.min_inference_units, candidate.max_inference_units) == (2, 3)
    assert status(stage, CANDIDATE)["Status"] == "RUNNING"
    old = stage["service"].models[MODEL_ARN]
    [(stopped_at, _)] = [entry for entry in old.history if entry[1] == "STOPPING"]
    assert stopped_at >= datetime.fromisoformat(switched["retiring"]["stop_after"]).timestamp()
    assert [s.name for s in stage["steps"] if s.name != "wait" and s.name != "drain"] == [
        "check",
        "record",
        "start",
        "gate",
        "switch",
        "stop",
        "done",
    ]
    assert outcome.started and outcome.verdict.passed and outcome.previous_arn == MODEL_ARN


def assert_nothing_changed(stage, written_before_failure=3):
    written = documents(stage["ssm"])
    assert all(d["version_arn"] == MODEL_ARN for d in written)
    assert written[-1]["promotion"] is None and written[-1]["retiring"] is None
    assert len(written) == written_before_failure
    assert status(stage, MODEL_ARN)["Status"] == "RUNNING"


def test_a_gate_that_fails_changes_nothing_and_stops_the_candidate(stage):
    with pytest.raises(promotion.PromotionFailedError) as failure:
        promote(stage, gate_check=failing)
    said = str(failure.value)
    assert "The gate failed (f1>=0.95; bee.recall>=0.8)" in said
    assert f"Nothing changed: {MODEL_ARN} keeps serving" in said and "is being stopped" in said
    assert_nothing_changed(stage, written_before_failure=4)  # initial, starting, gating, cleared
    assert status(stage, CANDIDATE)["Status"] == "STOPPING"


def test_a_version_that_fails_to_start_changes_nothing(stage):
    stage["service"].models[CANDIDATE].fails_to_start = True
    with pytest.raises(promotion.PromotionFailedError, match=f"{CANDIDATE} failed to start: The model failed"):
        promote(stage, gate_check=passing)
    assert_nothing_changed(stage)
    assert status(stage, CANDIDATE)["Status"] == "FAILED"


def test_a_start_the_service_refuses_changes_nothing(stage):
    stage["service"].max_inference_units_quota = 2  # the old version's 3 units are over it now
    with pytest.raises(promotion.PromotionFailedError, match=r"StartProjectVersion refused .*LimitExceededException"):
        promote(stage)
    assert_nothing_changed(stage)
    assert status(stage, CANDIDATE)["Status"] == "TRAINING_COMPLETED"


def test_a_start_that_times_out_leaves_the_candidate_to_the_model_manager_to_stop(stage):
    """A candidate still STARTING cannot be stopped: it is recorded as retiring, which the manager stops as soon as it
    is RUNNING (tests/unit/test_manager_versions.py), so no version is left billed with no one to stop it."""
    stage["service"].start_delay = 10_000
    with pytest.raises(promotion.PromotionFailedError, match="still STARTING after 600 s") as failure:
        promote(stage)
    assert "recorded as retiring, and the model manager stops it as soon as it is RUNNING" in str(failure.value)
    written = documents(stage["ssm"])
    assert all(d["version_arn"] == MODEL_ARN for d in written) and written[-1]["promotion"] is None
    assert written[-1]["retiring"]["version_arn"] == CANDIDATE
    assert status(stage, MODEL_ARN)["Status"] == "RUNNING"
    with pytest.raises(promotion.PromotionFailedError, match="was not started by this promotion"):
        promote(stage)  # promoted again while it still starts: the record that it must be stopped stays
    assert documents(stage["ssm"])[-1]["retiring"]["version_arn"] == CANDIDATE


@pytest.mark.parametrize(
    ("candidate", "setup", "expected"),
    [
        (OTHER_PROJECT, None, "is a version of project 'wasps'"),
        (MODEL_ARN, None, "already the version in service"),
        (CANDIDATE, "EXPIRED", "cannot be promoted while EXPIRED: it has expired"),
        (CANDIDATE, "FAILED", "cannot be promoted while FAILED: its last start failed"),
        ("arn:aws:rekognition:eu-west-1:1:project/x", None, "is not a project version ARN"),
    ],
)
def test_a_candidate_that_cannot_serve_is_refused_before_anything_is_written(stage, candidate, setup, expected):
    if setup:
        stage["service"].set_status(CANDIDATE, setup)
    with pytest.raises(CommandError, match=expected):
        promote(stage, candidate)
    assert len(documents(stage["ssm"])) == 1


def test_ctrl_c_before_the_switch_changes_nothing(stage):
    def interrupted(candidate, current):
        raise KeyboardInterrupt

    with pytest.raises(promotion.PromotionInterruptedError) as interruption:
        promote(stage, gate_check=interrupted)
    assert not interruption.value.switched and "nothing changed" in str(interruption.value)
    assert_nothing_changed(stage, written_before_failure=4)
    assert status(stage, CANDIDATE)["Status"] == "STOPPING"


def test_ctrl_c_after_the_switch_keeps_it_and_leaves_the_old_version_to_the_manager(stage):
    def on_step(step):
        if step.name == "drain":
            raise KeyboardInterrupt

    with pytest.raises(promotion.PromotionInterruptedError) as interruption:
        promotion.promote(stage["pipeline"], CANDIDATE, timing=stage["timing"], on_step=on_step)
    assert interruption.value.switched and "the model manager stops it at" in str(interruption.value)
    last = documents(stage["ssm"])[-1]
    assert last["version_arn"] == CANDIDATE and last["retiring"]["version_arn"] == MODEL_ARN
    assert status(stage, MODEL_ARN)["Status"] == "RUNNING"  # still answering the images it took


def test_a_promotion_under_way_is_refused_unless_taken_over(stage):
    killed = parse_version_document(initial_document(MODEL_ARN))
    killed = replace(killed, promotion=Promotion(CANDIDATE, "starting", "2026-12-02T03:00:00+00:00"))
    stage["ssm"].put_parameter(Name=PARAMETER, Type="String", Value=killed.to_json(), Overwrite=True)
    with pytest.raises(CommandError, match=r"under way since 2026-12-02T03:00:00.*give --take-over"):
        promote(stage)
    promote(stage, take_over=True)
    assert documents(stage["ssm"])[-1]["version_arn"] == CANDIDATE


def test_taking_over_stops_the_killed_promotions_candidate_it_left_running(stage):
    """A promotion killed (kill -9) after its candidate started leaves it RUNNING, billed, known only to the record:
    the promotion that takes over stops it; while it still starts, the take-over is refused, saying when to retry."""
    orphan = CANDIDATE.replace("bees.2026-12-01/1764547200000", "bees.2026-11-30/1764460800000")
    stage["service"].add_model(orphan)
    stage["service"].start_project_version({"ProjectVersionArn": orphan, "MinInferenceUnits": 1})
    killed = parse_version_document(initial_document(MODEL_ARN))
    killed = replace(killed, promotion=Promotion(orphan, "starting", "2026-12-02T03:00:00+00:00"))
    stage["ssm"].put_parameter(Name=PARAMETER, Type="String", Value=killed.to_json(), Overwrite=True)
    stage["service"].models[orphan].settle("STARTING", None, 0.0)
    with pytest.raises(CommandError, match=r"is STARTING and cannot be stopped yet.*--take-over again"):
        promote(stage, take_over=True)
    stage["service"].set_status(orphan, "RUNNING")
    promote(stage, take_over=True)
    assert documents(stage["ssm"])[-1]["version_arn"] == CANDIDATE
    assert status(stage, orphan)["Status"] in ("STOPPING", "STOPPED")


def _interrupt_at(name):
    def on_step(step):
        if step.name == name:
            raise KeyboardInterrupt

    return on_step


def test_rollback_goes_back_to_the_previous_version_the_same_way(stage):
    promote(stage)
    promotion.rollback(stage["pipeline"], timing=stage["timing"], on_step=stage["on_step"])
    last = documents(stage["ssm"])[-1]
    assert (last["version_arn"], last["previous_arn"], last["retiring"]) == (MODEL_ARN, CANDIDATE, None)
    assert status(stage, MODEL_ARN)["Status"] == "RUNNING"
    assert status(stage, CANDIDATE)["Status"] == "STOPPING"


def test_rollback_during_the_drain_brings_back_the_retiring_version_without_a_start(stage):
    with pytest.raises(promotion.PromotionInterruptedError):
        promotion.promote(stage["pipeline"], CANDIDATE, timing=stage["timing"], on_step=_interrupt_at("drain"))
    outcome = promotion.rollback(stage["pipeline"], timing=stage["timing"], on_step=stage["on_step"])
    assert not outcome.started  # it never stopped
    last = documents(stage["ssm"])[-1]
    assert (last["version_arn"], last["previous_arn"]) == (MODEL_ARN, CANDIDATE)


def test_rollback_without_a_previous_version_is_refused(stage):
    with pytest.raises(CommandError, match="no previous version to roll back to"):
        promotion.rollback(stage["pipeline"], timing=stage["timing"])
    assert len(documents(stage["ssm"])) == 1


def test_an_old_version_the_manager_stopped_during_the_drain_is_not_stopped_again(stage):
    def on_step(step):
        stage["steps"].append(step)
        if step.name == "drain":
            stage["service"].set_status(MODEL_ARN, "STOPPED")  # the manager, at stop_after

    promotion.promote(stage["pipeline"], CANDIDATE, timing=stage["timing"], on_step=on_step)
    [stop] = [step for step in stage["steps"] if step.name == "stop"]
    assert "is STOPPED: nothing to stop" in stop.message
    assert documents(stage["ssm"])[-1]["retiring"] is None


def test_ctrl_c_as_the_switch_is_announced_keeps_the_switch(stage):
    """The switch is written, then announced: a Ctrl-C in between is after the switch (found on the local stack)."""
    with pytest.raises(promotion.PromotionInterruptedError) as interruption:
        promotion.promote(stage["pipeline"], CANDIDATE, timing=stage["timing"], on_step=_interrupt_at("switch"))
    assert interruption.value.switched and "the model manager stops it at" in str(interruption.value)
    assert documents(stage["ssm"])[-1]["retiring"]["version_arn"] == MODEL_ARN
