"""The HTML gallery, opened from the file system in headless Chromium: thumbnails load, the confidence slider hides
boxes below it, the label filter hides images, the detail shows the JSON."""

import json
import math

import pytest
from PIL import Image

from customlabels.datasets.anchors import gallery_anchor
from customlabels.datasets.manifest import Box, object_detection_line, read_manifest
from customlabels.visualize import gallery, result_images
from support.aws import MODEL_ARN
from support.browser import image_widths
from support.results import box

pytestmark = pytest.mark.e2e


def visible(page, selector):
    return page.locator(selector).evaluate_all("nodes => nodes.filter(n => n.checkVisibility()).length")


def test_gallery_in_chromium(gallery_run, tmp_path, browser):
    images, results, documents = gallery_run
    index = gallery.write_gallery(result_images.collect(results, images), tmp_path / "gallery", min_confidence=0)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(index.as_uri())

    widths = image_widths(page, "img.thumbnail")
    assert len(widths) == 5 and all(widths), "every thumbnail loads from the file, '#' and spaces in names included"
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
    assert (
        visible(page, "#grid .card") == 1
        and "InvalidImageFormatException" in page.locator("#grid .card:visible").text_content()
    )
    page.select_option("#label", ":pending")
    assert page.locator("#grid .card:visible .name").all_text_contents() == ["waiting.jpg"]
    page.select_option("#label", ":nothing")
    assert page.locator("#grid .card:visible .name").all_text_contents() == ["empty.jpg"]

    page.select_option("#label", "*")
    page.locator("#grid .card", has_text="bee #1.jpg").click()
    assert page.locator("#detail").evaluate("dialog => dialog.open")
    assert json.loads(page.locator("#detail-json").text_content()) == documents["meadow/bee #1.jpg"]
    assert visible(page, "#detail-frame .box") == 2
    assert image_widths(page, "#detail-frame img") == [640]
    page.locator("#confidence").evaluate("slider => { slider.value = 90; slider.dispatchEvent(new Event('input')); }")
    assert visible(page, "#detail-frame .box") == 1
    page.keyboard.press("ArrowRight")
    assert page.locator("#detail-name").text_content() == "waiting.jpg"
    assert errors == []


def manifest_line(key, width, height, boxes):
    classes = ["bee", "flower"]
    return object_detection_line(
        f"s3://truth/{key}",
        width,
        height,
        [Box(label, left * width, top * height, w * width, h * height) for label, (left, top, w, h) in boxes],
        classes,
    )


def with_model(results, documents):
    """The documents as the pipeline writes them, naming their model version."""
    for name, document in documents.items():
        document["ProjectVersionArn"] = MODEL_ARN
        (results / "test_images" / f"{name}.json").write_text(json.dumps(document))


