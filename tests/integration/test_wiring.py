"""Every service-to-service integration in the synthesized template, and what lets the caller in.

The integrations are discovered from the template JSON, in every lifecycle mode: alarm actions, rule targets
and the events a rule listens to, bucket notifications, event source mappings, SNS subscriptions, server access
logging, function log groups and the key each is encrypted with, X-Ray tracing, resources a function is told about
in its environment, dead-letter queues, custom resources, and the S3 objects a function receives through a queue
(which it hands to Rekognition by reference). Each kind of integration has a rule in RULES saying what AWS
documents the receiving side needs: its resource policy, key policy or the caller's role, evaluated here with
the request AWS would see (principal, action, resource, aws:SourceArn, aws:SourceAccount, TLS). An integration of
a kind without a rule fails `test_every_integration_has_a_rule`: the next one added cannot be forgotten.

References are resolved to logical ids (Ref, Fn::GetAtt: support.cloudformation.resolve), never to hard-coded ids.
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from customlabels.config_model_manager import MODEL_LIFECYCLES
from customlabels_runtime.contract import RESULT_SUFFIX
from support.aws import ACCOUNT, REGION
from support.cloudformation import PSEUDO_PARAMETERS, resolve, symbolic, synth_template
from support.iam import TLS, admits, as_list, statement_applies

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=MODEL_LIFECYCLES)
def resources(request, tmp_path_factory):
    template = synth_template(
        tmp_path_factory.mktemp(request.param), model_lifecycle=request.param, alarm_email="ops@example.com"
    )
    return template.to_json()["Resources"]


# --- the template as data ----------------------------------------------------------------------------------
def target_id(value) -> str | None:
    """The logical id a Ref or Fn::GetAtt points at (None for a literal)."""
    if isinstance(value, dict) and "Ref" in value and value["Ref"] not in PSEUDO_PARAMETERS:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return None


def of_type(resources, resource_type):
    return {k: v for k, v in resources.items() if v["Type"] == resource_type}


def arn(logical_id: str) -> str:
    return symbolic(logical_id, "Arn")


# --- the policies of the template, resolved (support.iam evaluates them) ------------------------------
def role_statements(resources, role_id):
    statements = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for policy in resources[role_id]["Properties"].get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return resolve(statements)


def resource_policy(resources, policy_type, list_key, target):
    statements = []
    for policy in of_type(resources, policy_type).values():
        if {"Ref": target} in as_list(policy["Properties"][list_key]):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return resolve(statements)


def bucket_policy(resources, bucket_id):
    return resolve(
        [
            s
            for p in of_type(resources, "AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": bucket_id}
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
    )


def key_statements(resources, key_id):
    return resolve(resources[key_id]["Properties"]["KeyPolicy"]["Statement"])


def role_of(resources, function_id) -> str:
    role_id = target_id(resources[function_id]["Properties"]["Role"])
    assert role_id in resources, f"{function_id}'s role is not in the template"
    return role_id


def role_can(resources, role_id, action, resource) -> bool:
    return admits(role_statements(resources, role_id), action, resource)


def role_can_use_key(resources, role_id, key_id, action) -> bool:
    """A role uses a key when the key policy admits the account's IAM policies (or the role) and the role's
    policies allow the action on the key."""
    return admits(key_statements(resources, key_id), action, arn(key_id), ("AWS", arn(role_id))) and role_can(
        resources, role_id, action, arn(key_id)
    )


def service_can_use_key(resources, key_id, service, actions, context) -> list[str]:
    return [
        f"key {key_id} does not let {service} {action} with {context}"
        for action in actions
        if not admits(key_statements(resources, key_id), action, arn(key_id), ("Service", service), context)
    ]


def queue_key(resources, queue_id) -> str | None:
    return target_id(resources[queue_id]["Properties"].get("KmsMasterKeyId"))


def bucket_key(resources, bucket_id) -> str | None:
    rules = resources[bucket_id]["Properties"].get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    for rule in rules:
        default = rule["ServerSideEncryptionByDefault"]
        if default["SSEAlgorithm"].startswith("aws:kms"):
            return target_id(default["KMSMasterKeyID"])
    return None


# --- discovery ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Integration:
    kind: tuple[str, str]
    source: str
    target: str | None
    details: tuple = ()


def type_of(resources, value) -> str:
    logical_id = target_id(value)
    return resources[logical_id]["Type"] if logical_id in resources else f"external {resolve(value)}"


def notification_configurations(resources):
    """(bucket id, configuration) for CDK's notification custom resource and a bucket's own property."""
    for resource in resources.values():
        if resource["Type"] == "Custom::S3BucketNotifications":
            yield target_id(resource["Properties"]["BucketName"]), resource["Properties"]["NotificationConfiguration"]
    for bucket_id, bucket in of_type(resources, "AWS::S3::Bucket").items():
        if "NotificationConfiguration" in bucket["Properties"]:
            yield bucket_id, bucket["Properties"]["NotificationConfiguration"]


def integrations(resources) -> list[Integration]:
    found = []
    for alarm_id, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for action in alarm["Properties"].get(key, []):
                found.append(
                    Integration(("AWS::CloudWatch::Alarm", type_of(resources, action)), alarm_id, target_id(action))
                )
    for rule_id, rule in of_type(resources, "AWS::Events::Rule").items():
        for target in rule["Properties"].get("Targets", []):
            found.append(
                Integration(("AWS::Events::Rule", type_of(resources, target["Arn"])), rule_id, target_id(target["Arn"]))
            )
        if "ScheduleExpression" in rule["Properties"]:
            found.append(Integration(("schedule", "AWS::Events::Rule"), "EventBridge Scheduler", rule_id))
        for source in rule["Properties"].get("EventPattern", {}).get("source", []):
            found.append(Integration((f"events from {source}", "AWS::Events::Rule"), source, rule_id))
    for bucket_id, configuration in notification_configurations(resources):
        for key, target_key in (
            ("QueueConfigurations", "QueueArn"),
            ("TopicConfigurations", "TopicArn"),
            ("LambdaConfigurations", "Function"),
            ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
        ):
            for entry in configuration.get(key, []):
                found.append(
                    Integration(
                        ("AWS::S3::Bucket", type_of(resources, entry[target_key])),
                        bucket_id,
                        target_id(entry[target_key]),
                        (_filter(entry),),
                    )
                )
        if "EventBridgeConfiguration" in configuration:
            found.append(
                Integration(
                    ("AWS::S3::Bucket", "EventBridge"), bucket_id, None, (configuration["EventBridgeConfiguration"],)
                )
            )
    for mapping_id, mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").items():
        found.append(
            Integration(
                (type_of(resources, mapping["Properties"]["EventSourceArn"]), "AWS::Lambda::EventSourceMapping"),
                target_id(mapping["Properties"]["EventSourceArn"]),
                mapping_id,
            )
        )
    for subscription_id, subscription in of_type(resources, "AWS::SNS::Subscription").items():
        found.append(
            Integration(
                ("AWS::SNS::Topic", f"subscription {subscription['Properties']['Protocol']}"),
                target_id(subscription["Properties"]["TopicArn"]),
                subscription_id,
            )
        )
    for topic_id, topic in of_type(resources, "AWS::SNS::Topic").items():
        for subscription in topic["Properties"].get("Subscription", []):
            found.append(
                Integration(("AWS::SNS::Topic", f"inline subscription {subscription['Protocol']}"), topic_id, None)
            )
    for bucket_id, bucket in of_type(resources, "AWS::S3::Bucket").items():
        if "LoggingConfiguration" in bucket["Properties"]:
            logging = bucket["Properties"]["LoggingConfiguration"]
            found.append(
                Integration(
                    ("AWS::S3::Bucket", "server access logs"),
                    bucket_id,
                    target_id(logging["DestinationBucketName"]),
                    (logging.get("LogFilePrefix", ""),),
                )
            )
    for queue_id, queue in of_type(resources, "AWS::SQS::Queue").items():
        if "RedrivePolicy" in queue["Properties"]:
            dlq = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
            found.append(
                Integration(("AWS::SQS::Queue", f"dead-letter {type_of(resources, dlq)}"), queue_id, target_id(dlq))
            )
    for function_id, function in of_type(resources, "AWS::Lambda::Function").items():
        props = function["Properties"]
        if "LoggingConfig" in props and "LogGroup" in props["LoggingConfig"]:
            found.append(
                Integration(
                    ("AWS::Lambda::Function", type_of(resources, props["LoggingConfig"]["LogGroup"])),
                    function_id,
                    target_id(props["LoggingConfig"]["LogGroup"]),
                )
            )
        if props.get("TracingConfig", {}).get("Mode") == "Active":
            found.append(Integration(("AWS::Lambda::Function", "X-Ray"), function_id, None))
        for name, value in props.get("Environment", {}).get("Variables", {}).items():
            if target_id(value):
                found.append(
                    Integration(
                        ("AWS::Lambda::Function environment", type_of(resources, value)),
                        function_id,
                        target_id(value),
                        (name,),
                    )
                )
    for log_group_id, log_group in of_type(resources, "AWS::Logs::LogGroup").items():
        if "KmsKeyId" in log_group["Properties"]:
            found.append(
                Integration(
                    ("AWS::Logs::LogGroup", type_of(resources, log_group["Properties"]["KmsKeyId"])),
                    log_group_id,
                    target_id(log_group["Properties"]["KmsKeyId"]),
                    (resolve(log_group["Properties"]["LogGroupName"]),),
                )
            )
    for resource_id, resource in resources.items():
        if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource":
            token = resource["Properties"]["ServiceToken"]
            found.append(
                Integration(("AWS::CloudFormation::Stack", type_of(resources, token)), resource_id, target_id(token))
            )
    found += handed_over_objects(resources, found)
    return found


def _filter(entry) -> tuple[str, str]:
    rules = {r["Name"].lower(): r["Value"] for r in entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])}
    return rules.get("prefix", ""), rules.get("suffix", "")


def handed_over_objects(resources, found) -> list[Integration]:
    """A bucket notifies a queue that a function consumes: the function gets the bucket's objects."""
    result = []
    for notification in [i for i in found if i.kind == ("AWS::S3::Bucket", "AWS::SQS::Queue")]:
        for mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").values():
            if target_id(mapping["Properties"]["EventSourceArn"]) == notification.target:
                function_id = target_id(mapping["Properties"]["FunctionName"])
                result.append(
                    Integration(
                        ("S3 objects", "AWS::Lambda::Function"), notification.source, function_id, notification.details
                    )
                )
    return result


