"""The result events through the local twin (issue 31): every result of the local pipeline is followed by exactly
one event, delivered by moto's EventBridge with the stack's own pattern, that a rule of the README matches; every
result and event validates against the published schemas; and the README's bee counter runs as written, with the
real AWS CLI, against `local serve`."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from customlabels.datasets.manifest import Box, object_detection_line
from customlabels.datasets.sample_data import generate
from customlabels.local.aws import client
from customlabels.local.emulator.backends import ManifestBackend
from customlabels.local.pipeline import LocalPipeline, load_config
from customlabels.local.result_events import created_bus_note
from customlabels.results.schema_check import schema_problems
from customlabels_runtime.result_events import event_detail, result_event_pattern
from customlabels_runtime.schemas import EVENT
from support.cli import customlabels, started
from support.images import image_bytes
from support.project import ROOT

pytestmark = pytest.mark.e2e

README = (ROOT / "README.md").read_text(encoding="utf-8")
BEE_COUNTER_MARK = (
    "<!-- needs: local serve running (tests/e2e/test_result_events_local.py runs this block against it) -->"
)


def readme_bee_counter() -> str:
    """The README's shell block after BEE_COUNTER_MARK, as a reader copies it."""
    after = README.split(BEE_COUNTER_MARK, 1)[1]
    return re.search(r"```bash\n(.*?)```", after, re.DOTALL)[1]


def readme_rule_patterns() -> list[dict]:
    """Every event pattern the README writes out: in `--event-pattern '...'` or as a `{"source": ...}` example."""
    patterns = [json.loads(text) for text in re.findall(r"--event-pattern '([^']+)'", README)]
    patterns += [json.loads(text) for text in re.findall(r"`(\{\"source\": [^`]*\})`", README.replace("\n", " "))]
    return patterns


KEYS = ["test_images/bee.jpg", "test_images/with space.jpg", "test_images/ünïcödé/蜂.jpeg", "test_images/none.png"]


def test_every_result_of_the_local_pipeline_is_followed_by_exactly_one_event_a_readme_rule_matches(tmp_path):
    manifest = tmp_path / "gt.manifest"
    boxes = {key: [Box("bee", 0, 0, 160, 120)] for key in KEYS[:3]} | {KEYS[3]: []}
    manifest.write_text(
        "".join(object_detection_line(f"s3://gt/{k}", 320, 240, b, ["bee"]) + "\n" for k, b in boxes.items())
    )
    uploads = {key: image_bytes("PNG" if key.endswith(".png") else "JPEG") for key in KEYS}
    uploads |= {"test_images/corrupt.jpg": b"\xff\xd8 not a JPEG", "test_images/notes.txt": b"not an image"}
    with LocalPipeline(load_config(), ManifestBackend.from_file(manifest, jitter=0), visibility_timeout=30) as pipeline:
        for key, body in uploads.items():
            pipeline.upload(key, body)
        outcomes = pipeline.wait(list(uploads), timeout=300)
        results = {pipeline.result_key_for(key): pipeline.result(key) for key in uploads if not key.endswith(".txt")}
        events = pipeline.collect_result_events(set(results))
        bucket = pipeline.resources.bucket

    assert outcomes["test_images/corrupt.jpg"] == "error:InvalidImageFormatException"
    assert outcomes["test_images/notes.txt"] == "not-an-image"
    for result in results.values():
        assert schema_problems(result) == []
    assert sorted(event["detail"]["Result"]["Key"] for event in events) == sorted(results)  # one each, no other
    rules = [EventPattern.load(json.dumps(pattern)) for pattern in readme_rule_patterns()]
    assert len(rules) == 3
    for event in events:
        assert schema_problems(event, EVENT) == []
        result_key = event["detail"]["Result"]["Key"]
        assert event["detail"] == event_detail(results[result_key], result_key)
        assert any(rule.matches_event(event) for rule in rules), f"no README rule matches {result_key}'s event"
    outcome_of = {event["detail"]["Result"]["Key"]: event["detail"]["Outcome"] for event in events}
    assert outcome_of == {
        **{pipeline_key + ".json": "labels" for pipeline_key in KEYS[:3]},
        "test_images/none.png.json": "nothing",
        "test_images/corrupt.jpg.json": "error",
    }
    watch = EventPattern.load(json.dumps(result_event_pattern(bucket)))  # the stack's own pattern routed them all
    assert all(watch.matches_event(event) for event in events)


