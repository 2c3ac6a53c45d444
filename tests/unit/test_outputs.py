"""customlabels.outputs: every S3 key to one path inside the chosen folder and no two keys to one file, checked by
writing the files on the real file system; a key that cannot be written costs only itself (issue 27)."""

import os
import tempfile
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from customlabels.outputs import (
    FILE_AND_FOLDER,
    MAX_NAME_BYTES,
    PLOT_METADATA,
    TAG,
    KeyFolder,
    NotSavedError,
    input_files,
    local_name,
    local_path,
    save_picture,
)
from customlabels.results.reading import result_files
from customlabels_runtime.contract import MAX_KEY_BYTES

pytestmark = pytest.mark.unit

HOSTILE_SEGMENTS = [
    "",
    ".",
    "..",
    "...",
    " ",
    "a.",
    "a ",
    "%",
    "%2E",
    "%~",
    "\\",
    "..\\..",
    "C:",
    "\x00",
    "\n",
    "\x1b[2K",
]
NFC, NFD = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")

segments = st.one_of(
    st.sampled_from([*HOSTILE_SEGMENTS, NFC, NFD, "蜂" * 90, "x" * 300, "bee 1.jpg", "100% sure.jpg"]),
    st.text(st.characters(codec="utf-8"), max_size=12),  # any character S3 takes: controls, CJK, emoji, ...
    st.text(st.characters(codec="utf-8", categories=["Lo", "Cc", "Zs", "Po"]), min_size=80, max_size=300),
)


def at_most(text: str, size: int) -> str:
    """`text` cut to `size` bytes of UTF-8, between characters."""
    return text.encode()[:size].decode(errors="ignore")


keys = st.lists(segments, min_size=1, max_size=8).map("/".join).map(lambda key: at_most(key, MAX_KEY_BYTES))
result_keys = keys.map(lambda key: at_most(key, MAX_KEY_BYTES - len(".json")) + ".json")  # up to 1,024 bytes


def conflicting(many: list[str]) -> bool:
    """Whether one key is a folder of another (`a.json` and `a.json/b.json`): S3 holds both, no file system does."""
    parts = [tuple(key.split("/")) for key in many]
    return any(a != b and b[: len(a)] == a for a in parts for b in parts)


def write_all(root: Path, many: list[str]) -> KeyFolder:
    folder = KeyFolder(root)
    for key in many:
        assert folder.write_text(key, key) is not None
    return folder


@given(st.lists(result_keys, min_size=1, max_size=12, unique=True))
@example(
    [
        "test_images//double.jpg.json",
        "test_images/double.jpg.json",
        "test_images/./dot.jpg.json",
        "test_images/dot.jpg.json",
        "test_images/../../../escape1.jpg.json",
        "/test_images/lead.jpg.json",
        "test_images/..\\..\\..\\win.jpg.json",
        f"test_images/{NFC}.jpg.json",
        f"test_images/{NFD}.jpg.json",
        "test_images/" + "x" * 300 + ".jpg.json",
        "test_images/" + "x" * 300 + "y.jpg.json",
        "test_images/new\nline.jpg.json",
        "/".join(["蜂" * 84 + "abc"] * 3) + "/" + "x" * 251 + ".json",  # 1,024 bytes, names of 255 and 256
    ]
)
def test_every_key_is_written_inside_the_folder_and_no_two_share_a_file(many):
    assume(not conflicting(many))
    with tempfile.TemporaryDirectory() as sandbox:
        root = Path(sandbox) / "out"
        write_all(root, many)
        assert os.listdir(sandbox) == ["out"], "nothing was written beside the folder"
        files = [Path(directory, name) for directory, _, names in os.walk(root) for name in names]
        assert all(file.resolve().is_relative_to(root.resolve()) for file in files)
        assert all(len(name.encode()) <= MAX_NAME_BYTES for file in files for name in file.relative_to(root).parts)
        assert sorted(file.read_bytes().decode() for file in files) == sorted(many), "one file per key"
        assert sorted(result_files(root)) == sorted(files), "reading back finds every result, escaped or shortened"


@given(keys)
def test_percent_decoding_gives_each_segment_back_unless_it_was_shortened(key):
    """The proof of injectivity, with a decoder we did not write (urllib's): each name decodes to its segment
    alone, the empty segment excepted (the name `%`); a shortened name is told apart by `%~` and its digest."""
    relative = local_path(key)
    for segment, name in zip(key.split("/"), relative.parts, strict=True):
        if "%~" not in name:
            assert ("" if name == "%" else unquote(name, errors="strict")) == segment
    assert not {".", "..", ""} & set(relative.parts) and not relative.is_absolute()


ORDINARY = st.text(
    st.characters(codec="ascii", categories=["Lu", "Ll", "Nd"], include_characters=" -_()#+,;=@!&'[]{}~"),
    min_size=1,
    max_size=40,
).map(lambda text: text + ".jpg")


@given(st.lists(ORDINARY, min_size=1, max_size=4).map("/".join))
@example("test_images/meadow/bee 1.jpg")
@example("test_images/ünïcödé/蜂.jpeg")
def test_ordinary_keys_keep_the_readable_path_they_always_had(key):
    assert local_path(key).as_posix() == key


