"""IAM policy evaluation for the tests: a small evaluator of our own and principalmapper's as the reference.

`admits` decides one request against policy statements whose intrinsic functions are already resolved (see
support.cloudformation.resolve): an explicit allow and no explicit deny, as the IAM User Guide's "Policy evaluation
logic" has it within one account. It implements Action/NotAction, Resource/NotResource with IAM's wildcards,
Principal (AWS, Service, `*`) and the condition operators the stack's policies use; any other policy element or
operator raises NotImplementedError, so a verdict is never a guess. tests/unit/test_iam_evaluator.py checks it
against the documented rules and against principalmapper.

principalmapper (NCC Group's pmapper, a local policy simulator we did not write) is the reference for the access
table of tests/integration/test_access.py: `principal` and `allowed` wrap it.
"""

import collections
import collections.abc
import re

from support.aws import ACCOUNT

# principalmapper 1.1.5 still imports these ABCs from `collections` (removed in Python 3.10).
collections.Mapping, collections.MutableMapping = collections.abc.Mapping, collections.abc.MutableMapping
from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    policy_has_matching_statement,
    resource_policy_matching_statements,
)
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

TLS = {"aws:SecureTransport": "true"}
"""AWS puts aws:SecureTransport in every request's context; the tests' requests come over TLS unless they say."""


def as_list(value):
    """A policy element's value as a list: IAM accepts one string or a list of them."""
    return value if isinstance(value, list) else [value]


