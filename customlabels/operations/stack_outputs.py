"""The outputs of a deployed pipeline stack: where the commands find the bucket, queues, model and parameters."""

from __future__ import annotations

from typing import Any

from customlabels.errors import CommandError
from customlabels_runtime.contract import DEFAULT_STACK_NAME, error_code, error_message


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if error_code(error) != "ValidationError":
            raise  # not a missing stack (no permission, throttling): the error boundary names it
        raise CommandError(
            f"--stack {stack_name}: {error_message(error)}. Fix: pass the name "
            f"`cdk deploy` printed (default {DEFAULT_STACK_NAME}) and the stack's region "
            "(AWS_REGION)"
        ) from None
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
