"""The synthesized template, property by property, with aws_cdk.assertions."""

import json

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customlabels_runtime.contract import IMAGE_SUFFIXES
from customlabels_runtime.model_version import initial_document, parse_version_document
from support.aws import MODEL_ARN
from support.cloudformation import synth_template
from support.events import eventbridge_object_created
from support.iam import as_list

pytestmark = pytest.mark.integration


def only(template, resource_type, props=None):
    found = template.find_resources(resource_type, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    return next(iter(found.items()))


def images_bucket(template):
    return only(template, "AWS::S3::Bucket", {"LoggingConfiguration": Match.any_value()})


def work_queue(template):
    return only(template, "AWS::SQS::Queue", {"RedrivePolicy": Match.any_value()})


def inference_function(template):
    return only(
        template,
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"THRESHOLDS_PARAMETER": Match.any_value()})}},
    )


def inference_policy_statements(template):
    _, policy = only(
        template, "AWS::IAM::Policy", {"Roles": [{"Ref": Match.string_like_regexp("^InferenceHandlerRole")}]}
    )
    return policy["Properties"]["PolicyDocument"]["Statement"]


# --- KMS -------------------------------------------------------------------------------------------------
def test_one_customer_managed_key_with_rotation(default_template):
    default_template.resource_count_is("AWS::KMS::Key", 1)
    default_template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_key_policy_lets_s3_encrypt_notifications_only_for_this_account(default_template):
    _, key = only(default_template, "AWS::KMS::Key")
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    s3_statements = [s for s in statements if s.get("Principal") == {"Service": "s3.amazonaws.com"}]
    assert s3_statements == [
        {
            "Sid": "AllowS3ToEncryptNotificationsForThisAccount",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Resource": "*",
        }
    ]
    # A reference to the bucket in the key policy is exactly the E3004 cycle (bucket -> key -> bucket).
    assert "aws:SourceArn" not in json.dumps(key["Properties"]["KeyPolicy"])


# --- Bucket ----------------------------------------------------------------------------------------------
def test_images_bucket_is_private_versioned_and_sse_kms_with_bucket_key(default_template):
    key_id, _ = only(default_template, "AWS::KMS::Key")
    _, bucket = images_bucket(default_template)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {
                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                "SSEAlgorithm": "aws:kms",
            },
        }
    ]


