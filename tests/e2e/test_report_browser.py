"""The evaluation report comparing two models, opened from the file system in headless Chromium: every picture
loads, no script error, each picture leads to its image's card in the gallery `visualize` writes, and the page
fits a phone's width (wide tables scroll inside their box)."""

import pytest

from customlabels.cli import main
from customlabels.datasets.manifest import read_manifest
from customlabels.visualize import gallery, result_images
from support.browser import image_widths
from support.evaluation import write_evaluation_inputs

pytestmark = pytest.mark.e2e


@pytest.fixture
def report(tmp_path):
    paths = write_evaluation_inputs(tmp_path)
    gallery.write_gallery(
        result_images.collect(paths["results-b"], paths["images"]),
        tmp_path / "gallery",
        entries=read_manifest(paths["manifest"]),
    )
    assert (
        main(
            [
                "evaluate",
                "--manifest",
                str(paths["manifest"]),
                "--results",
                f"a={paths['results-a']}",
                "--results",
                f"b={paths['results-b']}",
                "--target-precision",
                "0.6",
                "--report",
                str(tmp_path / "report"),
                "--images",
                str(paths["images"]),
                "--gallery",
                f"b={tmp_path / 'gallery'}",
            ]
        )
        == 0
    )
    return tmp_path / "report" / "index.html"


def test_report_in_chromium(report, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.as_uri())

    widths = image_widths(page, "img")
    assert len(widths) >= 8 and all(widths), "PR curves and every thumbnail load from the file system"
    assert page.locator("h1").text_content() == "Comparison of models"
    assert page.locator("dl.context").text_content().count("results of") == 2
    assert page.locator("section", has_text="Images the models disagree on").locator(".disagreement").count() == 3
    assert page.locator("table.matrix").count() == 2, "a confusion matrix per model"

    link = page.locator(".disagreement a", has=page.locator("img")).first
    anchor = link.get_attribute("href").split("#", 1)[1]
    link.click()
    page.wait_for_url(f"**/gallery/index.html#{anchor}")
    assert page.locator(f"#{anchor}").count() == 1, "the picture leads to its card in the gallery"

    phone = browser.new_page(viewport={"width": 390, "height": 800})
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.goto(report.as_uri())
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), (
        "nothing wider than the phone: tables scroll inside their box"
    )
    assert errors == []
