"""The `customlabels` command as users meet it: in this process through its error boundary (`refused`), or in a
process of its own (`customlabels`)."""

import os
import subprocess
import sys

from support.project import ROOT


def refused(capsys, argv: list[str]) -> str:
    """What `customlabels ARGV` says on stderr when it refuses with exit 1 (the error boundary, no traceback)."""
    from customlabels.cli import main

    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, (code, err)
    return " ".join(err.split())  # the console folds long lines at its width


def customlabels(*args, env: dict[str, str] | None = None, timeout: float = 600, cwd=ROOT):
    """`customlabels ARGS` in a process of its own, its output captured as text: this process's environment plus
    `env`, on a console 200 columns wide unless `env` sets COLUMNS. `timeout` only bounds a hang."""
    return subprocess.run(
        [sys.executable, "-m", "customlabels", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def started(*args, cwd=ROOT) -> subprocess.Popen:
    """`customlabels ARGS` started in a process of its own (`local serve`, which runs until stopped), its stdout and
    stderr one text stream, on a console 200 columns wide."""
    return subprocess.Popen(
        [sys.executable, "-m", "customlabels", *map(str, args)],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )


def thresholds_cli(stack, *args):
    """`customlabels thresholds ARGS` in a process of its own, against the local stack's parameter and endpoints."""
    endpoint = stack.resources.endpoint
    env = {
        "AWS_ENDPOINT_URL_SSM": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_REKOGNITION": stack.rekognition_endpoint,
        "AWS_DEFAULT_REGION": stack.config.region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    return customlabels("thresholds", *args, "--parameter", stack.resources.thresholds_parameter, env=env)


def until_served(serve: subprocess.Popen) -> str:
    """What `local serve` printed until its stack is up (the `aws s3 cp` hint is the last thing it prints)."""
    printed = ""
    while "aws s3 cp s3://" not in printed:
        line = serve.stdout.readline()
        assert line, f"local serve ended early: {printed}"
        printed += line
    return printed
