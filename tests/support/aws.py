"""The account the tests pretend to be in, the model they call, and what botocore's service model says of it."""

import botocore.session

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PROJECT_ARN = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/1615479933000"
MODEL_ARN = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:project/bees/version/bees.2021-03-11T15.05.33/1615479933000"

MODEL_STATUSES = tuple(
    botocore.session.get_session().get_service_model("rekognition").shape_for("ProjectVersionStatus").enum
)
"""Every status DescribeProjectVersions may report, from botocore's service model (not a list of our own)."""


def notify_queue(s3, sqs, bucket: str, prefix: str = "test_images/") -> tuple[str, str]:
    """A work queue that `bucket` notifies of new objects under `prefix` (no suffix filter), as the pipeline's bucket
    notifies its queue; its URL and ARN."""
    queue_url = sqs.create_queue(QueueName="work")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return queue_url, queue_arn
