"""`local run` over file names that are legal on disk and in S3 but odd (issue 27, item 4): a newline aborted the
whole run with "AWS refused PutObject: 404"; each must be processed like any name, its result saved under the
escaped path docs/results-and-gallery.md gives, and a name whose result key S3 cannot store said in one line."""

import json

import pytest

from customlabels.outputs import local_path
from support.cli import customlabels
from support.images import write_image

pytestmark = pytest.mark.e2e

ODD = [
    "new\nline.jpg",
    "tab\there.jpg",
    "cr\rreturn.jpg",
    "100% sure.jpg",
    "a+b.jpg",
    "two  spaces .jpg",
    "蜂 ünï.png",
    "l" * 251 + ".jpg",  # a file name of 255 bytes: its result's, 260, is shortened
]
LONG = "d" * 200 + "/" + "d" * 200 + "/" + "d" * 200 + "/" + "d" * 200 + "/" + "n" * 200 + ".jpg"  # key: 1,020 bytes


def test_local_run_processes_odd_names_like_any_and_says_which_can_never_have_a_result(tmp_path):
    images, out = tmp_path / "images", tmp_path / "out"
    for name in [*ODD, LONG]:
        write_image(images / name, fmt="PNG" if name.endswith(".png") else "JPEG")
    assert len(f"test_images/{LONG}".encode()) == 1020
    run = customlabels("local", "run", "--images", images, "--out", out)
    assert run.returncode == 0, run.stdout + run.stderr
    outcomes = {item["key"]: item["outcome"] for item in json.loads((out / "summary.json").read_text())["images"]}
    assert outcomes == {
        **{f"test_images/{name}": "nothing" for name in ODD},  # no --model: the emulated model detects nothing
        f"test_images/{LONG}": "error:KeyTooLongError",
    }
    for name in ODD:
        saved = out / local_path(f"test_images/{name}.json")
        assert json.loads(saved.read_bytes())["Image"]["Key"] == f"test_images/{name}"
    assert (out / "test_images" / "new%0Aline.jpg.json").is_file() and (
        out / "test_images" / "100%25 sure.jpg.json"
    ).is_file()
    said = " ".join(run.stdout.split())
    assert "error:KeyTooLongError" in said and "its result key would be 1025 bytes" in said
