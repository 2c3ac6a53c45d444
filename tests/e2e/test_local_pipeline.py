"""End to end through the local stack: upload -> S3 notification -> SQS -> real handler -> emulator -> result."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import boto3
import pytest

from customlabels.datasets.manifest import Box, object_detection_line
from customlabels.local.aws import FAKE_CREDENTIALS
from customlabels.local.emulator.backends import ManifestBackend
from customlabels.local.emulator.faults import PlannedFault
from customlabels.local.emulator.options import ModelOptions
from customlabels.local.pipeline import LocalPipeline, load_config
from customlabels.operations import dlq
from support.cli import customlabels
from support.cloudformation import synth_template
from support.events import s3_event
from support.images import image_bytes
from support.project import ROOT

pytestmark = pytest.mark.e2e


KEYS = [
    "test_images/bee.jpg",
    "test_images/flower.png",
    "test_images/with space.jpg",
    "test_images/a+b.jpg",
    "test_images/100% sure.jpg",
    "test_images/ünïcödé/蜂.jpeg",
    "test_images/deep/er/nest/ed/x.PNG",
]


@pytest.fixture
def backend(tmp_path):
    """Every test key's image holds one bee in its top-left quarter."""
    manifest = tmp_path / "gt.manifest"
    manifest.write_text(
        "\n".join(
            object_detection_line(f"s3://gt/{key}", 320, 240, [Box("bee", 0, 0, 160, 120)], ["bee"]) for key in KEYS
        )
        + "\n"
    )
    return ManifestBackend.from_file(manifest, jitter=0)