# --- the rules: what AWS documents the receiving side needs -------------------------------------------------
Problems = list[str]


def alarm_to_topic(resources, i: Integration) -> Problems:
    """CloudWatch publishes as cloudwatch.amazonaws.com with the alarm's ARN as aws:SourceArn; an encrypted
    topic's key must let it Decrypt and GenerateDataKey (SNS docs, "Key management", compatibility with AWS
    services; re:Post "cloudwatch-receive-sns-for-alarm-trigger" and "cloudwatch-configure-alarm-sns")."""
    alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{i.source}-GENERATEDNAME"
    context = {"aws:SourceArn": alarm_arn, "aws:SourceAccount": ACCOUNT}
    problems = []
    topic_policy = resource_policy(resources, "AWS::SNS::TopicPolicy", "Topics", i.target)
    if not admits(topic_policy, "sns:Publish", f"<{i.target}>", ("Service", "cloudwatch.amazonaws.com"), context):
        problems.append(f"topic {i.target} does not let alarm {i.source} publish")
    foreign = {"aws:SourceArn": alarm_arn.replace(ACCOUNT, "999999999999"), "aws:SourceAccount": "999999999999"}
    if admits(topic_policy, "sns:Publish", f"<{i.target}>", ("Service", "cloudwatch.amazonaws.com"), foreign):
        problems.append(f"topic {i.target} lets another account's alarms publish")
    key_id = target_id(resources[i.target]["Properties"].get("KmsMasterKeyId"))
    if key_id:
        problems += service_can_use_key(
            resources, key_id, "cloudwatch.amazonaws.com", ["kms:Decrypt", "kms:GenerateDataKey"], context
        )
    return problems


