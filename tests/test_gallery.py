"""The HTML gallery, opened from the file system in headless Chromium: thumbnails load, the confidence slider
hides boxes below it, the label filter hides images, the detail shows the JSON. And `customlabels visualize`."""

import json

import pytest
from PIL import Image

from customlabels import gallery, pictures
from customlabels.cli import main


def box(left, top, width, height):
    return {"BoundingBox": {"Left": left, "Top": top, "Width": width, "Height": height}}


RESULTS = {
    "meadow/bee #1.jpg": [{"Name": "bee", "Confidence": 95.0, "Geometry": box(0.1, 0.1, 0.3, 0.3)},
                          {"Name": "flower", "Confidence": 60.0, "Geometry": box(0.5, 0.5, 0.3, 0.3)}],
    "flowers.png": [{"Name": "flower", "Confidence": 85.0, "Geometry": box(0.2, 0.2, 0.4, 0.4)},
                    {"Name": "sunny", "Confidence": 70.0}],
    "empty.jpg": [],
}
ERROR = {"Code": "InvalidImageFormatException", "Message": "Request has unsupported image format"}


@pytest.fixture
def run(tmp_path):
    """Images (one unreadable, one without a result) and result JSONs as `local run` writes them."""
    images, results = tmp_path / "images", tmp_path / "results"
    (images / "meadow").mkdir(parents=True)
    for name, size in (("meadow/bee #1.jpg", (640, 480)), ("flowers.png", (300, 400)), ("empty.jpg", (200, 200)),
                       ("waiting.jpg", (320, 240))):
        Image.new("RGB", size, (90, 160, 90)).save(images / name)
    (images / "broken.jpg").write_text("not a picture")
    documents = {name: {"Image": {"Bucket": "b", "Key": f"test_images/{name}"}, "CustomLabels": labels}
                 for name, labels in RESULTS.items()}
    documents["broken.jpg"] = {"Image": {"Bucket": "b", "Key": "test_images/broken.jpg"}, "CustomLabels": [],
                               "Error": ERROR}
    for name, document in documents.items():
        path = results / "test_images" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document))
    return images, results, documents


def visible(page, selector):
    return page.locator(selector).evaluate_all("nodes => nodes.filter(n => n.checkVisibility()).length")


@pytest.mark.e2e
def test_gallery_in_chromium(run, tmp_path, browser):
    images, results, documents = run
    index = gallery.write_gallery(pictures.collect(results, images), tmp_path / "gallery", min_confidence=0)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(index.as_uri())

    loaded = page.locator("img.thumbnail").evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
    assert loaded == [True] * 5, "every thumbnail loads from the file system, '#' and spaces in names included"
    assert page.locator("#counter").text_content() == "5 of 5 images"
    assert visible(page, "#grid .box") == 3 and visible(page, "#grid .chip") == 1

    page.locator("#confidence").fill("80")
    assert visible(page, "#grid .box") == 2, "the 60% flower is hidden, the 95% bee and the 85% flower stay"
    assert visible(page, "#grid .chip") == 0, "the 70% image-level label is hidden too"

    page.select_option("#label", "flower")
    assert visible(page, "#grid .card") == 1 and page.locator("#counter").text_content() == "1 of 5 images"
    page.locator("#confidence").fill("50")
    assert visible(page, "#grid .card") == 2, "lowering the slider brings back the image with the 60% flower"
    page.select_option("#label", ":error")
    assert visible(page, "#grid .card") == 1 and "InvalidImageFormatException" in page.locator(
        "#grid .card:visible").text_content()
    page.select_option("#label", ":pending")
    assert page.locator("#grid .card:visible .name").all_text_contents() == ["waiting.jpg"]
    page.select_option("#label", ":nothing")
    assert page.locator("#grid .card:visible .name").all_text_contents() == ["empty.jpg"]

    page.select_option("#label", "*")
    page.locator("#grid .card", has_text="bee #1.jpg").click()
    assert page.locator("#detail").evaluate("dialog => dialog.open")
    assert json.loads(page.locator("#detail-json").text_content()) == documents["meadow/bee #1.jpg"]
    assert visible(page, "#detail-frame .box") == 2
    assert page.locator("#detail-frame img").evaluate("i => i.naturalWidth") == 640
    page.locator("#confidence").evaluate("slider => { slider.value = 90; slider.dispatchEvent(new Event('input')); }")
    assert visible(page, "#detail-frame .box") == 1
    page.keyboard.press("ArrowRight")
    assert page.locator("#detail-name").text_content() == "waiting.jpg"
    assert errors == []


@pytest.mark.unit
def test_visualize_writes_pictures_and_prints_the_gallery(run, tmp_path, capsys):
    images, results, _ = run
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


@pytest.mark.unit
def test_visualize_explains_a_wrong_folder(tmp_path):
    with pytest.raises(SystemExit, match=r"--results .*: not a folder"):
        main(["visualize", "--results", str(tmp_path / "nope"), "--images", str(tmp_path), "--out", str(tmp_path)])
