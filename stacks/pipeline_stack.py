"""The pipeline stack: wires the key, storage, queues and the inference function together."""

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from customlabels.config import PipelineConfig
from stacks.access import ClientPolicies, protect_results
from stacks.inference import InferenceFunction
from stacks.model_manager import ModelManager
from stacks.monitoring import Monitoring
from stacks.queueing import WorkQueues
from stacks.result_events import ResultEventPublishing
from stacks.retention import removal_policy
from stacks.storage import ImageStorage, acknowledge_bucket_helpers


class PipelineStack(Stack):
    """The key, the bucket and queues, the two functions, monitoring and the client policies, each a construct of
    its own wired here, and the outputs the `customlabels` commands read."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        retention = removal_policy(config.removal_policy)
        self.key = self._build_key(retention)
        self.storage = ImageStorage(self, "Storage", key=self.key, removal_policy=retention)
        self.queues = WorkQueues(
            self,
            "Queues",
            key=self.key,
            visibility_timeout=Duration.seconds(config.visibility_timeout_seconds),
            max_receive_count=config.max_receive_count,
            removal_policy=retention,
        )
        self.storage.notify(self.queues.queue, self.key, config.input_prefix, self.account)
        self._build_functions(config, retention)
        self.result_events = self._build_result_events(config)
        self.monitoring = self._build_monitoring(config)
        acknowledge_bucket_helpers(self)
        protect_results(self.storage.bucket, config, self.result_writers())
        self.client_policies = self._build_client_policies(config)
        self._output_where_things_are(config)
        self._output_functions_and_model(config)
        self._output_monitoring_and_policies()
        self._output_result_events()

    def _build_key(self, retention: RemovalPolicy) -> kms.Key:
        return kms.Key(
            self,
            "Key",
            description="Encrypts the images, results and queues of the Custom Labels pipeline",
            enable_key_rotation=True,
            pending_window=Duration.days(7 if retention == RemovalPolicy.DESTROY else 30),
            removal_policy=retention,
        )

    def _build_functions(self, config: PipelineConfig, retention: RemovalPolicy) -> None:
        """The inference function on the queue, and (Custom Labels) the model manager that gates its event source."""
        self.inference = InferenceFunction(
            self,
            "Inference",
            config=config,
            bucket=self.storage.bucket,
            queue=self.queues.queue,
            key=self.key,
            removal_policy=retention,
        )
        if config.backend == "onnx":  # no model to start or stop, no spend to guard: the event source is on
            self.model_manager = None
            return
        self.model_manager = ModelManager(
            self,
            "ModelLifecycle",  # the construct's first id, kept: its resources' logical IDs start with it
            config=config,
            queue=self.queues.queue,
            event_source=self.inference.event_source,
            bucket=self.storage.bucket,
            key=self.key,
            removal_policy=retention,
            model_version=self.inference.model_version,
        )

    def _build_result_events(self, config: PipelineConfig) -> ResultEventPublishing | None:
        """The inference function's right to announce each result on the configured bus (None: result_events=off)."""
        bus = config.result_event_bus
        if bus is None:
            return None
        return ResultEventPublishing(
            self, "ResultEvents", bus_name=bus, role=self.inference.role, bucket_name=self.storage.bucket.bucket_name
        )

    def _build_monitoring(self, config: PipelineConfig) -> Monitoring:
        return Monitoring(
            self,
            "Monitoring",
            key=self.key,
            account=self.account,
            queue=self.queues.queue,
            dead_letter_queue=self.queues.dead_letter_queue,
            inference=self.inference.function,
            extra_alarms=[
                *(self.model_manager.alarms if self.model_manager else []),
                *(self.result_events.alarms if self.result_events else []),
            ],
            alarm_email=config.alarm_email,
            max_message_age_minutes=config.oldest_image_alarm_minutes,
        )

    def _build_client_policies(self, config: PipelineConfig) -> ClientPolicies:
        return ClientPolicies(
            self,
            "ClientPolicies",
            config=config,
            bucket=self.storage.bucket,
            key=self.key,
            queue=self.queues.queue,
            dead_letter_queue=self.queues.dead_letter_queue,
            thresholds=self.inference.thresholds,
            manager_state=self.model_manager.state if self.model_manager else None,
            model_version=self.inference.model_version,
            alarm_arns=[alarm.alarm_arn for alarm in self.monitoring.alarms],
        )

    def _output_where_things_are(self, config: PipelineConfig) -> None:
        """Where images go, where results come, and the queues (what `upload`, `results` and `dlq` read)."""
        CfnOutput(
            self,
            "BucketName",
            value=self.storage.bucket.bucket_name,
            description="Upload images here, under UploadPrefix",
        )
        CfnOutput(self, "UploadPrefix", value=config.input_prefix)
        CfnOutput(self, "ResultsPrefix", value=config.effective_results_prefix)
        CfnOutput(self, "QueueUrl", value=self.queues.queue.queue_url)
        CfnOutput(
            self,
            "DeadLetterQueueUrl",
            value=self.queues.dead_letter_queue.queue_url,
            description="Images that failed every retry; see the README to redrive them",
        )

    def _output_functions_and_model(self, config: PipelineConfig) -> None:
        """The functions, the model and its manager, the thresholds (what `model` and `thresholds` read)."""
        CfnOutput(self, "FunctionName", value=self.inference.function.function_name)
        if self.model_manager is None:
            CfnOutput(self, "OnnxModel", value=config.onnx_model, description="The own model the function runs")
        else:
            self._output_model(config, self.model_manager)
        CfnOutput(
            self,
            "ThresholdsParameter",
            value=self.inference.thresholds.parameter_name,
            description="Confidence thresholds, read at runtime: customlabels thresholds show|set",
        )

    def _output_model(self, config: PipelineConfig, model_manager: ModelManager) -> None:
        CfnOutput(self, "ModelArn", value=config.model_arn)
        CfnOutput(self, "ModelLifecycleMode", value=config.model_lifecycle)
        CfnOutput(self, "ModelManagerFunctionName", value=model_manager.function.function_name)
        CfnOutput(self, "ModelManagerStateParameter", value=model_manager.state.parameter_name)
        CfnOutput(
            self,
            "ModelVersionParameter",
            value=model_manager.model_version.parameter_name,
            description="The model version in service, read at runtime: customlabels model promote|rollback|status",
        )
        CfnOutput(
            self,
            "ModelVersionDrainSeconds",
            value=str(config.version_drain_seconds),
            description="Seconds from a switch until no image can still be on the old version (then it is stopped)",
        )

    def _output_monitoring_and_policies(self) -> None:
        """The alarm topic and dashboard, and the managed policy for each kind of user."""
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.monitoring.topic.topic_arn,
            description="Subscribe to receive the pipeline's alarms (or deploy with -c alarm_email=...)",
        )
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        for name, policy, who in (
            ("UploaderPolicyArn", self.client_policies.uploader, "customlabels upload"),
            ("ResultReaderPolicyArn", self.client_policies.result_reader, "customlabels results, evaluate"),
            ("OperatorPolicyArn", self.client_policies.operator, "customlabels thresholds, model, dlq"),
        ):
            CfnOutput(self, name, value=policy.managed_policy_arn, description=f"Attach to who runs {who}")
        if self.client_policies.model_trainer is not None:
            trainer = self.client_policies.model_trainer
            CfnOutput(
                self, "ModelTrainerPolicyArn", value=trainer.managed_policy_arn, description="Attach to who trains"
            )

    def _output_result_events(self) -> None:
        """Where results are announced and the pattern that matches them all (what a consumer's rule starts from)."""
        if self.result_events is None:
            return
        CfnOutput(self, "ResultEventBusArn", value=self.result_events.bus_arn)
        CfnOutput(
            self,
            "ResultEventPattern",
            value=self.to_json_string(self.result_events.pattern),
            description="EventBridge pattern of every result event of this pipeline (docs/result-contract.md)",
        )

    def result_writers(self) -> dict[str, str]:
        """The roles allowed to write or delete result objects, each with its reason (docs/security.md)."""
        writers = {self.inference.role.role_arn: "the inference function writes each image's result"}
        auto_delete = self.node.try_find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider")
        if auto_delete is not None:  # removal_policy=destroy: the stack empties the bucket when it is deleted
            writers[auto_delete.role_arn] = "CDK's auto-delete-objects helper empties the bucket at stack deletion"
        return writers
