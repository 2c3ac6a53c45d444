"""The feedback loop's pure parts: which images go to review, the manifest of pre-annotations (checked by
`manifest validate`), and merging a reviewed manifest by source-ref."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customlabels.cli import main
from customlabels.datasets import manifest_tools
from customlabels.datasets.manifest import ManifestError, read_manifest
from customlabels.datasets.manifest_merge import merge
from customlabels.review import export
from support.cli import refused
from support.results import box, result_document

pytestmark = pytest.mark.unit


def result(key, *labels, error=None):
    """A result with (name, confidence, box or None) labels, or the error `error`."""
    found = [
        {"Name": name, "Confidence": confidence, **({"Geometry": box(*geometry)} if geometry else {})}
        for name, confidence, geometry in labels
    ]
    return result_document(key, found, error and {"Code": error, "Message": "bad"}, bucket="images")


BEE = (0.1, 0.1, 0.3, 0.3)


def test_the_uncertain_band_includes_its_low_end_and_excludes_its_high_end():
    documents = [
        result("t/a.jpg", ("bee", 49.9, BEE)),
        result("t/b.jpg", ("bee", 50.0, BEE)),
        result("t/c.jpg", ("bee", 89.9, BEE)),
        result("t/d.jpg", ("bee", 90.0, BEE)),
        result("t/e.jpg"),
        result("t/f.jpg", error="InvalidImageFormatException"),
    ]
    chosen = export.select(documents, export.Rules(50, 90))
    assert [(c.document["Image"]["Key"], c.reasons) for c in chosen] == [
        ("t/b.jpg", ("uncertain bee 50.0%",)),
        ("t/c.jpg", ("uncertain bee 89.9%",)),
        ("t/e.jpg", ("nothing detected",)),
    ]
    assert [c.source_ref for c in export.select(documents, export.Rules(50, 90, include_nothing=False))] == [
        "s3://images/t/b.jpg",
        "s3://images/t/c.jpg",
    ]
    with pytest.raises(export.ReviewError, match="band 90-50 is empty"):
        export.Rules(90, 50)


def test_two_models_disagree_on_a_box_the_other_misses_or_a_label_only_one_gives():
    first = [
        result("t/same.jpg", ("bee", 99.0, BEE)),
        result("t/moved.jpg", ("bee", 99.0, BEE)),
        result("t/label.jpg", ("sunny", 99.0, None)),
        result("t/alone.jpg", ("bee", 99.0, BEE)),
    ]
    second = [
        result("other/t/same.jpg", ("bee", 95.0, (0.11, 0.1, 0.3, 0.3))),
        result("other/t/moved.jpg", ("bee", 95.0, (0.5, 0.5, 0.3, 0.3))),
        result("other/t/label.jpg", ("cloudy", 97.0, None)),
    ]
    chosen = {c.document["Image"]["Key"]: c.reasons for c in export.select(first, export.Rules(50, 90), second)}
    assert chosen == {
        "t/moved.jpg": ("only the first model: bee 99.0%", "only the second model: bee 95.0%"),
        "t/label.jpg": ("only the first model: sunny (image)", "only the second model: cloudy (image)"),
        "t/alone.jpg": ("no result of the second model",),
    }


def write(tmp_path, lines):
    path = tmp_path / "review.manifest"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_box_pre_annotations_are_a_manifest_that_validates_and_reads_back_in_pixels(tmp_path):
    chosen = export.select(
        [result("t/a.jpg", ("bee", 60.0, BEE), ("flower", 95.0, (0.5, 0.5, 0.5, 0.5))), result("t/b.jpg")],
        export.Rules(),
    )
    lines = export.manifest_lines(chosen, lambda key: (640, 480))
    path = write(tmp_path, lines)
    assert manifest_tools.validate(path) == []
    first, second = read_manifest(path)
    assert first.source_ref == "s3://images/t/a.jpg" and (first.image_width, first.image_height) == (640, 480)
    assert [(b.label, b.left, b.top, b.width, b.height) for b in first.boxes] == [
        ("flower", 320, 240, 320, 240),
        ("bee", 64, 48, 192, 144),
    ]
    metadata = json.loads(lines[0])["review-metadata"]
    assert metadata["human-annotated"] == "no" and metadata["objects"] == [{"confidence": 0.95}, {"confidence": 0.6}]
    assert metadata["customlabels-review-reasons"] == ["uncertain bee 60.0%"]
    assert second.boxes == () and json.loads(lines[1])["review-metadata"]["customlabels-review-reasons"] == [
        "nothing detected"
    ]
    with pytest.raises(export.ReviewError, match="Fix: give --images"):
        export.manifest_lines(chosen, lambda key: None)


def test_image_level_pre_annotations_are_classification_lines_that_validate(tmp_path):
    single = export.select(
        [result("t/a.jpg", ("bee", 60.0, None)), result("t/b.jpg", ("flower", 70.0, None))], export.Rules()
    )
    path = write(tmp_path, export.manifest_lines(single, lambda key: None))
    assert manifest_tools.validate(path) == [] and [e.labels for e in read_manifest(path)] == [("bee",), ("flower",)]
    multi = export.select(
        [result("t/a.jpg", ("bee", 60.0, None), ("sunny", 99.0, None)), result("t/b.jpg")], export.Rules()
    )
    path = write(tmp_path, export.manifest_lines(multi, lambda key: None))
    assert [e.labels for e in read_manifest(path)] == [("sunny", "bee"), ()]
    assert [p for p in manifest_tools.validate(path) if p.line is not None] == []


ratio = st.floats(0, 1, allow_nan=False)


@settings(max_examples=60)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from(["bee", "flower"]), st.floats(0, 100), ratio, ratio, ratio, ratio), max_size=5
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(64, 4096),
    st.integers(64, 4096),
)
def test_any_predictions_inside_the_image_make_a_manifest_that_validates(tmp_path_factory, images, width, height):
    documents = [
        result(
            f"t/{n}.jpg",
            *[
                (label, confidence, (x, y, max(0.001, w * (1 - x)), max(0.001, h * (1 - y))))
                for label, confidence, x, y, w, h in labels
                if x < 1 and y < 1
            ],
        )
        for n, labels in enumerate(images)
    ]
    chosen = export.select(documents, export.Rules(0, 100))
    path = write(tmp_path_factory.mktemp("review"), export.manifest_lines(chosen, lambda key: (width, height)))
    assert [p for p in manifest_tools.validate(path) if p.line is not None] == [], "no problem on any line"


def line(ref, note):
    return json.dumps({"source-ref": f"s3://b/{ref}", "note": note})


def test_merge_replaces_in_place_and_appends_new_images():
    merged = merge([line("a", 1), line("b", 1), line("c", 1)], [line("c", 2), line("d", 2), line("a", 2)])
    assert merged.lines == [line("a", 2), line("b", 1), line("c", 2), line("d", 2)]
    assert (merged.replaced, merged.added, merged.kept) == (2, 1, 1)
    with pytest.raises(ManifestError, match=r"REVIEWED:3: s3://b/a again \(first on line 1\)"):
        merge([line("a", 1)], [line("a", 2), line("b", 2), line("a", 3)])
    with pytest.raises(ManifestError, match=r"BASE:2: every line needs a \"source-ref\""):
        merge([line("a", 1), "{}"], [])


@given(st.lists(st.sampled_from("abcdefgh"), unique=True), st.lists(st.sampled_from("abcdefgh"), unique=True))
def test_merge_keeps_every_image_once_with_the_reviewed_line_where_there_is_one(base_refs, reviewed_refs):
    merged = merge([line(r, "base") for r in base_refs], [line(r, "reviewed") for r in reviewed_refs])
    refs = [json.loads(text)["source-ref"][7:] for text in merged.lines]
    assert refs == base_refs + [r for r in reviewed_refs if r not in base_refs]
    assert all(
        json.loads(text)["note"] == ("reviewed" if json.loads(text)["source-ref"][7:] in reviewed_refs else "base")
        for text in merged.lines
    )


def test_review_export_and_manifest_merge_from_the_command_line(gallery_run, tmp_path, capsys):
    images, results, _ = gallery_run
    out = tmp_path / "review.manifest"
    assert (
        main(
            [
                "review",
                "export",
                "--results",
                str(results),
                "--images",
                str(images),
                "--out",
                str(out),
                "--low",
                "50",
                "--high",
                "80",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "3 of 4 images with a result to review" in printed, printed
    assert [e.key for e in read_manifest(out)] == [
        "test_images/empty.jpg",
        "test_images/flowers.png",
        "test_images/meadow/bee #1.jpg",
    ]
    assert main(["manifest", "validate", str(out)]) == 0
    base = tmp_path / "base.manifest"
    base.write_text(out.read_text().splitlines()[0] + "\n")
    assert main(["manifest", "merge", str(base), str(out), "--out", str(tmp_path / "new.manifest")]) == 0
    assert "3 line(s): 1 replaced, 2 added, 0 kept" in capsys.readouterr().out
    said = refused(capsys, ["review", "export", "--results", str(results), "--out", str(out)])
    assert "Fix: give --images" in said
    said = refused(capsys, ["review", "export", "--results", str(results), "--out", str(out), "--low", "90"])
    assert "band 90-90 is empty" in said


def test_merge_reads_a_review_of_the_pipelines_copies_as_the_training_images():
    """`review export` names the pipeline's bucket; the training manifest its own, under another prefix. Merge
    matches each reviewed image by its path below the two prefixes and writes BASE's source-ref (issue 27)."""
    base = [json.dumps({"source-ref": f"s3://train/images/{name}", "n": 1}) for name in ("a.jpg", "sub/b.jpg", "c.jpg")]
    reviewed = [
        json.dumps({"source-ref": f"s3://customlabels-local/test_images/{name}", "n": 2})
        for name in ("sub/b.jpg", "a.jpg")
    ]
    merged = merge(base, reviewed)
    assert (merged.replaced, merged.added, merged.kept) == (2, 0, 1)
    assert merged.moved == ("s3://customlabels-local/test_images/", "s3://train/images/")
    assert [json.loads(text) for text in merged.lines] == [
        {"source-ref": "s3://train/images/a.jpg", "n": 2},
        {"source-ref": "s3://train/images/sub/b.jpg", "n": 2},
        {"source-ref": "s3://train/images/c.jpg", "n": 1},
    ]
    same_keys = merge(base, [json.dumps({"source-ref": "s3://local/images/c.jpg", "n": 3})])
    assert same_keys.replaced == 1 and same_keys.moved == ("s3://local/", "s3://train/")
    assert merge(base, [json.dumps({"source-ref": "s3://train/new.jpg"})]).added == 1, "BASE's bucket: a new image"


