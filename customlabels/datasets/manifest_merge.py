"""`manifest merge`: a reviewed manifest folded into the one it came from, line by line, by `source-ref`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from customlabels.datasets.manifest import ManifestError, read_text


@dataclass(frozen=True)
class Merged:
    lines: list[str]
    replaced: int
    added: int
    kept: int
    other_bucket: tuple[str, str] | None = None
    """(REVIEWED's bucket, BASE's) when nothing was replaced although both name the same keys in different buckets:
    the review was made from a copy of the images (the local stack's bucket, say); `manifest rewrite` fixes it."""


def _split(ref: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (`s3://bucket/`, `key`)."""
    bucket, _, key = ref.removeprefix("s3://").partition("/")
    return f"s3://{bucket}/", key


def _source_refs(lines: list[str], name: str) -> list[str]:
    """Each line's source-ref; a line without one is named (file:line) with the fix."""
    refs = []
    for number, line in enumerate(lines, start=1):
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{name}:{number}: not a JSON object ({error.msg})") from None
        if not isinstance(document, dict) or not isinstance(document.get("source-ref"), str):
            raise ManifestError(f'{name}:{number}: every line needs a "source-ref" with the image\'s s3:// URI')
        refs.append(document["source-ref"])
    return refs


def merge(base: list[str], reviewed: list[str], base_name: str = "BASE", reviewed_name: str = "REVIEWED") -> Merged:
    """BASE's lines in their order, each whose source-ref REVIEWED has replaced by REVIEWED's line, then REVIEWED's
    other lines in their order. Lines are kept as written. REVIEWED may hold a source-ref once only (two reviews of
    one image leave the choice to a person, not to the order of lines)."""
    reviewed_refs = _source_refs(reviewed, reviewed_name)
    by_ref: dict[str, tuple[int, str]] = {}
    for number, (ref, line) in enumerate(zip(reviewed_refs, reviewed, strict=True), start=1):
        if ref in by_ref:
            raise ManifestError(
                f"{reviewed_name}:{number}: {ref} again (first on line {by_ref[ref][0]}). Fix: keep one line per image"
            )
        by_ref[ref] = (number, line)
    merged, replaced, used = [], 0, set()
    for ref, line in zip(_source_refs(base, base_name), base, strict=True):
        if ref in by_ref:
            merged.append(by_ref[ref][1])
            replaced += 1
            used.add(ref)
        else:
            merged.append(line)
    added = [line for ref, (_, line) in by_ref.items() if ref not in used]
    return Merged(
        merged + added,
        replaced,
        len(added),
        len(merged) - replaced,
        None if replaced else _other_bucket(_source_refs(base, base_name), list(by_ref)),
    )


def _other_bucket(base_refs: list[str], reviewed_refs: list[str]) -> tuple[str, str] | None:
    base_buckets = {}
    for ref in base_refs:
        bucket, key = _split(ref)
        base_buckets.setdefault(key, bucket)
    for ref in reviewed_refs:
        bucket, key = _split(ref)
        if key in base_buckets and base_buckets[key] != bucket:
            return bucket, base_buckets[key]
    return None


def read_lines(path: Path) -> list[str]:
    return [line for line in read_text(path).splitlines() if line.strip()]


def merge_files(base: Path, reviewed: Path, out: Path) -> Merged:
    result = merge(read_lines(base), read_lines(reviewed), str(base), str(reviewed))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in result.lines), encoding="utf-8")
    return result