def rule_to_function(resources, i: Integration) -> Problems:
    """EventBridge invokes a function only with a resource-based permission for events.amazonaws.com, scoped
    to the rule by SourceArn (Lambda docs, "Using resource-based policies for Lambda", EventBridge)."""
    for permission in of_type(resources, "AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if (
            target_id(props["FunctionName"]) == i.target
            and props["Action"] == "lambda:InvokeFunction"
            and props["Principal"] == "events.amazonaws.com"
            and resolve(props.get("SourceArn", "")) == arn(i.source)
            and resolve(props.get("SourceAccount", ACCOUNT)) == ACCOUNT
        ):
            return []
    return [f"no lambda:InvokeFunction permission for events.amazonaws.com from rule {i.source} on {i.target}"]


def scheduled(resources, i: Integration) -> Problems:
    """A schedule needs no permission of its own; its target is checked as a rule target."""
    expression = resources[i.target]["Properties"]["ScheduleExpression"]
    return (
        []
        if re.fullmatch(r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\)", expression)
        else [f"{i.target}: {expression} is not a schedule expression"]
    )


def s3_events_to_rule(resources, i: Integration) -> Problems:
    """S3 sends events to EventBridge only from buckets with EventBridge notifications enabled; the rule must
    name such a bucket (S3 docs, "Using EventBridge")."""
    names = resources[i.target]["Properties"]["EventPattern"].get("detail", {}).get("bucket", {}).get("name", [])
    enabled = {
        bucket
        for bucket, configuration in notification_configurations(resources)
        if "EventBridgeConfiguration" in configuration
        and configuration["EventBridgeConfiguration"].get("EventBridgeEnabled", True) is not False
    }
    buckets = [target_id(name) for name in names]
    if not buckets or not all(bucket in enabled for bucket in buckets):
        return [f"rule {i.target} listens to buckets {buckets}, EventBridge is enabled on {sorted(enabled)}"]
    return []


