"""Result folders with files that are no results, or results that break the contract: each bad file is named in one
line and left out, and every other result is still read (evaluate, review export, visualize); never a traceback."""

import json
import math

import pytest

from customlabels.cli import main
from customlabels.results.model import ResultsError
from customlabels.results.reading import load_results
from support.cli import refused
from support.images import huge_png, write_image
from support.results import box, result_document

pytestmark = pytest.mark.unit


BEE = {"Name": "bee", "Confidence": 70.0, "Geometry": box(0.1, 0.1, 0.3, 0.3)}


@pytest.fixture
def results(tmp_path):
    """One good result and four bad files: not JSON, nested 100,000 deep, no Image.Key, a NaN confidence."""
    folder = tmp_path / "results" / "test_images"
    folder.mkdir(parents=True)
    (folder / "good.jpg.json").write_text(json.dumps(result_document("test_images/good.jpg", [BEE], bucket="images")))
    (folder / "broken.jpg.json").write_text("{")
    (folder / "deep.jpg.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "nokey.jpg.json").write_text(json.dumps({"Image": {"Bucket": "images"}, "CustomLabels": []}))
    nan = result_document("test_images/nan.jpg", [{**BEE, "Confidence": math.nan}], bucket="images")
    (folder / "nan.jpg.json").write_text(json.dumps(nan))
    return tmp_path / "results"


SKIPPED = {
    "broken.jpg.json": "not JSON",
    "deep.jpg.json": "JSON nested too deep to read",
    "nokey.jpg.json": "a result without an Image.Key string",
    "nan.jpg.json": "malformed result: CustomLabels[0].Confidence: NaN is not a finite number from 0 to 100",
}


def assert_each_named(said: str) -> None:
    for name, why in SKIPPED.items():
        assert f"{name}: {why}" in said, (name, said)


def test_load_results_names_each_bad_file_and_reads_the_rest(results):
    notes = []
    loaded = load_results(str(results), on_skipped=notes.append)
    assert [result.key for result in loaded] == ["test_images/good.jpg"]
    assert len(notes) == 4
    assert_each_named(" ".join(notes))
    with pytest.raises(ResultsError, match=r"broken\.jpg\.json: not JSON"):
        load_results(str(results))  # a program that passes no on_skipped is told, not silently served less


def test_evaluate_skips_the_bad_files_with_a_line_each(results, tmp_path, capsys):
    manifest = tmp_path / "gt.manifest"
    manifest.write_text(
        json.dumps(
            {
                "source-ref": "s3://gt/test_images/good.jpg",
                "bee": 1,
                "bee-metadata": {"class-name": "bee", "type": "groundtruth/image-classification"},
            }
        )
        + "\n"
    )
    assert main(["evaluate", "--manifest", str(manifest), "--results", str(results)]) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    assert_each_named(" ".join(printed.err.split()))
    assert "1 images in the manifest, 1 with a result" in " ".join(printed.out.split())


def test_review_export_skips_the_bad_files_with_a_line_each(results, tmp_path, capsys):
    images = tmp_path / "images"
    write_image(images / "good.jpg", (200, 100))
    out = tmp_path / "review.manifest"
    args = ["review", "export", "--results", str(results), "--images", str(images), "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr()
    assert_each_named(" ".join(printed.err.split()))
    assert [json.loads(line)["source-ref"] for line in out.read_text().splitlines()] == [
        "s3://images/test_images/good.jpg"
    ]


def test_review_export_names_a_decompression_bomb_among_the_images(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "bomb.png.json").write_text(json.dumps(result_document("test_images/bomb.png", [BEE], bucket="images")))
    images = tmp_path / "images"
    images.mkdir()
    (images / "bomb.png").write_bytes(huge_png())
    said = refused(
        capsys,
        ["review", "export", "--results", str(results), "--images", str(images), "--out", str(tmp_path / "r.manifest")],
    )
    assert "bomb.png: declares far more pixels than Pillow opens safely (a decompression bomb)" in said, said
    assert "Fix: give --images the folder the images were uploaded from" in said


@pytest.mark.parametrize(
    ("labels", "problems"),
    [
        ([{"Name": "bee", "Confidence": math.inf}], ["CustomLabels[0].Confidence: Infinity is not a finite number"]),
        ([{"Name": 7, "Confidence": "97"}], ["CustomLabels[0].Name is 7", "CustomLabels[0].Confidence: '97' is not"]),
        ([{"Name": "bee", "Confidence": 101}], ["CustomLabels[0].Confidence: 101 is outside 0-100"]),
        (
            [{"Name": "bee", "Confidence": 90, "Geometry": box(-math.inf, math.nan, 0.1, None)}],
            ["BoundingBox.Left: -Infinity", "BoundingBox.Top: NaN", "BoundingBox.Height: None is not a number"],
        ),
        ("bee", ["CustomLabels is 'bee', not a list"]),
    ],
)
def test_every_problem_of_a_malformed_result_is_named(labels, problems):
    from customlabels.results.model import MalformedResultError, result_from_document, result_problems

    found = " ".join(result_problems({"Image": {"Key": "k"}, "CustomLabels": labels}))
    for problem in problems:
        assert problem in found, (problem, found)
    with pytest.raises(MalformedResultError, match="malformed result"):
        result_from_document({"Image": {"Key": "k"}, "CustomLabels": labels})
