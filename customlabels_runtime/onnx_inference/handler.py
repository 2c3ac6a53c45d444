"""Lambda entry point of the onnx backend's inference function: wiring only. The model is loaded and its spec
checked once per execution environment, at its start (a spec that does not fit fails the start with one log line
per problem, naming the field and the fix)."""

import dataclasses
import os
from functools import cache

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from customlabels_runtime.inference.logic import Dependencies, Settings, handle_event
from customlabels_runtime.inference.metrics import PipelineMetrics
from customlabels_runtime.inference.result_publishing import result_events_from_environ
from customlabels_runtime.inference.wiring import parameter_reader, powertools, standard_retries, thresholds_source
from customlabels_runtime.onnx_inference.answer import OwnModelAnswer
from customlabels_runtime.onnx_inference.model_source import load_model
from customlabels_runtime.onnx_model.spec import SpecError

logger, metrics = powertools()


@cache
def dependencies() -> Dependencies:
    """The model, the clients and the thresholds source, built once per execution environment."""
    settings = Settings.from_environ(os.environ)
    s3 = boto3.client("s3", config=standard_retries(settings))
    try:
        model = load_model(os.environ["ONNX_MODEL"], s3)
    except SpecError as error:
        for problem in error.problems:
            logger.error("The model cannot run: " + problem, extra={"onnx_model": os.environ["ONNX_MODEL"]})
        raise
    logger.info("Model loaded", extra={"model": model.identity.to_document(), "format": model.spec.format})
    settings = dataclasses.replace(settings, model=model.identity.to_document())
    pipeline_metrics = PipelineMetrics(metrics)
    return Dependencies(
        settings=settings,
        s3=s3,
        rekognition=None,
        metrics=pipeline_metrics,
        logger=logger,
        thresholds=thresholds_source(settings, pipeline_metrics, logger, parameter_reader(settings)),
        result_events=result_events_from_environ(
            os.environ, lambda: boto3.client("events", config=standard_retries(settings)), pipeline_metrics, logger
        ),
        own_model=OwnModelAnswer(model, s3),
    )


if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    dependencies()  # in Lambda, load the model during init rather than in the first invocation


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return handle_event(event, context, dependencies())