def test_the_escapes_read_as_documented():
    assert local_path("test_images/../../../escape1.jpg").as_posix() == "test_images/.%2E/.%2E/.%2E/escape1.jpg"
    assert local_path("test_images//double.jpg").as_posix() == "test_images/%/double.jpg"
    assert local_path("test_images/./dot.jpg").as_posix() == "test_images/%2E/dot.jpg"
    assert local_path("100% sure.jpg").as_posix() == "100%25 sure.jpg"
    assert local_path("new\nline.jpg\t").as_posix() == "new%0Aline.jpg%09"
    assert local_path("a\\..\\b.jpg").as_posix() == "a%5C..%5Cb.jpg"
    assert local_name("a/b") == "a%2Fb" and local_name("trailing. ") == "trailing.%20"
    long = local_name("x" * 300 + ".jpg.json")
    assert len(long.encode()) == MAX_NAME_BYTES and long.startswith("x" * 200) and long.endswith(".jpg.json")
    assert "%~" in long and local_name("x" * 300 + ".jpg.json") == long


def test_a_key_the_file_system_cannot_hold_is_reported_and_the_others_are_written(tmp_path):
    """A key that is also another key's folder: S3 holds both, a file system cannot."""
    refused = []
    folder = KeyFolder(tmp_path, refused.append)
    many = ("a.jpg.json", "a.jpg.json/b.jpg.json", "c.jpg.json", "d/e.jpg.json", "d", "f.jpg.json")
    written = [folder.write_text(key, key) for key in many]
    assert [path is not None for path in written] == [True, False, True, True, False, True]
    assert [(r.key, r.reason) for r in refused] == [("a.jpg.json/b.jpg.json", FILE_AND_FOLDER), ("d", FILE_AND_FOLDER)]
    assert refused[0].line().startswith("not saved: 'a.jpg.json/b.jpg.json' (as ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg.json", "c.jpg.json", "d", "f.jpg.json"]
    with pytest.raises(NotSavedError, match="another key's file stands"):  # without a reporter, the caller hears
        KeyFolder(tmp_path).write_text("a.jpg.json/x.json", "")


def test_two_keys_the_file_system_folds_into_one_file_are_never_overwritten(tmp_path):
    """A case-insensitive or normalizing file system (macOS, Windows) holds `Bee.jpg.json` and `bee.jpg.json` as one
    file; a symbolic link in the folder makes this Linux file system do the same, as the test's stand-in."""
    (tmp_path / "Bee.jpg.json").symlink_to("bee.jpg.json")
    refused = []
    folder = KeyFolder(tmp_path, refused.append)
    assert folder.write_text("bee.jpg.json", "lower") and folder.write_text("Bee.jpg.json", "upper") is None
    assert (tmp_path / "bee.jpg.json").read_text() == "lower"
    assert "the same file as 'bee.jpg.json'" in refused[0].reason
    assert folder.write_text("bee.jpg.json", "again"), "the same key may be written twice (a redelivery)"


def test_a_symbolic_link_out_of_the_folder_is_not_followed(tmp_path):
    outside, root = tmp_path / "outside", tmp_path / "out"
    outside.mkdir()
    root.mkdir()
    (root / "test_images").symlink_to(outside)
    refused = []
    assert KeyFolder(root, refused.append).write_text("test_images/x.jpg.json", "x") is None
    assert list(outside.iterdir()) == [] and "leads outside it" in refused[0].reason


def test_reading_back_skips_what_no_result_key_names(tmp_path):
    write_all(tmp_path, ["test_images/a.jpg.json", "test_images/" + "蜂" * 100 + ".jpg.json"])
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    names = [p.relative_to(tmp_path).as_posix() for p in result_files(tmp_path)]
    assert len(names) == 3 and "notes.txt" not in names and all(n.endswith(".json") for n in names)


def test_the_pictures_the_tool_draws_are_told_from_photos_by_their_tag(tmp_path):
    from PIL import Image, PngImagePlugin

    from customlabels.plots import agg_pyplot

    picture = Image.new("RGB", (80, 80), (10, 120, 10))
    save_picture(picture, tmp_path / "drawn.png", "PNG")
    save_picture(picture, tmp_path / "drawn.jpg", "JPEG", quality=85)
    figure = agg_pyplot().figure()
    figure.savefig(tmp_path / "chart.png", metadata=PLOT_METADATA)
    theirs = PngImagePlugin.PngInfo()
    theirs.add_text("Software", "GIMP 2.10")
    picture.save(tmp_path / "edited.png", pnginfo=theirs)
    picture.save(tmp_path / "holiday.jpg", comment=b"holiday")
    picture.save(tmp_path / "plain.jpg")
    (tmp_path / "notes.txt").write_text(TAG)
    inputs, drawn = input_files(tmp_path)
    assert [p.name for p in drawn] == ["chart.png", "drawn.jpg", "drawn.png"]
    assert [p.name for p in inputs] == ["edited.png", "holiday.jpg", "notes.txt", "plain.jpg"]
    assert input_files(tmp_path, include_outputs=True) == (sorted(tmp_path.iterdir()), [])
