"""The inference function, its role, its log group and its SQS event source."""

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from customlabels import own_model
from customlabels.config import PipelineConfig
from customlabels_runtime.model_version import initial_document
from stacks.access import acknowledge_project_versions
from stacks.function import PipelineFunction
from stacks.nag import COMPLIANCE, acknowledge, acknowledge_in, acknowledge_object_wildcard

DESCRIPTIONS = {
    "custom-labels": "Runs DetectCustomLabels on each uploaded image and writes <image key>.json",
    "onnx": "Runs the own ONNX model on each uploaded image and writes <image key>.json",
}


class InferenceFunction(Construct):
    """Consumes the queue in batches and writes one result JSON per image, with least-privilege grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        bucket: s3.IBucket,
        queue: sqs.IQueue,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.thresholds = self._build_thresholds(config, removal_policy)
        onnx = config.backend == "onnx"
        self.model_version = None if onnx else self._build_model_version(config, removal_policy)
        parameters = {"THRESHOLDS_PARAMETER": self.thresholds.parameter_name}
        if self.model_version is not None:
            parameters["MODEL_VERSION_PARAMETER"] = self.model_version.parameter_name
        pipeline_function = PipelineFunction(
            self,
            "Handler",
            folder="onnx_inference" if onnx else "inference",
            description=DESCRIPTIONS[config.backend],
            environment={**config.function_environment(), **parameters},
            timeout=Duration.seconds(config.function_timeout_seconds),
            memory_mb=config.effective_function_memory_mb,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
            key=key,
            bundled=own_model.bundled_files(config.onnx_model) if onnx else None,
        )
        self.function, self.role = pipeline_function.function, pipeline_function.role
        self.event_source = event_sources.SqsEventSource(
            queue,
            batch_size=config.batch_size,
            max_concurrency=config.effective_max_concurrency,
            report_batch_item_failures=True,
            # Custom Labels: in every mode the model manager enables it once the model is RUNNING; onnx: always on.
            enabled=onnx,
        )
        self.function.add_event_source(self.event_source)
        self._grant(config, bucket, key)
        self._acknowledge()

    def _build_thresholds(self, config: PipelineConfig, removal_policy: RemovalPolicy) -> ssm.StringParameter:
        """Thresholds change at runtime (`customlabels thresholds set`); CloudFormation rewrites the value only when
        min_confidence in the configuration changes."""
        thresholds = ssm.StringParameter(
            self,
            "Thresholds",
            string_value=config.initial_thresholds_document(),
            description="Confidence thresholds of the Custom Labels pipeline: "
            '{"min_confidence": null | 0-100, "labels": {"<label>": 0-100}}',
        )
        thresholds.apply_removal_policy(removal_policy)  # the operator's tuning outlives the stack
        return thresholds

    def _build_model_version(self, config: PipelineConfig, removal_policy: RemovalPolicy) -> ssm.StringParameter:
        """The version in service (customlabels_runtime/model_version.py), which `customlabels model promote`
        rewrites at runtime. CloudFormation writes the value only when the template's changes, that is when
        `model_arn` changes: a redeploy with the same configuration leaves a promoted version in service."""
        parameter = ssm.StringParameter(
            self,
            "ModelVersion",
            string_value=initial_document(config.model_arn),
            description="The Custom Labels model version in service, read at runtime: "
            '{"version_arn", "previous_arn", "changed_at", "retiring", "promotion"} (customlabels model promote)',
        )
        parameter.apply_removal_policy(removal_policy)
        return parameter

    def _acknowledge(self) -> None:
        """The rule packs' findings that do not apply to a function fed by an SQS event source."""
        acknowledge_in(
            (*COMPLIANCE, "Serverless"),
            self.function,
            "LambdaDLQ",
            "A function DLQ receives failed asynchronous invocations only; the event source invokes this function "
            "synchronously, and a message that fails every retry goes to the work queue's own DLQ (max_receive_count).",
        )
        acknowledge_in(
            COMPLIANCE,
            self.function,
            "LambdaConcurrency",
            "The event source's maximum concurrency (max_concurrency) bounds this function; reserved concurrency "
            "would also withhold that much of the account's concurrency from every other function.",
        )
        [mapping] = [child for child in self.function.node.children if isinstance(child, lambda_.EventSourceMapping)]
        acknowledge(
            mapping,
            "Serverless-LambdaEventSourceMappingDestination",
            "Lambda supports on-failure destinations for stream and Kafka event sources, not SQS: a message that fails "
            "every retry goes to the queue's DLQ (redrive policy), with its alarm and `customlabels dlq redrive`.",
        )

    def _grant_model_object(self, config: PipelineConfig) -> None:
        """An S3 model: GetObject on that object and its spec beside it, nothing else of that bucket; kms:Decrypt
        through S3 on the key that encrypts it, when one is configured. A bundled model needs nothing."""
        objects = [
            f"arn:{Aws.PARTITION}:s3:::{bucket}/{key}" for bucket, key in own_model.s3_objects(config.onnx_model)
        ]
        if not objects:
            return
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="ReadTheModelAndItsSpec", actions=["s3:GetObject"], resources=objects)
        )
        if config.onnx_model_key_arn:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="DecryptTheModelThroughS3",
                    actions=["kms:Decrypt"],
                    resources=[config.onnx_model_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}},
                )
            )

    def _grant_versions(self, config: PipelineConfig) -> None:
        """DetectCustomLabels on any version of the project (the one in service is read at runtime), and the read
        of the parameter that names it."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DetectWithTheProjectsVersions",
                actions=["rekognition:DetectCustomLabels"],
                resources=[config.project_version_arns],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadTheVersionInService",
                actions=["ssm:GetParameter"],
                resources=[self.model_version.parameter_arn],
            )
        )
        acknowledge_project_versions(self.role, config)

    def _grant(self, config: PipelineConfig, bucket: s3.IBucket, key: kms.IKey) -> None:
        inputs = bucket.arn_for_objects(f"{config.input_prefix}*")
        results = bucket.arn_for_objects(config.result_key_wildcard)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadUploadedImages", actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[inputs]
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteAndCheckResults", actions=["s3:PutObject", "s3:GetObject"], resources=[results]
            )
        )
        # Without ListBucket, S3 answers 403 instead of 404 for a missing object, and a deleted image
        # would be retried into the DLQ instead of getting its error result.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid="TellMissingObjectsApart", actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
        )
        if config.backend == "onnx":
            self._grant_model_object(config)
        else:
            self._grant_versions(config)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadThresholds", actions=["ssm:GetParameter"], resources=[self.thresholds.parameter_arn]
            )
        )
        key.grant_decrypt(self.role)
        key.grant(self.role, "kms:GenerateDataKey")
        for wildcard, reason in (
            (f"{config.input_prefix}*", "Reads are limited to the objects under the input prefix."),
            (
                config.result_key_wildcard,
                "Writes (and the already-done check) are limited to .json objects under the results prefix.",
            ),
        ):
            acknowledge_object_wildcard(
                self.role, bucket, wildcard, f"Object ARNs need a wildcard for the key. {reason}"
            )