def bucket_to_eventbridge(resources, i: Integration) -> Problems:
    """The default event bus accepts S3's events without a policy; the configuration must enable them."""
    enabled = i.details[0].get("EventBridgeEnabled", True) is not False
    listened = any(
        target_id(name) == i.source
        for rule in of_type(resources, "AWS::Events::Rule").values()
        for name in rule["Properties"].get("EventPattern", {}).get("detail", {}).get("bucket", {}).get("name", [])
    )
    return (
        [] if enabled and listened else [f"bucket {i.source}: EventBridge enabled={enabled}, a rule listens={listened}"]
    )


def bucket_to_queue(resources, i: Integration) -> Problems:
    """S3 sends as s3.amazonaws.com with the bucket as aws:SourceArn; the queue policy must allow
    sqs:SendMessage and an SSE-KMS queue's key must let S3 GenerateDataKey and Decrypt (S3 docs, "Granting
    permissions to publish event notification messages to a destination")."""
    context = {"aws:SourceArn": arn(i.source), "aws:SourceAccount": ACCOUNT}
    problems = []
    policy = resource_policy(resources, "AWS::SQS::QueuePolicy", "Queues", i.target)
    if not admits(policy, "sqs:SendMessage", arn(i.target), ("Service", "s3.amazonaws.com"), context):
        problems.append(f"queue {i.target} does not let bucket {i.source} send")
    other_bucket = {"aws:SourceArn": "arn:aws:s3:::someone-elses-bucket", "aws:SourceAccount": ACCOUNT}
    if admits(policy, "sqs:SendMessage", arn(i.target), ("Service", "s3.amazonaws.com"), other_bucket):
        problems.append(f"queue {i.target} lets any bucket send")
    key_id = queue_key(resources, i.target)
    if key_id:
        problems += service_can_use_key(
            resources, key_id, "s3.amazonaws.com", ["kms:GenerateDataKey", "kms:Decrypt"], context
        )
    return problems


def queue_to_function(resources, i: Integration) -> Problems:
    """Lambda polls with the function's role: sqs:ReceiveMessage, DeleteMessage, GetQueueAttributes and, for
    an SSE-KMS queue, kms:Decrypt (AWSLambdaSQSQueueExecutionRole; Lambda docs, "Using Lambda with SQS");
    the queue's visibility timeout must be at least the function's timeout."""
    mapping = resources[i.target]["Properties"]
    function_id = target_id(mapping["FunctionName"])
    role_id = role_of(resources, function_id)
    problems = [
        f"{role_id} cannot {action} on {i.source}"
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
        if not role_can(resources, role_id, action, arn(i.source))
    ]
    queue_policy = resource_policy(resources, "AWS::SQS::QueuePolicy", "Queues", i.source)
    if queue_policy and any(
        s["Effect"] == "Deny" and statement_applies(s, "sqs:ReceiveMessage", arn(i.source), ("AWS", arn(role_id)), TLS)
        for s in queue_policy
    ):
        problems.append(f"queue {i.source}'s policy denies {role_id}")
    key_id = queue_key(resources, i.source)
    if key_id and not role_can_use_key(resources, role_id, key_id, "kms:Decrypt"):
        problems.append(f"{role_id} cannot kms:Decrypt with {key_id}")
    timeout = resources[function_id]["Properties"].get("Timeout", 3)
    if resources[i.source]["Properties"].get("VisibilityTimeout", 30) < timeout:
        problems.append(f"queue {i.source}'s visibility timeout is below {function_id}'s timeout")
    return problems


