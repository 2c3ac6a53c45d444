"""What the model manager runs with: its settings, read from the environment the stack sets, and its
dependencies, built once per execution environment by the handler (as the inference function's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Settings:
    model_arn: str
    lifecycle: str
    idle_seconds: float
    min_inference_units: int
    max_inference_units: int
    queue_url: str
    mapping_uuid: str
    state_parameter: str
    input_prefix: str = "test_images/"
    max_running_seconds_per_day: float = 0.0
    """The spend guard's budget of RUNNING seconds per UTC day; 0: none (docs/model-lifecycle.md)."""
    results_prefix: str | None = None
    """Where results go (None: beside the images); an image there is not the pipeline's to infer."""
    max_wait_seconds: float = 0.0
    """On demand, the latency budget: how long an image may wait for a stopped model; 0: none, start at once
    (docs/model-lifecycle.md, "A latency budget")."""
    interval_seconds: float = 60.0
    """The schedule's interval: with a budget, the next chance to start is one interval away."""
    version_parameter: str | None = None
    """The SSM parameter of the version in service (customlabels_runtime/model_version.py); None: `model_arn` only."""
    drain_seconds: float = 0.0
    """How long a replaced version may still answer images in flight (PipelineConfig.version_drain_seconds)."""

    @property
    def effective_results_prefix(self) -> str:
        return self.input_prefix if self.results_prefix is None else self.results_prefix

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        names = (
            "MODEL_ARN",
            "MODEL_LIFECYCLE",
            "IDLE_SECONDS",
            "MIN_INFERENCE_UNITS",
            "MAX_INFERENCE_UNITS",
            "QUEUE_URL",
            "MAPPING_UUID",
            "STATE_PARAMETER",
            "INPUT_PREFIX",
        )
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise RuntimeError(
                f"Environment variable(s) {', '.join(missing)} not set: deploy the model manager "
                "with the project's CDK stack, which sets them"
            )
        return cls(
            environ["MODEL_ARN"],
            environ["MODEL_LIFECYCLE"],
            float(environ["IDLE_SECONDS"]),
            int(environ["MIN_INFERENCE_UNITS"]),
            int(environ["MAX_INFERENCE_UNITS"]),
            environ["QUEUE_URL"],
            environ["MAPPING_UUID"],
            environ["STATE_PARAMETER"],
            environ["INPUT_PREFIX"],
            float(environ.get("MAX_RUNNING_SECONDS_PER_DAY") or 0),
            environ.get("RESULTS_PREFIX") or None,
            float(environ.get("MAX_WAIT_SECONDS") or 0),
            float(environ.get("MANAGER_INTERVAL_SECONDS") or 60),
            environ.get("MODEL_VERSION_PARAMETER") or None,
            float(environ.get("VERSION_DRAIN_SECONDS") or 0),
        )


@dataclass(frozen=True)
class Dependencies:
    """What the manager runs with, built once per execution environment by the handler (as the inference
    function's `Dependencies`): its settings, its model's project, the AWS clients it observes and acts with
    (boto3's in Lambda, moto or fakes in tests and bench/), and Powertools' logger and metrics."""

    settings: Settings
    project: str
    """The project ARN of the model (`project_arn`), which DescribeProjectVersions needs."""
    rekognition: Any
    sqs: Any
    lambda_: Any
    ssm: Any
    logger: Any
    metrics: Any
