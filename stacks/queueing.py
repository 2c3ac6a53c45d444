"""The work queue S3 notifies, and its dead-letter queue."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from customlabels.config import DLQ_RETENTION_DAYS, QUEUE_RETENTION_DAYS
from stacks.nag import acknowledge


class WorkQueues(Construct):
    """KMS-encrypted, TLS-only queue and DLQ; the visibility timeout follows the function timeout."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        visibility_timeout: Duration,
        max_receive_count: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(DLQ_RETENTION_DAYS),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.dead_letter_queue,
            "Serverless-SQSRedrivePolicy",
            "This is the work queue's dead-letter queue, the last stop: kept 14 days, alarmed (DeadLetters) and "
            "sent back by `customlabels dlq redrive`; nothing consumes it that could fail.",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(QUEUE_RETENTION_DAYS),
            visibility_timeout=visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=self.dead_letter_queue),
            removal_policy=removal_policy,
        )
