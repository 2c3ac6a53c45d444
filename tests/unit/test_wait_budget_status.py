"""`customlabels model status` with a latency budget: the budget, the oldest waiting image and when the model
starts for it, or why it is late, read from the manager's state as the manager writes it."""

from datetime import timedelta

import pytest
from rich.console import Console

from customlabels.cli.model import _status_table
from customlabels.operations.model import ModelStatus, Target, wait_status
from support.aws import MODEL_ARN
from support.manager import NOW

pytestmark = pytest.mark.unit


def shown(state: dict) -> str:
    current = ModelStatus(MODEL_ARN, "STOPPED", "", 1, 1, None, None, 0.0, wait_status(state, NOW))
    console = Console(record=True, width=200)
    console.print(_status_table(current, Target(MODEL_ARN, "/state", "on-demand")))
    return " ".join(console.export_text().split())


def test_a_waiting_image_and_when_the_model_starts_for_it():
    since, due = NOW - timedelta(minutes=12), NOW + timedelta(minutes=36)
    text = shown(
        {
            "wait_budget_seconds": 3600,
            "image_seen_at": since.isoformat(),
            "waiting_key": "test_images/hive.jpg",
            "start_due_at": due.isoformat(),
            "start_seconds": [630.0],
        }
    )
    assert "Latency budget │ 60 min (max_wait_minutes)" in text
    assert "test_images/hive.jpg, waiting 12 min (since 2026-11-22 11:48:00 UTC)" in text
    assert (
        "at 2026-11-22 12:36:00 UTC, when waiting longer would make it miss the budget; a start takes 10.5 min" in text
    )


def test_a_late_image_says_why_and_no_budget_says_so():
    late = shown(
        {
            "wait_budget_seconds": 3600,
            "image_seen_at": (NOW - timedelta(minutes=70)).isoformat(),
            "late": "the model is FAILED, not startable until that ends",
        }
    )
    assert "now (it is due, or already starting); a start takes its safe default, 30 min" in late
    assert "Late │ the image waits longer than the budget: the model is FAILED" in late
    assert "none (max_wait_minutes unset" in shown({"model_status": "STOPPED"})


@pytest.mark.parametrize("garbage", [{"wait_budget_seconds": "x", "start_due_at": 5}, {"start_due_at": "soon"}])
def test_a_state_field_that_cannot_be_read_is_unknown(garbage):
    wait = wait_status(garbage, NOW)
    assert (wait.budget_minutes, wait.start_due_at, wait.waiting_since) == (None, None, None)
