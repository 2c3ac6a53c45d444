"""The words and figures the report and the terminal both show: each metric's meaning, the image-level metrics
as rows (name, meaning, where in `Evaluation.image_level`), and how a number is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MEANINGS = {
    "precision": "Of what the model predicted, the share that is right.",
    "recall": "Of what is there, the share the model found.",
    "F1": "The harmonic mean of precision and recall: high only when both are.",
    "AP": "Average precision: the area under the precision-recall curve, every threshold at once.",
    "mAP": "The mean of AP over the labels that have ground truth.",
    "accuracy": "The share of images whose predicted labels are exactly right.",
    "balanced accuracy": "The mean recall per class: a rare class counts as much as a common one.",
    "Hamming loss": "The share of (image, label) decisions that are wrong; lower is better.",
    "Jaccard": "Intersection over union of the predicted and true label sets; 1 is a perfect match.",
    "MCC": "Matthews correlation: 1 perfect, 0 no better than chance, -1 always wrong; n/a when only one class "
    "occurs in the truth or the prediction.",
    "micro": "Averaged over every decision: common labels weigh more.",
    "macro": "The plain mean over the labels (the real ones, never (none)): every label weighs the same.",
    "weighted": "The mean over the labels weighted by how often each is true.",
}


def _pick(*path: str) -> Callable[[dict[str, Any]], Any]:
    """A reader of the value at `path` in nested dicts (None where a step is missing)."""

    def picked(values: dict[str, Any]) -> Any:
        for part in path:
            values = values.get(part) if isinstance(values, dict) else None
        return values

    return picked


IMAGE_LEVEL_ROWS = [
    *[
        (f"{average} {name}", MEANINGS[average] + " " + MEANINGS[name if name != "f1" else "F1"], _pick(average, name))
        for average in ("micro", "macro", "weighted")
        for name in ("precision", "recall", "f1")
    ],
    ("accuracy", MEANINGS["accuracy"], _pick("accuracy")),
    ("balanced accuracy", MEANINGS["balanced accuracy"], _pick("balanced_accuracy")),
    ("Hamming loss", MEANINGS["Hamming loss"], _pick("hamming_loss")),
    ("Jaccard (macro)", MEANINGS["Jaccard"], _pick("jaccard", "macro")),
    ("MCC", MEANINGS["MCC"], _pick("mcc")),
]


def number_text(value: Any) -> str:
    """n/a for None (0/0), a whole float above 1 without decimals (a count), else three decimals."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer() and abs(value) > 1:
        return str(int(value))
    return f"{value:.3f}" if isinstance(value, float) else str(value)