def test_images_bucket_logs_access_to_a_separate_bucket(default_template):
    _, bucket = images_bucket(default_template)
    log_bucket_ref = bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    logs = default_template.find_resources("AWS::S3::Bucket")[log_bucket_ref]
    assert log_bucket_ref.startswith("StorageAccessLogs")
    assert logs["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True


def test_access_logs_survive_an_attempt_to_erase_them(default_template):
    """Issue 27, defect 12: an administrator could erase the audit trail. Versioned, a deleted or overwritten log is
    kept as a noncurrent version for as long as the logs themselves (cdk-nag NIST/HIPAA S3BucketVersioningEnabled)."""
    _, bucket = images_bucket(default_template)
    logs = default_template.find_resources("AWS::S3::Bucket")[
        bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    ]
    assert logs["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = logs["Properties"]["LifecycleConfiguration"]["Rules"]
    assert (rule["ExpirationInDays"], rule["NoncurrentVersionExpiration"]["NoncurrentDays"]) == (365, 365)


def test_noncurrent_versions_expire(default_template):
    _, bucket = images_bucket(default_template)
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == 30 for rule in rules)


def test_every_bucket_and_queue_denies_requests_without_tls(default_template):
    for policy_type, count in (("AWS::S3::BucketPolicy", 2), ("AWS::SQS::QueuePolicy", 2)):
        policies = default_template.find_resources(policy_type)
        assert len(policies) == count
        for policy in policies.values():
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            assert any(
                s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                for s in statements
            ), policy_type


RETAINED = ("AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::SSM::Parameter")


def test_data_is_retained_by_default(default_template):
    for resource_type in RETAINED:
        resources = default_template.find_resources(resource_type)
        assert resources, resource_type
        for resource in resources.values():
            assert resource["DeletionPolicy"] == "Retain", resource_type


def test_destroy_removal_policy_for_development_stacks(tmp_path):
    template = synth_template(tmp_path, removal_policy="destroy")
    for resource_type in RETAINED:
        for resource in template.find_resources(resource_type).values():
            assert resource["DeletionPolicy"] == "Delete", resource_type
    template.resource_count_is("Custom::S3AutoDeleteObjects", 2)  # a non-empty bucket cannot be deleted


# --- Notifications ---------------------------------------------------------------------------------------
def notification_filters(template):
    _, notifications = only(template, "Custom::S3BucketNotifications")
    configurations = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    queue_id, _ = work_queue(template)
    assert all(c["QueueArn"] == {"Fn::GetAtt": [queue_id, "Arn"]} for c in configurations)
    assert all(c["Events"] == ["s3:ObjectCreated:*"] for c in configurations)
    return sorted(
        tuple(sorted((r["Name"], r["Value"]) for r in c["Filter"]["Key"]["FilterRules"])) for c in configurations
    )


def test_one_notification_per_image_suffix_under_the_input_prefix(default_template):
    suffixes = [".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"]
    assert notification_filters(default_template) == sorted(
        (("prefix", "test_images/"), ("suffix", suffix)) for suffix in suffixes
    )


def test_result_json_files_never_trigger(default_template):
    assert all(dict(rules)["suffix"].lower() != ".json" for rules in notification_filters(default_template))


def test_input_prefix_is_configurable(tmp_path):
    filters = notification_filters(synth_template(tmp_path, input_prefix="uploads/"))
    assert {dict(rules)["prefix"] for rules in filters} == {"uploads/"}


def test_queue_policy_accepts_only_this_bucket(default_template):
    bucket_id, _ = images_bucket(default_template)
    queue_id, _ = work_queue(default_template)
    _, policy = only(default_template, "AWS::SQS::QueuePolicy", {"Queues": [{"Ref": queue_id}]})
    [allow] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {
        "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [bucket_id, "Arn"]}},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }


# --- Queues ----------------------------------------------------------------------------------------------
def test_queue_and_dlq_are_encrypted_with_the_key(default_template):
    key_id, _ = only(default_template, "AWS::KMS::Key")
    queues = default_template.find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_dlq_keeps_messages_14_days_and_receives_after_max_receive_count(default_template):
    _, queue = work_queue(default_template)
    redrive = queue["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5
    dlq = default_template.find_resources("AWS::SQS::Queue")[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_max_receive_count_is_configurable(tmp_path):
    _, queue = work_queue(synth_template(tmp_path, max_receive_count="3"))
    assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3


@pytest.mark.parametrize("timeout", [60, 120])
def test_visibility_timeout_is_at_least_six_times_the_function_timeout(tmp_path, timeout):
    template = synth_template(tmp_path, function_timeout_seconds=timeout)
    _, queue = work_queue(template)
    _, function = inference_function(template)
    assert function["Properties"]["Timeout"] == timeout
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]


# --- Function --------------------------------------------------------------------------------------------
def newest_python_runtime() -> str:
    versions = [
        tuple(map(int, name.removeprefix("PYTHON_").split("_")))
        for name in dir(lambda_.Runtime)
        if name.startswith("PYTHON_3")
    ]
    major, minor = max(versions)
    return f"python{major}.{minor}"


def test_function_runs_the_newest_python_on_arm64_with_json_logs(default_template):
    _, function = inference_function(default_template)
    props = function["Properties"]
    assert props["Runtime"] == newest_python_runtime()
    assert props["Architectures"] == ["arm64"]
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = default_template.find_resources("AWS::Logs::LogGroup")[log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_function_environment_comes_from_the_configuration(tmp_path):
    template = synth_template(tmp_path, min_confidence="90", results_prefix="results/")
    _, function = inference_function(template)
    parameter_id, parameter = only(
        template, "AWS::SSM::Parameter", {"Description": Match.string_like_regexp("Confidence thresholds")}
    )
    version_id, version = only(
        template, "AWS::SSM::Parameter", {"Description": Match.string_like_regexp("model version in service")}
    )
    assert function["Properties"]["Environment"]["Variables"] == {
        "MODEL_ARN": MODEL_ARN,
        "MODEL_VERSION_PARAMETER": {"Ref": version_id},
        "MODEL_VERSION_MAX_AGE_SECONDS": "60",
        "MIN_CONFIDENCE": "90.0",
        "INPUT_PREFIX": "test_images/",
        "RESULTS_PREFIX": "results/",
        "BATCH_WORKERS": "10",
        "MIN_INFERENCE_UNITS": "1",
        "MAX_INFERENCE_UNITS": "1",
        "RESULT_EVENT_BUS": "default",
        "THRESHOLDS_PARAMETER": {"Ref": parameter_id},
        "POWERTOOLS_SERVICE_NAME": "customlabels-inference",
        "POWERTOOLS_METRICS_NAMESPACE": "CustomLabelsPipeline",
    }
    assert json.loads(parameter["Properties"]["Value"]) == {"min_confidence": 90.0, "labels": {}}
    assert parameter["Properties"]["Type"] == "String"
    assert version["Properties"]["Value"] == initial_document(MODEL_ARN)  # the contract's own initial document
    assert parse_version_document(version["Properties"]["Value"]).version_arn == MODEL_ARN


def test_sqs_event_source_reports_partial_batch_failures(default_template):
    queue_id, _ = work_queue(default_template)
    default_template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]},
            "BatchSize": 10,
            "ScalingConfig": {"MaximumConcurrency": 2},  # derived: Lambda's minimum covers 1 inference unit
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_batch_size_and_concurrency_are_configurable(tmp_path):
    template = synth_template(tmp_path, batch_size="3", max_concurrency="20", log_retention_days="90")
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"BatchSize": 3, "ScalingConfig": {"MaximumConcurrency": 20}}
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


# --- IAM -------------------------------------------------------------------------------------------------
WITHOUT_RESOURCE_LEVEL_PERMISSIONS = {"rekognition:DescribeProjects", "s3:PutBucketNotification"}


def test_no_wildcard_resource_for_s3_rekognition_or_kms_actions(default_template):
    for policy in default_template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = set(as_list(statement["Action"])) - WITHOUT_RESOURCE_LEVEL_PERMISSIONS
            if any(action.split(":")[0] in ("rekognition", "kms", "s3") for action in actions):
                assert "*" not in as_list(statement["Resource"]), statement


def object_arn(bucket_id, pattern):
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, pattern]]}


