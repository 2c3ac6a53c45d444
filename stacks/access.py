"""Who may do what to the pipeline: result objects kept for the inference function alone, and the ready managed
policies for the people and programs around it (docs/security.md)."""

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IConstruct

from customlabels.config import PipelineConfig
from customlabels_runtime.contract import TRAINING_PREFIX
from stacks.nag import acknowledge, acknowledge_object_wildcard

RESULT_WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
    "s3:RestoreObject",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
)
"""Everything that writes, overwrites, re-tags or deletes an object or one of its versions (PutObject also
covers CopyObject and multipart uploads)."""


def describe_the_model(config: PipelineConfig) -> list[iam.PolicyStatement]:
    """What the manager and the operator's commands need to read the model's status: DescribeProjectVersions on
    its project, and DescribeProjects (no resource-level permissions) to find the project's ARN."""
    return [
        iam.PolicyStatement(
            sid="DescribeTheModel",
            actions=["rekognition:DescribeProjectVersions"],
            resources=[config.project_versions_arn],
        ),
        iam.PolicyStatement(sid="FindTheProject", actions=["rekognition:DescribeProjects"], resources=["*"]),
    ]


def acknowledge_describe_the_model(scope: IConstruct, config: PipelineConfig) -> None:
    """The wildcard of `describe_the_model`'s project ARN (its `Resource: *` is acknowledged with the role's)."""
    acknowledge(
        scope,
        f"AwsSolutions-IAM5[Resource::{config.project_versions_arn}]",
        "DescribeProjectVersions is granted on the one project; its ARN ends in the project's creation "
        "timestamp, which the model version ARN does not contain.",
    )


def acknowledge_project_versions(scope: IConstruct, config: PipelineConfig) -> None:
    """The wildcard of the project's version ARNs (`config.project_version_arns`)."""
    acknowledge(
        scope,
        f"AwsSolutions-IAM5[Resource::{config.project_version_arns}]",
        "Granted on the versions of the one project: versions are trained after the deploy and put in service at "
        "runtime (customlabels model promote), so their ARNs cannot be listed in the template.",
    )


def protect_results(bucket: s3.Bucket, config: PipelineConfig, writers: dict[str, str]) -> None:
    """Deny writing, tagging or deleting result objects, every version, to every principal but `writers` (role
    ARN -> why it needs it). Object actions only: administrators can still change or delete the bucket policy."""
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyTheInferenceFunctionWritesResults",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=list(RESULT_WRITE_ACTIONS),
            resources=[bucket.arn_for_objects(config.result_key_wildcard)],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": list(writers)}},
        )
    )


