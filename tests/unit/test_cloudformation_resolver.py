"""support.cloudformation.resolve, the ground truth of tests/integration/test_access.py and test_wiring.py: each
intrinsic function it implements against a template worked out by hand (CloudFormation User Guide, "Intrinsic
function reference" and each resource's "Return values"), and a refusal of every one it does not implement."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.aws import ACCOUNT, REGION
from support.cloudformation import (
    PSEUDO_PARAMETERS,
    STACK_ID,
    STACK_NAME,
    concrete_values,
    pseudo_parameters,
    resolve,
    symbolic,
)

pytestmark = pytest.mark.unit

PARAMETER_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":ssm:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":parameter/t",
        ],
    ]
}
TEMPLATE = {
    "Resources": {
        "Images": {"Type": "AWS::S3::Bucket"},
        "Work": {"Type": "AWS::SQS::Queue"},
        "Alarms": {"Type": "AWS::SNS::Topic"},
        "Logs": {"Type": "AWS::Logs::LogGroup"},
        "Reader": {"Type": "AWS::IAM::Role"},
        "ReadImages": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "Reader"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Images", "Arn"]}, "/test_images/*"]]},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "sqs:ReceiveMessage",
                            "Resource": {"Fn::GetAtt": ["Work", "Arn"]},
                        },
                        {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": PARAMETER_ARN},
                    ]
                },
            },
        },
    },
    "Outputs": {
        "QueueUrl": {"Value": {"Ref": "Work"}},
        "Topic": {"Value": {"Ref": "Alarms"}},
        "Stack": {"Value": {"Fn::Join": ["/", [{"Ref": "AWS::StackName"}, {"Ref": "AWS::StackId"}]]}},
    },
}
NAMES = {"Images": "images-bucket", "Work": "work-queue", "Reader": "reader", "Alarms": "alarms", "Logs": "/l"}


def test_a_policy_resolves_to_concrete_arns_worked_out_by_hand():
    policy = resolve(TEMPLATE["Resources"]["ReadImages"]["Properties"], concrete_values(TEMPLATE, NAMES))
    assert policy == {
        "Roles": ["reader"],
        "PolicyDocument": {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::images-bucket/test_images/*"},
                {
                    "Effect": "Allow",
                    "Action": "sqs:ReceiveMessage",
                    "Resource": "arn:aws:sqs:eu-west-1:123456789012:work-queue",
                },
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": "arn:aws:ssm:eu-west-1:123456789012:parameter/t",
                },
            ]
        },
    }


def test_outputs_resolve_refs_by_each_resource_types_return_value_and_the_stacks_pseudo_parameters():
    """Ref of an SQS queue is its URL, of an SNS topic its ARN (each type's "Return values")."""
    stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Other/1234"
    outputs = resolve(TEMPLATE["Outputs"], concrete_values(TEMPLATE, NAMES), pseudo_parameters(stack_id))
    assert outputs == {
        "QueueUrl": {"Value": "https://sqs.eu-west-1.amazonaws.com/123456789012/work-queue"},
        "Topic": {"Value": "arn:aws:sns:eu-west-1:123456789012:alarms"},
        "Stack": {"Value": f"Other/{stack_id}"},
    }
    assert resolve({"Ref": "AWS::StackName"}) == STACK_NAME and resolve({"Ref": "AWS::StackId"}) == STACK_ID


def test_concrete_values_follow_cloudformations_return_values():
    values = concrete_values(TEMPLATE, NAMES)
    assert values["Images", "Ref"] == "images-bucket" and values["Images", "Arn"] == "arn:aws:s3:::images-bucket"
    assert values["Reader", "Ref"] == "reader" and values["Reader", "Arn"] == "arn:aws:iam::123456789012:role/reader"
    assert values["Logs", "Arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/l:*"  # the Arn covers its streams
    assert values["Work", "QueueName"] == "work-queue"


def test_symbolic_values_name_the_resource_and_fill_in_pseudo_parameters():
    statements = resolve(TEMPLATE["Resources"]["ReadImages"]["Properties"]["PolicyDocument"]["Statement"])
    assert [s["Resource"] for s in statements] == [
        "<Images.Arn>/test_images/*",
        "<Work.Arn>",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/t",
    ]
    assert resolve({"Ref": "Reader"}) == "<Reader>" == symbolic("Reader", "Ref")
    assert set(PSEUDO_PARAMETERS) >= {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix"}


def test_joins_nest_and_literals_pass_through():
    nested = {"Fn::Join": [":", ["a", {"Fn::Join": ["-", ["b", {"Ref": "AWS::Region"}]]}, ""]]}
    assert resolve(nested) == "a:b-eu-west-1:"
    assert resolve({"Fn::Join": [",", []]}) == ""
    assert resolve({"Count": 3, "Enabled": True, "Names": ["x", None]}) == {
        "Count": 3,
        "Enabled": True,
        "Names": ["x", None],
    }


@pytest.mark.parametrize(
    "node",
    [
        {"Fn::Sub": "arn:aws:s3:::${Images}/*"},
        {"Fn::Sub": ["${A}", {"A": "x"}]},
        {"Fn::Select": [0, ["a", "b"]]},
        {"Fn::If": ["IsProduction", "a", "b"]},
        {"Fn::ImportValue": "shared-bucket"},
        {"Fn::GetAZs": ""},
        {"Fn::Split": [",", "a,b"]},
        {"Fn::Base64": "x"},
        {"Fn::FindInMap": ["M", "K", "V"]},
        {"Fn::GetAtt": "Images.Arn"},  # the short form is YAML's; JSON templates give a list
        {"Fn::GetAtt": ["Images", "Arn", "Extra"]},
        {"Fn::Join": ["", {"Fn::Split": [",", "a,b"]}]},
        {"Fn::Join": ["", [{"Fn::Sub": "x"}]]},
        {"Fn::Join": ["", [{"Count": 1}]]},
        {"Fn::Join": [",", "not a list"]},
        {"Ref": "AWS::NoValue"},
        {"Ref": "AWS::NotificationARNs"},
        {"Ref": ["Images"]},
        {"Ref": "Images", "Extra": 1},
        {"Resource": [{"Fn::Sub": "hidden in a list"}]},
    ],
)
def test_what_it_does_not_implement_is_refused_not_passed_through(node):
    with pytest.raises(NotImplementedError, match="resolve"):
        resolve(node)


def test_a_reference_without_a_value_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="Missing"):
        resolve({"Fn::GetAtt": ["Missing", "Arn"]}, concrete_values(TEMPLATE, NAMES))


def intrinsic_free(node) -> bool:
    if isinstance(node, list):
        return all(map(intrinsic_free, node))
    if isinstance(node, dict):
        return not any(key == "Ref" or key.startswith("Fn::") for key in node) and all(
            map(intrinsic_free, node.values())
        )
    return True


FUNCTION = st.sampled_from(["Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub", "Fn::Select", "Fn::If", "Fn::Anything"])
templates = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(["x", "Images", "Arn", "AWS::Region", ""])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(FUNCTION, st.sampled_from(["Value", "Resource"])), inner, max_size=2),
    ),
    max_leaves=12,
)


@given(templates)
def test_whatever_the_shape_it_resolves_fully_or_refuses(node):
    """No input, however malformed, comes back with an intrinsic function still in it."""
    try:
        resolved = resolve(node)
    except NotImplementedError:
        return
    assert intrinsic_free(resolved), resolved