def test_inference_function_grants_are_least_privilege(default_template):
    bucket_id, _ = images_bucket(default_template)
    key_id, _ = only(default_template, "AWS::KMS::Key")
    by_action = {}
    for statement in inference_policy_statements(default_template):
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, []).append(statement["Resource"])
    assert by_action["s3:GetObjectVersion"] == [object_arn(bucket_id, "/test_images/*")]
    assert by_action["s3:PutObject"] == [object_arn(bucket_id, "/test_images/*.json")]
    assert by_action["s3:ListBucket"] == [{"Fn::GetAtt": [bucket_id, "Arn"]}]
    # Any version of the project (the one in service is read at runtime); tests/integration/test_access.py proves
    # what that admits and what it does not.
    assert by_action["rekognition:DetectCustomLabels"] == [f"{MODEL_ARN.split('/version/')[0]}/version/*"]
    assert by_action["kms:Decrypt"] == by_action["kms:GenerateDataKey"] == [{"Fn::GetAtt": [key_id, "Arn"]}]
    read = [arn["Fn::Join"][1][-1] for arn in by_action["ssm:GetParameter"]]  # the runtime parameters, no other
    assert sorted(read, key=str) == sorted(
        (
            {"Ref": only(default_template, "AWS::SSM::Parameter", {"Description": Match.string_like_regexp(text)})[0]}
            for text in ("Confidence thresholds", "version in service")
        ),
        key=str,
    )
    # Active tracing: X-Ray's write actions have no resource-level permissions.
    assert by_action["xray:PutTraceSegments"] == by_action["xray:PutTelemetryRecords"] == ["*"]
    assert by_action["events:PutEvents"] == [  # the default bus of the stack's account and region, nothing else
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":events:eu-west-1:123456789012:event-bus/default"]]}
    ]
    assert set(by_action) == {
        "events:PutEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ssm:GetParameter",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:ListBucket",
        "rekognition:DetectCustomLabels",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    }


def test_results_prefix_moves_the_write_grant(tmp_path):
    template = synth_template(tmp_path, results_prefix="results/")
    bucket_id, _ = images_bucket(template)
    puts = [s["Resource"] for s in inference_policy_statements(template) if "s3:PutObject" in as_list(s["Action"])]
    assert puts == [object_arn(bucket_id, "/results/*.json")]


def test_function_role_has_no_managed_policies(default_template):
    _, role = only(
        default_template,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": Match.array_with([Match.object_like({"Principal": {"Service": "lambda.amazonaws.com"}})])}
            ),
            "Description": Match.string_like_regexp("DetectCustomLabels"),
        },
    )
    assert "ManagedPolicyArns" not in role["Properties"]


