"""The improvement loop of issue 33, end to end on the local stack, as README's "Train and promote a new version"
writes it: evaluate -> review export -> manifest merge -> dataset update -> model train -> model promote, then more
images. The README's two blocks are run as a reader copies them (the first starts `local serve`, the second runs in
another shell against it), so the section cannot drift from what works. Checked afterwards: every image got exactly
one result, none reached the DLQ, the images before the promotion were answered by the first version and those
after it by the trained one, which is the version in service."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import customlabels, started, until_served
from support.project import ROOT

pytestmark = pytest.mark.e2e

README = (ROOT / "README.md").read_text(encoding="utf-8")
SERVE_MARK = "<!-- needs: runs until Ctrl-C (tests/e2e/test_model_loop_local.py runs it) -->"
LOOP_MARK = "<!-- needs: local serve running (tests/e2e/test_model_loop_local.py runs this block against it) -->"


def block_after(mark: str) -> str:
    """The README's shell block right after `mark`, as a reader copies it."""
    return re.search(r"```bash\n(.*?)```", README.split(mark, 1)[1], re.DOTALL)[1]


def commands(block: str) -> list[list[str]]:
    """The block's commands as words, comments left out."""
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def serve(workspace: Path, words: list[str]) -> subprocess.Popen:
    """`customlabels local serve ...` from the README, once its stack is up."""
    assert words[:3] == ["customlabels", "local", "serve"], words
    process = started(*words[1:], cwd=workspace)
    until_served(process)
    return process


def result_versions(workspace: Path, folder: str) -> dict[str, str]:
    """Each saved result JSON's ProjectVersionArn, by its path under `folder`."""
    return {
        str(path.relative_to(workspace / folder)): json.loads(path.read_text())["ProjectVersionArn"]
        for path in (workspace / folder).rglob("*.json")
    }


def test_the_readme_loop_evaluate_review_merge_update_train_promote_runs_on_the_local_stack(tmp_path):
    setup = commands(block_after(SERVE_MARK))
    for words in setup[:-1]:  # the sample data, then local serve
        run = customlabels(*words[1:], cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
    server = serve(tmp_path, setup[-1])
    try:
        loop = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block_after(LOOP_MARK)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,  # only bounds a hang
            env={
                **os.environ,
                "COLUMNS": "200",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            },
        )
        said = " ".join(loop.stdout.split())
        assert loop.returncode == 0, loop.stdout + loop.stderr
        status = " ".join(
            customlabels("model", "status", "--stack", "CustomLabelsPipeline", env=_local(tmp_path)).stdout.split()
        )
        dead = customlabels("dlq", "list", "--stack", "CustomLabelsPipeline", env=_local(tmp_path))
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=120) == 0

    assert "Sent 12 line(s)" in said and "Overall F1" in said, said
    trained = re.search(r"(arn:aws:rekognition:\S+/version/v2/\d+)", said)[1]
    assert "PASS f1>=current" in said and f"In service: {trained}" in said, said
    before, after = result_versions(tmp_path, "loop/results"), result_versions(tmp_path, "loop/after")
    assert len(before) == 12 and len(after) == 4, (before, after)
    [first] = set(before.values())
    assert first != trained and set(after.values()) == {trained}, "each image answered by the version then in service"
    assert trained in status and "previous" in status.lower() and first in status, status
    assert dead.returncode == 0 and "0 message(s) in the dead-letter queue" in dead.stdout, dead.stdout


def _local(workspace: Path) -> dict[str, str]:
    """The endpoints `local serve --env-file` wrote, as `source` would set them."""
    text = (workspace / "loop" / "local.env").read_text()
    return dict(re.findall(r"export (\w+)=(\S+)", text))