def test_merge_refuses_a_reviewed_image_base_does_not_hold_in_another_bucket():
    base = [json.dumps({"source-ref": f"s3://train/images/{name}.jpg"}) for name in "ab"]
    reviewed = [json.dumps({"source-ref": f"s3://local/test_images/{name}.jpg"}) for name in "abz"]
    with pytest.raises(ManifestError) as refused_:
        merge(base, reviewed)
    said = str(refused_.value)
    assert "1 reviewed image(s) are not in BASE and live in another bucket than its s3://train/" in said
    assert "REVIEWED:3: s3://local/test_images/z.jpg" in said and "Nothing written" in said
    assert "copy those images under s3://train/images/" in said
    twice = [json.dumps({"source-ref": "s3://train/images/a.jpg"}), json.dumps({"source-ref": "s3://l/t/a.jpg"})]
    with pytest.raises(ManifestError, match=r"REVIEWED:2: s3://train/images/a\.jpg again \(first on line 1\)"):
        merge(base, twice)
    with pytest.raises(ManifestError, match="could be BASE's under"):
        merge([json.dumps({"source-ref": f"s3://train/{folder}/a.jpg"}) for folder in "xy"], twice[1:])


@given(
    st.lists(
        st.sampled_from(["a.jpg", "b.png", "s/c.jpg", "s/t/d.jpg", "e f.jpg", "u/g.jpg"]), unique=True, min_size=1
    ),
    st.data(),
)
def test_a_review_of_copies_replaces_exactly_the_reviewed_images_in_one_bucket(names, data):
    """(Two BASE images of one file name make a single reviewed image ambiguous: refused above.)"""
    reviewed_names = data.draw(st.lists(st.sampled_from(names), unique=True, min_size=1))
    base = [line(f"images/{name}", "base").replace("s3://b/", "s3://train/") for name in names]
    reviewed = [line(f"test_images/{name}", "reviewed").replace("s3://b/", "s3://local/") for name in reviewed_names]
    merged = merge(base, reviewed)
    documents = [json.loads(text) for text in merged.lines]
    assert [d["source-ref"] for d in documents] == [f"s3://train/images/{name}" for name in names]
    assert [d["note"] for d in documents] == ["reviewed" if name in reviewed_names else "base" for name in names]
