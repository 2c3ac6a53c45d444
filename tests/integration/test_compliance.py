"""cdk-nag (AwsSolutions, NIST 800-53 R5, HIPAA Security, Serverless) and cfn-lint on the synthesized template in
every lifecycle variant, the acknowledgements (each with its reason, none stale, none blanket), and the KMS dependency
cycle we avoid."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs

from stacks.application import build_app
from stacks.nag import PACKS, acknowledge
from stacks.notifications import EncryptedQueueDestination
from support.cloudformation import synth_context
from support.project import ROOT

pytestmark = pytest.mark.integration


VARIANTS = {
    "defaults": {},
    "development": {"removal_policy": "destroy", "results_prefix": "results/", "min_confidence": "80"},
    "tuned": {
        "input_prefix": "uploads/",
        "batch_size": "1",
        "max_concurrency": "100",
        "max_receive_count": "10",
        "model_lifecycle": "always-on",
        "max_inference_units": "3",
        "alarm_email": "ops@example.com",
    },
    "manual": {"model_lifecycle": "manual", "idle_minutes": "5"},
    "onnx": {  # the own model from S3 (a bundled one: tests/integration/test_onnx_stack.py)
        "backend": "onnx",
        "model_arn": "",
        "onnx_model": "s3://my-models/bees/v2/bees.onnx",
        "onnx_model_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    },
}


def synthesize(outdir: Path, **overrides):
    app = build_app(synth_context(**overrides), outdir=str(outdir))
    return app, app.synth()


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_rule_pack_runs_and_finds_nothing_unacknowledged(tmp_path, variant):
    synthesize(tmp_path, **VARIANTS[variant])  # a finding interrupts synthesis with ValidationFailed
    reports = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert sorted(r["pluginName"] for r in reports) == sorted(PACKS)
    assert {r["pluginName"]: r["violations"] for r in reports if r["violations"]} == {}


def test_cdk_nag_is_live_and_catches_a_violation_of_every_pack(tmp_path):
    app = build_app(synth_context(), outdir=str(tmp_path))
    [stack] = [child for child in app.node.children if isinstance(child, Stack)]
    sqs.Queue(stack, "UnencryptedQueueWithoutDlq", encryption=sqs.QueueEncryption.UNENCRYPTED)
    logs.LogGroup(stack, "PlainLogGroup")
    lambda_.Function(
        stack,
        "UntracedFunction",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    reports = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    found = {v["ruleName"] for report in reports for v in report["violations"]}
    assert found >= {
        "AwsSolutions-SQS3",
        "AwsSolutions-SQS4",
        "NIST.800.53.R5-CloudWatchLogGroupEncrypted",
        "HIPAA.Security-CloudWatchLogGroupEncrypted",
        "Serverless-SQSRedrivePolicy",
        "Serverless-LambdaTracing",
    }


def test_every_acknowledgement_carries_its_reason(tmp_path):
    app, _ = synthesize(tmp_path, removal_policy="destroy")
    acknowledgements = [
        entry.data
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    assert acknowledgements, "the stack acknowledges a few findings; none were found"
    for data in acknowledgements:
        for rule_id, reason in data.items():
            pack, _, finding = rule_id.partition("::")
            assert pack in PACKS and finding.startswith(f"{pack}-"), rule_id
            assert len(reason) > 30, rule_id


def registered_acknowledgements(app) -> set[tuple[str, str]]:
    """(construct path, rule id) of every acknowledgement, from the metadata `Validations.acknowledge` records."""
    return {
        (construct.node.path, rule_id)
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule_id in entry.data
    }


def used_acknowledgements(outdir: Path) -> set[tuple[str, str]]:
    """(construct path, rule id) of the acknowledgements that suppressed a finding, from the validation report
    CDK writes next to the assembly (each suppressed violation names the acknowledgement that matched it)."""
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    return {
        (violation["acknowledgedAt"], violation["acknowledgedId"])
        for report in reports
        for violation in report.get("suppressedViolations", [])
    }


def stale_acknowledgements(outdir: Path, app) -> list[tuple[str, str]]:
    return sorted(registered_acknowledgements(app) - used_acknowledgements(outdir))


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_acknowledgement_matches_a_finding(tmp_path, variant):
    app, _ = synthesize(tmp_path, **VARIANTS[variant])
    assert registered_acknowledgements(app), "the stack acknowledges a few findings; none were found"
    assert stale_acknowledgements(tmp_path, app) == []


def test_a_stale_acknowledgement_is_found(tmp_path):
    app = build_app(synth_context(), outdir=str(tmp_path))
    [stack] = [child for child in app.node.children if isinstance(child, Stack)]
    acknowledge(stack, "AwsSolutions-SQS3", "A finding this stack does not have: the acknowledgement is stale.")
    app.synth()
    assert stale_acknowledgements(tmp_path, app) == [("CustomLabelsPipeline", "AwsSolutions::AwsSolutions-SQS3")]


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_acknowledgement_is_blanket(tmp_path, variant):
    """Each acknowledgement sits on the construct of the resource it is about (a function, a bucket, a role), never
    on the app or the stack, where it would hide that finding on every resource of the stack."""
    app, _ = synthesize(tmp_path, **VARIANTS[variant])
    stacks = {child.node.path for child in app.node.children if isinstance(child, Stack)}
    assert [(path, rule) for path, rule in registered_acknowledgements(app) if path in stacks | {""}] == []
    suppressed = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    for report in suppressed:
        for violation in report["suppressedViolations"]:
            for construct in violation["violatingConstructs"]:
                assert construct["constructPath"].startswith(violation["acknowledgedAt"] + "/"), violation["ruleName"]


def test_acknowledgements_of_parameterised_findings_are_granular(tmp_path):
    """IAM4 and IAM5 findings name the policy or resource (`AwsSolutions-IAM5[Resource::...]`); a bare rule id
    would hide every future finding of that rule on the construct."""
    app, _ = synthesize(tmp_path)
    for _, rule_id in registered_acknowledgements(app):
        if rule_id.startswith(("AwsSolutions::AwsSolutions-IAM4", "AwsSolutions::AwsSolutions-IAM5")):
            assert rule_id.endswith("]") and "[" in rule_id, rule_id


def cfn_lint(template_path: Path) -> list[dict]:
    run = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", str(template_path)],
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip(), run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cfn_lint_finds_no_errors(tmp_path, variant):
    _, assembly = synthesize(tmp_path, **VARIANTS[variant])
    matches = cfn_lint(Path(assembly.stacks[0].template_full_path))
    assert [m for m in matches if m["Rule"]["Id"] != "W3005"] == []


def one_key_stack(tmp_path: Path, destination_for) -> Path:
    """A bucket and the queue it notifies, encrypted with one key, the destination built by `destination_for`."""
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "OneKey")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Bucket", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, destination_for(queue, key, stack))
    return Path(app.synth().stacks[0].template_full_path)


def test_stock_sqs_destination_with_one_key_creates_the_cycle(tmp_path):
    """Why `EncryptedQueueDestination` exists: CDK's own destination makes key and bucket depend on each other."""
    template = one_key_stack(tmp_path, lambda queue, key, stack: s3n.SqsDestination(queue))
    assert "E3004" in {m["Rule"]["Id"] for m in cfn_lint(template)}


def test_encrypted_queue_destination_with_one_key_has_no_cycle(tmp_path):
    template = one_key_stack(tmp_path, lambda queue, key, stack: EncryptedQueueDestination(queue, key, stack.account))
    assert "E3004" not in {m["Rule"]["Id"] for m in cfn_lint(template)}


def test_every_acknowledged_rule_is_explained_in_the_security_docs(tmp_path):
    """docs/security.md ("What the compliance packs find") lists every finding acknowledged and why: a new one
    without its line there fails here."""
    documented = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    app, _ = synthesize(tmp_path, removal_policy="destroy", alarm_email="ops@example.com")
    rules = {rule_id.split("::")[1].split("-", 1)[1] for _, rule_id in registered_acknowledgements(app)}
    assert sorted(rule for rule in rules if f"`{rule.split('[')[0]}" not in documented) == []