def objects_to_function(resources, i: Integration) -> Problems:
    """The function gets the bucket's objects by key and version. Rekognition reads an S3Object with the
    caller's credentials: s3:GetObject, s3:GetObjectVersion when a Version is sent (the handler sends it), and
    kms:Decrypt for SSE-KMS (Rekognition docs, DetectCustomLabels; "Custom Labels: accessing images in S3").
    Results go next to the image: s3:PutObject under RESULTS_PREFIX and kms:GenerateDataKey on the key."""
    prefix, suffix = i.details[0]
    role_id = role_of(resources, i.target)
    variables = resources[i.target]["Properties"].get("Environment", {}).get("Variables", {})
    image = f"{prefix}some/folder/image{suffix}"
    problems = [
        f"{role_id} cannot {action} on {image} in {i.source}"
        for action in ("s3:GetObject", "s3:GetObjectVersion")
        if not role_can(resources, role_id, action, f"{arn(i.source)}/{image}")
    ]
    if "MODEL_ARN" not in variables or not role_can(
        resources, role_id, "rekognition:DetectCustomLabels", variables.get("MODEL_ARN", "")
    ):
        problems.append(f"{role_id} cannot DetectCustomLabels with the configured model")
    if "RESULTS_PREFIX" not in variables:
        problems.append(f"{i.target} receives {i.source}'s objects but its environment names no RESULTS_PREFIX")
    else:
        relative = image.removeprefix(variables.get("INPUT_PREFIX", ""))
        result = f"{variables['RESULTS_PREFIX']}{relative}{RESULT_SUFFIX}"
        if not role_can(resources, role_id, "s3:PutObject", f"{arn(i.source)}/{result}"):
            problems.append(f"{role_id} cannot write {result} to {i.source}")
        if any(
            s["Effect"] == "Deny"
            and statement_applies(s, "s3:PutObject", f"{arn(i.source)}/{result}", ("AWS", arn(role_id)), TLS)
            for s in bucket_policy(resources, i.source)
        ):
            problems.append(f"bucket {i.source}'s policy denies {role_id} writing {result}")
    key_id = bucket_key(resources, i.source)
    for action in ("kms:Decrypt", "kms:GenerateDataKey") if key_id else ():
        if not role_can_use_key(resources, role_id, key_id, action):
            problems.append(f"{role_id} cannot {action} with {key_id}, which encrypts {i.source}")
    problems += [
        f"bucket {i.source}'s policy denies {role_id} {action}"
        for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject")
        if any(
            s["Effect"] == "Deny"
            and statement_applies(s, action, f"{arn(i.source)}/{image}", ("AWS", arn(role_id)), TLS)
            for s in bucket_policy(resources, i.source)
        )
    ]
    return problems


def topic_to_email(resources, i: Integration) -> Problems:
    """An e-mail subscription needs no policy; SNS asks the address to confirm. It must name an address and
    the topic must be in the template."""
    props = resources[i.target]["Properties"]
    if i.source not in resources or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", props["Endpoint"]):
        return [f"subscription {i.target}: {props['Endpoint']!r} to {i.source}"]
    return []


def access_logs(resources, i: Integration) -> Problems:
    """S3 delivers server access logs as logging.s3.amazonaws.com: the target bucket's policy must allow
    s3:PutObject under the prefix for the source bucket and account, and the target must not use SSE-KMS
    (S3 docs, "Enabling Amazon S3 server access logging")."""
    context = {"aws:SourceArn": arn(i.source), "aws:SourceAccount": ACCOUNT}
    problems = []
    if not admits(
        bucket_policy(resources, i.target),
        "s3:PutObject",
        f"{arn(i.target)}/{i.details[0]}2026-log",
        ("Service", "logging.s3.amazonaws.com"),
        context,
    ):
        problems.append(f"log bucket {i.target} does not let {i.source}'s logs in")
    if bucket_key(resources, i.target):
        problems.append(f"log bucket {i.target} uses SSE-KMS, which log delivery cannot write")
    return problems


