"""The command line's one error boundary: what went wrong in words a user can act on, never a traceback.

`explain` turns the errors that reach `main()` from AWS, the file system and the configuration into one or
two lines naming the problem and the fix; anything it does not know is a bug and keeps its traceback.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from customlabels.config import ConfigError
from customlabels_runtime.contract import error_code, error_message


class CommandError(Exception):
    """A problem the user can fix, already said in words that name it and the fix: printed as is, exit 1.

    Library code raises it (or its own typed errors) instead of `SystemExit`, so that it stays callable from
    tests and other programs; only `main()` decides how a problem ends the process."""


ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "KMS.AccessDeniedException",
        "AuthorizationError",
        "UnauthorizedOperation",
        "403",
        "Forbidden",
    }
)
"""The codes of a refusal for want of a permission ("403": S3's HEAD requests have no body to name it)."""

UPLOADER, READER, OPERATOR = "UploaderPolicyArn", "ResultReaderPolicyArn", "OperatorPolicyArn"
TRAINER = "ModelTrainerPolicyArn"
PERMISSIONS = {
    # the operation a command calls -> the IAM action it needs, and the stack outputs naming the policies granting it
    "DescribeStacks": ("cloudformation:DescribeStacks", (UPLOADER, READER, OPERATOR, TRAINER)),
    "PutObject": ("s3:PutObject", (UPLOADER, TRAINER)),
    "CreateMultipartUpload": ("s3:PutObject", (UPLOADER,)),
    "UploadPart": ("s3:PutObject", (UPLOADER,)),
    "CompleteMultipartUpload": ("s3:PutObject", (UPLOADER,)),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", (UPLOADER,)),
    "ListObjectsV2": ("s3:ListBucket", (READER,)),
    "GetObject": ("s3:GetObject", (READER,)),
    "HeadObject": ("s3:GetObject", (READER,)),
    "ReceiveMessage": ("sqs:ReceiveMessage", (READER, OPERATOR)),
    "GetQueueAttributes": ("sqs:GetQueueAttributes", (READER, OPERATOR)),
    "SendMessageBatch": ("sqs:SendMessage", (OPERATOR,)),
    "DeleteMessageBatch": ("sqs:DeleteMessage", (OPERATOR,)),
    "GetParameter": ("ssm:GetParameter", (OPERATOR,)),
    "PutParameter": ("ssm:PutParameter", (OPERATOR,)),
    "DescribeProjects": ("rekognition:DescribeProjects", (OPERATOR, TRAINER)),
    "DescribeProjectVersions": ("rekognition:DescribeProjectVersions", (OPERATOR, TRAINER)),
    "StartProjectVersion": ("rekognition:StartProjectVersion", (OPERATOR,)),
    "StopProjectVersion": ("rekognition:StopProjectVersion", (OPERATOR,)),
    "DescribeAlarms": ("cloudwatch:DescribeAlarms", (OPERATOR,)),
    "UpdateDatasetEntries": ("rekognition:UpdateDatasetEntries", (TRAINER,)),
    "DescribeDataset": ("rekognition:DescribeDataset", (TRAINER,)),
    "CreateProject": ("rekognition:CreateProject", (TRAINER,)),
    "CreateDataset": ("rekognition:CreateDataset", (TRAINER,)),
    "DistributeDatasetEntries": ("rekognition:DistributeDatasetEntries", (TRAINER,)),
    "CreateProjectVersion": ("rekognition:CreateProjectVersion", (TRAINER,)),
}
"""What each permission a command needs is called, and which of the stack's managed policies grants it
(docs/security.md); the stack prints each policy's ARN as the output named here."""


def access_denied(operation: str, code: str, message: str) -> str:
    """One line: the permission that is missing and the policy to attach."""
    action, policies = PERMISSIONS.get(operation, (operation, (UPLOADER, READER, OPERATOR)))
    if code == "KMS.AccessDeniedException" or "kms:" in message:  # the service was allowed, the key was not
        action = "the KMS key's use (kms:Decrypt / kms:GenerateDataKey through S3 or SQS)"
    if not policies:  # the training data is not the pipeline's: no policy of the stack grants it
        return (
            f"AWS refused {operation} ({code}): these credentials lack {action}. Fix: use a role allowed to "
            "change the model's datasets (docs/results-and-gallery.md, 'The feedback loop')"
        )
    attach = " or ".join(f"the policy in the stack's output {name}" for name in policies)
    return (
        f"AWS refused {operation} ({code}): these credentials lack {action}. Fix: attach {attach} "
        "(README, 'Who can do what')"
    )


CLIENT_ERROR_FIXES = {
    "UnrecognizedClientException": "the credentials are not valid: check AWS_PROFILE or `aws configure`",
    "InvalidClientTokenId": "the credentials are not valid: check AWS_PROFILE or `aws configure`",
    "ExpiredToken": "the session credentials have expired: refresh them (for SSO: aws sso login)",
    "ExpiredTokenException": "the session credentials have expired: refresh them (for SSO: aws sso login)",
    "ThrottlingException": "AWS is throttling the account's requests: try again in a minute",
    "Throttling": "AWS is throttling the account's requests: try again in a minute",
    "NoSuchBucket": "pass the pipeline's bucket (--bucket) or its stack (--stack), in the stack's region",
}


def explain(error: BaseException) -> str | None:
    """One or two lines naming the problem and the fix; None for an error that is a bug."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "No AWS credentials found. Fix: run `aws configure` (or `aws sso login`), or set AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Local runs need none: customlabels local run."
        )
    if isinstance(error, NoRegionError):
        return (
            "No AWS region set. Fix: set AWS_DEFAULT_REGION to the stack's region (e.g. export "
            "AWS_DEFAULT_REGION=eu-west-1), or `aws configure set region REGION`."
        )
    if isinstance(error, EndpointConnectionError):
        return (
            f"Could not reach {error.kwargs.get('endpoint_url', 'AWS')}. Fix: check the network and the region; "
            "for a local stack, that `customlabels local serve` still runs and the AWS_ENDPOINT_URL_* "
            "variables point at it."
        )
    if isinstance(error, ClientError):
        code, message = error_code(error), error_message(error)
        operation = getattr(error, "operation_name", "the request")
        if code in ACCESS_DENIED:
            return access_denied(operation, code, message)
        if code == "ValidationError" and "does not exist" in message:
            fix = "deploy the stack first (make deploy), or pass --stack with the name `cdk deploy` printed"
        else:
            fix = CLIENT_ERROR_FIXES.get(code, "see the message above")
        return f"AWS refused {operation}: {code}: {message}\nFix: {fix}"
    if isinstance(error, ConfigError | CommandError):
        return str(error)
    if isinstance(
        error, IsADirectoryError | NotADirectoryError | FileExistsError | FileNotFoundError | PermissionError
    ):
        return f"{error.filename}: {error.strerror}. Fix: check the path."
    if isinstance(error, UnicodeDecodeError):
        return f"not a UTF-8 text file ({error.reason}): give the JSON or manifest file itself"
    return None
