"""A manifest's images on this machine: found under a folder by the end of each line's key (`files_by_key`), and
a split's images in folders of their own (`manifest split --images`), so that a model can be run on the test images
alone: linked (hard links cost no space; a copy where the file system refuses one) at the same relative path, so
that the keys still match the manifest's `source-ref`s."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from customlabels.datasets.manifest import KeyMatcher, ManifestEntry


class MissingImagesError(ValueError):
    """Manifest lines whose image is not in the folder given; the message names the first and the fix."""


def files_by_key(images: Path, suffixes: tuple[str, ...] = ()) -> KeyMatcher[Path]:
    """The files under `images` (those ending in one of `suffixes`, any case; all when none), by the end of a key."""
    return KeyMatcher(
        (path for path in images.rglob("*") if path.is_file() and (not suffixes or path.suffix.lower() in suffixes)),
        key=lambda path: path.relative_to(images).as_posix(),
    )


def link_images(entries: Sequence[ManifestEntry], images: Path, folder: Path) -> int:
    """The images of `entries` under `folder` at their paths relative to `images`; how many were linked or copied.
    Refused before any file is written when an image is missing."""
    files = files_by_key(images)
    found = [(entry.key, files.match(entry.key)) for entry in entries]
    missing = [key for key, path in found if path is None]
    if missing:
        raise MissingImagesError(
            f"{len(missing)} image(s) of the manifest are not under {images}/, first {missing[0]!r}. Fix: give "
            "--images the folder that holds them"
        )
    for _, path in found:
        target = folder / path.relative_to(images)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
    return len(found)