def wildcard(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` any one character, everything else literally."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def arn_like(pattern: str, arn: str) -> bool:
    """An ARN against an ARN pattern: each of the six colon-delimited parts on its own, with wildcards, case-sensitive
    (ArnLike and ArnEquals alike; the Resource element the same way). A pattern that is not an ARN (`*`, or a symbolic
    `<Id.Arn>/...`) is matched as a whole."""
    if not pattern.startswith("arn:"):
        return wildcard(pattern, arn)
    parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(parts) == len(arn_parts) == 6 and all(map(wildcard, parts, arn_parts))


CONDITION_OPERATORS = {
    "StringEquals": lambda expected, actual: actual in expected,
    "StringLike": lambda expected, actual: any(wildcard(pattern, actual) for pattern in expected),
    "ArnEquals": lambda expected, actual: any(arn_like(pattern, actual) for pattern in expected),
    "ArnLike": lambda expected, actual: any(arn_like(pattern, actual) for pattern in expected),
    "Bool": lambda expected, actual: actual.lower() in [value.lower() for value in expected],
}
NEGATED_OPERATORS = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def conditions_hold(conditions: dict, context: dict) -> bool:
    """Every operator, every key of it (AND), any of a key's values (OR). A key absent from the request fails a
    positive operator and passes a negated one (the IAM User Guide's "Condition operators")."""
    context = {key.lower(): value for key, value in context.items()}
    for operator, pairs in conditions.items():
        base = NEGATED_OPERATORS.get(operator, operator)
        if base not in CONDITION_OPERATORS:
            raise NotImplementedError(f"the tests' IAM evaluator does not implement the condition operator {operator}")
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            expected = [str(value) for value in as_list(expected)]
            matched = actual is not None and CONDITION_OPERATORS[base](expected, actual)
            if matched != (base == operator):  # a negated operator holds where its base does not
                return False
    return True


def principal_matches(spec, principal: tuple[str, str] | None, account: str = ACCOUNT) -> bool:
    """Whether a resource policy's Principal names `principal` ("AWS" or "Service", and its ARN or name); None is an
    identity policy's own principal. An account (its id or root ARN) names every principal of that account."""
    if principal is None:
        return True
    if spec == "*" or spec == {"AWS": "*"}:
        return True
    kind, name = principal
    named = as_list(spec.get(kind, [])) if isinstance(spec, dict) else []
    if kind == "AWS":
        return name in named or f"arn:aws:iam::{account}:root" in named or account in named
    return name in named


def _matches_any(statement, element: str, test) -> bool:
    if element in statement:
        return any(test(pattern) for pattern in as_list(statement[element]))
    return not any(test(pattern) for pattern in as_list(statement[f"Not{element}"]))


def statement_applies(statement, action, resource, principal=None, context=None, account: str = ACCOUNT) -> bool:
    """Whether `statement` speaks of this request: its action, resource, principal and conditions all match."""
    for element in ("Action", "Resource"):
        if element not in statement and f"Not{element}" not in statement:
            raise NotImplementedError(f"a statement without {element} or Not{element}: {statement}")
    if "NotPrincipal" in statement:
        raise NotImplementedError(f"the tests' IAM evaluator does not implement NotPrincipal: {statement}")
    if not _matches_any(statement, "Action", lambda pattern: wildcard(pattern, action, case_sensitive=False)):
        return False
    if not _matches_any(statement, "Resource", lambda pattern: arn_like(pattern, resource)):
        return False
    if "Principal" in statement and not principal_matches(statement["Principal"], principal, account):
        return False
    request = {**TLS, **({"aws:PrincipalArn": principal[1]} if principal and principal[0] == "AWS" else {})}
    return conditions_hold(statement.get("Condition", {}), {**request, **(context or {})})


def admits(statements, action, resource, principal=None, context=None, account: str = ACCOUNT) -> bool:
    """An explicit allow and no explicit deny for this request among `statements` (one account's identity and
    resource policies together). The request context holds aws:SecureTransport ("true" unless `context` says) and,
    for an AWS principal, aws:PrincipalArn, as AWS's does. A resource policy's statement that names the principal's
    account applies to the principal; whether that delegation grants by itself (it does not: the principal's own
    policies must allow too, and a KMS key's policy must always allow) is the caller's rule."""
    applying = [s for s in statements if statement_applies(s, action, resource, principal, context, account)]
    return any(s["Effect"] == "Allow" for s in applying) and not any(s["Effect"] == "Deny" for s in applying)


# --- the reference: principalmapper ---------------------------------------------------------------------------------
LAMBDA_TRUST = {
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
}


def principal(arn: str, *policies: dict) -> Node:
    """An IAM user or role `arn` holding `policies`, as principalmapper models it (a role is Lambda's)."""
    attached = [Policy(f"{arn}-policy-{index}", f"policy-{index}", document) for index, document in enumerate(policies)]
    trust = LAMBDA_TRUST if ":role/" in arn else None
    return Node(arn, arn.rsplit("/", 1)[-1], attached, [], trust, None, 0, False, False, None, False, {})


def allowed(who: Node, action: str, resource: str, bucket_policy: dict | None = None, **context: str) -> bool:
    """principalmapper's verdict on `who` doing `action` on `resource`, with a bucket policy of this account."""
    return local_check_authorization_full(
        who, action, resource, context, bucket_policy, ACCOUNT if bucket_policy else None
    )


def reference_admits(statements, action: str, resource: str, context: dict) -> bool:
    """principalmapper's statement matching on identity policy statements: an allow and no deny."""
    keys = CaseInsensitiveDict(context)
    policy = {"Statement": statements}
    return policy_has_matching_statement(policy, "Allow", action, resource, keys) and not (
        policy_has_matching_statement(policy, "Deny", action, resource, keys)
    )


def reference_applies(statement, caller: tuple[str, str], action: str, resource: str, context: dict) -> bool:
    """Whether principalmapper finds a resource policy's `statement` speaking of this request by `caller` ("AWS" or
    "Service", and its ARN or name, as `admits` takes it)."""
    kind, name = caller
    matching = resource_policy_matching_statements(
        principal(name) if kind == "AWS" else name,
        {"Statement": [statement]},
        action,
        resource,
        CaseInsensitiveDict(context),
    )
    return bool(matching)