def function_logs(resources, i: Integration) -> Problems:
    """Lambda writes logs with the function's role: logs:CreateLogStream and logs:PutLogEvents on the log group
    (its Arn attribute already ends in `:*`, which covers its streams)."""
    role_id = role_of(resources, i.source)
    return [
        f"{role_id} cannot {action} in {i.target}"
        for action in ("logs:CreateLogStream", "logs:PutLogEvents")
        if not role_can(resources, role_id, action, arn(i.target))
    ]


LOGS_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey"]


def encrypted_log_group(resources, i: Integration) -> Problems:
    """CloudWatch Logs encrypts a log group's events itself, as logs.<region>.amazonaws.com with the log group's ARN
    as the encryption context `aws:logs:arn`: the key policy must let it, for this log group (CloudWatch Logs docs,
    "Encrypt log data in CloudWatch Logs using AWS KMS"), and no other."""
    [name] = i.details

    def context(log_group):
        return {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}"}

    service = f"logs.{REGION}.amazonaws.com"
    problems = service_can_use_key(resources, i.target, service, LOGS_KEY_ACTIONS, context(name))
    if not service_can_use_key(resources, i.target, service, LOGS_KEY_ACTIONS, context("another-log-group")):
        problems.append(f"key {i.target} lets {service} encrypt any log group, not only {name}")
    return problems


def traced(resources, i: Integration) -> Problems:
    """Active tracing: Lambda sends the segments with the function's role, which needs xray:PutTraceSegments and
    xray:PutTelemetryRecords (X-Ray has no resource-level permissions for them: Resource *)."""
    role_id = role_of(resources, i.source)
    return [
        f"{role_id} cannot {action} (active tracing)"
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
        if not role_can(resources, role_id, action, "*")
    ]


def function_knows(actions: dict[str, list[str]], arn_of: Callable[[dict, str], str]):
    """A function told about a resource in its environment calls it with its role: `actions` per variable
    (`*` for any other variable)."""

    def rule(resources, i: Integration) -> Problems:
        variable = i.details[0]
        needed = actions.get(variable, actions.get("*"))
        if needed is None:
            return [f"{i.source}'s {variable} names {i.target}: add what it calls to the rule"]
        role_id = role_of(resources, i.source)
        return [
            f"{role_id} cannot {action} on {i.target} ({variable})"
            for action in needed
            if not role_can(resources, role_id, action, arn_of(resources, i.target))
        ]

    return rule


def parameter_arn(resources, parameter_id):
    return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/<{parameter_id}>"


def mapping_arn(resources, mapping_id):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:<{mapping_id}>"


def queue_to_dlq(resources, i: Integration) -> Problems:
    """SQS moves messages to a dead-letter queue itself; no policy is involved. It must be of the same type."""
    fifo = [resources[q]["Properties"].get("FifoQueue", False) for q in (i.source, i.target)]
    return [] if fifo[0] == fifo[1] else [f"{i.source} and its DLQ {i.target} differ in type"]


def custom_resource(resources, i: Integration) -> Problems:
    """CloudFormation invokes a custom resource's function with the deploying role: no function policy needed;
    the function must be in the stack."""
    return [] if i.target in resources else [f"custom resource {i.source}'s provider is outside the template"]


