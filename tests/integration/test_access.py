"""Who can do what (docs/security.md), proven at two levels on the policies of the synthesized template:

- behaviour: moto with its IAM enforcement on, an IAM user holding only one of the stack's client policies runs
  the real `customlabels` commands; what the policy grants works, the rest fails with one line naming the missing
  permission and the policy to attach;
- semantics moto does not evaluate (the bucket policy's deny, its conditions, TLS): principalmapper's local policy
  simulation (NCC Group's pmapper; tests/unit/test_iam_evaluator.py checks it against AWS's documented evaluation
  rules first), over a table of principal x action x resource -> allow or deny, which the tests' own evaluator
  (support.iam, the one tests/integration/test_wiring.py uses) must answer alike.
"""

import json

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.responses import CloudFormationResponse
from moto.core import set_initial_no_auth_action_count
from moto.iam.access_control import IAMRequestBase
from moto.ssm.responses import SimpleSystemManagerResponse

from customlabels.cli import main
from support.aws import ACCOUNT, MODEL_ARN, REGION
from support.cli import refused
from support.cloudformation import STACK_ID, STACK_NAME, concrete_values, pseudo_parameters, resolve, synth_template
from support.events import s3_event
from support.iam import admits, allowed, as_list, principal
from support.images import write_image

pytestmark = pytest.mark.integration

NAMES = {
    "bucket": "images-bucket",
    "queue": "work-queue",
    "dlq": "dead-letters",
    "thresholds": "thresholds",
    "state": "manager-state",
    "model_version": "model-version",
}
POLICIES = {
    "uploader": "ClientPoliciesUploader",
    "reader": "ClientPoliciesResultReader",
    "operator": "ClientPoliciesOperator",
}


def logical_ids(template: dict) -> dict[str, str]:
    """Our names -> the template's logical ids, found by type and construct path."""
    found = {}
    for logical_id in template["Resources"]:
        for name, prefix in (
            ("bucket", "StorageImages"),
            ("queue", "QueuesQueue"),
            ("dlq", "QueuesDeadLetterQueue"),
            ("thresholds", "InferenceThresholds"),
            ("state", "ModelLifecycleState"),
            ("model_version", "InferenceModelVersion"),
            *[(role, policy) for role, policy in POLICIES.items()],
            ("inference", "InferenceHandlerRole"),
            ("manager", "ModelLifecycleManagerRole"),
            ("bucket_policy", "StorageImagesPolicy"),
        ):
            if (
                logical_id.startswith(prefix)
                and logical_id[len(prefix) :].isalnum()
                and len(logical_id) == len(prefix) + 8
            ):
                found[name] = logical_id
    return found


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return synth_template(tmp_path_factory.mktemp("access")).to_json()


def documents(template: dict, stack_id: str) -> dict[str, dict]:
    """The policy documents of the template, concrete: the three client policies, the bucket policy and the
    inference role's own policy."""
    ids = logical_ids(template)
    pseudo = pseudo_parameters(stack_id)
    values = concrete_values(template, {ids[name]: physical for name, physical in NAMES.items()})
    docs = {
        name: resolve(template["Resources"][ids[name]]["Properties"]["PolicyDocument"], values, pseudo)
        for name in (*POLICIES, "bucket_policy")
    }
    for function in ("inference", "manager"):
        role = {"Ref": ids[function]}
        [policy] = [
            resource["Properties"]["PolicyDocument"]
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy" and role in resource["Properties"]["Roles"]
        ]
        docs[function] = resolve(policy, values, pseudo)
        docs[f"{function}_role_arn"] = values[ids[function], "Arn"]
    docs["key_arn"] = next(
        value
        for (logical_id, attribute), value in values.items()
        if attribute == "Arn" and value.startswith("arn:aws:kms:")
    )
    return docs


