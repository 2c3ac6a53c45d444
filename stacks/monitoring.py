"""Alarms to one SNS topic, and a dashboard: what an operator needs to know that nothing is being lost."""

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from customlabels_runtime import contract
from stacks.alarms import PERIOD, alarm_above, pipeline_metric
from stacks.nag import acknowledge


class Monitoring(Construct):
    """The alarm topic (with who may publish to it), the pipeline's own alarms beside `extra_alarms`, each
    notifying the topic, and the dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        account: str,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        inference: lambda_.IFunction,
        extra_alarms: list[cloudwatch.Alarm],
        alarm_email: str | None,
        max_message_age_minutes: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._build_topic(key, account)
        if alarm_email:
            self._subscribe(alarm_email)
        self.alarms = [
            *self._build_queue_alarms(queue, dead_letter_queue, max_message_age_minutes),
            *self._build_function_alarms(inference),
            *extra_alarms,
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                self._images_and_queue_row(queue, dead_letter_queue),
                self._latency_and_function_row(inference),
                self._model_and_alarms_row(),
            ],
        )

    def _build_topic(self, key: kms.IKey, account: str) -> sns.Topic:
        """A topic policy replaces SNS's default one, which is what let the account's own services publish:
        without its statement no alarm reaches the topic. Only this account's alarms, in this region."""
        topic = sns.Topic(
            self, "Alarms", display_name="Custom Labels pipeline alarms", master_key=key, enforce_ssl=True
        )
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        this_accounts_alarms = Stack.of(self).format_arn(
            service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsCloudWatchAlarmsToPublish",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": this_accounts_alarms},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            )
        )
        # CloudWatch must use the key to publish to the encrypted topic (an AWS managed key would refuse it).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishForThisAccount",
                principals=[cloudwatch_service],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        return topic

    def _subscribe(self, alarm_email: str) -> None:
        self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        acknowledge(
            self.topic.node.find_child(alarm_email),
            "Serverless-SNSRedrivePolicy",
            "An alarm SNS cannot deliver by e-mail stays in alarm in CloudWatch and on the dashboard; a queue "
            "of undelivered e-mails would have no reader.",
        )

    def _build_queue_alarms(
        self, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue, max_message_age_minutes: int
    ) -> list[cloudwatch.Alarm]:
        """Nothing lost, nothing stuck: dead letters, an old image in the queue."""
        return [
            alarm_above(
                self,
                "DeadLetters",
                description=(
                    "Images failed every retry and wait in the dead-letter queue, or messages that are not S3 "
                    "object-created events (metric QueueMessagesUnreadable) do. `customlabels dlq list` names each; "
                    "fix the cause (the function's logs name it), then: customlabels dlq redrive"
                ),
                metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
            ),
            alarm_above(
                self,
                "OldestImageWaiting",
                description=(
                    f"An image has waited more than {max_message_age_minutes} minutes in the "
                    "queue: the model may not be starting, or processing is falling behind."
                ),
                metric=queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                threshold=max_message_age_minutes * 60,
            ),
        ]

    def _build_function_alarms(self, inference: lambda_.IFunction) -> list[cloudwatch.Alarm]:
        """An image that can have no result, the function failing or throttled."""
        return [
            alarm_above(
                self,
                "FunctionErrors",
                description=(
                    "The inference function failed as a whole: an invocation raised, timed out or ran out of "
                    "memory (a bug or a bad configuration). A failed image is not this: it is reported to SQS, "
                    "retried, counted in ImagesFailed, and after max_receive_count in the DLQ. See its logs."
                ),
                metric=inference.metric_errors(period=PERIOD, statistic="Sum"),
            ),
            alarm_above(
                self,
                "ImagesThatCanHaveNoResult",
                description=(
                    "An image was uploaded under a key so long that its result key (the key and .json) is over S3's "
                    "1,024 bytes: it can never have a result, so the function skipped it (no retry, no DLQ). Its log "
                    "names the key. Upload the image again under a shorter name (customlabels upload refuses such "
                    "names)."
                ),
                metric=pipeline_metric(contract.IMAGES_FAILED, dimensions={"ErrorCode": contract.KEY_TOO_LONG}),
            ),
            alarm_above(
                self,
                "FunctionThrottles",
                description="Lambda throttled the inference function: raise the account's concurrency "
                "or lower max_concurrency.",
                metric=inference.metric_throttles(period=PERIOD, statistic="Sum"),
            ),
        ]

    @staticmethod
    def _images_and_queue_row(queue: sqs.IQueue, dead_letter_queue: sqs.IQueue) -> list[cloudwatch.IWidget]:
        return [
            cloudwatch.GraphWidget(
                title="Images",
                width=12,
                left=[pipeline_metric(contract.IMAGES_PROCESSED), pipeline_metric(contract.LABELS_DETECTED)],
                right=[pipeline_metric(contract.QUEUE_MESSAGES_UNREADABLE)],
            ),
            cloudwatch.GraphWidget(
                title="Queue",
                width=12,
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=PERIOD),
                    queue.metric_approximate_number_of_messages_not_visible(period=PERIOD),
                    dead_letter_queue.metric_approximate_number_of_messages_visible(period=PERIOD),
                ],
                right=[queue.metric_approximate_age_of_oldest_message(period=PERIOD)],
            ),
        ]

    @staticmethod
    def _latency_and_function_row(inference: lambda_.IFunction) -> list[cloudwatch.IWidget]:
        return [
            cloudwatch.GraphWidget(
                title="DetectCustomLabels: model latency and wait for a slot (ms)",
                width=12,
                # The wait is the pipeline holding itself to the model's capacity; the latency is the model.
                left=[
                    pipeline_metric(contract.DETECT_LATENCY, "p50"),
                    pipeline_metric(contract.DETECT_LATENCY, "p99"),
                    pipeline_metric(contract.SLOT_WAIT, "p50"),
                    pipeline_metric(contract.SLOT_WAIT, "p99"),
                ],
                right=[pipeline_metric(contract.CALLS_THROTTLED)],
            ),
            cloudwatch.GraphWidget(
                title="Function",
                width=12,
                left=[
                    inference.metric_invocations(period=PERIOD),
                    inference.metric_errors(period=PERIOD),
                    inference.metric_throttles(period=PERIOD),
                ],
                right=[inference.metric_duration(period=PERIOD)],
            ),
        ]

    def _model_and_alarms_row(self) -> list[cloudwatch.IWidget]:
        manager = contract.MANAGER_SERVICE
        return [
            cloudwatch.GraphWidget(
                title="Model",
                width=12,
                left=[
                    pipeline_metric(contract.MODEL_RUNNING_IDLE_MINUTES, "Maximum", manager),
                    pipeline_metric(contract.MODEL_HOURS_TODAY, "Maximum", manager),
                ],
                right=[
                    pipeline_metric(contract.MODEL_STARTS, service=manager),
                    pipeline_metric(contract.MODEL_STOPS, service=manager),
                ],
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", width=12, alarms=self.alarms),
        ]