# --- Model manager -------------------------------------------------------------------------------------
def upload_rule_pattern(template):
    _, rule = only(template, "AWS::Events::Rule", {"EventPattern": Match.any_value()})
    return rule["Properties"]["EventPattern"]


def upload_rule_matches(template, key):
    from moto.events.models import EventPattern

    pattern = upload_rule_pattern(template)
    bucket_ref = pattern["detail"]["bucket"]["name"]
    pattern = json.loads(json.dumps(pattern).replace(json.dumps(bucket_ref[0]), '"the-images-bucket"'))
    return EventPattern.load(json.dumps(pattern)).matches_event(eventbridge_object_created(key, "the-images-bucket"))


@pytest.mark.parametrize("suffix", IMAGE_SUFFIXES)
def test_upload_rule_matches_every_image_suffix_the_notifications_use(default_template, suffix):
    for key in (f"test_images/bee{suffix}", f"test_images/a/b/with space{suffix}", f"test_images/{suffix}"):
        assert upload_rule_matches(default_template, key), key


@pytest.mark.parametrize(
    "key",
    [
        "test_images/bee.jpg.json",  # the result of an image: it must not wake the manager again
        "test_images/bee.png.json",
        "test_images/notes.txt",
        "test_images/bee.Jpg",
        "test_images/bee.gif",
        "test_images/bee.jpgx",
        "other/bee.jpg",
        "bee.jpg",
        "results/test_images/bee.jpg",
        "test_images",
    ],
)
def test_upload_rule_ignores_results_and_everything_the_notifications_ignore(default_template, key):
    assert not upload_rule_matches(default_template, key)


def test_upload_rule_and_notifications_share_one_list_of_suffixes(default_template):
    wildcards = [matcher["wildcard"] for matcher in upload_rule_pattern(default_template)["detail"]["object"]["key"]]
    assert wildcards == [f"test_images/*{suffix}" for suffix in IMAGE_SUFFIXES]
    assert sorted(dict(rules)["suffix"] for rules in notification_filters(default_template)) == sorted(IMAGE_SUFFIXES)


KEY_ALPHABET = "abJPGEjpgen.x/ _%+*ü"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stem=st.text(KEY_ALPHABET, max_size=12),
    suffix=st.sampled_from(["", ".jpg", ".jpeg", ".png", ".json", ".txt"]).flatmap(
        lambda s: st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in s]).map("".join)
    ),
    extra=st.sampled_from(["", ".json"]),
    prefix=st.sampled_from(["test_images/", "other/", ""]),
)
def test_one_definition_of_an_image_key_for_notifications_the_manager_upload_and_results(
    default_template, stem, suffix, extra, prefix
):
    """Every case variant of every suffix: what the bucket notifications send to the queue, what wakes the
    model manager, what `upload` accepts and what `results` lists are the same keys."""
    from customlabels.config import image_name_problem
    from customlabels.operations import transfer
    from customlabels_runtime.contract import is_image_key

    key = prefix + stem + suffix + extra
    notified = key.startswith("test_images/") and any(
        key.endswith(dict(rules)["suffix"]) for rules in notification_filters(default_template)
    )
    assert upload_rule_matches(default_template, key) == notified
    assert (key.startswith("test_images/") and is_image_key(key)) == notified
    name = key.rsplit("/", 1)[-1]
    if name:
        assert (image_name_problem(name) is None) == is_image_key(key)
    location = transfer.Location("b", "test_images/", "test_images/")
    assert (location.image_key(key + ".json") == key) == notified


def test_upload_rule_follows_the_input_prefix_and_escapes_wildcards(tmp_path):
    template = synth_template(tmp_path, input_prefix="up*loads/")
    assert upload_rule_matches(template, "up*loads/x.png")
    assert not upload_rule_matches(template, "upXloads/x.png")  # a literal "*", not a wildcard


def test_manager_is_invoked_without_retries_and_drops_events_older_than_a_minute(default_template):
    _, manager = only(default_template, "AWS::Lambda::Function", {"ReservedConcurrentExecutions": 1})
    manager_id = next(
        iter(
            default_template.find_resources(
                "AWS::Lambda::Function", {"Properties": {"ReservedConcurrentExecutions": 1}}
            )
        )
    )
    default_template.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)
    default_template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": manager_id},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 0,
            "MaximumEventAgeInSeconds": 60,
        },
    )  # 60 s is Lambda's minimum
    assert manager["Properties"]["Timeout"] < 60