def test_a_named_bus_gets_the_events_and_off_puts_none(tmp_path):
    for setting, expected in (("consumers", 1), ("off", 0)):
        with LocalPipeline(load_config(result_events=setting), visibility_timeout=30) as pipeline:
            pipeline.upload("test_images/bee.jpg", image_bytes())
            assert pipeline.wait(["test_images/bee.jpg"], timeout=300) == {"test_images/bee.jpg": "nothing"}
            events = pipeline.collect_result_events({"test_images/bee.jpg.json"}, timeout=5 if expected == 0 else 30)
            watch = pipeline.resources.result_events
            if watch:  # the twin's rule has the stack's own pattern (its ResultEventPattern output's source)
                rule = client("events", pipeline.resources.endpoint, pipeline.config.region).describe_rule(
                    Name=watch.rule, EventBusName=watch.bus
                )
                assert json.loads(rule["EventPattern"]) == result_event_pattern(pipeline.resources.bucket)
        assert len(events) == expected
        assert (watch.bus if watch else None) == (None if setting == "off" else setting)
        assert watch is None or watch.created_bus  # and local run / serve say AWS needs it created


def test_a_bus_the_twin_created_is_named_with_how_to_create_it_on_aws():
    note = created_bus_note("consumers")
    assert "The twin created the bus consumers; on AWS it must exist" in note
    assert "aws events create-event-bus --name consumers" in note


def test_local_run_accounts_for_the_events_by_result_key_and_off_writes_none(tmp_path):
    images, out = tmp_path / "images", tmp_path / "out"
    (images).mkdir()
    (images / "bee.jpg").write_bytes(image_bytes())
    assert customlabels("local", "run", "--images", images, "--out", out).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["result_events"] == {
        "bus": "default",
        "events": 1,
        "results": 1,
        "without_event": [],
        "more_than_one": [],
        "not_a_result": [],
    }
    assert (out / "events.jsonl").read_text().count("\n") == 1

    run = customlabels("local", "run", "--images", images, "--out", out, "--result-events", "off")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads((out / "summary.json").read_text())["result_events"] == "off"
    assert not (out / "events.jsonl").exists()  # nor the earlier run's
    assert "Result events: off" in run.stdout


SERVE_FILES = ["--env-file", "local.env", "--log", "lambda.log"]


def serve_until_up(workspace: Path, manifest: Path) -> tuple[subprocess.Popen, str]:
    process = started("local", "serve", "--model", f"manifest:{manifest}", *SERVE_FILES, cwd=workspace)
    printed = ""
    while "--wait-time-seconds 10" not in printed:
        line = process.stdout.readline()
        assert line, f"local serve ended early: {printed}"
        printed += line
    return process, printed


def test_the_readme_bee_counter_runs_as_written_against_local_serve(tmp_path):
    sample = generate(tmp_path / "sample", count=4, seed=3)
    (tmp_path / "my_images").symlink_to(sample.images)
    serve, printed = serve_until_up(tmp_path, Path(sample.manifest))
    try:
        assert "AWS_ENDPOINT_URL_EVENTBRIDGE=" in printed and "Result events queue:" in printed
        run = subprocess.run(
            ["bash", "-e", "-c", readme_bee_counter()],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
        )
        assert run.returncode == 0, run.stdout + run.stderr
        environment = dict(re.findall(r"export (\w+)=(\S+)", (tmp_path / "local.env").read_text()))
        results = bee_confidences(environment)
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=120) == 0
    counted = int(run.stdout.strip().splitlines()[-1])
    assert counted == sum(confidence >= 90 for confidence in results.values()) > 0


def bee_confidences(environment: dict[str, str]) -> dict[str, float]:
    """Each result's highest bee confidence (0 without a bee), read from the twin's bucket with boto3."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=environment["AWS_ENDPOINT_URL_S3"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    found = {}
    deadline = time.monotonic() + 60
    keys = []
    while not keys and time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket="customlabels-local").get("Contents", [])
        keys = [item["Key"] for item in listed if item["Key"].endswith(".json")]
    for key in keys:
        result = json.loads(s3.get_object(Bucket="customlabels-local", Key=key)["Body"].read())
        found[key] = max((label["Confidence"] for label in result["CustomLabels"] if label["Name"] == "bee"), default=0)
    return found
