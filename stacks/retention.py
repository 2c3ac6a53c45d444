"""What happens to the pipeline's data and runtime settings when the stack is deleted: one rule for all."""

from aws_cdk import RemovalPolicy

from customlabels.config import PipelineConfig


def removal_policy(config: PipelineConfig) -> RemovalPolicy:
    """`retain` (the default) keeps images, results, queues, logs, the key and the operator's runtime
    thresholds; `destroy` is for development stacks."""
    return RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
