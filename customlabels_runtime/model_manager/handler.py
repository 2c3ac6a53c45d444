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

from customlabels_runtime.model_manager.logic import (
    Clients,
    Settings,
    announced_image,
    announcement_time,
    manage,
    project_arn,
)

logger = Logger()
metrics = Metrics()


@cache
def dependencies() -> tuple[Settings, Clients, str]:
    settings = Settings.from_environ(os.environ)
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    clients = Clients(*(boto3.client(name, config=config) for name in ("rekognition", "sqs", "lambda", "ssm")))
    return settings, clients, project_arn(clients.rekognition, settings.model_arn)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    settings, clients, project = dependencies()
    now = datetime.now(UTC)
    return manage(
        settings,
        clients,
        project,
        logger,
        metrics,
        now=now,
        work_announced=announced_image(event, settings.input_prefix, settings.effective_results_prefix),
        announced_at=announcement_time(event, now),
    )
