"""What happens to the pipeline's data and runtime settings when the stack is deleted: one rule for all."""

from aws_cdk import RemovalPolicy


def removal_policy(setting: str) -> RemovalPolicy:
    """`retain` (the default) keeps images, results, queues, logs, the key and the operator's runtime
    thresholds; `destroy` is for development stacks. The stack maps the setting once and hands the policy on."""
    return RemovalPolicy.DESTROY if setting == "destroy" else RemovalPolicy.RETAIN
