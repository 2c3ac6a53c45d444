"""`customlabels dataset update` against the emulator over HTTP: the lines reach the model's training dataset,
replace by source-ref, go in calls of at most the payload limit, each after the previous update completed."""

import itertools
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from customlabels.cli import main
from customlabels.datasets.manifest import Box, object_detection_line
from customlabels.errors import CommandError
from customlabels.local.emulator.server import serve
from customlabels.operations import dataset
from support.aws import MODEL_ARN
from support.cli import refused

pytestmark = pytest.mark.integration

TRAIN = "arn:aws:rekognition:eu-west-1:123456789012:project/bees/dataset/train/1615479933000"


def line(name, *labels):
    return object_detection_line(
        f"s3://images/{name}", 100, 100, [Box(label, 1, 1, 10, 10) for label in labels], ["bee", "flower"]
    )


@pytest.fixture
def endpoint(service, monkeypatch):
    server = serve(service)
    monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", f"http://127.0.0.1:{server.server_address[1]}")
    yield service
    server.shutdown()


def test_dataset_update_sends_the_manifest_to_the_training_dataset(endpoint, tmp_path, capsys):
    first = tmp_path / "first.manifest"
    first.write_text(line("a.jpg", "bee") + "\n" + line("b.jpg", "flower") + "\n")
    assert main(["dataset", "update", "--manifest", str(first), "--model-arn", MODEL_ARN]) == 0
    second = tmp_path / "second.manifest"
    second.write_text(line("a.jpg", "flower") + "\n")
    assert main(["dataset", "update", "--manifest", str(second), "--model-arn", MODEL_ARN]) == 0
    printed = capsys.readouterr().out
    assert f"Sent 1 line(s) to {TRAIN}: UPDATE_COMPLETE" in printed and "holds 2 images (2 labeled" in printed
    entries = endpoint.dispatch("ListDatasetEntries", {"DatasetArn": TRAIN})["DatasetEntries"]
    assert entries == [line("a.jpg", "flower"), line("b.jpg", "flower")]


def test_a_manifest_with_problems_sends_nothing_and_says_why(endpoint, tmp_path, capsys):
    bad = tmp_path / "bad.manifest"
    bad.write_text(line("a.jpg", "bee") + "\n" + json.dumps({"source-ref": "images/b.jpg"}) + "\n")
    said = refused(capsys, ["dataset", "update", "--manifest", str(bad), "--model-arn", MODEL_ARN])
    assert "1 problem(s), nothing sent" in said and "line 2: ERROR_INVALID_SOURCE_REF_FORMAT" in said, said
    assert endpoint.dispatch("ListDatasetEntries", {"DatasetArn": TRAIN})["DatasetEntries"] == []
    good = tmp_path / "good.manifest"
    good.write_text(line("a.jpg", "bee") + "\n")
    said = refused(
        capsys, ["dataset", "update", "--manifest", str(good), "--model-arn", MODEL_ARN.replace("/bees/", "/wasps/")]
    )
    assert "project wasps has no train dataset" in said, said


def test_long_manifests_go_in_several_calls_each_after_the_last_update_completed(endpoint, clock):
    endpoint.datasets.update_delay = 30

    def sleep(seconds):
        clock.now += seconds

    client = boto3.client("rekognition", region_name="eu-west-1")
    lines = [line(f"{n:02}.jpg", "bee") for n in range(10)]
    sent = []
    final = dataset.update(
        client,
        TRAIN,
        lines,
        poll=5,
        timeout=100,
        sleep=sleep,
        clock=clock,
        on_batch=lambda n, total: sent.append((n, total)),
        limit=len(lines[0]) * 3 + 3,
    )
    assert sent == [(1, 4), (2, 4), (3, 4), (4, 4)] and final["Status"] == "UPDATE_COMPLETE"
    assert endpoint.calls["UpdateDatasetEntries"] == 4 and endpoint.errors.get("ResourceInUseException") is None
    assert clock.now == 1000 + 4 * 30, "each call waited for the 30 s update before it"
    assert endpoint.dispatch("ListDatasetEntries", {"DatasetArn": TRAIN})["DatasetEntries"] == lines
    endpoint.datasets.update_delay = 1000
    with pytest.raises(CommandError, match="still UPDATE_IN_PROGRESS after 100 s"):
        dataset.update(client, TRAIN, lines[:1], poll=5, timeout=100, sleep=sleep, clock=clock)


@given(
    st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=40), max_size=30),
    st.integers(41 * 4 + 4, 400),
)
def test_batches_keep_every_line_in_order_and_each_within_the_limit(lines, limit):
    payloads = dataset.batches(lines, limit)
    assert b"".join(payloads) == b"".join(text.encode() + b"\n" for text in lines)
    assert all(0 < len(payload) <= limit for payload in payloads)
    assert all(len(a) + len(b.split(b"\n", 1)[0]) + 1 > limit for a, b in itertools.pairwise(payloads)), (
        "a batch ends only when the next line would not fit"
    )


def test_a_refused_update_names_the_permission_and_the_trainer_policy_that_grants_it():
    from botocore.stub import Stubber

    from customlabels.errors import explain

    client = boto3.client("rekognition", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "update_dataset_entries",
            "AccessDeniedException",
            "not authorized",
            expected_params={"DatasetArn": TRAIN, "Changes": {"GroundTruth": b"{}\n"}},
        )
        with pytest.raises(ClientError) as raised:
            client.update_dataset_entries(DatasetArn=TRAIN, Changes={"GroundTruth": b"{}\n"})
    said = explain(raised.value)
    assert (
        "lack rekognition:UpdateDatasetEntries" in said
        and "the policy in the stack's output ModelTrainerPolicyArn" in said
        and "OperatorPolicyArn" not in said
    ), said
