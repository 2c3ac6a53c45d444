"""The files the tool writes: one way from an S3 key to a local path, a writer for which a key that cannot be
written costs only itself, and the tag that marks the pictures the tool draws. Its users all write (`results
--out`, `local run --out`, visualize, `evaluate --report`); results folders are read back by
`customlabels.results.reading`, which needs no mapping: every name keeps its `.json`, and a result names its key.

A key becomes a path under the chosen folder by its `/`-separated segments, each one file or folder name
(`local_name`). A name keeps every character a file system holds as it is, so ordinary keys read as they always
did (`test_images/meadow/bee 1.jpg.json`); `%` is the escape character and what a file system would collapse,
climb, split or refuse is written `%` and two upper-case hex digits of each UTF-8 byte:

- `%` itself (`%25`), `\\` (`%5C`: a separator on Windows), `/` inside one name (a label, a model's name);
- control characters (C0, DEL, C1: a newline is `%0A`, NUL `%00`) and lone surrogates;
- a trailing `.` or space, which Windows and SMB shares drop: so `.` is `%2E` and `..` is `.%2E`, never a step up;
- an empty segment (`a//b`, a leading or trailing `/`) is the name `%`, which no other segment maps to.

A name still over 255 bytes of UTF-8 (the limit of ext4, APFS, NTFS and tmpfs; an S3 segment may be 1,024) keeps
its first bytes and its last one or two suffixes (`.jpg.json`, so readers still find it), joined by `%~` and 32 hex
digits of the SHA-256 of the whole segment; `%~` appears in no other name. So two keys never share a path (the
mapping is injective: percent-decoding a name gives its segment back, except for a shortened one, whose digest
tells it apart; a result's key is in it anyway, `Image.Key`), and no path leaves the folder.

What is left to the file system — names that differ only in case or Unicode normalization (macOS, Windows), a
key that is also another key's folder (`a.jpg.json` and `a.jpg.json/b.jpg`), a full disk — is caught when
writing: `KeyFolder` reports that key in one line and goes on with the others.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image, PngImagePlugin

ESCAPE = "%"
EMPTY_SEGMENT = "%"
SHORTENED = "%~"
DIGEST_HEX_DIGITS = 32
MAX_NAME_BYTES = 255
"""A file or folder name's limit on the common local file systems."""
_ALWAYS_ESCAPED = frozenset("%/\\")
_SUFFIXES = re.compile(r"(?:\.[A-Za-z0-9]{1,10}){1,2}$")


def _escaped(character: str) -> str:
    return "".join(f"%{byte:02X}" for byte in character.encode("utf-8", "surrogatepass"))


def _needs_escape(character: str) -> bool:
    return character in _ALWAYS_ESCAPED or unicodedata.category(character) in ("Cc", "Cs")


def local_name(text: str) -> str:
    """One file or folder name for `text` (a key's segment, or a label or name that must stay one name)."""
    if not text:
        return EMPTY_SEGMENT
    name = "".join(_escaped(c) if _needs_escape(c) else c for c in text)
    if text[-1] in ". ":
        name = name[:-1] + _escaped(text[-1])
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_HEX_DIGITS]
    tail = match.group(0) if (match := _SUFFIXES.search(name)) else ""
    budget = MAX_NAME_BYTES - len(SHORTENED) - DIGEST_HEX_DIGITS - len(tail)
    head = name.encode("utf-8")[:budget].decode("utf-8", "ignore")  # whole characters only
    cut = head.rfind(ESCAPE, len(head) - 2)
    if cut != -1:  # never half an escape
        head = head[:cut]
    return head + SHORTENED + digest + tail


def local_path(key: str) -> PurePosixPath:
    """The relative path a key is written under: each `/`-separated segment one `local_name`."""
    return PurePosixPath(*(local_name(segment) for segment in key.split("/")))


# --- writing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotSaved:
    key: str
    path: Path
    reason: str

    def line(self) -> str:
        return f"not saved: {self.key!r} (as {self.path}): {self.reason}"


FILE_AND_FOLDER = (
    "another key's file stands where this one needs a folder, or its folder where this file goes (S3 holds both "
    "`a.jpg.json` and `a.jpg.json/b.jpg.json`, a file system cannot)"
)


class NotSavedError(OSError):
    """A key that could not be written, when the caller asked to stop at the first one."""


