"""Every command refuses bad input at run time with exit 1 and one message that names the option, the value or
the file, and no traceback (the parse-time refusals, exit 2, are in test_cli_arguments.py). Nothing here needs AWS:
each mistake is caught before a client is made."""

import pytest
from PIL import Image

from support.cli import refused

pytestmark = pytest.mark.unit


@pytest.fixture
def place(tmp_path):
    """A folder with an image, a results folder without JSONs, a plain file, a binary file and a manifest."""
    (tmp_path / "images").mkdir()
    Image.new("RGB", (100, 100)).save(tmp_path / "images" / "bee.jpg")
    (tmp_path / "empty-results").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    (tmp_path / "bad.json").write_text('{"min_confidence": 150}')
    (tmp_path / "empty.manifest").write_text("")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "elsewhere.jpg.json").write_text(
        '{"Image": {"Bucket": "b", "Key": "test_images/elsewhere.jpg"}, "CustomLabels": []}'
    )
    (tmp_path / "names").mkdir()
    (tmp_path / "names" / "notes.txt").write_text("text")
    return tmp_path


BUS_ARN = "arn:aws:events:eu-west-1:123456789012:event-bus/bees"
BAD = [
    (["local", "run", "--images", "{p}/nope", "--out", "{p}/out"], "--images {p}/nope: not a folder"),
    (["local", "run", "--images", "{p}/images", "--out", "{p}/a-file"], "--out {p}/a-file: a file, not a folder"),
    (["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--faults", "bogus"], "fault bogus="),
    (["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--faults", "throtle=0.1"], "throtle"),
    (["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--fault-plan", "throttle:x"], "throttle:x"),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--result-events", "OFF"],
        "--result-events 'OFF' looks like off but would be taken as the name of a bus (bus names are exact): did you "
        "mean off? Fix: --result-events off",
    ),
    (["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--result-events", "none"], "did you mean off?"),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--result-events", "Default"],
        "did you mean default? Fix: --result-events default",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--result-events", "a b"],
        "--result-events 'a b' is not an EventBridge bus name. Fix: --result-events default",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--result-events", BUS_ARN],
        "give the bus's name, not its ARN. Fix: --result-events bees (a bus in the stack's account and region; a bus "
        "of another account is not supported)",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--noise", "miss=0.1"],
        "--noise makes a manifest model imperfect: give --model manifest:FILE too",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--model", "gt.manifest"],
        "--model 'gt.manifest': use manifest:PATH",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--model", "manifest:{p}/none.manifest"],
        "--model 'manifest:{p}/none.manifest'",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--model", "manifest:m", "--noise", "miss=1.5"],
        "--noise miss=1.5 is out of range: give 0 to 1",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--model", "manifest:m", "--noise", "jitter=-1"],
        "--noise jitter=-1 is out of range",
    ),
    (
        [
            "local",
            "run",
            "--images",
            "{p}/images",
            "--out",
            "{p}/out",
            "--model",
            "manifest:m",
            "--noise",
            "confidence=0.9",
        ],
        "did you mean 90?",
    ),
    (
        [
            "local",
            "run",
            "--images",
            "{p}/images",
            "--out",
            "{p}/out",
            "--model",
            "manifest:m",
            "--noise",
            "confidence=150",
        ],
        "--noise confidence=150 is out of range: give 1 to 100",
    ),
    (["cost", "--images-per-day", "10000000", "--burst-hours", "1"], "Fix: --inference-units 24 or more"),
    (
        ["cost", "--images-per-day", "5000", "--burst-hours", "20", "--bursts-per-day", "3"],
        "3 bursts of 20 h are more than a day",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--model", "manifest:{p}/empty.manifest"],
        "the manifest has no lines",
    ),
    (
        ["local", "run", "--images", "{p}/images", "--out", "{p}/out", "--model", "manifest:{p}/binary.json"],
        "binary.json: not a text file",
    ),
    (["evaluate", "--manifest", "{p}/binary.json", "--results", "{p}/empty-results"], "binary.json: not a text file"),
    (["evaluate", "--manifest", "{p}", "--results", "{p}/empty-results"], "Is a directory"),
    (
        [
            "evaluate",
            "--manifest",
            "{p}/empty.manifest",
            "--results",
            "{p}/empty-results",
            "--thresholds",
            "{p}/binary.json",
        ],
        "--manifest",
    ),
    (["thresholds", "set", "{p}/binary.json"], "{p}/binary.json:"),
    (["thresholds", "set", "{p}/bad.json"], "{p}/bad.json:"),
    (["thresholds", "set", "{p}/missing.json"], "{p}/missing.json: No such file or directory"),
    (
        ["model", "start", "--inference-units", "3", "--max-inference-units", "2"],
        "--max-inference-units 2 is below --inference-units 3",
    ),
    (["model", "stop", "--inference-units", "2"], "apply to `model start`, not `model stop`"),
    (["model", "status", "--model-arn", "arn:aws:s3:::bucket"], "--model-arn 'arn:aws:s3:::bucket' is not a project"),
    (["upload", "{p}/nope", "--bucket", "b"], "{p}/nope: not a folder"),
    (["upload", "{p}/names", "--bucket", "b"], "{p}/names: nothing to upload"),
    (["results", "--bucket", "b", "--out", "{p}/a-file"], "--out {p}/a-file: a file, not a folder"),
    (
        ["visualize", "--results", "{p}/empty-results", "--images", "{p}/images", "--out", "{p}/g"],
        "--results {p}/empty-results: no result JSONs there",
    ),
    (
        ["visualize", "--results", "{p}/empty-results", "--images", "{p}/images", "--out", "{p}/a-file"],
        "--out {p}/a-file: a file, not a folder",
    ),
    (
        ["visualize", "--results", "{p}/results", "--images", "{p}/images", "--out", "{p}/g"],
        "--images {p}/images: none of the 1 results' images is there",
    ),
    (["sample-data", "{p}/a-file"], "{p}/a-file: a file, not a folder"),
    (["manifest", "validate", "{p}/missing.manifest"], "missing.manifest"),
    (["manifest", "stats", "{p}/binary.json"], "binary.json"),
    (["evaluate", "--manifest", "{p}/missing.manifest", "--results", "{p}/empty-results"], "--manifest"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(args[:2]) + f" #{i}" for i, (args, _) in enumerate(BAD)])
def test_a_mistake_is_named_with_exit_1_and_no_traceback(capsys, place, args, says):
    said = refused(capsys, [part.format(p=place) for part in args])
    assert says.format(p=place) in said, said
