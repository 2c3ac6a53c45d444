"""`manifest merge`: a reviewed manifest folded into the one it came from, line by line, by `source-ref`.

A review is usually made from the pipeline's copies of the training images (`review export` writes the pipeline
bucket's source-refs), while the training manifest names them in its own bucket, often under another prefix. A
manifest's images must live in one bucket (ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS), so a reviewed line in another
bucket is matched to BASE's image by its path below the two prefixes, and written with BASE's source-ref. The two
prefixes are found from the lines themselves: the one pair (`s3://local/test_images/` -> `s3://train/images/`)
under which the most reviewed images are BASE's, by the longest common trailing path of their keys. A reviewed
image in another bucket that BASE does not hold stops the merge with the fix: its image must be copied first.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from customlabels.datasets.manifest import ManifestError, read_text


@dataclass(frozen=True)
class Merged:
    lines: list[str]
    replaced: int
    added: int
    kept: int
    moved: tuple[str, str] | None = None
    """(REVIEWED's prefix, BASE's) when REVIEWED's lines in another bucket were read as BASE's images, e.g.
    (`s3://customlabels-local/test_images/`, `s3://training/images/`); their source-refs are BASE's."""


def _split(ref: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (`s3://bucket/`, `key`)."""
    bucket, _, key = ref.removeprefix("s3://").partition("/")
    return f"s3://{bucket}/", key


def _documents(lines: list[str], name: str) -> list[dict]:
    """Each line's JSON object; a line without a source-ref is named (file:line) with the fix."""
    documents = []
    for number, line in enumerate(lines, start=1):
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{name}:{number}: not a JSON object ({error.msg})") from None
        if not isinstance(document, dict) or not isinstance(document.get("source-ref"), str):
            raise ManifestError(f'{name}:{number}: every line needs a "source-ref" with the image\'s s3:// URI')
        documents.append(document)
    return documents


def prefix_mapping(reviewed_refs: list[str], base_refs: list[str]) -> tuple[str, str] | None:
    """The (REVIEWED prefix, BASE prefix) pair under which the most of `reviewed_refs` name an image of
    `base_refs` by the same path below it (at least the file name); None when no reviewed key ends like a BASE key.
    Two pairs that explain as many images are a question for a person: ManifestError names both."""
    by_tail: dict[str, set[str]] = {}
    for ref in base_refs:
        bucket, key = _split(ref)
        parts = key.split("/")
        for start in range(len(parts)):
            by_tail.setdefault("/".join(parts[start:]), set()).add(
                bucket + "/".join(parts[:start]) + ("/" * (start > 0))
            )
    votes: Counter[tuple[str, str]] = Counter()
    for ref in reviewed_refs:
        bucket, key = _split(ref)
        parts = key.split("/")
        for start in range(len(parts)):  # the longest common trailing path first
            heads = by_tail.get("/".join(parts[start:]))
            if heads:
                source = bucket + "/".join(parts[:start]) + ("/" * (start > 0))
                votes.update((source, head) for head in heads)
                break
    if not votes:
        return None
    (best, count), *rest = votes.most_common()
    if rest and rest[0][1] == count:
        other = rest[0][0]
        raise ManifestError(
            f"REVIEWED's images could be BASE's under {best[0]} -> {best[1]} or under {other[0]} -> {other[1]} "
            f"({count} image(s) each). Fix: customlabels manifest rewrite REVIEWED fixed.manifest --from PREFIX --to "
            "PREFIX with the right pair, then merge fixed.manifest"
        )
    return best


def merge(base: list[str], reviewed: list[str], base_name: str = "BASE", reviewed_name: str = "REVIEWED") -> Merged:
    """BASE's lines in their order, each whose image REVIEWED holds replaced by REVIEWED's line, then REVIEWED's
    other lines in their order. A reviewed line in BASE's bucket (or naming BASE's very source-ref) is kept as
    written; one in another bucket gets BASE's source-ref of its image (see the module). REVIEWED may hold an image
    once only (two reviews of one image leave the choice to a person, not to the order of lines)."""
    base_documents = _documents(base, base_name)
    base_refs = [document["source-ref"] for document in base_documents]
    reviewed_documents = _documents(reviewed, reviewed_name)
    base_bucket = _split(base_refs[0])[0] if base_refs else None
    known = set(base_refs)
    foreign = [
        document["source-ref"]
        for document in reviewed_documents
        if base_bucket is not None
        and document["source-ref"] not in known
        and _split(document["source-ref"])[0] != base_bucket
    ]
    moved = prefix_mapping(foreign, base_refs) if foreign else None
    by_ref, strays = _reviewed_by_ref(reviewed_documents, reviewed, set(foreign), moved, known, reviewed_name)
    if strays:
        raise _strays_error(strays, moved, base_bucket, base_name, reviewed_name)
    merged, replaced, used = [], 0, set()
    for ref, line in zip(base_refs, base, strict=True):
        if ref in by_ref:
            merged.append(by_ref[ref][1])
            replaced += 1
            used.add(ref)
        else:
            merged.append(line)
    added = [line for ref, (_, line) in by_ref.items() if ref not in used]
    return Merged(merged + added, replaced, len(added), len(merged) - replaced, moved)


def _reviewed_by_ref(
    documents: list[dict],
    lines: list[str],
    foreign_refs: set[str],
    moved: tuple[str, str] | None,
    known: set[str],
    reviewed_name: str,
) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """BASE's source-ref -> (line number, line) of each reviewed line, a line in another bucket moved under BASE's
    prefix and given BASE's source-ref; and the reviewed lines of another bucket that BASE does not hold."""
    by_ref: dict[str, tuple[int, str]] = {}
    strays = []
    for number, (document, line) in enumerate(zip(documents, lines, strict=True), start=1):
        ref = document["source-ref"]
        if ref in foreign_refs:
            if moved is not None and ref.startswith(moved[0]) and moved[1] + ref[len(moved[0]) :] in known:
                ref = moved[1] + ref[len(moved[0]) :]
                line = json.dumps({**document, "source-ref": ref}, ensure_ascii=False)
            else:
                strays.append(f"{reviewed_name}:{number}: {ref}")
                continue
        if ref in by_ref:
            raise ManifestError(
                f"{reviewed_name}:{number}: {ref} again (first on line {by_ref[ref][0]}). Fix: keep one line per image"
            )
        by_ref[ref] = (number, line)
    return by_ref, strays


def _strays_error(
    strays: list[str], moved: tuple[str, str] | None, base_bucket: str | None, base_name: str, reviewed_name: str
) -> ManifestError:
    where = moved[1] if moved else base_bucket
    return ManifestError(
        f"{len(strays)} reviewed image(s) are not in {base_name} and live in another bucket than its "
        f"{base_bucket}, and a manifest's images live in one bucket (ERROR_IMAGES_IN_MULTIPLE_S3_BUCKETS): "
        + ", ".join(strays[:5])
        + (f" and {len(strays) - 5} more" if len(strays) > 5 else "")
        + f". Nothing written. Fix: copy those images under {where} (aws s3 cp), then customlabels manifest "
        f"rewrite {reviewed_name} fixed.manifest --from PREFIX --to {where} and merge fixed.manifest; or leave "
        "those lines out"
    )


def read_lines(path: Path) -> list[str]:
    return [line for line in read_text(path).splitlines() if line.strip()]


def merge_files(base: Path, reviewed: Path, out: Path) -> Merged:
    result = merge(read_lines(base), read_lines(reviewed), str(base), str(reviewed))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in result.lines), encoding="utf-8")
    return result
