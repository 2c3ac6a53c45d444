"""Builds the CDK app: configuration from context, the stack in the model's region, cdk-nag's rule packs."""

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import Annotations, App, Environment

from customlabels.config import ConfigError, PipelineConfig
from customlabels_runtime.contract import DEFAULT_STACK_NAME
from stacks.nag import add_rule_packs
from stacks.pipeline_stack import PipelineStack


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """The App with one `PipelineStack`; `context` adds to (and in tests replaces) the CLI's context."""
    app = App(context=dict(context or {}), outdir=outdir or os.environ.get("CDK_OUTDIR", "cdk.out"))
    unknown = PipelineConfig.unknown_context_keys(set(app.node.get_all_context()), also_known={"stack_name"})
    if unknown:
        raise ConfigError("Invalid pipeline configuration:\n  - " + "\n  - ".join(unknown))
    config = PipelineConfig.from_context(app.node.try_get_context)
    stack_name = app.node.try_get_context("stack_name") or DEFAULT_STACK_NAME
    # Rekognition reads images only from a bucket in the model's own region, so the stack goes there (onnx: where
    # the CLI's credentials say, an environment-agnostic stack).
    stack = PipelineStack(
        app,
        stack_name,
        config=config,
        env=Environment(account=config.account, region=config.region),
        description="S3-triggered inference pipeline running its own ONNX model in Lambda"
        if config.backend == "onnx"
        else "S3-triggered Rekognition Custom Labels inference pipeline",
    )
    for warning in config.warnings():
        Annotations.of(stack).add_warning_v2("customlabels:config", warning)
    add_rule_packs(app)
    return app