def eventually(condition, timeout=300, poll=0.1):
    """Wait for `condition`: the deadline only bounds a hang, so a slow machine changes the time, not the verdict."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met before the deadline"
        time.sleep(poll)


def queue_drained(pipeline) -> bool:
    """The work queue holds no message, visible or in flight (moto's counts are exact)."""
    counts = pipeline.sqs.get_queue_attributes(
        QueueUrl=pipeline.resources.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(count) == 0 for count in counts.values())


def upload_all(pipeline, keys):
    for key in keys:
        pipeline.upload(key, image_bytes("PNG" if key.lower().endswith(".png") else "JPEG"))


def test_uploads_become_result_jsons_for_every_kind_of_key(backend):
    config = load_config(min_confidence=50)
    with LocalPipeline(config, backend, visibility_timeout=30) as pipeline:
        upload_all(pipeline, KEYS)
        pipeline.upload("test_images/corrupt.jpg", b"\xff\xd8\xff\xe0 this is not a JPEG")
        pipeline.upload("test_images/tiny.png", image_bytes("PNG", (32, 32)))
        pipeline.upload("test_images/notes.txt", b"not an image")
        keys = [*KEYS, "test_images/corrupt.jpg", "test_images/tiny.png", "test_images/notes.txt"]
        outcomes = pipeline.wait(keys, timeout=300)
        result = pipeline.result("test_images/ünïcödé/蜂.jpeg")
        objects = {o["Key"] for o in pipeline.s3.list_objects_v2(Bucket=pipeline.resources.bucket)["Contents"]}
        dead_letters = pipeline.dead_letter_keys()

    assert outcomes == {
        **dict.fromkeys(KEYS, "labels"),
        "test_images/corrupt.jpg": "error:InvalidImageFormatException",
        "test_images/tiny.png": "error:InvalidParameterException",
        "test_images/notes.txt": "not-an-image",
    }
    assert result["Image"]["Key"] == "test_images/ünïcödé/蜂.jpeg"
    assert result["MinConfidence"] == 50.0
    assert result["CustomLabels"] == [
        {
            "Name": "bee",
            "Confidence": 95.0,
            "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.5, "Left": 0.0, "Top": 0.0}},
        }
    ]
    # one result per image and nothing else: the s3:TestEvent and the .txt produced nothing, results no results
    assert objects == {*keys, *(k + ".json" for k in keys if not k.endswith(".txt"))}
    assert dead_letters == set()


def test_throttling_is_retried_in_the_invocation_without_spending_receives_and_nothing_is_lost(backend):
    """The plan throttles each image's first 3 calls. The function retries them at its throughput control's next
    slots, within the invocation (the control starts at 1 call/s and slows at each throttle, so 3 images x 4
    calls take about 15 s; the function's timeout, 300 s here, leaves room for that on any loaded machine): every
    image's 4th call succeeds, no record fails, and SQS counts a single receive per message."""
    keys = KEYS[:3]
    config = load_config(max_receive_count=100, function_timeout_seconds=300)
    model = ModelOptions(fault_plan=[PlannedFault("ThrottlingException", calls=3)], tps_per_inference_unit=1000)
    with LocalPipeline(config, backend, model=model, visibility_timeout=300) as pipeline:
        upload_all(pipeline, keys)
        outcomes = pipeline.wait(keys, timeout=600)
        calls = dict(pipeline.service.image_calls)
        errors = dict(pipeline.service.errors)
        dead_letters = pipeline.dead_letter_keys()
    failed_records = sum(invocation.failed for invocation in pipeline.esm.invocations)  # all, once stopped
    logged = [json.loads(line) for line in pipeline.log_path.read_text().splitlines() if '"Image done"' in line]
    assert outcomes == dict.fromkeys(keys, "labels")
    assert dead_letters == set()
    # each image's log line names its invocation, and tells the model's latency from the wait for its slots
    assert {line["function_request_id"] for line in logged} <= {i.request_id for i in pipeline.esm.invocations}
    assert all(line["slot_wait_ms"] > 0 and line["latency_ms"] >= 0 for line in logged if line["key"] in keys)
    assert errors == {"ThrottlingException": 3 * len(keys)}
    assert calls == dict.fromkeys(keys, 4), "a throttled call was not retried in its invocation"
    assert failed_records == 0, "a throttle failed a record: it spent an SQS receive"


def scheduled_runs(pipeline) -> int:
    return sum(1 for run in pipeline.manager.invocations if run.trigger == "Scheduled Event")


def test_manual_mode_images_wait_for_the_operator_without_spending_receives(backend):
    """In manual mode nobody starts the model; the manager keeps the event source off while it is stopped,
    so images wait in the queue without a receive (none can reach the DLQ), and flow once the operator
    starts the model."""
    keys = KEYS[:3]
    config = load_config(model_lifecycle="manual")
    with LocalPipeline(
        config, backend, model=ModelOptions(running=False), visibility_timeout=1, manager_interval=0.2
    ) as pipeline:
        upload_all(pipeline, keys)
        eventually(lambda: scheduled_runs(pipeline) >= 3)
        waiting = pipeline.wait(keys, timeout=0)
        rekognition = boto3.client(
            "rekognition", endpoint_url=pipeline.rekognition_endpoint, region_name=config.region, **FAKE_CREDENTIALS
        )
        rekognition.start_project_version(ProjectVersionArn=config.model_arn, MinInferenceUnits=1)
        outcomes = pipeline.wait(keys, timeout=300)
        dead_letters = pipeline.dead_letter_keys()
    statuses = [status for _, status in pipeline.service.models[config.model_arn].history]
    assert waiting == dict.fromkeys(keys, "timeout")
    assert outcomes == dict.fromkeys(keys, "labels")
    assert dead_letters == set()
    assert pipeline.service.errors.get("ResourceNotReadyException", 0) == 0, "an image was sent to a stopped model"
    assert statuses == ["TRAINING_COMPLETED", "STARTING", "RUNNING"]  # the operator's start only


def test_on_demand_nothing_but_an_image_starts_the_billed_model(backend):
    """A fresh stack: S3's test event sits in the queue, then a text file and a result JSON are written; the
    model stays as training left it (TRAINING_COMPLETED) through several manager runs. One image starts it."""
    config = load_config(model_lifecycle="on-demand")
    with LocalPipeline(config, backend, visibility_timeout=30, manager_interval=0.2) as pipeline:
        eventually(lambda: scheduled_runs(pipeline) >= 3)
        pipeline.upload("test_images/notes.txt", b"not an image")
        pipeline.upload("test_images/old.jpg.json", b"{}")
        runs = scheduled_runs(pipeline)
        eventually(lambda: scheduled_runs(pipeline) >= runs + 3)
        model = pipeline.service.models[config.model_arn]
        before_the_image = [status for _, status in model.history]
        upload_all(pipeline, KEYS[:1])
        outcomes = pipeline.wait(KEYS[:1], timeout=300)
    assert before_the_image == ["TRAINING_COMPLETED"]
    assert outcomes == {KEYS[0]: "labels"}
    assert [status for _, status in model.history][:3] == ["TRAINING_COMPLETED", "STARTING", "RUNNING"]


def test_exhausted_retries_end_in_the_dlq_and_redrive_completes_them(backend):
    config = load_config(max_receive_count=2, model_lifecycle="manual")
    with LocalPipeline(
        config, backend, model=ModelOptions(faults={"InternalServerError": 1.0}), visibility_timeout=1
    ) as pipeline:
        upload_all(pipeline, KEYS[:2])
        assert pipeline.wait(KEYS[:2], timeout=300) == dict.fromkeys(KEYS[:2], "dead-letter")
        # SQS delivers at least once: with a 1 s visibility timeout, copies of a message received while its first
        # invocation still retried reach the DLQ later, one by one. Only once the work queue holds nothing, visible
        # or in flight, is every copy there; a copy arriving after the redrive would stay in the DLQ.
        eventually(lambda: queue_drained(pipeline))
        env = {
            "AWS_ENDPOINT_URL_SQS": pipeline.resources.endpoint,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
        urls = ["--dead-letter-queue-url", pipeline.resources.dead_letter_queue_url]
        listed = customlabels("dlq", "list", *urls, env=env)
        # A message received again while its first invocation still retried can land in the DLQ twice; the
        # listing shows every message, and both images are among them.
        listed_count = int(re.search(r"(\d+) message\(s\) in the dead-letter queue", listed.stdout)[1])
        assert listed_count >= 2
        assert all(key in listed.stdout for key in KEYS[:2])

        pipeline.service.faults = {}  # the cause is fixed
        redriven = customlabels("dlq", "redrive", *urls, "--queue-url", pipeline.resources.queue_url, env=env)
        assert f"Moved {listed_count} message(s) back" in redriven.stdout, redriven.stderr
        assert pipeline.wait(KEYS[:2], timeout=300) == dict.fromkeys(KEYS[:2], "labels")
        assert pipeline.dead_letter_keys() == set()


def test_local_provisioning_agrees_with_the_synthesized_template(tmp_path):
    template = synth_template(tmp_path).to_json()["Resources"]
    config = load_config()
    with LocalPipeline(config) as pipeline:
        sqs, s3 = pipeline.sqs, pipeline.s3
        attributes = sqs.get_queue_attributes(QueueUrl=pipeline.resources.queue_url, AttributeNames=["All"])[
            "Attributes"
        ]
        local_filters = sorted(
            tuple(sorted((r["Name"].lower(), r["Value"]) for r in c["Filter"]["Key"]["FilterRules"]))
            for c in s3.get_bucket_notification_configuration(Bucket=pipeline.resources.bucket)["QueueConfigurations"]
        )
        local_batch_size = pipeline.esm.batch_size

    [queue] = [
        r["Properties"]
        for r in template.values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    ]
    [mapping] = [r["Properties"] for r in template.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    [notifications] = [r["Properties"] for r in template.values() if r["Type"] == "Custom::S3BucketNotifications"]
    deployed_filters = sorted(
        tuple(sorted((r["Name"], r["Value"]) for r in c["Filter"]["Key"]["FilterRules"]))
        for c in notifications["NotificationConfiguration"]["QueueConfigurations"]
    )

    assert local_filters == deployed_filters
    assert int(attributes["VisibilityTimeout"]) == queue["VisibilityTimeout"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == queue["RedrivePolicy"]["maxReceiveCount"]
    assert int(attributes["MessageRetentionPeriod"]) == queue["MessageRetentionPeriod"]
    assert local_batch_size == mapping["BatchSize"]


def test_cli_runs_a_folder_and_writes_results_and_summary(tmp_path):
    assert customlabels("sample-data", str(tmp_path / "sample"), "--count", "4").returncode == 0
    (tmp_path / "sample" / "images" / "readme.txt").write_text("not an image")
    run = customlabels(
        "local",
        "run",
        "--images",
        str(tmp_path / "sample" / "images"),
        "--model",
        f"manifest:{tmp_path / 'sample' / 'manifest.jsonl'}",
        "--out",
        str(tmp_path / "out"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    outcomes = {image["key"]: image["outcome"] for image in summary["images"]}
    assert outcomes.pop("test_images/readme.txt") == "not-an-image"
    assert len(outcomes) == 4 and set(outcomes.values()) == {"labels"}
    for key in outcomes:
        assert json.loads((tmp_path / "out" / f"{key}.json").read_text())["Image"]["Key"] == key
    assert "Results" in run.stdout and "labels" in run.stdout
    printed = " ".join(run.stdout.split())
    assert "Model (on-demand): TRAINING_COMPLETED (+0.0 s) -> STARTING" in printed  # the demo shows it
    assert "The model manager started it when images arrived" in printed


def test_cli_run_without_images_never_starts_the_model(tmp_path):
    """S3's test event waits in the queue, a text file and a JPEG named bee.Jpg are uploaded: none is an image
    to the pipeline, so the billed model stays STOPPED, and the run says so and names the fix for bee.Jpg."""
    images = tmp_path / "images"
    images.mkdir()
    (images / "notes.txt").write_text("not an image")
    (images / "bee.Jpg").write_bytes(image_bytes())  # a JPEG, but a suffix the bucket notifications never match
    run = customlabels("local", "run", "--images", str(images), "--out", str(tmp_path / "out"))
    printed = " ".join(run.stdout.split())
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Model (on-demand): TRAINING_COMPLETED (+0.0 s)" in printed and "STARTING" not in printed
    assert "The model manager did not start it during the run" in printed
    assert "not-picked-up: test_images/bee.Jpg: its suffix .Jpg mixes cases" in printed
    assert "rename it to bee.jpg" in printed


def test_cli_exits_1_and_names_the_images_in_the_dlq(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "bee.jpg").write_bytes(image_bytes())
    run = customlabels(
        "local",
        "run",
        "--images",
        str(images),
        "--out",
        str(tmp_path / "out"),
        "--faults",
        "internal=1",
        "--visibility-timeout",
        "1",
        "--timeout",
        "300",
    )
    assert run.returncode == 1
    printed = " ".join(run.stdout.split())
    assert "dead-letter: test_images/bee.jpg (every retry failed; see the log)" in printed
    calls = re.search(
        r"Rekognition: (\d+) DetectCustomLabels calls; errors answered \(retried, "
        r"docs/reliability.md\): (\d+) InternalServerError",
        printed,
    )
    assert calls and int(calls[1]) >= int(calls[2]) >= 2, "every call to the running model failed, and was retried"


def test_local_serve_keeps_the_stack_up_for_boto3_and_stops_on_sigterm(tmp_path):
    serve = subprocess.Popen(
        [sys.executable, "-m", "customlabels", "local", "serve", "--log", str(tmp_path / "l.log")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        printed = ""
        while "aws s3 cp s3://" not in printed:
            line = serve.stdout.readline()
            assert line, f"local serve ended early: {printed}"
            printed += line
        environment = dict(re.findall(r"(AWS_ENDPOINT_URL_S3|AWS_ENDPOINT_URL_REKOGNITION)=(\S+)", printed))
        bucket = re.search(r"s3://([\w-]+)/test_images/bee.jpg", printed)[1]
        s3 = boto3.client(
            "s3", endpoint_url=environment["AWS_ENDPOINT_URL_S3"], region_name="us-east-1", **FAKE_CREDENTIALS
        )
        s3.put_object(Bucket=bucket, Key="test_images/bee.jpg", Body=image_bytes())
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                result = json.loads(s3.get_object(Bucket=bucket, Key="test_images/bee.jpg.json")["Body"].read())
                break
            except s3.exceptions.NoSuchKey:
                time.sleep(0.3)
        else:
            pytest.fail("no result from the served pipeline")
        assert result["Image"]["Key"] == "test_images/bee.jpg" and result["CustomLabels"] == []
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=120) == 0


def test_on_demand_a_burst_starts_the_stopped_model_loses_nothing_and_idle_stops_it(backend):
    config = load_config(model_lifecycle="on-demand", max_receive_count=2)
    with LocalPipeline(
        config,
        backend,
        model=ModelOptions(start_delay=1.5),
        visibility_timeout=15,
        manager_interval=0.5,
        idle_seconds=2,
    ) as pipeline:
        upload_all(pipeline, KEYS)
        outcomes = pipeline.wait(KEYS, timeout=300)
        dead_letters = pipeline.dead_letter_keys()
        model = pipeline.service.models[config.model_arn]
        deadline = time.monotonic() + 120
        while model.history[-1][1] != "STOPPED" and time.monotonic() < deadline:
            pipeline.service.describe_project_versions({"ProjectArn": model.project_arn})  # advances the state
            time.sleep(0.2)
        mapping_enabled = pipeline.esm.enabled
    statuses = [status for _, status in model.history]
    assert set(outcomes.values()) == {"labels"}
    assert dead_letters == set()
    assert statuses == ["TRAINING_COMPLETED", "STARTING", "RUNNING", "STOPPING", "STOPPED"]
    assert not mapping_enabled
    # While the model was starting, the event source was off: no image spent a receive on a cold model.
    assert pipeline.service.errors.get("ResourceNotReadyException", 0) == 0


def test_always_on_starts_the_model_and_keeps_it_running(backend):
    config = load_config(model_lifecycle="always-on")
    with LocalPipeline(config, backend, manager_interval=0.3, idle_seconds=0.5, visibility_timeout=30) as pipeline:
        upload_all(pipeline, KEYS[:2])
        outcomes = pipeline.wait(KEYS[:2], timeout=300)
        time.sleep(2)  # four times the idle time
        status = pipeline.service.describe_project_versions(
            {"ProjectArn": pipeline.service.models[config.model_arn].project_arn}
        )["ProjectVersionDescriptions"][0]
    assert set(outcomes.values()) == {"labels"}
    assert status["Status"] == "RUNNING"


def test_the_manager_is_invoked_once_per_uploaded_image_never_for_results_or_other_objects(backend):
    """The stack's upload rule, evaluated by moto's EventBridge on every object the bucket receives: images
    invoke the model manager once each; their result JSONs, a text file and keys outside the prefix never."""
    keys = KEYS[:3]
    config = load_config(model_lifecycle="manual")
    with LocalPipeline(
        config, backend, model=ModelOptions(running=True), visibility_timeout=30, manager_interval=3600
    ) as pipeline:
        upload_all(pipeline, keys)
        pipeline.upload("test_images/notes.txt", b"not an image")
        pipeline.upload("elsewhere/bee.jpg", image_bytes())
        assert pipeline.wait(keys, timeout=300) == dict.fromkeys(keys, "labels")
        invocations = pipeline.resources.manager_invocations_url
        eventually(
            lambda: all(
                value == "0"
                for value in pipeline.sqs.get_queue_attributes(
                    QueueUrl=invocations,
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"].values()
            )
        )
    runs = pipeline.manager.invocations  # complete once the manager has stopped
    assert sorted(run.key for run in runs if run.trigger == "Object Created") == sorted(keys)
    assert [run for run in runs if run.trigger != "Object Created"] == []  # no tick in an hour, nothing expired


def test_messages_that_are_not_uploads_end_in_the_dlq_by_id_while_images_are_answered(backend):
    """Issue 27, defect 7, through the local stack: the function deleted such messages as if they were S3's test
    event. Now, whichever reader receives them (the manager looking at the queue, or the function once the model
    runs), each spends its receives and SQS moves it to the DLQ, which names it; the upload beside them is answered."""
    config = load_config(max_receive_count=2)
    image_event = s3_event("test_images/bee.jpg", event_name="ObjectRemoved:Delete")
    bodies = ["{not json", json.dumps({"hello": "x"}), image_event, json.dumps({"Type": "Notification"})]
    with LocalPipeline(config, backend, visibility_timeout=1, manager_interval=0.2) as pipeline:
        sent = {
            pipeline.sqs.send_message(QueueUrl=pipeline.resources.queue_url, MessageBody=body)["MessageId"]
            for body in bodies
        }
        upload_all(pipeline, KEYS[:1])
        assert pipeline.wait(KEYS[:1], timeout=300) == {KEYS[0]: "labels"}

        def dead_letters():
            return {
                letter.message_id: letter for letter in dlq.peek(pipeline.sqs, pipeline.resources.dead_letter_queue_url)
            }

        eventually(lambda: dead_letters().keys() == sent)  # each after its max_receive_count receives
        assert queue_drained(pipeline)
        letters = dead_letters().values()
    assert all(letter.problem and not letter.keys for letter in letters)
