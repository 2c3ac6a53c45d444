"""Running a function's bundled asset as the Lambda runtime would: in a clean interpreter with only the asset (its
task root) and boto3 (the runtime's own) on the path, its handler resolved from the template's `Handler` and
invoked with an SQS batch holding S3's test event."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BOTO3_CLOSURE = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def linked(folder: Path, names: tuple[str, ...]) -> Path:
    """`folder` holding links to these packages of this interpreter's site-packages."""
    site_packages = Path(__import__("boto3").__file__).parent.parent
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).symlink_to(site_packages / name)
    return folder


def invoke_with_test_event(handler: str, memory_mb: int, then: str = "") -> str:
    """A script that resolves `handler`, invokes it with a batch of one s3:TestEvent and prints its answer as the
    last line but those `then` prints."""
    return textwrap.dedent(f"""
        import importlib, json
        module, _, name = {handler!r}.rpartition(".")
        handler = getattr(importlib.import_module(module), name)  # as the Lambda runtime resolves the Handler

        class Context:
            function_name = "inference"; memory_limit_in_mb = {memory_mb}; aws_request_id = "request-1"
            invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:inference"

        body = json.dumps({{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}})
        test_event = {{"Records": [{{"messageId": "m-1", "receiptHandle": "r", "md5OfBody": "x", "body": body,
                      "attributes": {{}}, "messageAttributes": {{}}, "eventSource": "aws:sqs",
                      "eventSourceARN": "arn", "awsRegion": "eu-west-1"}}]}}
        print(json.dumps(handler(test_event, Context())))
    """) + textwrap.dedent(then)


def run_clean(script: str, path: list[Path], environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`script` with only `path` to import from: -S -s -P leave out site-packages, the user's site and the cwd,
    and PYTHONPATH is the only other entry."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-S", "-s", "-P", "-c", script], env=env, capture_output=True, text=True, cwd=cwd, timeout=120
    )
