"""A small Ground Truth and two models' results on it, for the evaluation, report and review tests."""

import json
from pathlib import Path

from customlabels.datasets.manifest import Box, ManifestEntry, object_detection_line
from customlabels.results.model import ImageResult, Prediction
from support.aws import MODEL_ARN
from support.images import write_image
from support.results import result_document


def entry(line, key, boxes=(), labels=(), size=(100, 100)):
    return ManifestEntry(line, f"s3://gt/{key}", tuple(boxes), tuple(labels), *size)


def detection(label, confidence, left, top, width, height):
    """A prediction with a box given in pixels of a 100 x 100 image."""
    return Prediction(label, confidence, (left / 100, top / 100, width / 100, height / 100))


ENTRIES = [
    entry(1, "a.jpg", [Box("bee", 0, 0, 50, 50), Box("bee", 50, 50, 50, 50)]),
    entry(2, "b.jpg", [Box("bee", 10, 10, 30, 30)]),
    entry(3, "c.jpg", [Box("bee", 20, 20, 40, 40)]),
]


RESULTS = [
    ImageResult(
        "test_images/a.jpg",
        (detection("bee", 95, 0, 50, 20, 20), detection("bee", 90, 0, 0, 50, 50), detection("bee", 80, 60, 60, 40, 40)),
    ),
    ImageResult("test_images/b.jpg", (detection("bee", 60, 70, 70, 20, 20), detection("flower", 85, 10, 10, 30, 30))),
    ImageResult("test_images/c.jpg"),
]


MODEL_B_RESULTS = [
    ImageResult("test_images/a.jpg", (detection("bee", 97, 0, 0, 50, 50), detection("bee", 93, 50, 50, 50, 50))),
    ImageResult("test_images/b.jpg"),
    ImageResult("test_images/c.jpg", (detection("bee", 88, 20, 20, 40, 40),)),
    ImageResult("test_images/d.jpg", (detection("bee", 70, 10, 60, 30, 30),)),
]
"""A second model on ENTRIES plus an empty image d.jpg: right on a and c (where model A errs on a and c), it misses
b's bee and sees a bee on the empty d."""


def write_evaluation_inputs(folder: Path) -> dict[str, Path]:
    """ENTRIES and an image without objects as a manifest, their 100 x 100 images, and the results of two models
    (RESULTS and MODEL_B_RESULTS) as result JSON folders."""
    entries = [*ENTRIES, entry(4, "d.jpg")]
    paths = {name: folder / name for name in ("images", "results-a", "results-b")}
    paths["manifest"] = folder / "gt.manifest"
    paths["manifest"].write_text(
        "".join(object_detection_line(e.source_ref, 100, 100, list(e.boxes), ["bee"]) + "\n" for e in entries)
    )
    paths["images"].mkdir(parents=True)
    for e in entries:
        write_image(paths["images"] / e.key, size=(100, 100), colour=(128, 128, 128))
    for name, results in (("results-a", [*RESULTS, ImageResult("test_images/d.jpg")]), ("results-b", MODEL_B_RESULTS)):
        for result in results:
            labels = [
                {
                    "Name": p.label,
                    "Confidence": p.confidence,
                    "Geometry": {"BoundingBox": dict(zip(("Left", "Top", "Width", "Height"), p.box, strict=True))},
                }
                for p in result.predictions
            ]
            path = paths[name] / (result.key + ".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                json.dumps({**result_document(result.key, labels), "ProjectVersionArn": f"{MODEL_ARN}-{name}"})
            )
    return paths
