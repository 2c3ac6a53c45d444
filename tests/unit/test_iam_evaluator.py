"""support.iam, the ground truth of tests/integration/test_wiring.py and test_access.py: the tests' own evaluator
against the IAM User Guide's documented rules, and against principalmapper (a simulator we did not write), which is
itself checked first against the same guide."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from support.aws import ACCOUNT
from support.iam import (
    admits,
    allowed,
    arn_like,
    conditions_hold,
    principal,
    reference_admits,
    reference_applies,
    statement_applies,
)

pytestmark = pytest.mark.unit

ROLE = f"arn:aws:iam::{ACCOUNT}:role/writer"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/reader"
BEE = "arn:aws:s3:::images/test_images/bee.jpg"


def allow(action="*", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="*", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


# --- "Policy evaluation logic": implicit deny, explicit allow, an explicit deny wins --------------------------------
def test_without_an_allow_a_request_is_implicitly_denied():
    assert not admits([], "s3:GetObject", BEE)
    assert not admits([allow("s3:PutObject", BEE)], "s3:GetObject", BEE)
    assert admits([allow("s3:GetObject", BEE)], "s3:GetObject", BEE)


def test_an_explicit_deny_overrides_any_allow():
    """The guide's example of carlossalazar: his DenyS3Logs statement refuses his writes to a *log* bucket, and a
    bucket policy that allows him does not change that."""
    carlos = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
    identity = [
        allow(["s3:GetBucketLocation", "s3:ListAllMyBuckets"]),
        allow("s3:*", ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]),
        deny("s3:*", "arn:aws:s3:::*log*", Sid="DenyS3Logs"),
    ]
    logs_policy = [allow("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/*", Principal={"AWS": carlos})]
    assert admits(identity, "s3:PutObject", "arn:aws:s3:::carlossalazar/report.txt", ("AWS", carlos))
    assert not admits(identity + logs_policy, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/a.txt", ("AWS", carlos))
    assert admits(logs_policy, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/a.txt", ("AWS", carlos))


# --- "IAM JSON policy elements: Action / NotAction / Resource / NotResource" ----------------------------------------
@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObjectVersion", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:*Object", "s3:DeleteObject", True),
        ("s3:?utObject", "s3:PutObject", True),
        ("*", "kms:Decrypt", True),
        ("IAM:listaccesskeys", "iam:ListAccessKeys", True),  # "action names are case insensitive"
        ("s3:GetObject", "s3:GetObjectVersion", False),  # no wildcard, no prefix match
    ],
)
def test_actions_match_with_wildcards_and_without_case(pattern, action, expected):
    assert admits([allow(pattern)], action, BEE) is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:s3:::images/*", BEE, True),
        ("arn:aws:s3:::images/test_images/*.json", BEE, False),
        ("arn:aws:s3:::images/test_images/*.json", BEE + ".json", True),
        ("arn:aws:s3:::images/test_images/bee.jp?", BEE, True),
        ("arn:aws:s3:::images", BEE, False),  # the bucket is not its objects
        ("arn:aws:s3:::*log*", "arn:aws:s3:::access-logs/2026", True),
        ("arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/bob", False),  # "case sensitive"
        ("arn:aws:sqs:*:123456789012:work", "arn:aws:sqs:eu-west-1:123456789012:work", True),
        # A wildcard stays within its segment: the region's `*` does not swallow another account's id.
        ("arn:aws:sqs:*:123456789012:work", "arn:aws:sqs:eu-west-1:999999999999:123456789012:work", False),
        (
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:log-stream:x",
            True,
        ),
        ("*", "arn:aws:kms:eu-west-1:123456789012:key/k", True),
        ("<Bucket.Arn>/test_images/*", "<Bucket.Arn>/test_images/a/b.png", True),  # symbolic, as test_wiring's
    ],
)
def test_resources_match_with_wildcards_within_segments_and_with_case(pattern, resource, expected):
    assert admits([allow("s3:GetObject", pattern)], "s3:GetObject", resource) is expected


def test_not_action_allows_every_action_but_those_named():
    """The guide's NotAction example: Allow with NotAction iam:* on * allows all but IAM."""
    statements = [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]
    assert admits(statements, "s3:GetObject", BEE)
    assert not admits(statements, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x")
    denied_but_iam = [allow(), {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}]
    assert admits(denied_but_iam, "iam:ListUsers", "*") and not admits(denied_but_iam, "s3:GetObject", BEE)


def test_not_resource_denies_everything_but_the_resources_named():
    """The guide's NotResource example: a Deny with NotResource keeps the principal to one bucket."""
    statements = [
        allow("s3:*"),
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::images", "arn:aws:s3:::images/*"]},
    ]
    assert admits(statements, "s3:GetObject", BEE)
    assert not admits(statements, "s3:GetObject", "arn:aws:s3:::elsewhere/bee.jpg")


# --- "IAM JSON policy elements: Principal" ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "who", "expected"),
    [
        ("*", ("AWS", ROLE), True),
        ({"AWS": "*"}, ("AWS", ROLE), True),
        ({"AWS": ROLE}, ("AWS", ROLE), True),
        ({"AWS": [OTHER_ROLE]}, ("AWS", ROLE), False),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, ("AWS", ROLE), True),  # the account: its principals
        ({"AWS": ACCOUNT}, ("AWS", ROLE), True),
        ({"AWS": "arn:aws:iam::999999999999:root"}, ("AWS", ROLE), False),
        ({"Service": "s3.amazonaws.com"}, ("Service", "s3.amazonaws.com"), True),
        ({"Service": ["logging.s3.amazonaws.com"]}, ("Service", "s3.amazonaws.com"), False),
        ({"AWS": ROLE}, ("Service", "s3.amazonaws.com"), False),
    ],
)
def test_a_resource_policy_applies_to_the_principals_it_names(spec, who, expected):
    assert admits([allow("s3:GetObject", BEE, Principal=spec)], "s3:GetObject", BEE, who) is expected


def test_an_identity_policy_applies_to_its_own_principal():
    assert admits([allow("s3:GetObject", BEE)], "s3:GetObject", BEE, ("AWS", ROLE))


# --- "IAM JSON policy elements: Condition" and "Condition operators" -------------------------------------------------
@pytest.mark.parametrize(
    ("conditions", "context", "expected"),
    [
        ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {"aws:SourceAccount": ACCOUNT}, True),
        ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {"aws:sourceaccount": ACCOUNT}, True),  # keys: any case
        (
            {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
            {"kms:ViaService": "S3.eu-west-1.amazonaws.com"},
            False,
        ),
        (
            {"StringEquals": {"aws:SourceAccount": ["999999999999", ACCOUNT]}},
            {"aws:SourceAccount": ACCOUNT},
            True,
        ),  # OR
        ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, {}, False),  # absent: a positive operator fails
        ({"StringLike": {"s3:prefix": "test_images/*"}}, {"s3:prefix": "test_images/a/"}, True),
        ({"StringLike": {"s3:prefix": "test_images/?"}}, {"s3:prefix": "test_images/ab"}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::images*"}}, {"aws:SourceArn": "arn:aws:s3:::images-logs"}, True),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:*"}},
            {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:High"},
            True,
        ),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:*"}},
            {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:999999999999:alarm:High"},
            False,
        ),
        # ArnEquals matches as ArnLike does, wildcards included.
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::ima*"}}, {"aws:SourceArn": "arn:aws:s3:::images"}, True),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::images"}}, {"aws:SourceArn": "arn:aws:s3:::Images"}, False),
        ({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, {"aws:PrincipalArn": ROLE}, False),
        ({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, {"aws:PrincipalArn": OTHER_ROLE}, True),
        ({"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, {}, True),  # absent: a negated operator holds
        ({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, {"aws:SourceAccount": "999999999999"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
        ({"Bool": {"aws:SecureTransport": "False"}}, {"aws:SecureTransport": "false"}, True),
        # Every key of an operator and every operator must hold (AND).
        (
            {"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": "arn:aws:s3:::a"}},
            {"aws:SourceAccount": ACCOUNT},
            False,
        ),
        (
            {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": "arn:aws:s3:::a"}},
            {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": "arn:aws:s3:::a"},
            True,
        ),
        (
            {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": "arn:aws:s3:::a"}},
            {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": "arn:aws:s3:::b"},
            False,
        ),
    ],
)
def test_conditions_as_the_operators_are_documented(conditions, context, expected):
    assert conditions_hold(conditions, context) is expected


def test_the_request_context_holds_tls_and_the_principals_arn_as_awss_does():
    """aws:SecureTransport and aws:PrincipalArn are in every request AWS evaluates: a guard that lets only one writer
    through (the stack's OnlyTheInferenceFunctionWritesResults) is evaluated, never skipped for want of the key."""
    guard = deny(
        "s3:PutObject",
        "arn:aws:s3:::images/*.json",
        Principal={"AWS": "*"},
        Condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}},
    )
    statements = [allow("s3:PutObject"), guard]
    assert admits(statements, "s3:PutObject", BEE + ".json", ("AWS", ROLE))
    assert not admits(statements, "s3:PutObject", BEE + ".json", ("AWS", OTHER_ROLE))
    no_tls = deny(Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert admits([allow(), no_tls], "s3:GetObject", BEE)
    assert not admits([allow(), no_tls], "s3:GetObject", BEE, context={"aws:SecureTransport": "false"})


# --- what it does not implement, it refuses -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "operator",
    [
        "IpAddress",
        "NotIpAddress",
        "NumericLessThan",
        "DateGreaterThan",
        "Null",
        "BinaryEquals",
        "StringEqualsIgnoreCase",
        "StringEqualsIfExists",
        "ForAnyValue:StringLike",
        "ForAllValues:StringEquals",
    ],
)
def test_an_operator_it_does_not_implement_is_refused_even_when_its_key_is_absent(operator):
    """The evaluator test_wiring.py had answered False for any operator whose key was absent before it looked at the
    operator, so a Deny on ArnNotEquals aws:PrincipalArn never applied: a silent verdict."""
    with pytest.raises(NotImplementedError, match=operator):
        conditions_hold({operator: {"aws:SourceIp": "203.0.113.0/24"}}, {})
    with pytest.raises(NotImplementedError, match=operator):
        admits([deny(Condition={operator: {"aws:SourceIp": "203.0.113.0/24"}})], "s3:GetObject", BEE)


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"},
        },  # a trust policy
        {"Effect": "Allow", "Resource": "*"},
    ],
)
def test_a_statement_it_cannot_read_is_refused(statement):
    with pytest.raises(NotImplementedError):
        statement_applies(statement, "s3:GetObject", BEE, ("AWS", ROLE))


# --- the reference: principalmapper, checked against the same guide -------------------------------------------------
def test_the_reference_principalmapper_follows_awss_documented_evaluation_rules():
    """reference_policies_evaluation-logic (IAM User Guide): implicit deny by default; an explicit deny in any policy
    overrides an allow; within one account an allow in either the identity or the resource policy suffices; and the
    guide's example of the user carlossalazar whose DenyS3Logs statement refuses his writes to a *log* bucket."""
    carlos = principal(
        f"arn:aws:iam::{ACCOUNT}:user/carlossalazar",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowS3ListRead",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
                    "Resource": "*",
                },
                {
                    "Sid": "AllowS3Self",
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
                },
                {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
            ],
        },
    )
    logs_policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": carlos.arn},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::carlossalazar-logs/*",
            }
        ]
    }
    assert allowed(carlos, "s3:PutObject", "arn:aws:s3:::carlossalazar/report.txt")
    assert not allowed(carlos, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/a.txt", logs_policy)  # deny wins
    nobody = principal(f"arn:aws:iam::{ACCOUNT}:user/nobody")
    assert not allowed(nobody, "s3:GetObject", "arn:aws:s3:::carlossalazar/report.txt")  # implicit deny
    grant = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": nobody.arn},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shared/*",
            }
        ]
    }
    assert allowed(nobody, "s3:GetObject", "arn:aws:s3:::shared/a.txt", grant)  # resource policy alone, one account
    tls = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::shared/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
    admin = principal(
        f"arn:aws:iam::{ACCOUNT}:user/admin", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    assert allowed(admin, "s3:GetObject", "arn:aws:s3:::shared/a.txt", tls)
    assert not allowed(admin, "s3:GetObject", "arn:aws:s3:::shared/a.txt", tls, **{"aws:SecureTransport": "false"})


# --- ours against the reference, over many policies ----------------------------------------------------------------
# The vocabulary keeps to what both read alike. Where principalmapper departs from the guide it is left out, and the
# guide's answer is checked above: it matches resources without case (the guide: case-sensitive), lets a `*` run
# across ARN segments, gives StringNotLike false for an absent key (the guide: true), and reads "false" in a Bool as
# anything but "true".
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "sqs:SendMessage", "kms:Decrypt", "iam:CreateUser"]
ACTION_PATTERNS = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:GetObject",
    "S3:getobject",
    "s3:?utObject",
    "s3:*Object",
    "sqs:*",
    "iam:*",
]
RESOURCES = [
    BEE,
    BEE + ".json",
    "arn:aws:s3:::images",
    "arn:aws:s3:::access-logs/2026",
    "arn:aws:sqs:eu-west-1:123456789012:work",
    "arn:aws:sqs:eu-west-1:999999999999:work",
    "arn:aws:kms:eu-west-1:123456789012:key/k1",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::images",
    "arn:aws:s3:::images/*",
    "arn:aws:s3:::images/test_images/*.json",
    "arn:aws:s3:::*log*",
    "arn:aws:s3:::images/test_images/bee.jp?",
    "arn:aws:sqs:eu-west-1:123456789012:*",
    "arn:aws:sqs:*:123456789012:work",
    "arn:aws:kms:*:*:key/*",
]
CONDITIONS = [
    {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringEquals": {"aws:sourceaccount": ["999999999999", ACCOUNT]}},
    {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringLike": {"aws:SourceArn": "arn:aws:s3:::images*"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::images"}},
    {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::ima*"}},
    {"ArnNotEquals": {"aws:PrincipalArn": ROLE}},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"Bool": {"aws:SecureTransport": "true"}},
]
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "aws:SourceAccount": st.sampled_from([ACCOUNT, "999999999999"]),
        "aws:SourceArn": st.sampled_from(["arn:aws:s3:::images", "arn:aws:s3:::other"]),
        "aws:SecureTransport": st.sampled_from(["true", "false"]),
    },
)


@st.composite
def statements(draw, principals=None):
    statement = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2))
    statement["NotAction" if draw(st.integers(0, 4)) == 0 else "Action"] = actions[0] if len(actions) == 1 else actions
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2))
    statement["NotResource" if draw(st.integers(0, 4)) == 0 else "Resource"] = resources
    conditions = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))
    if conditions:
        statement["Condition"] = {operator: keys for condition in conditions for operator, keys in condition.items()}
    spec = None if principals is None else draw(st.none() | principals)
    if spec is not None:
        statement["Principal"] = spec
    return statement


@settings(max_examples=500)  # cheap examples; about one in ten is allowed
@given(
    policy=st.lists(statements(), min_size=1, max_size=4),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(RESOURCES),
    context=CONTEXTS,
)
def test_identity_policies_are_decided_as_principalmapper_decides_them(policy, action, resource, context):
    request = {"aws:SecureTransport": "true", **context}
    assert admits(policy, action, resource, None, context) is reference_admits(policy, action, resource, request)


PRINCIPAL_SPECS = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": ROLE},
        {"AWS": [OTHER_ROLE, ROLE]},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"AWS": ACCOUNT},
        {"AWS": "arn:aws:iam::999999999999:root"},
        {"Service": "s3.amazonaws.com"},
        {"Service": ["logging.s3.amazonaws.com", "cloudwatch.amazonaws.com"]},
    ]
)


@settings(max_examples=500)
@given(
    statement=statements(PRINCIPAL_SPECS),
    caller=st.sampled_from([("AWS", ROLE), ("AWS", OTHER_ROLE), ("Service", "s3.amazonaws.com")]),
    action=st.sampled_from(ACTIONS),
    resource=st.sampled_from(RESOURCES),
    context=CONTEXTS,
)
def test_resource_policy_statements_apply_to_the_callers_principalmapper_finds(
    statement, caller, action, resource, context
):
    # {"AWS": "*"} for a service principal: principalmapper says no; the guide gives "*" and {"AWS": "*"} as one, and
    # the evaluator lets such a statement (the stack's TLS deny) apply to services too.
    assume(not (caller[0] == "Service" and statement.get("Principal") == {"AWS": "*"}))
    statement.setdefault("Principal", "*")
    request = {"aws:SecureTransport": "true", **context}
    if caller[0] == "AWS":
        request["aws:PrincipalArn"] = caller[1]
    ours = statement_applies(statement, action, resource, caller, context)
    assert ours is reference_applies(statement, caller, action, resource, request)


def test_arn_like_compares_the_six_parts_one_by_one():
    assert arn_like("arn:aws:s3:::images/*", "arn:aws:s3:::images/a:b")  # the resource part may hold colons
    assert not arn_like("arn:aws:s3:::images/*", "arn:aws:s3")
    assert not arn_like("arn:aws:sqs:*:123456789012:q", "arn:aws:sqs:eu-west-1:123456789012:q:extra")
