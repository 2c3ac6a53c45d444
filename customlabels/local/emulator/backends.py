"""Detection backends of the emulated model: what it 'sees' in an image, before thresholds apply."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customlabels.datasets.manifest import KeyMatcher, ManifestEntry, ManifestError, read_manifest
from customlabels.local.emulator.errors import OptionError


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


NOISE_RANGES = {
    "miss": (0, 1, "a share of the objects: 0.1 drops 10%"),
    "spurious": (0, 1, "a share of the images: 0.2 adds a wrong box to 20%"),
    "jitter": (0, 100, "confidence points: 4 spreads them by +-4"),
    "confidence": (1, 100, "a percent: 95 for 95%"),
}
"""What each noise setting means and the values it takes."""


@dataclass(frozen=True)
class Noise:
    """How imperfect a manifest model is (see `ManifestBackend`): `miss` and `spurious` are rates, `jitter` and
    `confidence` confidence points."""

    miss: float = 0.0
    spurious: float = 0.0
    jitter: float = 4.0
    confidence: float = 95.0

    def __post_init__(self) -> None:
        for name, (low, high, meaning) in NOISE_RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                hint = f"; did you mean {value * 100:g}?" if name == "confidence" and 0 < value < 1 else ""
                raise OptionError(
                    "{noise} {name}={value:g} is out of range: give {low:g} to {high:g} ({meaning}){hint}",
                    name=name,
                    value=value,
                    low=low,
                    high=high,
                    meaning=meaning,
                    hint=hint,
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Noise:
        """{"miss": 0.1, "jitter": 6}, as `--noise miss=0.1,jitter=6` reads."""
        unknown = set(values) - set(NOISE_RANGES)
        if unknown:
            raise OptionError(
                "{noise}: unknown {names}; use miss, spurious, jitter, confidence", names=", ".join(sorted(unknown))
            )
        return cls(**values)


def manifest_model(spec: str | None, noise: Mapping[str, float] | None = None, seed: int = 0) -> ManifestBackend | None:
    """What `--model manifest:FILE` makes the emulated model see, imperfect by `noise`; None (no spec): nothing."""
    if spec is None:
        if noise:
            raise OptionError("{noise} makes a manifest model imperfect: give {model} manifest:FILE too")
        return None
    kind, _, path = spec.partition(":")
    if kind != "manifest" or not path:
        raise OptionError(
            "{model} {spec!r}: use manifest:PATH (a SageMaker Ground Truth manifest) or onnx:MODEL.onnx (your own "
            "model)",
            spec=spec,
        )
    imperfect = Noise.from_mapping(noise or {})
    try:
        entries = read_manifest(path)
    except (OSError, ManifestError) as error:
        raise OptionError("{model} {spec!r}: {error}", spec=spec, error=error) from None
    if not entries:
        raise OptionError(
            "{model} {spec!r}: the manifest has no lines. Fix: give a Ground Truth manifest with the images' labels",
            spec=spec,
        )
    return ManifestBackend(
        entries,
        miss_rate=imperfect.miss,
        spurious_rate=imperfect.spurious,
        jitter=imperfect.jitter,
        confidence=imperfect.confidence,
        seed=seed,
    )
