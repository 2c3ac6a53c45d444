"""`customlabels model promote` and `model rollback` on the local stack under load (issue 33): images uploaded before,
during and after a promotion are each answered exactly once, none reaches the DLQ, and each result names the version
its time allows (before the switch the old one, after the switch and the drain the new one, in between either); a
gate that fails changes nothing; a rollback goes back the same way. The commands run in processes of their own, with
`--stack` against the local stack's outputs, as a user would run them."""

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest

from customlabels.local.aws import client
from customlabels.local.emulator.options import ModelOptions
from customlabels.local.pipeline import LOCAL_MODEL_ARN, LocalPipeline, load_config
from support.emulator import Sees
from support.images import image_bytes
from support.project import ROOT

pytestmark = pytest.mark.e2e

PROJECT = LOCAL_MODEL_ARN.split("/version/")[0]
GOOD = f"{PROJECT}/version/bees.v2/1764547200000"
BAD = f"{PROJECT}/version/bees.v3/1764633600000"
BEE, WASP = [{"Name": "bee", "Confidence": 95.0}], [{"Name": "wasp", "Confidence": 95.0}]
VERSION_MAX_AGE, FUNCTION_TIMEOUT = 1, 10
LOCAL_MARGIN = 2
DRAIN = VERSION_MAX_AGE + FUNCTION_TIMEOUT + LOCAL_MARGIN
"""The stack's formula (config.version_drain_seconds: the function's cache, its timeout, a margin) with the cache
shortened to 1 s and a margin of 2 s instead of VERSION_DRAIN_MARGIN_SECONDS: here the function, the promotion and
the results share one clock, so no skew is to be covered; an invocation still cannot outlast its timeout."""


def eventually(condition, timeout=300, poll=0.2):
    """A deadline that only bounds a hang: a slow machine changes the time, not the verdict."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met before the deadline"
        time.sleep(poll)


def model_command(pipeline, *args):
    """`customlabels model ARGS --stack` in a process of its own, against the local stack."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "customlabels",
            "model",
            *map(str, args),
            "--stack",
            "CustomLabelsPipeline",
            "--poll",
            "1",
        ],
        cwd=ROOT,
        env={**pipeline.client_environment(), "PATH": "/usr/bin:/bin", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process, timeout=600):
    output, _ = process.communicate(timeout=timeout)  # only bounds a hang
    return process.returncode, " ".join(output.split())


def upload(pipeline, keys):
    for key in keys:
        pipeline.upload(key, image_bytes())


def status(pipeline, arn):
    """A version's status now (the emulator moves a transition on when it is asked, as DescribeProjectVersions)."""
    [described] = pipeline.service.describe_project_versions(
        {"ProjectArn": pipeline.service.models[arn].project_arn, "VersionNames": [arn.split("/")[3]]}
    )["ProjectVersionDescriptions"]
    return described["Status"]


def ssm(pipeline):
    return client("ssm", pipeline.resources.endpoint, pipeline.region)


def document(pipeline):
    value = ssm(pipeline).get_parameter(Name=pipeline.resources.model_version_parameter)["Parameter"]["Value"]
    return json.loads(value)


def history(pipeline):
    found = ssm(pipeline).get_parameter_history(Name=pipeline.resources.model_version_parameter)["Parameters"]
    return [json.loads(entry["Value"]) for entry in found]


def moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def result_writes(pipeline) -> dict[str, int]:
    """How many times each result object was written (the bucket is versioned)."""
    writes: dict[str, int] = {}
    for page in pipeline.s3.get_paginator("list_object_versions").paginate(Bucket=pipeline.resources.bucket):
        for version in page.get("Versions", []):
            if version["Key"].endswith(".json"):
                writes[version["Key"]] = writes.get(version["Key"], 0) + 1
    return writes


@pytest.fixture
def stack(tmp_path):
    """The local stack always-on, its version in service seeing a bee in every image, two more versions of the
    project (one sees a bee, one a wasp), and a manifest of ten images with a bee each."""
    config = load_config(model_lifecycle="always-on", function_timeout_seconds=FUNCTION_TIMEOUT, min_confidence=50)
    options = ModelOptions(running=True, start_delay=2, tps_per_inference_unit=50)
    with LocalPipeline(
        config, Sees(BEE), model=options, visibility_timeout=60, manager_interval=0.5, version_max_age=VERSION_MAX_AGE
    ) as pipeline:
        pipeline.service.add_model(GOOD, backend=Sees(BEE))
        pipeline.service.add_model(BAD, backend=Sees(WASP))
        manifest = tmp_path / "gt.manifest"
        keys = [f"test_images/before/{number}.jpg" for number in range(10)]
        manifest.write_text(
            "".join(
                json.dumps(
                    {
                        "source-ref": f"s3://{pipeline.resources.bucket}/{key}",
                        "class": 0,
                        "class-metadata": {"class-name": "bee", "type": "groundtruth/image-classification"},
                    }
                )
                + "\n"
                for key in keys
            )
        )
        yield pipeline, manifest, keys