def test_ground_truth_verdicts_filters_sort_search_and_anchors(gallery_run, tmp_path, browser):
    images, results, documents = gallery_run
    with_model(results, documents)
    manifest = tmp_path / "truth.manifest"
    manifest.write_text(
        "\n".join(
            [
                manifest_line(
                    "meadow/bee #1.jpg", 640, 480, [("bee", (0.1, 0.1, 0.3, 0.3)), ("flower", (0.7, 0.05, 0.2, 0.2))]
                ),
                manifest_line("flowers.png", 300, 400, [("flower", (0.2, 0.2, 0.4, 0.4))]),
                manifest_line("empty.jpg", 200, 200, []),
            ]
        )
        + "\n"
    )
    index = gallery.write_gallery(
        result_images.collect(results, images),
        tmp_path / "gallery",
        min_confidence=0,
        entries=read_manifest(manifest),
        manifest_name="truth.manifest",
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(index.as_uri())

    summary = page.locator("#summary").text_content()
    assert "5 images: 2 with labels, 1 nothing detected, 1 with an error, 1 without a result yet" in summary
    assert f"model: {MODEL_ARN}" in summary and "ground truth: truth.manifest (IoU 0.5)" in summary
    assert "4 detections of 3 labels" in summary
    bee = page.locator("#grid .card", has_text="bee #1.jpg")
    assert sorted(bee.locator(".tab:visible").all_text_contents()) == ["missed flower", "✓ bee 95.0%", "✗ flower 60.0%"]
    assert bee.locator(".verdicts").text_content() == "1 true positive, 1 false positive, 1 missed"
    assert visible(page, "#grid .truth") == 3

    def names():
        return page.locator("#grid .card:visible .name").all_text_contents()

    page.select_option("#label", ":fp")
    assert names() == ["flowers.png", "meadow/bee #1.jpg"], "the image-level 'sunny' is not in the manifest"
    page.select_option("#label", ":missed")
    assert names() == ["meadow/bee #1.jpg"]
    page.locator("#confidence").fill("90")
    assert names() == ["flowers.png", "meadow/bee #1.jpg"], "at 90% the 85% flower no longer finds its box"
    assert page.locator("#grid .card", has_text="flowers.png").locator(".tab:visible").all_text_contents() == [
        "missed flower"
    ]
    page.select_option("#label", ":tp")
    assert names() == ["meadow/bee #1.jpg"]

    page.locator("#confidence").fill("0")
    page.select_option("#label", "*")
    page.select_option("#sort", "confidence")
    assert names() == ["meadow/bee #1.jpg", "flowers.png", "broken.jpg", "empty.jpg", "waiting.jpg"]
    page.select_option("#sort", "errors")
    assert names()[:2] == ["broken.jpg", "waiting.jpg"]
    page.select_option("#sort", "mistakes")
    assert names()[:2] == ["meadow/bee #1.jpg", "flowers.png"]
    page.locator("#search").fill("FLOW")
    assert names() == ["flowers.png"] and page.locator("#counter").text_content() == "1 of 5 images"
    page.locator("#search").fill("")

    anchor = gallery_anchor("test_images/meadow/bee #1.jpg")
    assert bee.get_attribute("id") == anchor
    page.goto(f"{index.as_uri()}#{anchor}")
    assert page.locator("#detail").evaluate("dialog => dialog.open"), "a link to the anchor opens the image"
    assert page.locator("#detail-name").text_content() == "meadow/bee #1.jpg"
    rows = [row.locator("td").all_text_contents() for row in page.locator("#detail-table tbody tr").all()]
    assert rows == [
        ["bee", "95.00%", "10.0, 10.0, 30.0, 30.0", "true positive"],
        ["flower", "60.00%", "50.0, 50.0, 30.0, 30.0", "false positive"],
    ]
    truth_rows = [row.locator("td").all_text_contents() for row in page.locator("#detail-truth tbody tr").all()]
    assert truth_rows == [
        ["bee", "10.0, 10.0, 30.0, 30.0", "from 95.00% down"],
        ["flower", "70.0, 5.0, 20.0, 20.0", "missed at every threshold"],
    ]
    model = page.locator("#detail-facts dd", has_text="arn:aws:rekognition")
    assert model.text_content() == MODEL_ARN
    assert model.evaluate("dd => dd.scrollWidth <= dd.clientWidth"), "the ARN wraps, it is never cut"
    assert not page.locator("#detail-json").is_visible()
    page.locator("#detail-json-toggle summary").click()
    assert page.locator("#detail-json").is_visible()
    assert json.loads(page.locator("#detail-json").text_content())["ProjectVersionArn"] == MODEL_ARN
    page.screenshot(path=str(tmp_path / "detail.png"))
    assert errors == []


def test_tabs_of_close_boxes_never_hide_one_another(tmp_path, browser):
    images, results = tmp_path / "images", tmp_path / "results"
    images.mkdir()
    (results / "test_images").mkdir(parents=True)
    Image.new("RGB", (300, 200), (10, 10, 10)).save(images / "crowd.jpg")
    crowd = [
        {"Name": label, "Confidence": 90.0 - n, "Geometry": box(0.3 + n * 0.01, 0.3 + n * 0.01, 0.2, 0.2)}
        for n, label in enumerate(["bee", "flower"] * 6)
    ]
    (results / "test_images" / "crowd.jpg.json").write_text(
        json.dumps({"Image": {"Bucket": "b", "Key": "test_images/crowd.jpg"}, "CustomLabels": crowd})
    )
    index = gallery.write_gallery(result_images.collect(results, images), tmp_path / "gallery")
    page = browser.new_page(viewport={"width": 420, "height": 900})
    page.goto(index.as_uri())
    page.locator("img.thumbnail").evaluate("i => i.decode()")

    def rectangles(scope):
        return page.locator(scope).evaluate("""frame => {
            const image = frame.querySelector('img').getBoundingClientRect();
            const tabs = [...frame.querySelectorAll('.tab')].filter(t => t.checkVisibility()).map(t => {
                const r = t.getBoundingClientRect();
                return {rect: [r.left, r.top, r.right, r.bottom], spilled: !!t.closest('.spill')}; });
            return {image: [image.left, image.top, image.right, image.bottom], tabs};
        }""")

    for scope, width in (("#grid .frame", None), ("#detail-frame", 1100)):
        if width:
            page.set_viewport_size({"width": width, "height": 900})
            page.locator("#grid .card").click()
            page.locator("#detail-frame img").evaluate("i => i.decode()")
        found = rectangles(scope)
        assert len(found["tabs"]) == 12
        inside = [t["rect"] for t in found["tabs"] if not t["spilled"]]
        assert inside, "most tabs find a place on the image"
        left, top, right, bottom = found["image"]
        for rect in inside:
            assert left - 0.5 <= rect[0] and rect[2] <= right + 0.5 and top - 0.5 <= rect[1] and rect[3] <= bottom + 0.5
        for n, a in enumerate(inside):
            for b in inside[n + 1 :]:
                assert not (a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5), (a, b)


def test_image_level_ground_truth_and_errors_on_a_narrow_screen(gallery_run, tmp_path, browser):
    images, results, _ = gallery_run
    manifest = tmp_path / "labels.manifest"
    manifest.write_text(
        json.dumps(
            {
                "source-ref": "s3://truth/flowers.png",
                "labels": [0, 1],
                "labels-metadata": {
                    "type": "groundtruth/image-classification-multilabel",
                    "class-map": {"0": "sunny", "1": "cloudy"},
                },
            }
        )
        + "\n"
    )
    index = gallery.write_gallery(
        result_images.collect(results, images),
        tmp_path / "gallery",
        entries=read_manifest(manifest),
        manifest_name="labels.manifest",
    )
    page = browser.new_page(viewport={"width": 320, "height": 800})
    page.goto(index.as_uri())
    flowers = page.locator("#grid .card", has_text="flowers.png")
    assert flowers.locator(".chip:visible").all_text_contents() == ["✓ sunny 70.0%", "missed cloudy"]
    assert flowers.locator(".tab:visible").all_text_contents() == ["✗ flower 85.0%"], "no flower box in the truth"
    page.locator("#confidence").fill("75")
    assert flowers.locator(".chip:visible").all_text_contents() == ["missed sunny", "missed cloudy"]
    error = page.locator(".errortext")
    lines = error.evaluate(
        "e => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))"
    )
    assert 1 <= lines <= 3, f"the error's message wraps between words on a 320 px screen ({lines} lines)"


def test_the_thresholds_the_results_were_made_with_are_said_in_words(gallery_run, tmp_path, browser):
    """The header names each distinct Thresholds of the results, the detail the image's own, as `thresholds show`
    words them (not as JSON)."""
    images, results, documents = gallery_run
    made_with = {
        "meadow/bee #1.jpg": {"min_confidence": 80.0, "labels": {"flower": 72.5}},
        "flowers.png": {"min_confidence": None, "labels": {}},
    }
    for name, thresholds in made_with.items():
        (results / "test_images" / f"{name}.json").write_text(json.dumps({**documents[name], "Thresholds": thresholds}))
    index = gallery.write_gallery(result_images.collect(results, images), tmp_path / "gallery", min_confidence=0)
    page = browser.new_page()
    page.goto(index.as_uri())
    header = page.locator(".fact-thresholds").text_content()
    assert "flower 72.5%, 80% for any other label" in header, header
    assert "the model's assumed threshold for every label" in header, header
    page.locator("#grid .card", has_text="bee #1.jpg").click()
    facts = page.locator("#detail-facts").text_content()
    assert "thresholdsflower 72.5%, 80% for any other label" in facts, facts


def test_hostile_keys_and_nan_confidences_still_render_every_card(tmp_path, browser, capsys):
    """Keys and labels that would end the page's <script> or open an HTML comment, a NaN confidence, an infinite
    box, a JPEG never processed for its mixed-case suffix, and result files that are no results: every card is
    drawn, each oddity said on its card, each unreadable file named on stderr (issue 27)."""
    from customlabels.cli import main

    images, results = tmp_path / "images", tmp_path / "results" / "test_images"
    images.mkdir()
    results.mkdir(parents=True)
    for name in ("<!--<script>.jpg", "nan.jpg", "inf box.jpg", "one.Jpg"):
        Image.new("RGB", (160, 120), (90, 160, 90)).save(images / name, "JPEG")
    escape_key = "test_images/</script><script>window.pwned=1</script>.jpg"
    documents = {
        "comment": ("test_images/<!--<script>.jpg", [{"Name": "bee\u2028<!--", "Confidence": 90.0}]),
        "nan": ("test_images/nan.jpg", [{"Name": "bee", "Confidence": float("nan")}]),
        "inf": ("test_images/inf box.jpg", [{"Name": "bee", "Confidence": 80.0, "Geometry": box(math.inf, 0, 1, 1)}]),
        "escape": (escape_key, [{"Name": "</script>", "Confidence": 70.0}]),
    }
    for name, (key, labels) in documents.items():
        document = {"Image": {"Bucket": "b", "Key": key}, "CustomLabels": labels}
        (results / f"{name}.jpg.json").write_text(json.dumps(document))  # json writes NaN and Infinity bare
    (results / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (results / "nokey.json").write_text(json.dumps({"Image": {"Bucket": "b"}, "CustomLabels": []}))
    (results / "broken.json").write_text("{")
    out = tmp_path / "gallery"
    assert main(["visualize", "--results", str(tmp_path / "results"), "--images", str(images), "--out", str(out)]) == 0
    said = " ".join(capsys.readouterr().err.split())
    for name, why in (
        ("deep.json", "nested too deep"),
        ("nokey.json", "without an Image.Key"),
        ("broken.json", "not JSON"),
    ):
        assert f"{name}: " in said and why in said, said

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((out / "index.html").as_uri())
    assert errors == [] and page.evaluate("window.pwned") is None, "nothing in the data ran as script"
    assert page.locator("#counter").text_content() == "5 of 5 images"
    names = sorted(page.locator("#grid .card .name").all_text_contents())
    assert names == sorted(["<!--<script>.jpg", "nan.jpg", "inf box.jpg", "one.Jpg", escape_key])

    def card(name):
        return " ".join(
            page.locator("#grid .card").filter(has=page.get_by_text(name, exact=True)).text_content().split()
        )

    assert "bee <!-- 90.0%" in card("<!--<script>.jpg").replace("\u2028", " ")
    assert "MalformedResult" in card("nan.jpg") and "CustomLabels[0].Confidence: NaN is not a finite number" in card(
        "nan.jpg"
    )
    assert "Geometry.BoundingBox.Left: Infinity is not a finite number" in card("inf box.jpg")
    assert "never processed" in card("one.Jpg") and "its suffix .Jpg mixes cases" in card("one.Jpg")
    assert "</script> 70.0%" in card(escape_key)
    page.locator("#search").fill("window.pwned")
    assert page.locator("#counter").text_content() == "1 of 5 images", "the hostile key is searchable as written"
    page.locator("#search").fill("")
    page.locator("#grid .card", has_text="nan.jpg").click()
    assert json.loads(page.locator("#detail-json").text_content())["CustomLabels"][0]["Confidence"] == "NaN"
    assert errors == []
