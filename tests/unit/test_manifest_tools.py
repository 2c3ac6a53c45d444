"""`customlabels manifest rewrite | validate | split | stats` on generated manifests, every rule broken once."""

import json
import re
from collections import Counter

import pytest
from PIL import Image

from customlabels.cli import main
from customlabels.datasets import manifest_tools as tools
from customlabels.datasets.manifest import CLASSIFICATION, Box, object_detection_line, read_manifest
from support.cli import refused

pytestmark = pytest.mark.unit


CLASSES = ["bee", "flower"]


ONE_BEE = (Box("bee", 10, 10, 50, 40),)


def detection(name, boxes=ONE_BEE, bucket="data", size=(640, 480)):
    return object_detection_line(f"s3://{bucket}/images/{name}", *size, list(boxes), CLASSES)


def classification(name, label, bucket="data"):
    return json.dumps(
        {
            "source-ref": f"s3://{bucket}/images/{name}",
            "species": 0,
            "species-metadata": {"class-name": label, "type": CLASSIFICATION},
        }
    )


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_validate_reports_every_rule_broken_once_with_its_line(tmp_path):
    no_size = json.loads(detection("no-size.jpg"))
    del no_size["bounding-box"]["image_size"]
    unknown_class = json.loads(detection("unknown-class.jpg"))
    unknown_class["bounding-box"]["annotations"][0]["class_id"] = 7
    lines = [
        detection("good.jpg"),  # 1
        '{"source-ref": "s3://data/images/broken.jpg", ',  # 2 not JSON
        json.dumps({"bounding-box": {}}),  # 3 no source-ref
        detection("x.jpg").replace("s3://data/", "https://data.s3.amazonaws.com/"),  # 4 not s3://
        detection("elsewhere.jpg", bucket="other"),  # 5 second bucket
        json.dumps({"source-ref": "s3://data/images/unlabelled.jpg"}),  # 6 no label attribute
        detection("crowded.jpg", [Box("bee", i, i, 5, 5) for i in range(51)]),  # 7 51 boxes
        detection("outside.jpg", [Box("flower", 600, 10, 50, 40)]),  # 8 box past the right edge
        classification("classified.jpg", "bee"),  # 9 another kind of labels
        json.dumps(unknown_class),  # 10 class id not in the class-map
        json.dumps(no_size),  # 11 boxes without image_size
        detection("flat.jpg", [Box("bee", 10, 10, 0, 40)]),  # 12 zero width
    ]
    problems = tools.validate(write(tmp_path / "train.manifest", lines))
    assert [(p.line, p.rule) for p in problems] == [
        (2, "ERROR_INVALID_JSON_LINE"),
        (3, "ERROR_MISSING_SOURCE_REF"),
        (4, "ERROR_INVALID_SOURCE_REF_FORMAT"),
        (5, "ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS"),
        (6, "ERROR_NO_LABEL_ATTRIBUTES"),
        (7, "ERROR_TOO_MANY_BOUNDING_BOXES"),
        (8, "ERROR_INVALID_BOUNDING_BOX"),
        (9, "label-type"),
        (10, "ERROR_MISSING_CLASS_MAP_ID"),
        (11, "image-size"),
        (12, "ERROR_INVALID_BOUNDING_BOX"),
    ]
    messages = {p.line: p.message for p in problems}
    assert "line 1 uses 'data'" in messages[5]
    assert messages[7].startswith("51 bounding boxes; Custom Labels takes 0-50")
    assert "left 600 + width 50" in messages[8] and "640 x 480" in messages[8]
    assert "image classification labels, but line 1 has object detection labels" in messages[9]
    assert 'malformed "bounding-box": annotation 1: class_id 7 is not in the class-map (0, 1)' in messages[10]
    assert "width 0" in messages[12]


