"""S3 -> SQS notification destination for a queue encrypted with the bucket's own KMS key."""

import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct


@jsii.implements(s3.IBucketNotificationDestination)
class EncryptedQueueDestination:
    """Like `aws_s3_notifications.SqsDestination`, without the dependency cycle.

    `SqsDestination` copies the queue policy's `aws:SourceArn = <bucket ARN>` condition into the key
    policy. When the bucket is encrypted with that same key, the key then depends on the bucket and the
    bucket on the key (cfn-lint E3004). Here the queue policy keeps the bucket-ARN condition, so only this
    bucket can send, and the key policy lets S3 use the key only on behalf of this account
    (`aws:SourceAccount`), which names no resource of the stack.
    """

    def __init__(self, queue: sqs.IQueue, key: kms.IKey, account: str) -> None:
        self.queue = queue
        self.key = key
        self.account = account
        self._granted = False

    def bind(self, _scope: Construct, bucket: s3.IBucket) -> s3.BucketNotificationDestinationConfig:
        if not self._granted:  # bind runs once per notification filter; grant once
            s3_service = iam.ServicePrincipal("s3.amazonaws.com")
            self.queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowS3NotificationsFromTheImageBucket",
                    principals=[s3_service],
                    actions=["sqs:SendMessage"],
                    resources=[self.queue.queue_arn],
                    conditions={
                        "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                        "StringEquals": {"aws:SourceAccount": self.account},
                    },
                )
            )
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowS3ToEncryptNotificationsForThisAccount",
                    principals=[s3_service],
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=["*"],  # in a key policy, "*" is this key
                    conditions={"StringEquals": {"aws:SourceAccount": self.account}},
                )
            )
            self._granted = True
        return s3.BucketNotificationDestinationConfig(
            arn=self.queue.queue_arn, type=s3.BucketNotificationDestinationType.QUEUE, dependencies=[self.queue]
        )
