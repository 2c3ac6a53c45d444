"""A refusal for want of a permission is said in one line: the IAM action that is missing and the stack output of
the policy to attach (customlabels/errors.py; the moto run of tests/integration/test_access.py shows it end to end)."""

import pytest
from botocore.exceptions import ClientError

from customlabels.errors import PERMISSIONS, explain

pytestmark = pytest.mark.unit


def denied(operation: str, code: str = "AccessDenied", message: str = "Access Denied") -> str:
    return explain(ClientError({"Error": {"Code": code, "Message": message}}, operation))


@pytest.mark.parametrize(
    ("operation", "action", "policy"),
    [
        ("PutObject", "s3:PutObject", "UploaderPolicyArn"),
        ("CompleteMultipartUpload", "s3:PutObject", "UploaderPolicyArn"),
        ("ListObjectsV2", "s3:ListBucket", "ResultReaderPolicyArn"),
        ("GetObject", "s3:GetObject", "ResultReaderPolicyArn"),
        ("PutParameter", "ssm:PutParameter", "OperatorPolicyArn"),
        ("StartProjectVersion", "rekognition:StartProjectVersion", "OperatorPolicyArn"),
        ("SendMessageBatch", "sqs:SendMessage", "OperatorPolicyArn"),
    ],
)
def test_the_line_names_the_action_and_the_policy(operation, action, policy):
    said = denied(operation)
    assert "\n" not in said and f"lack {action}." in said and f"output {policy}" in said


def test_an_action_two_policies_grant_names_both_and_a_head_without_body_counts():
    assert "ResultReaderPolicyArn or the policy in the stack's output OperatorPolicyArn" in denied("ReceiveMessage")
    assert "lack s3:GetObject" in denied("HeadObject", code="403", message="Forbidden")


def test_a_refused_key_is_named_as_the_key():
    said = denied("PutObject", message="User is not authorized to perform: kms:GenerateDataKey on the key")
    assert "KMS key's use" in said and "UploaderPolicyArn" in said
    assert "KMS key's use" in denied("ReceiveMessage", code="KMS.AccessDeniedException")


def test_every_permission_names_a_policy_the_stack_outputs():
    assert {name for _, policies in PERMISSIONS.values() for name in policies} == {
        "UploaderPolicyArn",
        "ResultReaderPolicyArn",
        "OperatorPolicyArn",
        "ModelTrainerPolicyArn",
    }
