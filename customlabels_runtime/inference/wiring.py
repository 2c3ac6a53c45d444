"""The clients and the runtime parameters' sources every inference function builds once per execution environment,
whichever model answers (Custom Labels' handler, the onnx backend's)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.parameters import SSMProvider
from botocore.config import Config

from customlabels_runtime.inference.logic import Settings
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.model_version_source import ModelVersionSource
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdSource
from customlabels_runtime.inference.throughput import ThroughputControl


def powertools() -> tuple[Logger, Metrics]:
    """The function's logger and metrics. A batch of only s3:TestEvents or non-images has no metrics to publish,
    and that is fine: Powertools' warning about it is silenced."""
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    return Logger(), Metrics()


def client_options(settings: Settings) -> dict[str, Any]:
    """Timeouts and a connection pool as large as the batch's threads."""
    return {"connect_timeout": 5, "read_timeout": 30, "max_pool_connections": max(10, settings.batch_workers)}


def standard_retries(settings: Settings) -> Config:
    return Config(retries={"mode": "standard", "max_attempts": 4}, **client_options(settings))


def parameter_reader(settings: Settings) -> SSMProvider:
    """Powertools' SSM provider: each parameter's value cached for the `max_age` its source asks."""
    return SSMProvider(boto3_client=boto3.client("ssm", config=standard_retries(settings)))


def reporting(logger: Any, message: str, count: Callable[[str], None]) -> Callable[[str, str], None]:
    """What a runtime parameter's source calls with a rejected value: one ERROR log with the problem, one count."""

    def rejected(problem: str, reason: str) -> None:
        logger.error(message, extra={"problem": problem, "reason": reason})
        count(reason)

    return rejected


def thresholds_source(settings: Settings, metrics: PipelineMetrics, logger: Any, ssm: SSMProvider) -> ThresholdSource:
    """The runtime thresholds from the SSM parameter; a rejected document is logged and counted, and the last valid
    thresholds stay in force."""
    return ThresholdSource(
        settings.thresholds_parameter,
        ssm.get,
        Thresholds(settings.min_confidence),
        reporting(
            logger,
            "Thresholds parameter rejected; the last valid thresholds stay in force",
            metrics.thresholds_rejected,
        ),
        max_age=settings.thresholds_max_age,
    )


def model_version_source(
    settings: Settings, metrics: PipelineMetrics, logger: Any, ssm: SSMProvider
) -> ModelVersionSource:
    """The version in service from its SSM parameter (the deploy-time MODEL_ARN until one is read); a rejected
    document is logged and counted, and the last good version keeps answering. Each version gets a throughput
    control of its own, like the first."""
    return ModelVersionSource(
        settings.model_version_parameter,
        ssm.get,
        settings.model_arn,
        reporting(
            logger,
            "Version-in-service parameter rejected; the last good version keeps answering",
            metrics.model_version_rejected,
        ),
        max_age=settings.model_version_max_age,
        new_control=lambda: ThroughputControl(scale_factor=settings.scale_factor),
    )
