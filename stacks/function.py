"""A Python function of the pipeline: bundled code, arm64, JSON logs in its own log group, a role of its own."""

from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.bundling import ARCHITECTURE, RUNTIME, function_code, handler_path


class PipelineFunction(Construct):
    """`customlabels_runtime.<folder>.handler.handler`. The role has no managed policy: it may write to this log
    group only, and the owner of the construct grants the rest."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: str,
        description: str,
        environment: dict[str, str],
        timeout: Duration,
        memory_mb: int,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            removal_policy=removal_policy,
        )
        cast(logs.CfnLogGroup, self.log_group.node.default_child).retention_in_days = log_retention_days
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler_path(folder),
            code=function_code(folder),
            timeout=timeout,
            memory_size=memory_mb,
            environment=environment,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            reserved_concurrent_executions=reserved_concurrency,
            description=description,
        )
