"""The model manager's infrastructure (its code is customlabels_runtime/model_manager/): a function that starts
the model when work arrives, stops it when idle and gates the inference event source, its state, its triggers and
its alarms."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from customlabels.config import (
    INITIAL_MANAGER_STATE,
    MANAGER_MAX_EVENT_AGE_SECONDS,
    MANAGER_RESERVED_CONCURRENCY,
    PipelineConfig,
)
from customlabels_runtime import contract
from stacks.access import acknowledge_describe_the_model, acknowledge_project_versions, describe_the_model
from stacks.alarms import PERIOD, alarm_above, pipeline_metric
from stacks.function import PipelineFunction
from stacks.nag import COMPLIANCE, acknowledge, acknowledge_in


class ModelManager(Construct):
    """Runs every `manager_interval_minutes` and on every image upload. In every mode it may gate the inference
    event source; model grants follow the mode: `manual` never starts or stops the model, `always-on` may
    start it, `on-demand` may also stop it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        queue: sqs.IQueue,
        event_source: event_sources.SqsEventSource,
        bucket: s3.IBucket,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
        model_version: ssm.IStringParameter,
    ) -> None:
        super().__init__(scope, construct_id)
        self.state = self._build_state(removal_policy)
        self.model_version = model_version
        manager = self._build_function(config, queue, event_source, key, removal_policy)
        self.function, self.role = manager.function, manager.role
        self._grant(config, queue, event_source)
        self._build_triggers(config, bucket)
        self.alarms = self._build_alarms(config)

    def _build_state(self, removal_policy: RemovalPolicy) -> ssm.StringParameter:
        """The manager's only state, the time of the last work it saw: one small SSM parameter (free, no table to
        run), read and written by this function alone. See docs/model-lifecycle.md."""
        state = ssm.StringParameter(
            self,
            "State",
            string_value=INITIAL_MANAGER_STATE,
            description="Model manager state: last activity and model status",
        )
        state.apply_removal_policy(removal_policy)
        return state

    def _build_function(
        self,
        config: PipelineConfig,
        queue: sqs.IQueue,
        event_source: event_sources.SqsEventSource,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> PipelineFunction:
        return PipelineFunction(
            self,
            "Manager",
            folder="model_manager",
            description=f"Model manager ({config.model_lifecycle}): starts and stops the Custom Labels model",
            environment={
                **config.manager_environment(),
                "QUEUE_URL": queue.queue_url,
                "MAPPING_UUID": event_source.event_source_mapping_id,
                "STATE_PARAMETER": self.state.parameter_name,
                "MODEL_VERSION_PARAMETER": self.model_version.parameter_name,
            },
            timeout=Duration.seconds(30),
            memory_mb=256,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
            key=key,
            reserved_concurrency=MANAGER_RESERVED_CONCURRENCY,
            wildcard_needs=(
                "rekognition:DescribeProjects, which has no resource-level permissions (called once per cold start "
                "to find the project ARN of the configured model)",
            ),
        )

    def _build_triggers(self, config: PipelineConfig, bucket: s3.IBucket) -> None:
        """A schedule, and an image's upload. No retries and a short event age: a failed or throttled upload event
        is not worth replaying, the next scheduled run sees the queue anyway."""
        schedule = events.Rule(
            self,
            "Schedule",
            description="Runs the model manager on a schedule",
            schedule=events.Schedule.rate(Duration.minutes(config.manager_interval_minutes)),
            targets=[targets.LambdaFunction(self.function)],
        )
        # Only images wake the manager: results (<image>.json) are written under the same prefix by default.
        pattern = config.upload_event_pattern(bucket.bucket_name)
        on_upload = events.Rule(
            self,
            "OnUpload",
            description="Runs the model manager as soon as an image is uploaded",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            targets=[targets.LambdaFunction(self.function)],
        )
        self.function.configure_async_invoke(
            retry_attempts=0, max_event_age=Duration.seconds(MANAGER_MAX_EVENT_AGE_SECONDS)
        )
        self._acknowledge_dropped_invocations(schedule, on_upload)

    def _build_alarms(self, config: PipelineConfig) -> list[cloudwatch.Alarm]:
        """The manager failing, in every mode; on demand, a model running idle; with a budget, the spend guard; with
        a latency budget, an image waiting past it."""
        alarms = [
            alarm_above(
                self,
                "ManagerErrors",
                description=(
                    "The model manager failed (it starts, stops and gates the model; in every mode it "
                    "keeps images waiting while the model is not running). See its logs."
                ),
                metric=self.function.metric_errors(period=PERIOD, statistic="Sum"),
            )
        ]
        if config.model_lifecycle == "on-demand":
            alarms.append(
                alarm_above(
                    self,
                    "RunningWhileIdle",
                    description=(
                        f"The model has run without work for more than twice idle_minutes "
                        f"({2 * config.idle_minutes} min): the model manager is failing to stop it, "
                        "and the model is billed every hour. Check the manager's logs."
                    ),
                    metric=pipeline_metric(contract.MODEL_RUNNING_IDLE_MINUTES, "Maximum", contract.MANAGER_SERVICE),
                    threshold=2 * config.idle_minutes,
                    missing_data_breaches=True,  # a silent manager is a failing one
                )
            )
        hours = config.effective_max_model_hours_per_day
        if hours is not None:
            alarms.append(
                alarm_above(
                    self,
                    "SpendGuardPaused",
                    description=(
                        f"The model ran its daily budget of {hours} h (max_model_hours_per_day): the manager "
                        "stopped it and paused the inference event source. Images wait in the queue, none is "
                        "lost; processing goes on at 00:00 UTC, or now with `customlabels model resume`."
                    ),
                    metric=pipeline_metric(contract.SPEND_GUARD_PAUSED, "Maximum", contract.MANAGER_SERVICE),
                )
            )
        if config.max_wait_minutes is not None:
            alarms.append(self._wait_budget_alarm(config.max_wait_minutes))
        return alarms

    def _wait_budget_alarm(self, minutes: int) -> cloudwatch.Alarm:
        """The latency budget's promise broken: an image waits longer than max_wait_minutes for a stopped or
        starting model. The manager's log names it and why; so does `customlabels model status`."""
        return alarm_above(
            self,
            "WaitBudgetMissed",
            description=(
                f"An image has waited longer than max_wait_minutes ({minutes} min) for the model to start: the "
                "start took longer than the manager learned, the spend guard holds the model, or the model cannot "
                "start. `customlabels model status` names the image and why; none is lost."
            ),
            metric=pipeline_metric(contract.WAIT_BUDGET_MISSED, "Maximum", contract.MANAGER_SERVICE),
        )

    def _grant(self, config: PipelineConfig, queue: sqs.IQueue, event_source: event_sources.SqsEventSource) -> None:
        statements = [
            *describe_the_model(config),
            iam.PolicyStatement(sid="ReadQueueDepth", actions=["sqs:GetQueueAttributes"], resources=[queue.queue_arn]),
            iam.PolicyStatement(
                sid="KeepState", actions=["ssm:GetParameter", "ssm:PutParameter"], resources=[self.state.parameter_arn]
            ),
            # It manages the version in service, and clears `retiring` once it has stopped that version.
            iam.PolicyStatement(
                sid="FollowTheVersionInService",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[self.model_version.parameter_arn],
            ),
            # In every mode the manager keeps the event source disabled while the model is not RUNNING, so
            # an image waits in the queue instead of spending its receives on a stopped model.
            iam.PolicyStatement(
                sid="GateTheEventSource",
                actions=["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"],
                resources=[event_source.event_source_mapping_arn],
            ),
        ]
        statements.append(  # any version of the project: the one in service is read at runtime
            iam.PolicyStatement(
                sid="StartStopTheModel", resources=[config.project_version_arns], actions=_model_actions(config)
            )
        )
        if config.model_lifecycle == "on-demand":
            # Before starting a stopped model for waiting messages, the manager looks at them: S3's test event
            # and non-images are deleted, images are made visible again (docs/model-lifecycle.md).
            statements.append(
                iam.PolicyStatement(
                    sid="LookAtWaitingMessages",
                    resources=[queue.queue_arn],
                    actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                )
            )
            if queue.encryption_master_key is not None:
                queue.encryption_master_key.grant_decrypt(self.role)
        for statement in statements:
            self.role.add_to_principal_policy(statement)
        acknowledge_describe_the_model(self.role, config)
        acknowledge_project_versions(self.role, config)

    def _acknowledge_dropped_invocations(self, *rules: events.Rule) -> None:
        """The rule packs ask for somewhere to keep failed invocations; the manager's are worth nothing later: each
        run re-reads the model, the queue and its state, and the next scheduled run (every manager_interval_minutes)
        does what a lost one would have. A failure raises ManagerErrors."""
        why = (
            "A failed or dropped run of the model manager is not replayed on purpose (no retries, 60 s maximum event "
            "age): the next scheduled run re-reads everything and does its work; ManagerErrors reports failures."
        )
        acknowledge_in((*COMPLIANCE, "Serverless"), self.function, "LambdaDLQ", why)
        invoke_config = self.function.node.find_child("EventInvokeConfig")
        acknowledge(invoke_config, "Serverless-LambdaAsyncFailureDestination", why)
        for rule in rules:
            acknowledge(rule, "Serverless-EventBusDLQ", why)


def _model_actions(config: PipelineConfig) -> list[str]:
    """What the mode may do to the versions: stop, in every mode, a `retiring` version still running after its
    `stop_after` (an interrupted `model promote` never leaves it billed); `on-demand` and `always-on` start the
    version in service. The rules (rules.py) stop the version in service only on demand or for the spend guard."""
    start, stop = "rekognition:StartProjectVersion", "rekognition:StopProjectVersion"
    return [stop] if config.model_lifecycle == "manual" else [start, stop]
