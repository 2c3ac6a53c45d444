"""`customlabels evaluate` as a command: malformed manifests, the JSON report and tuned thresholds, and the tuning
loop end to end through the local pipeline."""

import json

import pytest

from customlabels.datasets.manifest import Box, object_detection_line
from support.cli import customlabels, thresholds_cli
from support.evaluation import ENTRIES, RESULTS

pytestmark = pytest.mark.e2e


def run_evaluate(*args):
    return customlabels("evaluate", *args)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", r"bad.manifest:2: not a JSON object"),
        ('{"image": "s3://b/x.jpg"}', r"bad.manifest:2: every line needs a \"source-ref\""),
        ('{"source-ref": "s3://b/x.jpg", "box": {}}', r"bad.manifest:2: label attribute \"box\" has no"),
        (
            '{"source-ref": "s3://b/x.jpg", "box": {}, "box-metadata": {"type": "groundtruth/object-detection"}}',
            r"bad.manifest:2: malformed \"box\"",
        ),
    ],
)
def test_a_malformed_manifest_is_refused_with_its_line_number(tmp_path, line, message):
    manifest = tmp_path / "bad.manifest"
    good = object_detection_line("s3://b/a.jpg", 100, 100, [Box("bee", 0, 0, 10, 10)], ["bee"])
    manifest.write_text(good + "\n" + line + "\n")
    (tmp_path / "results").mkdir()
    answer = run_evaluate("--manifest", str(manifest), "--results", str(tmp_path / "results"))
    assert answer.returncode != 0
    assert __import__("re").search(message, answer.stderr), answer.stderr


def test_the_command_writes_the_json_report_and_tuned_thresholds(tmp_path):
    manifest = tmp_path / "gt.manifest"
    manifest.write_text(
        "\n".join(object_detection_line(e.source_ref, 100, 100, list(e.boxes), ["bee"]) for e in ENTRIES) + "\n"
    )
    results = tmp_path / "results"
    for result in RESULTS:
        path = results / (result.key + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "Image": {"Key": result.key},
                    "CustomLabels": [
                        {
                            "Name": p.label,
                            "Confidence": p.confidence,
                            "Geometry": {
                                "BoundingBox": dict(zip(("Left", "Top", "Width", "Height"), p.box, strict=True))
                            },
                        }
                        for p in result.predictions
                    ],
                }
            )
        )
    answer = run_evaluate(
        "--manifest",
        str(manifest),
        "--results",
        str(results),
        "--json",
        str(tmp_path / "e.json"),
        "--report",
        str(tmp_path / "report"),
        "--tuned-thresholds",
        str(tmp_path / "t.json"),
        "--target-precision",
        "0.6",
    )
    assert answer.returncode == 0, answer.stderr
    assert "bee" in answer.stdout and "0.333" in answer.stdout  # the AP in the table
    numbers = json.loads((tmp_path / "e.json").read_text())
    assert numbers["schema"] == "customlabels-evaluation/1"
    assert numbers["detection"]["per_label"]["bee"]["average_precision"] == pytest.approx(1 / 3)
    assert json.loads((tmp_path / "t.json").read_text())["labels"]["bee"] == 80.0
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'src="pr-bee.png"' in page and "Confusion matrix" in page
    assert (tmp_path / "report" / "pr-bee.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tuned_thresholds_move_precision_on_a_rerun_exactly_as_predicted(tmp_path):
    """Local pipeline, noisy manifest model, results at a low threshold -> evaluate and tune for precision
    -> predict with --thresholds -> `thresholds set` -> the same images again -> the predicted numbers."""
    from customlabels.datasets.sample_data import generate
    from customlabels.local.emulator.backends import ManifestBackend
    from customlabels.local.emulator.options import ModelOptions
    from customlabels.local.pipeline import LocalPipeline, load_config, upload_tree, write_outputs

    sample = generate(tmp_path / "sample", count=20, seed=3)
    backend = ManifestBackend.from_file(
        sample.manifest, miss_rate=0.1, spurious_rate=0.7, jitter=20, confidence=75, seed=5
    )
    config = load_config(model_lifecycle="manual", min_confidence=1)
    manifest = str(sample.manifest)
    with LocalPipeline(
        config, backend, model=ModelOptions(running=True), visibility_timeout=20, thresholds_max_age=0
    ) as stack:
        keys = upload_tree(stack, sample.images)
        write_outputs(stack, stack.wait(keys, timeout=300), tmp_path / "low")
        tuned, before, predicted = (tmp_path / name for name in ("tuned.json", "before.json", "predicted.json"))
        assert (
            run_evaluate(
                "--manifest",
                manifest,
                "--results",
                str(tmp_path / "low"),
                "--target-precision",
                "0.9",
                "--tuned-thresholds",
                str(tuned),
                "--json",
                str(before),
            ).returncode
            == 0
        )
        assert (
            run_evaluate(
                "--manifest",
                manifest,
                "--results",
                str(tmp_path / "low"),
                "--thresholds",
                str(tuned),
                "--json",
                str(predicted),
            ).returncode
            == 0
        )
        assert thresholds_cli(stack, "set", str(tuned)).returncode == 0

        for key in keys:  # the same images again, once their old results are gone
            stack.s3.delete_object(Bucket=stack.resources.bucket, Key=stack.result_key_for(key))
        keys = upload_tree(stack, sample.images)
        outcomes = stack.wait(keys, timeout=300)
        write_outputs(stack, outcomes, tmp_path / "tuned")
    after = tmp_path / "after.json"
    assert (
        run_evaluate("--manifest", manifest, "--results", str(tmp_path / "tuned"), "--json", str(after)).returncode == 0
    )
    before, predicted, after = (json.loads(path.read_text())["detection"] for path in (before, predicted, after))
    assert set(outcomes.values()) <= {"labels", "nothing"}  # every image has a result
    assert after["micro"]["precision"] > before["micro"]["precision"]
    for label, numbers in after["per_label"].items():
        expected = predicted["per_label"][label]
        assert (numbers["true_positives"], numbers["false_positives"]) == (
            expected["true_positives"],
            expected["false_positives"],
        ), label
        assert numbers["precision"] == pytest.approx(expected["precision"])
    applied = json.loads((tmp_path / "tuned" / stack.result_key_for(keys[0])).read_text())["Thresholds"]
    assert applied == json.loads(tuned.read_text())