class ClientPolicies(Construct):
    """Three managed policies, one per kind of user of the pipeline; each `customlabels` command works with its
    own (README, "Who can do what")."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        bucket: s3.IBucket,
        key: kms.IKey,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        thresholds: ssm.IStringParameter,
        manager_state: ssm.IStringParameter | None,
        alarm_arns: list[str],
        model_version: ssm.IStringParameter | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._model_version = model_version
        self._key = key
        self._read_outputs = iam.PolicyStatement(
            sid="ReadTheStacksOutputs", actions=["cloudformation:DescribeStacks"], resources=[Stack.of(self).stack_id]
        )
        self.uploader = self._build_uploader(config, bucket)
        self.result_reader = self._build_result_reader(config, bucket, dead_letter_queue)
        self.operator = self._build_operator(
            config, bucket, queue, dead_letter_queue, thresholds, manager_state, alarm_arns
        )
        self._acknowledge(config, bucket)
        self.model_trainer = None if config.backend == "onnx" else self._build_model_trainer(config, bucket)

    def _via(self, service: str, actions: list[str], sid: str) -> iam.PolicyStatement:
        """Use of the pipeline's key through `service` only (SSE-KMS objects, encrypted queues)."""
        region = Stack.of(self).region
        return iam.PolicyStatement(
            sid=sid,
            actions=actions,
            resources=[self._key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
        )

    def _build_uploader(self, config: PipelineConfig, bucket: s3.IBucket) -> iam.ManagedPolicy:
        images = [bucket.arn_for_objects(wildcard) for wildcard in config.image_key_wildcards]
        return iam.ManagedPolicy(
            self,
            "Uploader",
            description="customlabels upload: put images under the input prefix, nothing else",
            statements=[
                self._read_outputs,
                iam.PolicyStatement(
                    sid="UploadImages", actions=["s3:PutObject", "s3:AbortMultipartUpload"], resources=images
                ),
                # SSE-KMS: a PUT needs a data key, a multipart upload also decrypts it; only through S3.
                self._via("s3", ["kms:GenerateDataKey", "kms:Decrypt"], "EncryptUploadsThroughS3"),
            ],
        )

    def _build_result_reader(
        self, config: PipelineConfig, bucket: s3.IBucket, dead_letter_queue: sqs.IQueue
    ) -> iam.ManagedPolicy:
        results = bucket.arn_for_objects(config.result_key_wildcard)
        return iam.ManagedPolicy(
            self,
            "ResultReader",
            description="customlabels results/evaluate: list the images and read their results",
            statements=[
                self._read_outputs,
                iam.PolicyStatement(
                    sid="ListImagesAndResults", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
                ),
                iam.PolicyStatement(sid="ReadResults", actions=["s3:GetObject"], resources=[results]),
                # `results` tells "in the dead-letter queue" from "pending" by peeking at the DLQ.
                iam.PolicyStatement(
                    sid="PeekAtDeadLetters",
                    actions=["sqs:ReceiveMessage", "sqs:GetQueueAttributes"],
                    resources=[dead_letter_queue.queue_arn],
                ),
                self._via("s3", ["kms:Decrypt"], "DecryptResultsThroughS3"),
                self._via("sqs", ["kms:Decrypt"], "DecryptDeadLettersThroughSqs"),
            ],
        )

    def _build_operator(
        self,
        config: PipelineConfig,
        bucket: s3.IBucket,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        thresholds: ssm.IStringParameter,
        manager_state: ssm.IStringParameter | None,
        alarm_arns: list[str],
    ) -> iam.ManagedPolicy:
        model = (
            []
            if manager_state is None
            else [*self._start_and_stop_the_model(config, manager_state), *self._check_the_gate(config, bucket)]
        )
        return iam.ManagedPolicy(
            self,
            "Operator",
            description="customlabels thresholds/model/dlq: tune thresholds, start and stop the model, redrive, alarms",
            statements=[
                self._read_outputs,
                iam.PolicyStatement(
                    sid="ShowAndSetThresholds",
                    actions=["ssm:GetParameter", "ssm:PutParameter"],
                    resources=[thresholds.parameter_arn],
                ),
                *model,
                iam.PolicyStatement(
                    sid="ListAndRedriveDeadLetters",
                    actions=[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    resources=[dead_letter_queue.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="SendRedrivenMessagesBack", actions=["sqs:SendMessage"], resources=[queue.queue_arn]
                ),
                self._via("sqs", ["kms:Decrypt", "kms:GenerateDataKey"], "UseTheQueuesKeyThroughSqs"),
                iam.PolicyStatement(sid="ReadTheAlarms", actions=["cloudwatch:DescribeAlarms"], resources=alarm_arns),
            ],
        )

    def _start_and_stop_the_model(self, config: PipelineConfig, manager_state: ssm.IStringParameter) -> list:
        """Custom Labels: the versions' status, start and stop, the version in service, and the manager's record."""
        return [
            # `model status` shows the manager's record; `model resume` restarts the spend guard's count.
            iam.PolicyStatement(
                sid="ReadAndResumeTheManager",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[manager_state.parameter_arn],
            ),
            # `model start|stop|promote|rollback`: any version of the project (promote starts the new one).
            iam.PolicyStatement(
                sid="StartAndStopTheModel",
                actions=["rekognition:StartProjectVersion", "rekognition:StopProjectVersion"],
                resources=[config.project_version_arns],
            ),
            # `model status` shows the version in service; `model promote|rollback` switch it.
            iam.PolicyStatement(
                sid="ShowAndSwitchTheVersionInService",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[self._model_version.parameter_arn],
            ),
            *describe_the_model(config),
        ]

    @staticmethod
    def _training_and_image_wildcards(config: PipelineConfig) -> tuple[str, ...]:
        """The keys training and the promotion gate read: the manifests, output and summaries under training/, and
        the images under the input prefix."""
        return (f"{TRAINING_PREFIX}*", *config.image_key_wildcards)

    def _check_the_gate(self, config: PipelineConfig, bucket: s3.IBucket) -> list:
        """`model promote --gate`: the service's evaluation summary (training writes it under training/), and with
        --manifest both versions' answers to its images (DetectCustomLabels reads an S3 image with the caller's
        permissions: the images under the input prefix, the key through S3)."""
        return [
            iam.PolicyStatement(
                sid="CheckTheGateOnTheVersions",
                actions=["rekognition:DetectCustomLabels"],
                resources=[config.project_version_arns],
            ),
            iam.PolicyStatement(
                sid="ReadTheGatesFigures",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(wildcard) for wildcard in self._training_and_image_wildcards(config)],
            ),
            self._via("s3", ["kms:Decrypt"], "DecryptTheGatesFiguresThroughS3"),
        ]

    def _build_model_trainer(self, config: PipelineConfig, bucket: s3.IBucket) -> iam.ManagedPolicy:
        """`customlabels model train`: the project's datasets and versions, and what training reads and writes with
        the caller's permissions ("Set up SDK permissions": Rekognition no longer needs its own access to the
        bucket). It reads the manifests and the images they name (under the input prefix, or training/), writes its
        output under training/ (CreateProjectVersion: "You need s3:PutObject permission on the bucket") and, the
        bucket being SSE-KMS, uses the key through S3 ("Step 5: Encrypt training files": kms:GenerateDataKey,
        kms:Decrypt). No KmsKeyId is passed, so the copies are encrypted with a key AWS owns (no kms:CreateGrant)."""
        training = bucket.arn_for_objects(f"{TRAINING_PREFIX}*")
        images = [bucket.arn_for_objects(wildcard) for wildcard in config.image_key_wildcards]
        policy = iam.ManagedPolicy(
            self,
            "ModelTrainer",
            description="customlabels model train: the project's datasets and versions, manifests under training/",
            statements=[
                self._read_outputs,
                iam.PolicyStatement(
                    sid="TrainVersionsOfTheProject",
                    actions=[
                        "rekognition:CreateProject",
                        "rekognition:CreateDataset",
                        "rekognition:DescribeDataset",
                        "rekognition:UpdateDatasetEntries",
                        "rekognition:DistributeDatasetEntries",
                        "rekognition:CreateProjectVersion",
                        "rekognition:DescribeProjectVersions",
                    ],
                    resources=[config.project_versions_arn],  # the project, its datasets and its versions
                ),
                iam.PolicyStatement(sid="FindTheProject", actions=["rekognition:DescribeProjects"], resources=["*"]),
                iam.PolicyStatement(
                    sid="UploadManifestsAndWriteTheTrainingOutput",
                    actions=["s3:PutObject", "s3:GetObject"],
                    resources=[training],
                ),
                iam.PolicyStatement(sid="ReadTheTrainingImages", actions=["s3:GetObject"], resources=images),
                self._via("s3", ["kms:GenerateDataKey", "kms:Decrypt"], "UseTheBucketsKeyThroughS3"),
            ],
        )
        self._acknowledge_model_trainer(policy, config, bucket)
        return policy

    @staticmethod
    def _acknowledge_model_trainer(policy: iam.ManagedPolicy, config: PipelineConfig, bucket: s3.IBucket) -> None:
        """The trainer policy's wildcards, each with why it is there."""
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{config.project_versions_arn}]",
            "Granted on the one project: its datasets and versions are named under it, with creation timestamps "
            "no configuration knows beforehand.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "rekognition:DescribeProjects has no resource-level permissions; `model train` calls it to find the "
            "project and its datasets.",
        )
        for wildcard in ClientPolicies._training_and_image_wildcards(config):
            acknowledge_object_wildcard(
                policy,
                bucket,
                wildcard,
                "Object ARNs need a wildcard for the key: the manifests and training output under training/, the "
                "images the manifests name under the input prefix.",
            )

    def _acknowledge(self, config: PipelineConfig, bucket: s3.IBucket) -> None:
        """Each wildcard of the three policies, with why it is there."""
        for wildcard in config.image_key_wildcards:
            acknowledge_object_wildcard(
                self.uploader,
                bucket,
                wildcard,
                "Object ARNs need a wildcard for the key: images under the input prefix, by suffix.",
            )
        acknowledge_object_wildcard(
            self.result_reader,
            bucket,
            config.result_key_wildcard,
            "Object ARNs need a wildcard for the key: result JSONs under the results prefix only.",
        )
        if config.backend == "onnx":
            return
        acknowledge_describe_the_model(self.operator, config)
        acknowledge_project_versions(self.operator, config)
        for wildcard in ClientPolicies._training_and_image_wildcards(config):
            acknowledge_object_wildcard(
                self.operator,
                bucket,
                wildcard,
                "Object ARNs need a wildcard for the key: model promote's gate reads the evaluation summaries under "
                "training/ and, with --manifest, the images under the input prefix the versions answer.",
            )
        acknowledge(
            self.operator,
            "AwsSolutions-IAM5[Resource::*]",
            "rekognition:DescribeProjects has no resource-level permissions; the commands call it to find "
            "the project ARN of the configured model.",
        )
