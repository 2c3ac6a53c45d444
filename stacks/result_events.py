"""The result events (issue 31): the inference function's right to put them on the configured bus, the alarm on
those it could not put, and the pattern a consumer's rule starts from. Built in named steps (grant, alarm)."""

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from customlabels_runtime import contract
from customlabels_runtime.result_events import DETAIL_TYPE, SOURCE, result_event_pattern
from stacks.alarms import alarm_above, pipeline_metric


class ResultEventPublishing(Construct):
    """`events:PutEvents` on `bus_name` only, for this pipeline's source and detail type; the `ResultEventsFailed`
    alarm; `pattern`, the EventBridge pattern of every result event of `bucket_name`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, bus_name: str, role: iam.IRole, bucket_name: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus_arn = Stack.of(self).format_arn(
            service="events",
            resource="event-bus",
            resource_name=bus_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self._grant(role)
        self.alarms = [self._build_alarm()]
        self.pattern = result_event_pattern(bucket_name)

    def _grant(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AnnounceResults",
                actions=["events:PutEvents"],
                resources=[self.bus_arn],
                conditions={"StringEquals": {"events:source": SOURCE, "events:detail-type": DETAIL_TYPE}},
            )
        )

    def _build_alarm(self) -> cloudwatch.Alarm:
        return alarm_above(
            self,
            "ResultEventsFailed",
            description=(
                "The inference function wrote results whose EventBridge events it could not put, after retries "
                "(metric ResultEventsFailed): consumers of the events missed them. The results are in S3; the "
                "function's logs name each result key and the error. Two causes to check: permission "
                "(AccessDeniedException: the role may put on the result_events bus only, with source customlabels) "
                "and a missing bus (a named bus must exist, created by you: aws events create-event-bus --name N; "
                "PutEvents may accept events for a missing bus and drop them uncounted, so check it exists even "
                "without this alarm); ThrottlingException: the account's PutEvents quota."
            ),
            metric=pipeline_metric(contract.RESULT_EVENTS_FAILED),
        )
