"""The model manager under test: its settings in each lifecycle mode, at a fixed time."""

from datetime import UTC, datetime

from customlabels_runtime.model_manager.dependencies import Settings
from support.aws import MODEL_ARN

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


SETTINGS = Settings(
    MODEL_ARN,
    "on-demand",
    idle_seconds=1800,
    min_inference_units=1,
    max_inference_units=1,
    queue_url="q",
    mapping_uuid="m",
    state_parameter="/p",
    input_prefix="test_images/",
)


def mode(lifecycle):
    return Settings(**{**SETTINGS.__dict__, "lifecycle": lifecycle})
