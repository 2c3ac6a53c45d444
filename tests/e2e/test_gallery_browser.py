"""The HTML gallery, opened from the file system in headless Chromium: thumbnails load, the confidence slider hides
boxes below it, the label filter hides images, the detail shows the JSON."""

import json

import pytest

from customlabels.visualize import gallery, pictures

pytestmark = pytest.mark.e2e


def visible(page, selector):
    return page.locator(selector).evaluate_all("nodes => nodes.filter(n => n.checkVisibility()).length")


def test_gallery_in_chromium(gallery_run, tmp_path, browser):
    images, results, documents = gallery_run
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
