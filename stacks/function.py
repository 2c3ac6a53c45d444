"""A Python function of the pipeline: bundled code, arm64, JSON logs in its own log group encrypted with the
pipeline's key, X-Ray tracing, a role of its own."""

from collections.abc import Mapping
from pathlib import Path
from typing import cast

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.bundling import ARCHITECTURE, RUNTIME, function_code, handler_path
from stacks.nag import COMPLIANCE, acknowledge, acknowledge_in

XRAY_WRITE = (
    "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have no resource-level permissions"
)


class PipelineFunction(Construct):
    """`customlabels_runtime.<folder>.handler.handler`. The role has no managed policy: it may write to this log
    group and send traces, and the owner of the construct grants the rest. `wildcard_needs`: why else its role needs
    `Resource: *` (cdk-nag's AwsSolutions-IAM5 is acknowledged once per role, with every reason); `bundled`: more
    files for its asset, by their path there (the onnx backend's model)."""

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
        key: kms.IKey,
        reserved_concurrency: int | None = None,
        wildcard_needs: tuple[str, ...] = (),
        bundled: Mapping[str, Path] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._log_group(folder, key, log_retention_days, removal_policy)
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
            code=function_code(folder, bundled),
            timeout=timeout,
            memory_size=memory_mb,
            environment=environment,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            description=description,
        )
        self._acknowledge(wildcard_needs)

    def _log_group(self, folder: str, key: kms.IKey, retention_days: int, removal_policy: RemovalPolicy) -> None:
        """The logs hold image keys and error texts: encrypted with the pipeline's key, which lets CloudWatch Logs
        use it for this log group only (CloudWatch Logs docs, "Encrypt log data in CloudWatch Logs using AWS KMS":
        the `kms:EncryptionContext:aws:logs:arn` condition). The name is fixed, from the stack's, so that the key
        policy can name the log group without depending on it (the log group already depends on the key)."""
        stack = Stack.of(self)
        name = f"/customlabels/{stack.stack_name}/{folder.replace('_', '-')}"
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=name, encryption_key=key, removal_policy=removal_policy
        )
        cast(logs.CfnLogGroup, self.log_group.node.default_child).retention_in_days = retention_days
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AllowCloudWatchLogsToEncrypt{folder.title().replace('_', '')}Logs",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=name,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def _acknowledge(self, wildcard_needs: tuple[str, ...]) -> None:
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Resource * is needed by " + "; and by ".join((XRAY_WRITE, *wildcard_needs)) + ".",
        )
        acknowledge_in(
            COMPLIANCE,
            self.role,
            "IAMNoInlinePolicy",
            "CDK writes this role's grants as a policy attached to this one role (its DefaultPolicy), each statement "
            "scoped to the pipeline's resources; a managed policy could be attached to other principals as well.",
        )
        acknowledge_in(
            COMPLIANCE,
            self.function,
            "LambdaInsideVPC",
            "The function calls only AWS APIs (S3, SQS, SSM, Rekognition, Lambda) over TLS with IAM: a VPC would add "
            "NAT or interface endpoints to pay for, and no network path to protect.",
        )
