"""cdk-nag acknowledgements: every one names its finding and carries its reason."""

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (`AwsSolutions-S1`, or a granular `AwsSolutions-IAM5[...]`)."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{finding}", reason=reason))
