"""The pictures `visualize` and `evaluate --report` write, named by keys and labels as customlabels.outputs maps
them (issue 27, items 2 and 3): no two images share a picture, and no name is too long to be written."""

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from customlabels.cli import main
from customlabels.datasets.manifest import Box
from customlabels.evaluation.evaluate import evaluate
from customlabels.evaluation.report import ReportContext, write_report
from customlabels.results.model import ImageResult
from support.evaluation import detection, entry

pytestmark = pytest.mark.unit

RED, BLUE = (220, 20, 20), (20, 20, 220)


def write_result(results: Path, key: str, **document) -> None:
    """A result JSON in `results`, under a short name of its own: `visualize` pairs it by its `Image.Key`."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{len(list(results.iterdir()))}.json"
    path.write_text(json.dumps({"Image": {"Bucket": "b", "Key": key}, "CustomLabels": [], **document}))


def visualize(results: Path, images: Path, out: Path) -> int:
    return main(["visualize", "--results", str(results), "--images", str(images), "--out", str(out)])


def colour_at_the_corner(path: Path) -> tuple:
    with Image.open(path) as picture:
        return picture.convert("RGB").getpixel((2, 2))


def test_a_png_named_x_jpg_and_one_named_x_jpg_png_keep_a_picture_each(tmp_path):
    images, results, out = tmp_path / "images", tmp_path / "results", tmp_path / "out"
    images.mkdir()
    Image.new("RGB", (200, 200), RED).save(images / "x.jpg", "PNG")  # a PNG named .jpg: legal, and uploaded
    Image.new("RGB", (200, 200), BLUE).save(images / "x.jpg.png", "PNG")
    for name in ("x.jpg", "x.jpg.png"):
        write_result(results, f"test_images/{name}")
    assert visualize(results, images, out) == 0
    assert colour_at_the_corner(out / "pictures" / "x.jpg") == pytest.approx(RED, abs=12)
    assert colour_at_the_corner(out / "pictures" / "x.jpg.png") == pytest.approx(BLUE, abs=12)
    with Image.open(out / "pictures" / "x.jpg") as picture:
        assert picture.format == "JPEG", "a picture named .jpg is a JPEG"


def test_two_results_of_one_image_keep_a_picture_each(tmp_path):
    """The same folder uploaded under two prefixes: two results whose keys end with the one local image."""
    images, results, out = tmp_path / "images", tmp_path / "results", tmp_path / "out"
    images.mkdir()
    Image.new("RGB", (200, 200), RED).save(images / "a.jpg")
    write_result(results, "test_images/batch-1/a.jpg")
    write_result(results, "test_images/batch-2/a.jpg", Error={"Code": "InvalidImageFormatException", "Message": "m"})
    assert visualize(results, images, out) == 0
    drawn = sorted(p.relative_to(out / "pictures").as_posix() for p in (out / "pictures").rglob("*.jpg"))
    assert drawn == ["test_images/batch-1/a.jpg", "test_images/batch-2/a.jpg"]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "pictures/test_images/batch-1/a.jpg" in page and "pictures/test_images/batch-2/a.jpg" in page


def test_an_image_name_near_255_bytes_gets_its_picture_thumbnail_and_view(tmp_path):
    images, results, out = tmp_path / "images", tmp_path / "results", tmp_path / "out"
    images.mkdir()
    name = "蜂" * 83 + ".jpg"  # 253 bytes: its thumbnail `<name>.jpg` would be 257
    longer = "n" * 251 + ".jpg"  # 255 bytes, a file system's most
    for each in (name, longer):
        Image.new("RGB", (200, 200), RED).save(images / each)
        write_result(results, f"test_images/{each}")
    assert visualize(results, images, out) == 0
    for folder in ("pictures", "thumbnails", "views"):
        assert len(list((out / folder).iterdir())) == 2, folder
    page = (out / "index.html").read_text(encoding="utf-8")
    linked = re.findall(r'"(?:thumbnail|view|picture)": "([^"]+)"', page)
    assert len(linked) == 6 and all((out / unquote(url)).is_file() for url in linked), linked


def test_the_report_holds_long_keys_long_labels_and_names_urls_must_escape(tmp_path):
    """A key of 263 characters in short folders and a label of 90 CJK characters each became one file name over 255
    bytes; `#` and `%` in a name broke its link."""
    long_key = "ab/" * 86 + "x.jpg"
    label = "蜂" * 90
    keys = [long_key, "a #1 100%.jpg"]
    entries = [entry(n, key, [Box(label, 0, 0, 50, 50)]) for n, key in enumerate(keys, start=1)]
    results = [ImageResult(f"test_images/{key}", (detection(label, 90, 0, 0, 50, 50),)) for key in keys]
    context = ReportContext(manifest="m", results={"model/v2": "r"}, iou_threshold=0.5, generated="today")
    wrong = [ImageResult(r.key, (detection(label, 90, 50, 50, 50, 50),)) for r in results]  # false positives: pictured
    page = write_report(
        {"model/v2": evaluate(entries, wrong)},
        tmp_path / "report",
        context,
        lambda entry, result: Image.new("RGB", (100, 100), RED),
    ).read_text(encoding="utf-8")
    charts = list((tmp_path / "report").glob("pr-*.png"))
    assert len(charts) == 1 and len(charts[0].name.encode()) <= 255
    sources = [part.split('"', 1)[0] for part in page.split('<img src="')[1:]]
    assert len(sources) >= 3
    for source in sources:
        assert (tmp_path / "report" / unquote(source)).is_file(), source
