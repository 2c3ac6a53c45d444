"""`customlabels visualize` in process: the pictures and the gallery it writes, and a wrong folder explained."""

import json
import re

import pytest
from PIL import Image

from customlabels.cli import main
from customlabels.datasets.manifest import Box, object_detection_line
from support.cli import refused

pytestmark = pytest.mark.unit


def test_visualize_writes_pictures_and_prints_the_gallery(gallery_run, tmp_path, capsys):
    images, results, _ = gallery_run
    out = tmp_path / "out"
    assert (
        main(
            [
                "visualize",
                "--results",
                str(results),
                "--images",
                str(images),
                "--out",
                str(out),
                "--min-confidence",
                "80",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert f"Gallery: {out / 'index.html'}" in printed and "1 with an error" in printed
    assert "1 without a result yet" in printed
    drawn = sorted(p.relative_to(out / "pictures").as_posix() for p in (out / "pictures").rglob("*.*"))
    assert drawn == ["broken.jpg", "empty.jpg", "flowers.png", "meadow/bee #1.jpg", "waiting.jpg"]
    with Image.open(out / "pictures" / "meadow" / "bee #1.jpg") as bee:
        assert bee.format == "JPEG" and bee.size == (640, 480)
    data = (out / "index.html").read_text(encoding="utf-8")
    assert '"min_confidence": 80.0' in data and "__GALLERY_DATA__" not in data


def test_visualize_explains_a_wrong_folder(tmp_path, capsys):
    said = refused(
        capsys, ["visualize", "--results", str(tmp_path / "nope"), "--images", str(tmp_path), "--out", str(tmp_path)]
    )
    assert re.search(r"--results .*: not a folder", said), said


def test_visualize_with_a_manifest_embeds_the_verdicts(gallery_run, tmp_path, capsys):
    images, results, _ = gallery_run
    manifest = tmp_path / "truth.manifest"
    manifest.write_text(
        object_detection_line("s3://truth/meadow/bee #1.jpg", 640, 480, [Box("bee", 64, 48, 192, 144)], ["bee"]) + "\n"
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "visualize",
                "--results",
                str(results),
                "--images",
                str(images),
                "--out",
                str(out),
                "--manifest",
                str(manifest),
                "--iou",
                "0.6",
            ]
        )
        == 0
    )
    assert "Ground truth: 1 of 5 images are in" in capsys.readouterr().out
    data = json.loads(
        re.search(r'id="gallery-data">(.*?)</script>', (out / "index.html").read_text(encoding="utf-8"), re.S)[1]
    )
    assert data["summary"]["manifest"] == "truth.manifest" and data["summary"]["iou_threshold"] == 0.6
    bee = next(item for item in data["items"] if item["name"] == "meadow/bee #1.jpg")
    assert [d["verdict"] for d in bee["detections"]] == ["tp", "fp"]
    assert bee["truth"] == [{"label": "bee", "box": [0.1, 0.1, 0.3, 0.3], "found": 95.0}]
    assert not next(item for item in data["items"] if item["name"] == "empty.jpg")["in_manifest"]


def test_visualize_names_a_bad_manifest_and_a_bad_iou(gallery_run, tmp_path, capsys):
    images, results, _ = gallery_run
    (tmp_path / "bad.manifest").write_text('{"source-ref": "s3://b/a.jpg", "x": 1}\n')
    common = ["visualize", "--results", str(results), "--images", str(images), "--out", str(tmp_path / "out")]
    said = refused(capsys, [*common, "--manifest", str(tmp_path / "bad.manifest")])
    assert 'bad.manifest:1: label attribute "x" has no "x-metadata"' in said, said
    said = refused(capsys, [*common, "--manifest", str(tmp_path / "none.manifest")])
    assert "none.manifest: no such file" in said, said
    with pytest.raises(SystemExit):
        main([*common, "--iou", "0"])
    assert "--iou: 0 is out of range" in capsys.readouterr().err
    said = refused(capsys, [*common, "--iou", "0.7"])
    assert "--iou applies to the ground truth: give --manifest too" in said, said
