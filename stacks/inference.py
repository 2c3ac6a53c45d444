"""The inference function, its role, its log group and its SQS event source."""

from pathlib import Path
from typing import cast

from aws_cdk import BundlingOptions, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from customlabels.config import RESULT_SUFFIX, PipelineConfig
from stacks.bundling import PipInstallBundling
from stacks.nag import acknowledge

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "lambdas" / "inference"
RUNTIME = lambda_.Runtime.PYTHON_3_14
RUNTIME_PYTHON_VERSION = "3.14"


class InferenceFunction(Construct):
    """Consumes the queue in batches and writes one result JSON per image, with least-privilege grants."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, bucket: s3.IBucket,
                 queue: sqs.IQueue, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs",
            removal_policy=RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN,
        )
        cast(logs.CfnLogGroup, self.log_group.node.default_child).retention_in_days = config.log_retention_days

        # A role of our own instead of AWSLambdaBasicExecutionRole: logs go to this one log group only.
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description="Inference function of the Custom Labels pipeline")
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self, "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="app.handler",
            code=lambda_.Code.from_asset(
                str(FUNCTION_DIR),
                exclude=["__pycache__", "*.pyc"],
                bundling=BundlingOptions(
                    image=RUNTIME.bundling_image,
                    local=PipInstallBundling(FUNCTION_DIR, RUNTIME_PYTHON_VERSION),
                ),
            ),
            timeout=Duration.seconds(config.function_timeout_seconds),
            memory_size=config.function_memory_mb,
            environment=config.function_environment(),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            description="Runs DetectCustomLabels on each uploaded image and writes <image key>.json",
        )
        self.function.add_event_source(event_sources.SqsEventSource(
            queue,
            batch_size=config.batch_size,
            max_concurrency=config.max_concurrency,
            report_batch_item_failures=True,
        ))
        self._grant(config, bucket, key)

    def _grant(self, config: PipelineConfig, bucket: s3.IBucket, key: kms.IKey) -> None:
        inputs = bucket.arn_for_objects(f"{config.input_prefix}*")
        results = bucket.arn_for_objects(f"{config.effective_results_prefix}*{RESULT_SUFFIX}")
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="ReadUploadedImages", actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[inputs]))
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="WriteAndCheckResults", actions=["s3:PutObject", "s3:GetObject"], resources=[results]))
        # Without ListBucket, S3 answers 403 instead of 404 for a missing object, and a deleted image
        # would be retried into the DLQ instead of getting its error result.
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="TellMissingObjectsApart", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        self.role.add_to_principal_policy(iam.PolicyStatement(
            sid="DetectWithTheConfiguredModel", actions=["rekognition:DetectCustomLabels"],
            resources=[config.model_arn]))
        key.grant_decrypt(self.role)
        key.grant(self.role, "kms:GenerateDataKey")
        bucket_logical_id = Stack.of(self).resolve(bucket.bucket_arn)["Fn::GetAtt"][0]
        for pattern, reason in (
            (f"{config.input_prefix}*", "Reads are limited to the objects under the input prefix."),
            (f"{config.effective_results_prefix}*{RESULT_SUFFIX}",
             "Writes (and the already-done check) are limited to .json objects under the results prefix."),
        ):
            acknowledge(self.role, f"AwsSolutions-IAM5[Resource::<{bucket_logical_id}.Arn>/{pattern}]",
                        f"Object ARNs need a wildcard for the key. {reason}")