# --- the template --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"model_lifecycle": "always-on"},
        {"model_lifecycle": "manual"},
        {"removal_policy": "destroy", "results_prefix": "results/"},
    ],
    ids=["on-demand", "always-on", "manual", "destroy"],
)
def test_every_lifecycle_variant_has_the_three_policies_and_the_result_guard(tmp_path, template, variant):
    synthesized = synth_template(tmp_path, **variant).to_json() if variant else template
    outputs = synthesized["Outputs"]
    for output in ("UploaderPolicyArn", "ResultReaderPolicyArn", "OperatorPolicyArn"):
        assert outputs[output]["Value"]["Ref"] in synthesized["Resources"]
    ids = logical_ids(synthesized)
    [guard] = [
        statement
        for statement in synthesized["Resources"][ids["bucket_policy"]]["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "OnlyTheInferenceFunctionWritesResults"
    ]
    results = variant.get("results_prefix", "test_images/")
    assert guard["Effect"] == "Deny" and guard["Principal"] == {"AWS": "*"}
    assert guard["Resource"]["Fn::Join"][1][-1] == f"/{results}*.json"
    assert {
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
        "s3:DeleteObjectVersionTagging",
    } <= set(guard["Action"])
    assert not any(action.startswith(("s3:PutBucket", "s3:DeleteBucket")) for action in guard["Action"])
    writers = guard["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    expected = [{"Fn::GetAtt": [ids["inference"], "Arn"]}]
    if variant.get("removal_policy") == "destroy":  # CDK's helper empties the bucket when the stack is deleted
        expected.append({"Fn::GetAtt": ["CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092", "Arn"]})
    assert writers == expected


# --- the access table --------------------------------------------------------------------------------------------
OBJECT = f"arn:aws:s3:::{NAMES['bucket']}/"
BUCKET_ARN = f"arn:aws:s3:::{NAMES['bucket']}"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:"
SECOND_VERSION = MODEL_ARN.replace("/1615479933000", "/1700000000000").replace("bees.2021", "bees.2026")
OTHER_PROJECT = MODEL_ARN.replace("project/bees/", "project/wasps/")
PREFIXED_PROJECT = MODEL_ARN.replace("project/bees/", "project/bees-v2/")
S3_VIA = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
NO_TLS = {"aws:SecureTransport": "false"}

TABLE = [  # who, action, resource, request context, allowed?, what it shows
    ("uploader", "s3:PutObject", OBJECT + "test_images/bee.jpg", {}, True, "an upload"),
    ("uploader", "s3:PutObject", OBJECT + "test_images/a/b.PNG", {}, True, "an upload in a folder"),
    ("uploader", "s3:PutObject", OBJECT + "test_images/bee.jpg.json", {}, False, "a forged result"),
    ("uploader", "s3:PutObject", OBJECT + "elsewhere/bee.jpg", {}, False, "an upload outside the input prefix"),
    ("uploader", "s3:PutObject", OBJECT + "test_images/notes.txt", {}, False, "a file that is not an image"),
    ("uploader", "s3:PutObject", OBJECT + "test_images/bee.jpg", NO_TLS, False, "an upload without TLS"),
    ("uploader", "s3:DeleteObject", OBJECT + "test_images/bee.jpg", {}, False, "deleting an image"),
    ("uploader", "s3:GetObject", OBJECT + "test_images/bee.jpg.json", {}, False, "reading results"),
    ("uploader", "kms:GenerateDataKey", "KEY", S3_VIA, True, "the key, through S3"),
    (
        "uploader",
        "kms:GenerateDataKey",
        "KEY",
        {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"},
        False,
        "the key, not through S3",
    ),
    ("uploader", "ssm:PutParameter", PARAMETER + "thresholds", {}, False, "changing the thresholds"),
    ("uploader", "cloudformation:DescribeStacks", STACK_ID, {}, True, "reading the stack's outputs"),
    ("reader", "s3:GetObject", OBJECT + "test_images/bee.jpg.json", {}, True, "reading a result"),
    ("reader", "s3:ListBucket", BUCKET_ARN, {}, True, "listing images and results"),
    ("reader", "s3:GetObject", OBJECT + "test_images/bee.jpg", {}, False, "reading an image"),
    ("reader", "s3:PutObject", OBJECT + "test_images/bee.jpg.json", {}, False, "a forged result"),
    ("reader", "sqs:ReceiveMessage", QUEUE + "dead-letters", {}, True, "peeking at the dead-letter queue"),
    ("reader", "sqs:DeleteMessage", QUEUE + "dead-letters", {}, False, "deleting dead letters"),
    ("operator", "ssm:PutParameter", PARAMETER + "thresholds", {}, True, "thresholds set"),
    ("operator", "ssm:PutParameter", PARAMETER + "manager-state", {}, True, "model resume"),
    ("operator", "ssm:PutParameter", PARAMETER + "another", {}, False, "another parameter"),
    ("operator", "rekognition:StartProjectVersion", MODEL_ARN, {}, True, "model start"),
    ("operator", "rekognition:StopProjectVersion", MODEL_ARN, {}, True, "model stop"),
    ("operator", "rekognition:StartProjectVersion", SECOND_VERSION, {}, True, "model promote starts a new version"),
    ("operator", "rekognition:StopProjectVersion", SECOND_VERSION, {}, True, "... and stops the old one"),
    ("operator", "rekognition:StartProjectVersion", OTHER_PROJECT, {}, False, "another project's version"),
    ("operator", "rekognition:StartProjectVersion", PREFIXED_PROJECT, {}, False, "a project whose name extends ours"),
    ("operator", "ssm:PutParameter", PARAMETER + "model-version", {}, True, "model promote switches the version"),
    ("operator", "ssm:GetParameter", PARAMETER + "model-version", {}, True, "model status shows the version"),
    ("operator", "rekognition:DetectCustomLabels", SECOND_VERSION, {}, True, "promote --gate --manifest runs both"),
    ("operator", "rekognition:DetectCustomLabels", OTHER_PROJECT, {}, False, "... never another project's version"),
    ("operator", "s3:GetObject", OBJECT + "training/output/v2/EvaluationSummary-bees-v2.json", {}, True, "the gate"),
    ("operator", "s3:GetObject", OBJECT + "test_images/bee.jpg", {}, True, "the gate's images, read by Rekognition"),
    ("operator", "s3:GetObject", OBJECT + "test_images/bee.jpg.json", {}, False, "results are the readers'"),
    ("operator", "sqs:SendMessage", QUEUE + "work-queue", {}, True, "dlq redrive"),
    ("operator", "sqs:DeleteMessage", QUEUE + "work-queue", {}, False, "deleting queued images"),
    ("operator", "s3:PutObject", OBJECT + "test_images/bee.jpg.json", {}, False, "a forged result"),
    (
        "operator",
        "cloudwatch:DescribeAlarms",
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:other",
        {},
        False,
        "another stack's alarm",
    ),
    ("admin", "s3:PutObject", OBJECT + "test_images/bee.jpg.json", {}, False, "a result forged by an administrator"),
    ("admin", "s3:DeleteObjectVersion", OBJECT + "test_images/bee.jpg.json", {}, False, "a deleted result version"),
    ("admin", "s3:PutObjectTagging", OBJECT + "test_images/bee.jpg.json", {}, False, "a re-tagged result"),
    ("admin", "s3:PutObject", OBJECT + "test_images/bee.jpg", {}, True, "an upload by an administrator"),
    ("admin", "s3:PutBucketPolicy", BUCKET_ARN, {}, True, "the bucket policy stays the administrators'"),
    ("admin", "s3:DeleteBucketPolicy", BUCKET_ARN, {}, True, "the bucket policy can be removed"),
    ("inference", "s3:PutObject", OBJECT + "test_images/bee.jpg.json", {}, True, "the function writes a result"),
    ("inference", "s3:PutObject", OBJECT + "test_images/bee.jpg.json", NO_TLS, False, "... but not without TLS"),
    ("inference", "s3:DeleteObjectVersion", OBJECT + "test_images/bee.jpg.json", {}, False, "nor deletes one"),
    ("inference", "s3:PutObject", OBJECT + "test_images/bee.jpg", {}, False, "nor writes an image"),
    ("inference", "rekognition:DetectCustomLabels", MODEL_ARN, {}, True, "the function calls the deployed version"),
    ("inference", "rekognition:DetectCustomLabels", SECOND_VERSION, {}, True, "... and any version of its project"),
    ("inference", "rekognition:DetectCustomLabels", OTHER_PROJECT, {}, False, "... but no other project's"),
    ("inference", "rekognition:DetectCustomLabels", PREFIXED_PROJECT, {}, False, "... even one named like it"),
    ("inference", "ssm:GetParameter", PARAMETER + "model-version", {}, True, "it reads the version in service"),
    ("inference", "ssm:PutParameter", PARAMETER + "model-version", {}, False, "... but never switches it"),
    ("inference", "rekognition:StartProjectVersion", SECOND_VERSION, {}, False, "... nor starts a version"),
    (
        "manager",
        "rekognition:StartProjectVersion",
        SECOND_VERSION,
        {},
        True,
        "the manager starts the version in service",
    ),
    ("manager", "rekognition:StopProjectVersion", MODEL_ARN, {}, True, "... and stops a retiring one"),
    ("manager", "rekognition:StopProjectVersion", OTHER_PROJECT, {}, False, "... of its project only"),
    ("manager", "ssm:PutParameter", PARAMETER + "model-version", {}, True, "it clears `retiring` once stopped"),
    ("manager", "ssm:PutParameter", PARAMETER + "thresholds", {}, False, "... and touches no other parameter"),
]


EVERY_ROW = pytest.mark.parametrize(
    ("who", "action", "resource", "context", "expected", "shows"), TABLE, ids=[f"{row[0]}-{row[5]}" for row in TABLE]
)


@pytest.fixture(scope="module")
def principals(template):
    docs = documents(template, STACK_ID)
    users = {name: principal(f"arn:aws:iam::{ACCOUNT}:user/{name}", docs[name]) for name in POLICIES}
    users["admin"] = principal(
        f"arn:aws:iam::{ACCOUNT}:user/admin", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    for function in ("inference", "manager"):
        users[function] = principal(docs[f"{function}_role_arn"], docs[function])
    return users, docs


@EVERY_ROW
def test_the_access_table(principals, who, action, resource, context, expected, shows):
    users, docs = principals
    resource = docs["key_arn"] if resource == "KEY" else resource
    bucket_policy = docs["bucket_policy"] if resource.startswith("arn:aws:s3:::") else None
    assert allowed(users[who], action, resource, bucket_policy, **context) is expected, shows


@EVERY_ROW
def test_the_tests_own_evaluator_agrees_on_the_access_table(
    principals, who, action, resource, context, expected, shows
):
    """support.iam.admits, which tests/integration/test_wiring.py relies on, gives principalmapper's verdicts on the
    stack's own policies (one account: the principal's policies and the bucket policy together)."""
    users, docs = principals
    resource = docs["key_arn"] if resource == "KEY" else resource
    statements = [s for policy in users[who].attached_policies for s in as_list(policy.policy_doc["Statement"])]
    if resource.startswith("arn:aws:s3:::"):
        statements += docs["bucket_policy"]["Statement"]
    assert admits(statements, action, resource, ("AWS", users[who].arn), context) is expected, shows


# --- behaviour: moto's IAM enforcement and the real commands ------------------------------------------------------
def _ssm_resource(self) -> str:
    name = json.loads(self.body or "{}").get("Name", "")
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{name.lstrip('/')}" if name else "*"


def _cloudformation_resource(self) -> str:
    name = self._get_param("StackName")
    stacks = [stack for stack in self.cloudformation_backend.stacks.values() if name in (stack.name, stack.stack_id)]
    return stacks[0].stack_id if stacks else "*"


BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
"""SQS authorizes a batch with its single action's permission (the SQS API reference: "permissions" of each batch
action); moto checks the operation's own name, which no IAM policy can grant."""


def _iam_request_init(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._action = BATCH_ACTIONS.get(self._action, self._action)

    return init


@pytest.fixture
def deployed(template, monkeypatch, tmp_path):
    """moto provisioned with the stack's names, outputs and client policies; an IAM user per policy. moto checks
    the resource of S3 and SQS requests itself; for SSM and CloudFormation it checks the action only, so the
    resource (the parameter, the stack) is named for it here."""
    monkeypatch.setattr(SimpleSystemManagerResponse, "_determine_resource", _ssm_resource, raising=False)
    monkeypatch.setattr(CloudFormationResponse, "_determine_resource", _cloudformation_resource, raising=False)
    monkeypatch.setattr(IAMRequestBase, "__init__", _iam_request_init(IAMRequestBase.__init__))
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with mock_aws():
        s3, sqs, ssm = (boto3.client(name) for name in ("s3", "sqs", "ssm"))
        s3.create_bucket(Bucket=NAMES["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=NAMES["bucket"], Key="test_images/done.jpg", Body=b"image")
        s3.put_object(
            Bucket=NAMES["bucket"],
            Key="test_images/done.jpg.json",
            Body=json.dumps({"CustomLabels": [{"Name": "bee", "Confidence": 97.5}]}).encode(),
        )
        queue = sqs.create_queue(QueueName=NAMES["queue"])["QueueUrl"]
        dlq = sqs.create_queue(QueueName=NAMES["dlq"])["QueueUrl"]
        sqs.send_message(
            QueueUrl=dlq,
            MessageBody=s3_event("test_images/x.jpg", bucket=NAMES["bucket"]),
        )
        for name in ("thresholds", "state"):
            ssm.put_parameter(
                Name=NAMES[name],
                Value=json.dumps({"min_confidence": None, "labels": {}}) if name == "thresholds" else "{}",
                Type="String",
            )
        ids = logical_ids(template)
        values = concrete_values(template, {ids[name]: physical for name, physical in NAMES.items()})
        outputs = {key: resolve(output["Value"], values) for key, output in template["Outputs"].items()}
        cloudformation = boto3.client("cloudformation")
        stack_id = cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(
                {
                    "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
                    "Outputs": {key: {"Value": value} for key, value in outputs.items()},
                }
            ),
        )["StackId"]
        docs = documents(template, stack_id)
        iam = boto3.client("iam")
        keys = {}
        for name in POLICIES:
            arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(docs[name]))["Policy"]["Arn"]
            iam.create_user(UserName=name)
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
            keys[name] = iam.create_access_key(UserName=name)["AccessKey"]
        images = tmp_path / "images"
        write_image(images / "bee.jpg")
        (tmp_path / "thresholds.json").write_text(json.dumps({"min_confidence": 80, "labels": {"bee": 72.5}}))

        def act_as(name: str) -> None:
            monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # its credentials are resolved once
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[name]["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[name]["SecretAccessKey"])

        yield act_as, tmp_path, {"s3": s3, "sqs": sqs, "ssm": ssm, "queue": queue, "dlq": dlq}


def enforced(function):
    """Run `function` with moto's IAM enforcement on from its first request."""
    return set_initial_no_auth_action_count(0)(function)()


def test_the_uploader_uploads_and_can_neither_forge_a_result_nor_read_or_tune(deployed, capsys):
    act_as, folder, admin = deployed
    act_as("uploader")
    assert enforced(lambda: main(["upload", str(folder / "images"), "--stack", STACK_NAME])) == 0
    forged = enforced(lambda: _refused_put(NAMES["bucket"], "test_images/bee.jpg.json"))
    said_results = enforced(lambda: refused(capsys, ["results", "--stack", STACK_NAME]))
    said_resume = enforced(lambda: refused(capsys, ["model", "resume", "--stack", STACK_NAME]))
    said_thresholds = enforced(
        lambda: refused(capsys, ["thresholds", "set", str(folder / "thresholds.json"), "--stack", STACK_NAME])
    )
    assert admin["s3"].head_object(Bucket=NAMES["bucket"], Key="test_images/bee.jpg")["ContentLength"] > 0
    assert forged == "AccessDenied"
    assert "lack s3:ListBucket" in said_results and "ResultReaderPolicyArn" in said_results
    assert "lack ssm:PutParameter" in said_thresholds and "OperatorPolicyArn" in said_thresholds
    assert "lack ssm:GetParameter" in said_resume and "OperatorPolicyArn" in said_resume


def _refused_put(bucket: str, key: str) -> str:
    from botocore.exceptions import ClientError

    try:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"{}")
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "written"


def test_the_result_reader_reads_results_and_cannot_upload(deployed, capsys):
    act_as, folder, _ = deployed
    act_as("reader")
    assert enforced(lambda: main(["results", "--stack", STACK_NAME, "--format", "json"])) == 0
    statuses = {item["image"]: item["status"] for item in json.loads(capsys.readouterr().out)}
    said = enforced(lambda: refused(capsys, ["upload", str(folder / "images"), "--stack", STACK_NAME]))
    assert statuses == {"test_images/done.jpg": "labels"}
    assert "lack s3:PutObject" in said and "UploaderPolicyArn" in said


def test_the_operator_sets_thresholds_and_redrives_and_cannot_read_results(deployed, capsys):
    act_as, folder, admin = deployed
    act_as("operator")
    assert enforced(lambda: main(["thresholds", "set", str(folder / "thresholds.json"), "--stack", STACK_NAME])) == 0
    assert enforced(lambda: main(["dlq", "redrive", "--stack", STACK_NAME])) == 0
    assert enforced(lambda: main(["model", "resume", "--stack", STACK_NAME])) == 0
    assert "resumed_at" in json.loads(admin["ssm"].get_parameter(Name=NAMES["state"])["Parameter"]["Value"])
    said = enforced(lambda: refused(capsys, ["results", "--stack", STACK_NAME]))
    assert json.loads(admin["ssm"].get_parameter(Name=NAMES["thresholds"])["Parameter"]["Value"]) == {
        "min_confidence": 80,
        "labels": {"bee": 72.5},
    }
    assert (
        int(
            admin["sqs"].get_queue_attributes(QueueUrl=admin["queue"], AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        == 1
    )
    assert "lack s3:ListBucket" in said and "ResultReaderPolicyArn" in said


@pytest.mark.parametrize(("budget", "may_stop"), [(None, False), ("20", True)], ids=["no-budget", "20-hours"])
def test_always_on_has_the_spend_guard_only_with_a_budget_and_may_always_stop_a_retiring_version(
    tmp_path, budget, may_stop
):
    """The right to stop is there in every mode for a `retiring` version (an interrupted `model promote`); that
    always-on stops the version in service only for the spend guard is the rules' (tests/unit/test_manager_rules.py)."""
    context = {"model_lifecycle": "always-on", **({"max_model_hours_per_day": budget} if budget else {})}
    synthesized = synth_template(tmp_path, **context).to_json()
    manager_actions = {
        action
        for resource in synthesized["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and "ModelLifecycleManager" in json.dumps(resource["Properties"]["Roles"])
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        for action in as_list(statement["Action"])
    }
    alarms = [
        resource
        for resource in synthesized["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("MetricName") == "SpendGuardPaused"
    ]
    assert "rekognition:StopProjectVersion" in manager_actions
    assert len(alarms) == int(may_stop)
