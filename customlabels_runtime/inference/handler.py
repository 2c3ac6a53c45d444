"""Lambda entry point of the inference function: wiring only, the logic lives in `logic.py`."""

import os
import warnings
from functools import cache

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from customlabels_runtime.inference.logic import (
    REKOGNITION_RETRIES,
    Dependencies,
    Settings,
    handle_event,
)
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.result_publishing import result_events_from_environ
from customlabels_runtime.inference.thresholds import Thresholds, ThresholdSource
from customlabels_runtime.inference.throughput import ThroughputControl

logger = Logger()
metrics = Metrics()
# A batch of only s3:TestEvents or non-images has no metrics to publish, and that is fine.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@cache
def dependencies() -> Dependencies:
    """Clients built once per execution environment and reused by every invocation."""
    settings = Settings.from_environ(os.environ)
    # Endpoints come from boto3's own AWS_ENDPOINT_URL_<SERVICE> variables, which is how the local
    # pipeline points this same code at its emulators.
    timeouts = {"connect_timeout": 5, "read_timeout": 30, "max_pool_connections": max(10, settings.batch_workers)}
    # No botocore retries: logic.detect retries (a copy: botocore edits the dict it is given).
    rekognition_config = Config(retries=dict(REKOGNITION_RETRIES), **timeouts)
    standard_retries = Config(retries={"mode": "standard", "max_attempts": 4}, **timeouts)
    pipeline_metrics = PipelineMetrics(metrics)

    def thresholds_rejected(problem: str, reason: str) -> None:
        logger.error(
            "Thresholds parameter rejected; the last valid thresholds stay in force",
            extra={"problem": problem, "reason": reason},
        )
        pipeline_metrics.thresholds_rejected(reason)

    ssm = SSMProvider(boto3_client=boto3.client("ssm", config=standard_retries))
    return Dependencies(
        settings=settings,
        s3=boto3.client("s3", config=standard_retries),
        rekognition=boto3.client("rekognition", config=rekognition_config),
        metrics=pipeline_metrics,
        logger=logger,
        throughput=ThroughputControl(scale_factor=settings.scale_factor),
        result_events=result_events_from_environ(
            os.environ, lambda: boto3.client("events", config=standard_retries), pipeline_metrics, logger
        ),
        thresholds=ThresholdSource(
            settings.thresholds_parameter,
            ssm.get,
            Thresholds(settings.min_confidence),
            thresholds_rejected,
            max_age=settings.thresholds_max_age,
        ),
    )


if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    dependencies()  # in Lambda, pay for the clients during init rather than in the first invocation


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return handle_event(event, context, dependencies())
