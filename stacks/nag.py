"""cdk-nag: the rule packs the stack is checked against, and acknowledgements that each name one finding of one
resource and carry its reason (tests/integration/test_compliance.py fails on one that suppresses nothing)."""

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct

PACKS = {
    "AwsSolutions": AwsSolutionsChecks,
    "NIST.800.53.R5": NIST80053R5Checks,
    "HIPAA.Security": HIPAASecurityChecks,
    "Serverless": ServerlessChecks,
}
"""Every synthesis (`cdk synth`, `cdk deploy`, each test's) runs these packs; a finding nobody acknowledged fails it."""

COMPLIANCE = ("NIST.800.53.R5", "HIPAA.Security")
"""The two packs that share most rule names (a NIST finding and its HIPAA twin have one reason)."""


def add_rule_packs(scope: IConstruct) -> None:
    Validations.of(scope).add_plugins(*(pack(scope) for pack in PACKS.values()))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding of `scope` (and its children: the L1 resource of an L2 construct): a rule id with
    its pack's prefix (`HIPAA.Security-LambdaDLQ`), or a granular one (`AwsSolutions-IAM5[Resource::*]`)."""
    pack = finding.split("-", 1)[0]
    assert pack in PACKS, f"{finding}: not a rule of {', '.join(PACKS)}"
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{finding}", reason=reason))


def acknowledge_in(packs: tuple[str, ...], scope: IConstruct, rule: str, reason: str) -> None:
    """The same rule (`LambdaDLQ`) of several packs, for one reason."""
    for pack in packs:
        acknowledge(scope, f"{pack}-{rule}", reason)


def acknowledge_object_wildcard(scope: IConstruct, bucket: s3.IBucket, key_wildcard: str, reason: str) -> None:
    """AwsSolutions-IAM5 for `bucket`'s objects under `key_wildcard` (an object ARN has no other way to name them)."""
    bucket_id = Stack.of(scope).resolve(bucket.bucket_arn)["Fn::GetAtt"][0]
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{key_wildcard}]", reason)