def test_validate_names_every_problem_of_a_line_and_refuses_non_finite_numbers(tmp_path, capsys):
    """One line, four broken boxes and a fifth outside the image: each problem on its own row, with its code; a
    NaN or an infinite side is refused (neither is JSON), not compared as if it were a number."""
    line = json.loads(detection("many.jpg", [Box("bee", 10, 10, 5, 5)] * 5))
    annotations = line["bounding-box"]["annotations"]
    annotations[0]["class_id"] = 7
    annotations[0]["left"] = float("nan")
    annotations[1]["top"] = float("inf")
    del annotations[2]["width"]
    annotations[3]["height"] = "tall"
    annotations[4]["left"] = 639
    path = write(tmp_path / "boxes.manifest", [json.dumps(line)])  # json writes NaN and Infinity bare
    problems = [(p.rule, p.message) for p in tools.validate(path) if p.line == 1]
    box, not_json = 'malformed "bounding-box": annotation', "is not a finite number (NaN and Infinity are not JSON)"
    assert problems == [
        ("ERROR_INVALID_BOUNDING_BOX", f"{box} 1: left NaN {not_json}"),
        ("ERROR_INVALID_BOUNDING_BOX", f"{box} 2: top Infinity {not_json}"),
        (
            "ERROR_INVALID_BOUNDING_BOX",
            "annotation 5 (bee): left 639 + width 5, top 10 + height 5 fall outside the 640 x 480 image",
        ),
        ("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", f"{box} 3 has no width"),
        ("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", f'{box} 4: height "tall" is not a number'),
        ("ERROR_MISSING_CLASS_MAP_ID", f"{box} 1: class_id 7 is not in the class-map (0, 1)"),
    ]
    assert main(["manifest", "validate", str(path)]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert "6 problem(s) on 1 line(s)" in printed and "Traceback" not in printed


def test_validate_counts_lines_and_labels(tmp_path):
    assert [p.rule for p in tools.validate(write(tmp_path / "empty.manifest", []))] == ["empty"]
    one_class = [classification(f"{n}.jpg", "bee") for n in range(3)]
    [problem] = tools.validate(write(tmp_path / "one.manifest", one_class))
    assert (problem.line, problem.rule) == (None, "label-count")
    assert "image classification needs at least 2 labels" in problem.message
    many = [classification(f"{n}.jpg", f"label-{n}") for n in range(tools.MAX_LABELS + 1)]
    assert [p.rule for p in tools.validate(write(tmp_path / "many.manifest", many))] == [
        "ERROR_MANIFEST_TOO_MANY_LABELS"
    ]
    assert tools.validate(write(tmp_path / "fine.manifest", many[: tools.MAX_LABELS])) == []
    line = classification("same.jpg", "bee")
    write(tmp_path / "long.manifest", [line] * (tools.MAX_LINES + 1) + [classification("other.jpg", "flower")])
    problems = tools.validate(tmp_path / "long.manifest")
    assert [(p.line, p.rule) for p in problems] == [(250_001, "ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM")]


def test_validate_command_exits_1_and_lists_the_lines(tmp_path, capsys):
    path = write(tmp_path / "bad.manifest", [detection("a.jpg"), "not json"])
    assert main(["manifest", "validate", str(path)]) == 1
    printed = capsys.readouterr().out
    assert "ERROR_INVALID_JSON_LINE" in printed and "1 problem(s) on 1 line(s)" in printed
    assert main(["manifest", "validate", str(write(tmp_path / "ok.manifest", [detection("a.jpg")]))]) == 0


def test_rewrite_moves_every_source_ref_and_nothing_else(tmp_path):
    source = write(tmp_path / "in.manifest", [detection("a.jpg"), detection("sub/b c.jpg")])
    target = tmp_path / "out" / "moved.manifest"
    assert (
        main(
            [
                "manifest",
                "rewrite",
                str(source),
                str(target),
                "--from",
                "s3://data/images/",
                "--to",
                "s3://new-bucket/train/",
            ]
        )
        == 0
    )
    before, after = read_manifest(source), read_manifest(target)
    assert [e.source_ref for e in after] == ["s3://new-bucket/train/a.jpg", "s3://new-bucket/train/sub/b c.jpg"]
    assert [(e.boxes, e.image_width) for e in after] == [(e.boxes, e.image_width) for e in before]


def test_rewrite_writes_nothing_when_a_line_is_not_under_from(tmp_path, capsys):
    source = write(tmp_path / "in.manifest", [detection("a.jpg"), detection("b.jpg", bucket="other")])
    target = tmp_path / "out.manifest"
    said = refused(
        capsys, ["manifest", "rewrite", str(source), str(target), "--from", "s3://data/", "--to", "s3://new/"]
    )
    assert re.search(r"(?s)1 line\(s\) not rewritten.*in\.manifest:2: source-ref 's3://other/", said), said
    assert not target.exists()
    said = refused(
        capsys, ["manifest", "rewrite", str(source), str(target), "--from", "s3://data/", "--to", "new-bucket"]
    )
    assert re.search("--to 'new-bucket': give an S3 URI", said), said


def stratified_manifest(path):
    """80 images of bees only, 20 with a flower too (the rarer label), 3 of a wasp, 1 of a lone moth."""
    lines = [detection(f"bee-{n}.jpg") for n in range(80)]
    lines += [detection(f"flower-{n}.jpg", [Box("bee", 1, 1, 5, 5), Box("flower", 9, 9, 5, 5)]) for n in range(20)]
    classes = [*CLASSES, "wasp", "moth"]
    lines += [
        object_detection_line(f"s3://data/images/wasp-{n}.jpg", 640, 480, [Box("wasp", 1, 1, 9, 9)], classes)
        for n in range(3)
    ]
    lines.append(object_detection_line("s3://data/images/moth.jpg", 640, 480, [Box("moth", 1, 1, 9, 9)], classes))
    return write(path, lines)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_split_is_stratified_by_the_rarest_label(tmp_path, seed):
    source = stratified_manifest(tmp_path / "all.manifest")
    entries = tools.read_valid(source)
    train, test = tools.split(entries, 0.2, seed)
    assert len(test) == 21 and len(train) == 83
    assert sorted(line for line, _ in train + test) == sorted(line for line, _ in entries), "each line once"
    labels = Counter(b.label for _, entry in test for b in {b.label: b for b in entry.boxes}.values())
    assert labels["flower"] == 4, "20% of the 20 flower images, whatever the seed"
    assert 1 <= labels["wasp"] <= 2
    assert [line for line, _ in train] == [line for line, _ in entries if (line, _) in train], "original order"
    assert tools.split(entries, 0.2, seed) == (train, test), "the same seed gives the same split"


def test_split_command_writes_both_manifests_and_warns_of_labels_missing_from_test(tmp_path, capsys):
    source = stratified_manifest(tmp_path / "all.manifest")
    assert (
        main(["manifest", "split", str(source), "--test", "0.2", "--seed", "3", "--out-dir", str(tmp_path / "split")])
        == 0
    )
    train, test = (read_manifest(tmp_path / "split" / f"all.{part}.manifest") for part in ("train", "test"))
    assert (len(train), len(test)) == (83, 21)
    printed = capsys.readouterr().out
    moth_in_test = any(b.label == "moth" for e in test for b in e.boxes)
    assert ("No test image for moth" in printed) is not moth_in_test, "the lone moth is in one set only"
    said = refused(capsys, ["manifest", "split", str(source), "--test", "1.5"])
    assert re.search(r"--test 1\.5: give the test share as a fraction", said), said
    said = refused(capsys, ["manifest", "split", str(source), "--test", "0.01"])
    assert re.search("use a larger --test or more images", said), said


def test_stats_counts_images_and_boxes_per_label_and_draws_the_chart(tmp_path, capsys):
    source = stratified_manifest(tmp_path / "all.manifest")
    with source.open("a") as lines:
        lines.write(detection("empty.jpg", []) + "\n")
    result = tools.stats([entry for _, entry in tools.read_valid(source)])
    assert {label: (c.images, c.boxes) for label, c in result.labels.items()} == {
        "bee": (100, 100),
        "flower": (20, 20),
        "wasp": (3, 3),
        "moth": (1, 1),
    }
    assert (result.images, result.boxes, result.images_without_labels) == (105, 124, 1)
    assert main(["manifest", "stats", str(source)]) == 0
    chart = tmp_path / "all.stats.png"
    with Image.open(chart) as picture:
        assert picture.format == "PNG" and picture.width > 400
    assert f"Chart: {chart}" in capsys.readouterr().out
    write(tmp_path / "bad.manifest", ["{"])
    said = refused(capsys, ["manifest", "stats", str(tmp_path / "bad.manifest")])
    assert re.search(r"bad\.manifest:1: not a JSON object.*manifest validate", said), said
