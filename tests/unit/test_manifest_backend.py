"""Ground Truth manifests and the emulated model that answers with them."""

import json

import pytest

from customlabels.datasets.manifest import Box, ManifestError, object_detection_line, parse_line, read_manifest
from customlabels.datasets.sample_data import generate
from customlabels.local.emulator.backends import ManifestBackend

pytestmark = pytest.mark.unit


DETECTION = object_detection_line(
    "s3://bucket/test_images/a/bee.jpg",
    400,
    200,
    [Box("bee", 100, 50, 200, 100), Box("flower", 0, 0, 40, 20)],
    ["bee", "flower"],
)


CLASSIFICATION = json.dumps(
    {
        "source-ref": "s3://bucket/test_images/flower.jpg",
        "species": 1,
        "species-metadata": {"class-name": "flower", "type": "groundtruth/image-classification"},
    }
)


MULTILABEL = json.dumps(
    {
        "source-ref": "s3://bucket/x.png",
        "tags": [0, 2],
        "tags-metadata": {
            "class-map": {"0": "bee", "1": "wasp", "2": "flower"},
            "type": "groundtruth/image-classification-multilabel",
        },
    }
)


def test_object_detection_lines_read_back_as_written():
    entry = parse_line(DETECTION, 1)
    assert entry.key == "test_images/a/bee.jpg"
    assert (entry.image_width, entry.image_height) == (400, 200)
    assert entry.boxes == (Box("bee", 100, 50, 200, 100), Box("flower", 0, 0, 40, 20))


def test_image_level_labels_single_and_multi():
    assert parse_line(CLASSIFICATION, 1).labels == ("flower",)
    assert parse_line(MULTILABEL, 1).labels == ("bee", "flower")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"gt.manifest:3: not a JSON object"),
        ('{"bounding-box": {}}', r"gt.manifest:3: every line needs a \"source-ref\""),
        ('{"source-ref": "s3://b/k.jpg", "label": 1}', r"gt.manifest:3: .*\"label\" has no \"label-metadata\""),
        (
            '{"source-ref": "s3://b/k.jpg", "l": 1, "l-metadata": {"type": "groundtruth/semantic-segmentation"}}',
            r"gt.manifest:3: unsupported label type",
        ),
        (
            '{"source-ref": "s3://b/k.jpg", "b": {"annotations": [{"class_id": 7, "left": 0, "top": 0, "width": 1, '
            '"height": 1}]}, "b-metadata": {"class-map": {"0": "bee"}, "type": "groundtruth/object-detection"}}',
            r"gt.manifest:3: malformed \"b\"",
        ),
    ],
)
def test_malformed_lines_name_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "gt.manifest"
    path.write_text(DETECTION + "\n\n" + line + "\n")
    with pytest.raises(ManifestError, match=message):
        read_manifest(path)


def test_backend_answers_with_boxes_as_ratios_of_the_image():
    backend = ManifestBackend([parse_line(DETECTION, 1)], confidence=90, jitter=0)
    assert backend.detect("test_images/a/bee.jpg", 400, 200) == [
        {
            "Name": "bee",
            "Confidence": 90.0,
            "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.25}},
        },
        {
            "Name": "flower",
            "Confidence": 90.0,
            "Geometry": {"BoundingBox": {"Width": 0.1, "Height": 0.1, "Left": 0.0, "Top": 0.0}},
        },
    ]


def test_backend_matches_by_trailing_path_and_answers_nothing_for_unknown_images():
    backend = ManifestBackend([parse_line(DETECTION, 1), parse_line(CLASSIFICATION, 2)])
    assert backend.entry_for("other_prefix/a/bee.jpg").line == 1
    assert backend.entry_for("flower.jpg").line == 2
    assert backend.detect("test_images/unknown.jpg", 100, 100) == []
    assert [label["Name"] for label in backend.detect("test_images/flower.jpg", 100, 100)] == ["flower"]


def test_noise_is_deterministic_and_at_its_rate(tmp_path):
    data = generate(tmp_path, count=40, seed=1)
    entries = read_manifest(data.manifest)
    clean = ManifestBackend(entries, jitter=0)
    noisy = ManifestBackend(entries, miss_rate=0.3, spurious_rate=0.5, seed=4)
    true_objects = sum(len(clean.detect(e.key, 640, 480)) for e in entries)
    answers = [noisy.detect(e.key, 640, 480) for e in entries]
    assert answers == [noisy.detect(e.key, 640, 480) for e in entries]  # same seed, same answers
    spurious = sum(1 for labels in answers for label in labels if label["Confidence"] < 85 - 1e-9)
    kept = sum(len(labels) for labels in answers) - spurious
    assert 0.55 < kept / true_objects < 0.85
    assert 0.3 < spurious / len(entries) < 0.7


def test_sample_data_boxes_lie_inside_their_images(tmp_path):
    data = generate(tmp_path, count=12)
    for entry in read_manifest(data.manifest):
        assert (data.images / entry.key.removeprefix("test_images/")).exists()
        assert entry.boxes
        for box in entry.boxes:
            assert box.left >= 0 and box.left + box.width <= entry.image_width
            assert box.top >= 0 and box.top + box.height <= entry.image_height