def _raise(refusal: NotSaved) -> None:
    raise NotSavedError(refusal.line())


class KeyFolder:
    """Writes files named by keys under `root` (created), never outside it. A key that cannot be written — the
    file system refuses it, or holds it as the same file as another key written by this folder (case or Unicode
    normalization folded), or a symbolic link would lead outside — goes to `on_not_saved` (by default: raised), and
    every other key is written."""

    def __init__(self, root: Path, on_not_saved: Callable[[NotSaved], None] | None = None) -> None:
        self.root = Path(root)
        self.on_not_saved = on_not_saved or _raise
        self._written: dict[tuple[int, int], str] = {}

    def path(self, key: str) -> Path:
        return self.root / local_path(key)

    def write(self, key: str, write: Callable[[Path], Any]) -> Path | None:
        """`write(path)` at the key's path; the path, or None when the key was not saved."""
        return self.write_at(local_path(key), key, write)

    def write_at(self, relative: PurePosixPath, key: str, write: Callable[[Path], Any]) -> Path | None:
        """`write(path)` at a path already mapped (`local_path`, or names made with `local_name`)."""
        target = self.root / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.parent.resolve().is_relative_to(self.root.resolve()):
                return self._not_saved(key, target, f"a symbolic link under {self.root} leads outside it")
            existed = target.exists()
            if existed:
                other = self._written.get(_identity(target))
                if other is not None and other != key:
                    return self._not_saved(
                        key,
                        target,
                        f"this file system holds it as the same file as {other!r} (names that differ only in "
                        "case or Unicode normalization are one file here): write to a case-sensitive folder",
                    )
            try:
                write(target)
            except BaseException:
                if not existed:
                    target.unlink(missing_ok=True)
                raise
            self._written[_identity(target)] = key
            return target
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            return self._not_saved(key, target, FILE_AND_FOLDER)
        except OSError as error:
            return self._not_saved(key, target, error.strerror or str(error))

    def write_text(self, key: str, text: str) -> Path | None:
        return self.write(key, lambda path: path.write_text(text, encoding="utf-8"))

    def save_picture(self, key: str, picture: Image.Image, fmt: str, **options: Any) -> Path | None:
        """A picture the tool drew, at the key's path and tagged as the tool's own (`save_picture`)."""
        return self.write(key, lambda path: save_picture(picture, path, fmt, **options))

    def _not_saved(self, key: str, target: Path, reason: str) -> None:
        self.on_not_saved(NotSaved(key, target, reason))
        return None


def _identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


# --- the tool's own pictures ---------------------------------------------------------------------------------

TAG = "customlabels"
"""What every picture the tool draws carries (PNG `Software` text, JPEG comment), so that `upload` and `local run`
leave a gallery or report that lies among the images out of what they send (unless asked: `--include-outputs`)."""


def save_picture(picture: Image.Image, path: Path, fmt: str, **options: Any) -> None:
    """`picture.save(path, fmt, ...)`, tagged as the tool's own."""
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", TAG)
        picture.save(path, fmt, pnginfo=info, **options)
    else:
        picture.save(path, fmt, comment=TAG.encode(), **options)


PLOT_METADATA = {"Software": TAG}
"""matplotlib's `savefig(..., metadata=PLOT_METADATA)` for a PNG chart: tagged the same way."""


def is_tool_picture(image: Image.Image) -> bool:
    """True for an opened image the tool drew (its tag in the PNG text or the JPEG comment)."""
    comment = image.info.get("comment", b"")
    return (
        image.info.get("Software") == TAG
        or (comment.decode("latin-1") if isinstance(comment, bytes) else comment) == TAG
    )


def input_files(folder: Path, include_outputs: bool = False) -> tuple[list[Path], list[Path]]:
    """Every file under `folder`, recursively and in path order, that is an input, and the pictures the tool drew
    there (a gallery or report written inside an images folder): those are never taken for images to upload, draw,
    evaluate or size, unless `include_outputs`."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if include_outputs:
        return files, []
    inputs, drawn = [], []
    for path in files:
        (drawn if _is_tool_picture_file(path) else inputs).append(path)
    return inputs, drawn


def _is_tool_picture_file(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            return is_tool_picture(image)
    except (OSError, Image.DecompressionBombError, ValueError):
        return False
