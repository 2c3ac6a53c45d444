"""The synthesized template and CloudFormation's intrinsic functions, resolved as CloudFormation would.

`resolve` replaces `Ref`, `Fn::GetAtt` and `Fn::Join` (all that the stack's templates use) and refuses every other
intrinsic function with NotImplementedError rather than pass it through unresolved: a test that reads a value
through it never compares against an expression it did not understand. tests/unit/test_cloudformation_resolver.py
checks it against hand-worked templates.
"""

from collections.abc import Callable, Mapping
from pathlib import Path

from support.aws import ACCOUNT, MODEL_ARN, REGION
from support.project import cdk_json_context

STACK_NAME = "CustomLabelsPipeline"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/0f6c9a70-0000-4000-8000-000000000000"


def synth_context(**overrides) -> dict:
    """cdk.json's context plus a model ARN, with Lambda bundling skipped (tests/e2e/test_packaging.py bundles)."""
    return {**cdk_json_context(), "model_arn": MODEL_ARN, "aws:cdk:bundling-stacks": [], **overrides}


def synth_template(tmp_path: Path, **overrides):
    """Synthesize the app (cdk-nag included) and return the stack's `Template`."""
    from aws_cdk.assertions import Template

    from stacks.application import build_app

    app = build_app(synth_context(**overrides), outdir=str(tmp_path / "cdk.out"))
    assembly = app.synth()
    return Template.from_json(assembly.stacks[0].template)


def pseudo_parameters(stack_id: str = STACK_ID) -> dict[str, str]:
    """The pseudo parameters CloudFormation gives a stack `stack_id` in the tests' account and region."""
    return {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": stack_id,
        "AWS::StackName": stack_id.split("/")[1],
    }


PSEUDO_PARAMETERS = pseudo_parameters()


def symbolic(logical_id: str, attribute: str) -> str:
    """A resource's value by name: `<Id>` for its Ref, `<Id.Attr>` for an attribute (tests that follow references
    between resources compare these, never a hard-coded logical id)."""
    return f"<{logical_id}>" if attribute == "Ref" else f"<{logical_id}.{attribute}>"


Values = Mapping[tuple[str, str], str] | Callable[[str, str], str]
"""(logical id, "Ref" or an attribute name) -> its value: a mapping (see `concrete_values`) or a function."""


def resolve(node, values: Values = symbolic, pseudo: Mapping[str, str] = PSEUDO_PARAMETERS):
    """`node` (any part of a template) with its intrinsic functions replaced: `Ref` by `pseudo` or `values`,
    `Fn::GetAtt` by `values`, `Fn::Join` by the joined string. Any other intrinsic function, or one in a shape
    CloudFormation does not accept, raises NotImplementedError naming it; a reference without a value in `values`
    raises KeyError."""
    if isinstance(node, list):
        return [resolve(item, values, pseudo) for item in node]
    if not isinstance(node, dict):
        return node
    if not any(key == "Ref" or key.startswith("Fn::") for key in node):
        return {key: resolve(value, values, pseudo) for key, value in node.items()}
    lookup = values if callable(values) else lambda logical_id, attribute: values[logical_id, attribute]
    [(name, argument)] = node.items() if len(node) == 1 else [(None, None)]
    if name == "Ref" and isinstance(argument, str):
        if argument.startswith("AWS::") and argument not in pseudo:
            raise NotImplementedError(f"resolve() knows no pseudo parameter {argument}: add it to `pseudo`")
        return pseudo[argument] if argument in pseudo else lookup(argument, "Ref")
    if name == "Fn::GetAtt" and _strings(argument) and len(argument) == 2:
        return lookup(*argument)
    if name == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        parts = resolve(argument[1], values, pseudo)
        if _strings(parts):
            return argument[0].join(parts)
    raise NotImplementedError(f"resolve() cannot resolve {node!r}: teach it this intrinsic function")


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def concrete_values(template: dict, names: dict[str, str] | None = None) -> dict[tuple[str, str], str]:
    """(logical id, "Ref" or attribute) -> a concrete value, as CloudFormation would give it for this account and
    region; `names` sets the physical name of a resource (default: its logical id)."""
    names = names or {}
    values: dict[tuple[str, str], str] = {}
    for logical_id, resource in template["Resources"].items():
        name = names.get(logical_id, logical_id)
        kind = resource["Type"]
        arn = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
            "AWS::Lambda::EventSourceMapping": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        }.get(kind)
        if arn:
            values[logical_id, "Arn"] = arn
        values[logical_id, "Ref"] = {
            "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
            "AWS::IAM::ManagedPolicy": arn,
            "AWS::SNS::Topic": arn,
        }.get(kind, name)
        values[logical_id, "QueueName"] = name
    return values