def test_promotion_under_load_a_gate_that_fails_and_a_rollback(stack):
    pipeline, manifest, before = stack
    upload(pipeline, before)
    eventually(lambda: all(pipeline.result(key) for key in before))

    # A gate that fails: nothing changes, the candidate it started is stopped again.
    code, said = finished(
        model_command(pipeline, "promote", BAD, "--gate", "bee.recall>=current", "--manifest", manifest)
    )
    assert code == 1, said
    assert "FAIL bee.recall>=current: 0.0000 against 1.0000" in said and "Nothing changed" in said
    assert document(pipeline)["version_arn"] == LOCAL_MODEL_ARN
    assert pipeline.service.models[BAD].status in ("STOPPING", "STOPPED")

    # The promotion under load: images keep arriving until it has ended.
    promoting = model_command(
        pipeline, "promote", GOOD, "--gate", "bee.recall>=current", "--manifest", manifest, "--drain-seconds", DRAIN
    )
    during: list[str] = []

    def keep_uploading():
        while promoting.poll() is None:
            key = f"test_images/during/{len(during)}.jpg"
            pipeline.upload(key, image_bytes())
            during.append(key)
            time.sleep(0.3)

    uploader = threading.Thread(target=keep_uploading)
    uploader.start()
    code, said = finished(promoting)
    uploader.join()
    assert code == 0, said
    after = [f"test_images/after/{number}.jpg" for number in range(10)]
    upload(pipeline, after)
    every = before + during + after
    outcomes = pipeline.wait(every, timeout=300)
    assert set(outcomes.values()) == {"labels"}, {k: v for k, v in outcomes.items() if v != "labels"}
    assert pipeline.dead_letter_keys() == set()
    writes = result_writes(pipeline)
    assert {pipeline.result_key_for(key): writes.get(pipeline.result_key_for(key)) for key in every} == {
        pipeline.result_key_for(key): 1 for key in every
    }  # exactly once

    [switched] = [d for d in history(pipeline) if d["version_arn"] == GOOD and d["retiring"]]
    switch_at, stop_after = moment(switched["changed_at"]), moment(switched["retiring"]["stop_after"])
    assert stop_after - switch_at == DRAIN
    versions = {key: pipeline.result(key)["ProjectVersionArn"] for key in every}
    for key, version in versions.items():
        processed = moment(pipeline.result(key)["ProcessedAt"])  # whole seconds, rounded down
        if processed + 1 <= switch_at:
            assert version == LOCAL_MODEL_ARN, key
        elif processed >= stop_after:
            assert version == GOOD, key
        else:
            assert version in (LOCAL_MODEL_ARN, GOOD), key
    assert {versions[key] for key in before} == {LOCAL_MODEL_ARN}
    assert {versions[key] for key in after} == {GOOD}
    assert len(during) >= 5 and pipeline.service.models[LOCAL_MODEL_ARN].status in ("STOPPING", "STOPPED")
    assert document(pipeline)["retiring"] is None

    # The rollback: the old version started again, in service, the new one stopped after the drain.
    code, said = finished(model_command(pipeline, "rollback", "--drain-seconds", "12"))
    assert code == 0, said
    assert (document(pipeline)["version_arn"], document(pipeline)["previous_arn"]) == (LOCAL_MODEL_ARN, GOOD)
    last = [f"test_images/last/{number}.jpg" for number in range(3)]
    upload(pipeline, last)
    assert set(pipeline.wait(last, timeout=300).values()) == {"labels"}
    assert {pipeline.result(key)["ProjectVersionArn"] for key in last} == {LOCAL_MODEL_ARN}
    assert pipeline.service.models[GOOD].status in ("STOPPING", "STOPPED")
    assert pipeline.dead_letter_keys() == set()


def interrupted_at(process, step: str) -> tuple[int, str]:
    """Ctrl-C (SIGINT) once the command has printed `step`, then its exit code and everything it said."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(step + " "):
            process.send_signal(signal.SIGINT)
            break
    code, rest = finished(process)
    return code, " ".join("".join(seen).split()) + " " + rest


def test_ctrl_c_before_the_switch_changes_nothing_and_after_it_the_manager_retires_the_old_version(stack):
    pipeline = stack[0]
    code, said = interrupted_at(model_command(pipeline, "promote", GOOD, "--drain-seconds", DRAIN), "start")
    assert code == 130 and "Traceback" not in said, said
    assert "Interrupted before the switch: nothing changed" in said
    assert document(pipeline)["version_arn"] == LOCAL_MODEL_ARN and document(pipeline)["promotion"] is None

    eventually(lambda: status(pipeline, GOOD) in ("RUNNING", "STOPPED"))
    if status(pipeline, GOOD) == "RUNNING":  # it was still starting when the promotion ended
        pipeline.service.stop_project_version({"ProjectVersionArn": GOOD})
    eventually(lambda: status(pipeline, GOOD) == "STOPPED")
    code, said = interrupted_at(model_command(pipeline, "promote", GOOD, "--drain-seconds", DRAIN), "switch")
    assert code == 130 and "Traceback" not in said, said
    assert "Interrupted after the switch" in said and "the model manager stops it at" in said
    switched = document(pipeline)
    assert switched["version_arn"] == GOOD and switched["retiring"]["version_arn"] == LOCAL_MODEL_ARN
    eventually(lambda: document(pipeline)["retiring"] is None, timeout=300)  # the manager, after stop_after
    assert status(pipeline, LOCAL_MODEL_ARN) == "STOPPED"  # no stop delay here
    [(stopped_at, _)] = [entry for entry in pipeline.service.models[LOCAL_MODEL_ARN].history if entry[1] == "STOPPING"]
    wall_minus_emulator = time.time() - pipeline.service.clock()  # the emulator keeps time.monotonic
    conversion = 0.05  # the two clocks read one after the other, not the manager's timing
    assert stopped_at + wall_minus_emulator >= moment(switched["retiring"]["stop_after"]) - conversion
