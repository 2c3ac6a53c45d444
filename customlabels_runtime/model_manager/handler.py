"""Lambda entry point of the model manager: wiring only, the logic lives in `logic.py`.

Invoked every `manager_interval_minutes` by a schedule and by EventBridge when an image is uploaded under the
input prefix (the stack's rule matches image keys only; `announced_image` checks the key again).
"""

import os
from datetime import UTC, datetime
from functools import cache

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.messages import announced_image, announced_key, announcement_time
from customlabels_runtime.model_manager.observe import project_arn

logger = Logger()
metrics = Metrics()


@cache
def dependencies() -> Dependencies:
    """Clients built once per execution environment and reused by every invocation."""
    settings = Settings.from_environ(os.environ)
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    rekognition, sqs, lambda_, ssm = (
        boto3.client(name, config=config) for name in ("rekognition", "sqs", "lambda", "ssm")
    )
    return Dependencies(
        settings=settings,
        project=project_arn(rekognition, settings.model_arn),
        rekognition=rekognition,
        sqs=sqs,
        lambda_=lambda_,
        ssm=ssm,
        logger=logger,
        metrics=metrics,
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    deps = dependencies()
    settings = deps.settings
    now = datetime.now(UTC)
    return manage(
        deps,
        now=now,
        work_announced=announced_image(event, settings.input_prefix, settings.effective_results_prefix),
        announced_at=announcement_time(event, now),
        announced_key=announced_key(event, settings.input_prefix, settings.effective_results_prefix),
    )
