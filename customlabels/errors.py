"""The command line's one error boundary: what went wrong in words a user can act on, never a traceback.

`explain` turns the errors that reach `main()` from AWS, the file system and the configuration into one or
two lines naming the problem and the fix; anything it does not know is a bug and keeps its traceback.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from customlabels.config import ConfigError


class CommandError(Exception):
    """A problem the user can fix, already said in words that name it and the fix: printed as is, exit 1.

    Library code raises it (or its own typed errors) instead of `SystemExit`, so that it stays callable from
    tests and other programs; only `main()` decides how a problem ends the process."""

CLIENT_ERROR_FIXES = {
    "AccessDenied": "the credentials in use lack this permission: use a role or user allowed to operate the "
                    "pipeline (README, 'Who can do what')",
    "AccessDeniedException": "the credentials in use lack this permission: use a role or user allowed to operate "
                             "the pipeline (README, 'Who can do what')",
    "UnrecognizedClientException": "the credentials are not valid: check AWS_PROFILE or `aws configure`",
    "InvalidClientTokenId": "the credentials are not valid: check AWS_PROFILE or `aws configure`",
    "ExpiredToken": "the session credentials have expired: refresh them (for SSO: aws sso login)",
    "ExpiredTokenException": "the session credentials have expired: refresh them (for SSO: aws sso login)",
    "ThrottlingException": "AWS is throttling the account's requests: try again in a minute",
    "Throttling": "AWS is throttling the account's requests: try again in a minute",
    "NoSuchBucket": "pass the pipeline's bucket (--bucket) or its stack (--stack), in the stack's region",
}


def explain(error: BaseException) -> str | None:
    """One or two lines naming the problem and the fix; None for an error that is a bug."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return ("No AWS credentials found. Fix: run `aws configure` (or `aws sso login`), or set AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Local runs need none: customlabels local run.")
    if isinstance(error, NoRegionError):
        return ("No AWS region set. Fix: set AWS_DEFAULT_REGION to the stack's region (e.g. export "
                "AWS_DEFAULT_REGION=eu-west-1), or `aws configure set region REGION`.")
    if isinstance(error, EndpointConnectionError):
        return (f"Could not reach {error.kwargs.get('endpoint_url', 'AWS')}. Fix: check the network and the region; "
                "for a local stack, that `customlabels local serve` still runs and the AWS_ENDPOINT_URL_* "
                "variables point at it.")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message", "")
        operation = getattr(error, "operation_name", "the request")
        if code == "ValidationError" and "does not exist" in message:
            fix = "deploy the stack first (make deploy), or pass --stack with the name `cdk deploy` printed"
        else:
            fix = CLIENT_ERROR_FIXES.get(code, "see the message above")
        return f"AWS refused {operation}: {code}: {message}\nFix: {fix}"
    if isinstance(error, ConfigError | CommandError):
        return str(error)
    if isinstance(error, IsADirectoryError | NotADirectoryError | FileExistsError | FileNotFoundError |
                  PermissionError):
        return f"{error.filename}: {error.strerror}. Fix: check the path."
    if isinstance(error, UnicodeDecodeError):
        return f"not a UTF-8 text file ({error.reason}): give the JSON or manifest file itself"
    return None
