"""Detection backends of the emulated model: what it 'sees' in an image, before thresholds apply."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from customlabels.datasets.manifest import KeyMatcher, ManifestEntry, read_manifest


class ManifestBackend:
    """Answers with the labeled boxes and image labels of a Ground Truth manifest.

    Deterministic per image key and seed, so runs repeat exactly. Optional noise makes the answers
    imperfect the way a real model is, so evaluation has something to score: `miss_rate` drops true
    objects, `spurious_rate` adds a wrong box at a lower confidence, `jitter` spreads the confidences,
    `label_confidence` sets the confidence of some labels apart from `confidence`.
    Images are matched to manifest lines by the longest common trailing path of key and `source-ref`.
    """

    def __init__(
        self,
        entries: list[ManifestEntry],
        *,
        confidence: float = 95.0,
        jitter: float = 4.0,
        miss_rate: float = 0.0,
        spurious_rate: float = 0.0,
        seed: int = 0,
        label_confidence: dict[str, float] | None = None,
    ) -> None:
        self.confidence, self.jitter, self.seed = confidence, jitter, seed
        self.label_confidence = dict(label_confidence or {})
        self.miss_rate, self.spurious_rate = miss_rate, spurious_rate
        self.label_names = sorted({b.label for e in entries for b in e.boxes} | {n for e in entries for n in e.labels})
        self.entry_for = KeyMatcher(entries).match

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> ManifestBackend:
        return cls(read_manifest(path), **options)

    def detect(self, key: str, width: int, height: int) -> list[dict[str, Any]]:
        entry = self.entry_for(key)
        if entry is None:
            return []
        rng = random.Random(f"{self.seed}:{key}")
        manifest_width, manifest_height = entry.image_width or width, entry.image_height or height
        labels = []
        for box in entry.boxes:
            if rng.random() < self.miss_rate:
                continue
            geometry = {
                "BoundingBox": {
                    "Width": box.width / manifest_width,
                    "Height": box.height / manifest_height,
                    "Left": box.left / manifest_width,
                    "Top": box.top / manifest_height,
                }
            }
            labels.append({"Name": box.label, "Confidence": self._confidence(rng, box.label), "Geometry": geometry})
        labels += [
            {"Name": name, "Confidence": self._confidence(rng, name)}
            for name in entry.labels
            if rng.random() >= self.miss_rate
        ]
        if self.label_names and rng.random() < self.spurious_rate:
            box_width, box_height = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
            labels.append(
                {
                    "Name": rng.choice(self.label_names),
                    "Confidence": round(rng.uniform(35.0, 85.0), 3),
                    "Geometry": {
                        "BoundingBox": {
                            "Width": box_width,
                            "Height": box_height,
                            "Left": rng.uniform(0, 1 - box_width),
                            "Top": rng.uniform(0, 1 - box_height),
                        }
                    },
                }
            )
        return labels

    def _confidence(self, rng: random.Random, label: str) -> float:
        centre = self.label_confidence.get(label, self.confidence)
        return round(min(100.0, max(0.0, centre + rng.uniform(-self.jitter, self.jitter))), 3)