RULES: dict[tuple[str, str], Callable[[dict, Integration], Problems]] = {
    ("AWS::CloudWatch::Alarm", "AWS::SNS::Topic"): alarm_to_topic,
    ("AWS::Events::Rule", "AWS::Lambda::Function"): rule_to_function,
    ("schedule", "AWS::Events::Rule"): scheduled,
    ("events from aws.s3", "AWS::Events::Rule"): s3_events_to_rule,
    ("AWS::S3::Bucket", "EventBridge"): bucket_to_eventbridge,
    ("AWS::S3::Bucket", "AWS::SQS::Queue"): bucket_to_queue,
    ("AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping"): queue_to_function,
    ("S3 objects", "AWS::Lambda::Function"): objects_to_function,
    ("AWS::SNS::Topic", "subscription email"): topic_to_email,
    ("AWS::S3::Bucket", "server access logs"): access_logs,
    ("AWS::Lambda::Function", "AWS::Logs::LogGroup"): function_logs,
    ("AWS::Logs::LogGroup", "AWS::KMS::Key"): encrypted_log_group,
    ("AWS::Lambda::Function", "X-Ray"): traced,
    ("AWS::Lambda::Function environment", "AWS::SQS::Queue"): function_knows(
        {"QUEUE_URL": ["sqs:GetQueueAttributes"]}, lambda r, q: arn(q)
    ),
    ("AWS::Lambda::Function environment", "AWS::SSM::Parameter"): function_knows(
        {
            "THRESHOLDS_PARAMETER": ["ssm:GetParameter"],
            "STATE_PARAMETER": ["ssm:GetParameter", "ssm:PutParameter"],
            # both functions read it; the manager's PutParameter is in tests/integration/test_access.py's table
            "MODEL_VERSION_PARAMETER": ["ssm:GetParameter"],
        },
        parameter_arn,
    ),
    # The manager gates the inference event source in every lifecycle mode.
    ("AWS::Lambda::Function environment", "AWS::Lambda::EventSourceMapping"): function_knows(
        {"MAPPING_UUID": ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"]}, mapping_arn
    ),
    ("AWS::SQS::Queue", "dead-letter AWS::SQS::Queue"): queue_to_dlq,
    ("AWS::CloudFormation::Stack", "AWS::Lambda::Function"): custom_resource,
}


def problems_of(resources) -> list[str]:
    found = integrations(resources)
    problems = [
        f"{i.kind}: {i.source} -> {i.target} has no rule in tests/integration/test_wiring.py RULES"
        for i in found
        if i.kind not in RULES
    ]
    for i in found:
        if i.kind in RULES:
            problems += RULES[i.kind](resources, i)
    return problems


# --- tests --------------------------------------------------------------------------------------------------
def test_every_integration_has_a_rule(resources):
    missing = sorted({i.kind for i in integrations(resources)} - set(RULES))
    assert missing == [], f"integrations without a rule: {missing}"


def test_every_integration_is_admitted_as_aws_documents_it(resources):
    assert problems_of(resources) == []


def test_the_expected_integrations_are_found(resources):
    kinds = {i.kind for i in integrations(resources)}
    assert kinds >= {
        ("AWS::CloudWatch::Alarm", "AWS::SNS::Topic"),
        ("AWS::Events::Rule", "AWS::Lambda::Function"),
        ("AWS::S3::Bucket", "AWS::SQS::Queue"),
        ("AWS::S3::Bucket", "EventBridge"),
        ("events from aws.s3", "AWS::Events::Rule"),
        ("AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping"),
        ("S3 objects", "AWS::Lambda::Function"),
        ("AWS::SNS::Topic", "subscription email"),
        ("AWS::S3::Bucket", "server access logs"),
        ("AWS::Lambda::Function environment", "AWS::Lambda::EventSourceMapping"),
        ("AWS::Logs::LogGroup", "AWS::KMS::Key"),
        ("AWS::Lambda::Function", "X-Ray"),
    }
    functions = len(of_type(resources, "AWS::Lambda::Function")) - 1  # CDK's bucket-notification handler
    assert len([i for i in integrations(resources) if i.kind == ("AWS::Logs::LogGroup", "AWS::KMS::Key")]) == functions
    assert len([i for i in integrations(resources) if i.kind == ("AWS::Lambda::Function", "X-Ray")]) == functions
    alarms = [i for i in integrations(resources) if i.kind == ("AWS::CloudWatch::Alarm", "AWS::SNS::Topic")]
    assert len(alarms) == len(of_type(resources, "AWS::CloudWatch::Alarm"))
    handed_over = [i for i in integrations(resources) if i.kind == ("S3 objects", "AWS::Lambda::Function")]
    assert len(handed_over) == 6  # one per image suffix


# The rules can fail: each breaks one side of one integration and expects the problem to be named.
def without_statements(resources, resource_type, predicate):
    broken = copy.deepcopy(resources)
    for resource in of_type(broken, resource_type).values():
        if resource_type == "AWS::KMS::Key":
            document = resource["Properties"]["KeyPolicy"]
        elif resource_type == "AWS::IAM::Policy" or "PolicyDocument" in resource["Properties"]:
            document = resource["Properties"]["PolicyDocument"]
        else:
            continue
        document["Statement"] = [s for s in document["Statement"] if not predicate(s)]
    return broken


def mentions(*texts):
    return lambda statement: all(text in str(statement) for text in texts)


@pytest.mark.parametrize(
    ("resource_type", "predicate", "expected"),
    [
        ("AWS::SNS::TopicPolicy", mentions("cloudwatch.amazonaws.com"), "does not let alarm"),
        ("AWS::KMS::Key", mentions("cloudwatch.amazonaws.com"), "cloudwatch.amazonaws.com kms:Decrypt"),
        ("AWS::SQS::QueuePolicy", mentions("s3.amazonaws.com"), "does not let bucket"),
        ("AWS::KMS::Key", mentions("s3.amazonaws.com"), "s3.amazonaws.com kms:GenerateDataKey"),
        ("AWS::IAM::Policy", mentions("s3:GetObjectVersion"), "cannot s3:GetObjectVersion"),
        ("AWS::IAM::Policy", mentions("s3:PutObject"), "cannot write"),
        ("AWS::IAM::Policy", mentions("kms:Decrypt"), "cannot kms:Decrypt"),
        ("AWS::IAM::Policy", mentions("sqs:DeleteMessage"), "cannot sqs:DeleteMessage"),
        ("AWS::IAM::Policy", mentions("lambda:UpdateEventSourceMapping"), "cannot lambda:UpdateEventSourceMapping"),
        ("AWS::S3::BucketPolicy", mentions("logging.s3.amazonaws.com"), "does not let"),
        ("AWS::KMS::Key", mentions("logs.eu-west-1.amazonaws.com"), "does not let logs.eu-west-1.amazonaws.com"),
        ("AWS::IAM::Policy", mentions("xray:PutTraceSegments"), "cannot xray:PutTraceSegments"),
    ],
)
def test_a_missing_grant_is_named(resources, resource_type, predicate, expected):
    assert problems_of(resources) == []
    broken = without_statements(resources, resource_type, predicate)
    assert any(expected in problem for problem in problems_of(broken)), problems_of(broken)


def test_a_result_guard_that_shuts_out_the_function_is_named(resources):
    """The bucket policy's OnlyTheInferenceFunctionWritesResults denies every writer of results but the function
    (ArnNotEquals aws:PrincipalArn). Naming another writer shows as the function denied; the evaluator this file
    had before support.iam skipped that deny unread (no aws:PrincipalArn in its requests)."""
    broken = copy.deepcopy(resources)
    for policy in of_type(broken, "AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "ArnNotEquals" in statement.get("Condition", {}):
                statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [f"arn:aws:iam::{ACCOUNT}:role/other"]
    assert problems_of(resources) == []
    assert any("policy denies" in p and "writing" in p for p in problems_of(broken)), problems_of(broken)


def test_a_permission_scoped_to_another_account_or_no_permission_is_named(resources):
    broken = copy.deepcopy(resources)
    for permission in of_type(broken, "AWS::Lambda::Permission").values():
        permission["Properties"]["SourceAccount"] = "999999999999"
    assert any("no lambda:InvokeFunction permission" in p for p in problems_of(broken))
    for permission_id in of_type(broken, "AWS::Lambda::Permission"):
        del broken[permission_id]
    assert any("no lambda:InvokeFunction permission" in p for p in problems_of(broken))


def test_a_topic_open_to_every_alarm_of_every_account_is_named(resources):
    broken = copy.deepcopy(resources)
    for policy in of_type(broken, "AWS::SNS::TopicPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                statement.pop("Condition", None)
    assert any("another account's alarms" in p for p in problems_of(broken))


def test_an_integration_without_a_rule_fails(resources):
    broken = copy.deepcopy(resources)
    [(alarm_id, alarm)] = list(of_type(broken, "AWS::CloudWatch::Alarm").items())[:1]
    alarm["Properties"]["OKActions"] = [f"arn:aws:automate:{REGION}:ec2:stop"]
    [(rule_id, rule)] = list(of_type(broken, "AWS::Events::Rule").items())[:1]
    queue_id = next(iter(of_type(broken, "AWS::SQS::Queue")))
    rule["Properties"]["Targets"].append({"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}, "Id": "Queue"})
    problems = problems_of(broken)
    assert any("external arn:aws:automate" in p and alarm_id in p for p in problems), problems
    assert any("('AWS::Events::Rule', 'AWS::SQS::Queue')" in p and rule_id in p for p in problems), problems