def manager_actions(template):
    _, policy = only(
        template, "AWS::IAM::Policy", {"Roles": [{"Ref": Match.string_like_regexp("^ModelLifecycleManagerRole")}]}
    )
    by_action = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, []).append(statement["Resource"])
    return by_action


@pytest.mark.parametrize(
    ("mode", "model_actions"),
    [
        ("on-demand", {"rekognition:StartProjectVersion", "rekognition:StopProjectVersion"}),
        ("always-on", {"rekognition:StartProjectVersion", "rekognition:StopProjectVersion"}),
        ("manual", {"rekognition:StopProjectVersion"}),  # a retiring version, still running after stop_after
    ],
)
def test_manager_gates_the_one_event_source_in_every_mode_and_starts_stops_per_mode(tmp_path, mode, model_actions):
    template = synth_template(tmp_path, model_lifecycle=mode)
    [mapping_id] = template.find_resources("AWS::Lambda::EventSourceMapping")
    by_action = manager_actions(template)
    mapping_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":lambda:eu-west-1:123456789012:event-source-mapping:",
                {"Ref": mapping_id},
            ],
        ]
    }
    assert by_action["lambda:UpdateEventSourceMapping"] == [mapping_arn]
    assert by_action["lambda:GetEventSourceMapping"] == [mapping_arn]
    granted = {
        action
        for action in by_action
        if action in ("rekognition:StartProjectVersion", "rekognition:StopProjectVersion")
    }
    assert granted == model_actions
    for action in granted:
        assert by_action[action] == [f"{MODEL_ARN.split('/version/')[0]}/version/*"]


# --- Stack -----------------------------------------------------------------------------------------------
def test_outputs_tell_operators_where_things_are(default_template):
    outputs = default_template.to_json()["Outputs"]
    assert {
        "BucketName",
        "UploadPrefix",
        "ResultsPrefix",
        "QueueUrl",
        "DeadLetterQueueUrl",
        "FunctionName",
        "ThresholdsParameter",
    } <= set(outputs)
    assert outputs["UploadPrefix"]["Value"] == "test_images/"


def test_stack_is_deployed_to_the_models_region_and_account(tmp_path):
    from stacks.application import build_app
    from support.cloudformation import synth_context

    app = build_app(synth_context(), outdir=str(tmp_path))
    [stack] = app.synth().stacks
    assert stack.environment.region == "eu-west-1"
    assert stack.environment.account == "123456789012"


@pytest.mark.parametrize(("min_confidence", "warned"), [(0.9, True), (90, False)])
def test_synth_warns_about_a_threshold_that_looks_like_a_fraction(tmp_path, min_confidence, warned):
    from aws_cdk import Stack
    from aws_cdk.assertions import Annotations

    from stacks.application import build_app
    from support.cloudformation import synth_context

    app = build_app(synth_context(min_confidence=min_confidence), outdir=str(tmp_path))
    stack = next(child for child in app.node.children if isinstance(child, Stack))
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("did you mean 90\\?"))
    assert bool(found) == warned, found


def test_the_version_in_service_and_its_drain_time_are_outputs(tmp_path):
    """What `model promote` reads: the parameter, and how long to wait after the switch before stopping the old
    version (the function's cache of the parameter, its timeout, a margin), derived from the configuration."""
    template = synth_template(tmp_path, function_timeout_seconds="120")
    outputs = template.to_json()["Outputs"]
    version_id, _ = only(
        template, "AWS::SSM::Parameter", {"Description": Match.string_like_regexp("version in service")}
    )
    assert outputs["ModelVersionParameter"]["Value"] == {"Ref": version_id}
    assert outputs["ModelVersionDrainSeconds"]["Value"] == str(60 + 120 + 30)
    [manager] = [
        resource
        for resource in template.find_resources("AWS::Lambda::Function").values()
        if "Model manager" in resource["Properties"].get("Description", "")
    ]
    assert manager["Properties"]["Environment"]["Variables"]["MODEL_VERSION_PARAMETER"] == {"Ref": version_id}
    assert manager["Properties"]["Environment"]["Variables"]["VERSION_DRAIN_SECONDS"] == str(60 + 120 + 30)
