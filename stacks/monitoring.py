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

from customlabels.config import METRICS_NAMESPACE
from customlabels_runtime import contract
from stacks.alarms import alarm_above
from stacks.nag import acknowledge

INFERENCE_SERVICE = {"service": contract.INFERENCE_SERVICE}
MANAGER_SERVICE = {"service": contract.MANAGER_SERVICE}


class Monitoring(Construct):
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
        self.topic = sns.Topic(
            self, "Alarms", display_name="Custom Labels pipeline alarms", master_key=key, enforce_ssl=True
        )
        # A topic policy replaces SNS's default one, which is what let the account's own services publish:
        # without this statement no alarm reaches the topic. Only this account's alarms, in this region.
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        this_accounts_alarms = Stack.of(self).format_arn(
            service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsCloudWatchAlarmsToPublish",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
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
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            acknowledge(
                self.topic.node.find_child(alarm_email),
                "Serverless-SNSRedrivePolicy",
                "An alarm SNS cannot deliver by e-mail stays in alarm in CloudWatch and on the dashboard; a queue "
                "of undelivered e-mails would have no reader.",
            )

        five_minutes = Duration.minutes(5)
        self.alarms = [
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
                metric=queue.metric_approximate_age_of_oldest_message(period=five_minutes, statistic="Maximum"),
                threshold=max_message_age_minutes * 60,
            ),
            alarm_above(
                self,
                "FunctionErrors",
                description=(
                    "The inference function failed as a whole: an invocation raised, timed out or ran out of "
                    "memory (a bug or a bad configuration). A failed image is not this: it is reported to SQS, "
                    "retried, counted in ImagesFailed, and after max_receive_count in the DLQ. See its logs."
                ),
                metric=inference.metric_errors(period=five_minutes, statistic="Sum"),
            ),
            alarm_above(
                self,
                "FunctionThrottles",
                description="Lambda throttled the inference function: raise the account's concurrency "
                "or lower max_concurrency.",
                metric=inference.metric_throttles(period=five_minutes, statistic="Sum"),
            ),
            *extra_alarms,
        ]
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(self.topic))

        def pipeline_metric(name: str, statistic: str = "Sum", dimensions: dict | None = None) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                statistic=statistic,
                dimensions_map=dimensions or INFERENCE_SERVICE,
                period=five_minutes,
            )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title="Images",
                        width=12,
                        left=[pipeline_metric(contract.IMAGES_PROCESSED), pipeline_metric(contract.LABELS_DETECTED)],
                    ),
                    cloudwatch.GraphWidget(
                        title="Queue",
                        width=12,
                        left=[
                            queue.metric_approximate_number_of_messages_visible(period=five_minutes),
                            queue.metric_approximate_number_of_messages_not_visible(period=five_minutes),
                            dead_letter_queue.metric_approximate_number_of_messages_visible(period=five_minutes),
                        ],
                        right=[queue.metric_approximate_age_of_oldest_message(period=five_minutes)],
                    ),
                ],
                [
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
                            inference.metric_invocations(period=five_minutes),
                            inference.metric_errors(period=five_minutes),
                            inference.metric_throttles(period=five_minutes),
                        ],
                        right=[inference.metric_duration(period=five_minutes)],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Model",
                        width=12,
                        left=[
                            pipeline_metric(contract.MODEL_RUNNING_IDLE_MINUTES, "Maximum", MANAGER_SERVICE),
                            pipeline_metric(contract.MODEL_HOURS_TODAY, "Maximum", MANAGER_SERVICE),
                        ],
                        right=[
                            pipeline_metric(contract.MODEL_STARTS, dimensions=MANAGER_SERVICE),
                            pipeline_metric(contract.MODEL_STOPS, dimensions=MANAGER_SERVICE),
                        ],
                    ),
                    cloudwatch.AlarmStatusWidget(title="Alarms", width=12, alarms=self.alarms),
                ],
            ],
        )
