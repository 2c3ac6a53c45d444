"""Lambda entry point of the inference function: wiring only, the logic lives in `logic.py`."""

import os
from functools import cache

import boto3
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
from customlabels_runtime.inference.throughput import ThroughputControl
from customlabels_runtime.inference.wiring import (
    client_options,
    model_version_source,
    parameter_reader,
    powertools,
    standard_retries,
    thresholds_source,
)

logger, metrics = powertools()


@cache
def dependencies() -> Dependencies:
    """Clients built once per execution environment and reused by every invocation."""
    settings = Settings.from_environ(os.environ)
    # Endpoints come from boto3's own AWS_ENDPOINT_URL_<SERVICE> variables, which is how the local
    # pipeline points this same code at its emulators.
    # No botocore retries: logic.detect retries (a copy: botocore edits the dict it is given).
    rekognition_config = Config(retries=dict(REKOGNITION_RETRIES), **client_options(settings))
    pipeline_metrics = PipelineMetrics(metrics)
    parameters = parameter_reader(settings)
    return Dependencies(
        settings=settings,
        s3=boto3.client("s3", config=standard_retries(settings)),
        rekognition=boto3.client("rekognition", config=rekognition_config),
        metrics=pipeline_metrics,
        logger=logger,
        throughput=ThroughputControl(scale_factor=settings.scale_factor),
        result_events=result_events_from_environ(
            os.environ, lambda: boto3.client("events", config=standard_retries(settings)), pipeline_metrics, logger
        ),
        thresholds=thresholds_source(settings, pipeline_metrics, logger, parameters),
        model_version=model_version_source(settings, pipeline_metrics, logger, parameters),
    )


if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    dependencies()  # in Lambda, pay for the clients during init rather than in the first invocation


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return handle_event(event, context, dependencies())
