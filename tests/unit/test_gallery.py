"""`customlabels visualize` in process: the pictures and the gallery it writes, and a wrong folder explained."""

import re

import pytest
from PIL import Image

from customlabels.cli import main
from helpers import refused

pytestmark = pytest.mark.unit


def test_visualize_writes_pictures_and_prints_the_gallery(gallery_run, tmp_path, capsys):
    images, results, _ = gallery_run
    out = tmp_path / "out"
    assert main(["visualize", "--results", str(results), "--images", str(images), "--out", str(out),
                 "--min-confidence", "80"]) == 0
    printed = capsys.readouterr().out
    assert f"Gallery: {out / 'index.html'}" in printed and "1 with an error" in printed
    assert "1 without a result yet" in printed
    drawn = sorted(p.relative_to(out / "pictures").as_posix() for p in (out / "pictures").rglob("*.*"))
    assert drawn == ["broken.jpg.png", "empty.jpg", "flowers.png", "meadow/bee #1.jpg", "waiting.jpg"]
    with Image.open(out / "pictures" / "meadow" / "bee #1.jpg") as bee:
        assert bee.format == "JPEG" and bee.size == (640, 480)
    data = (out / "index.html").read_text(encoding="utf-8")
    assert '"min_confidence": 80.0' in data and "__GALLERY_DATA__" not in data


def test_visualize_explains_a_wrong_folder(tmp_path, capsys):
    said = refused(capsys, ["visualize", "--results", str(tmp_path / "nope"), "--images", str(tmp_path),
                            "--out", str(tmp_path)])
    assert re.search(r"--results .*: not a folder", said), said
