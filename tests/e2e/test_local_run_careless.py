"""`customlabels local run` as a careless or hostile user meets it (issue 27): Ctrl-C in the middle of a run, a
JPEG named with a mixed-case suffix, and file names that would rewrite the terminal."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from support.cli import customlabels
from support.images import image_bytes
from support.project import ROOT

pytestmark = pytest.mark.e2e


def start(images, out, *options):
    return subprocess.Popen(
        [sys.executable, "-m", "customlabels", "local", "run", "--images", str(images), "--out", str(out), *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job: Ctrl-C reaches every process
        env={**os.environ, "COLUMNS": "200"},
    )


def wait_for(condition, process, what):
    """Until `condition()` holds (the run's own log says so); a run that ends first fails the test, never a timer."""
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {what}: {process.communicate()}")
        time.sleep(0.05)


def test_ctrl_c_saves_what_is_done_says_interrupted_and_leaves_no_traceback(tmp_path):
    """The interrupt comes when two images are done and the third has failed once and waits for its retry (its
    fault is planned, its visibility timeout long): the two results are saved, summary.json says `interrupted`,
    the run exits 130, and the function processes, which got the SIGINT too, wrote no traceback."""
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    for name in ("a.jpg", "b.jpg", "slow.jpg"):
        (images / name).write_bytes(image_bytes())
    run = start(images, out, "--fault-plan", "internal@*/slow.jpg", "--visibility-timeout", "600")
    log = out / "lambda.log"

    def two_done_one_retrying():
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        return text.count('"Image done"') == 2 and '"Image failed; SQS will retry it' in text

    wait_for(two_done_one_retrying, run, "two images were done and one failed")
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, (stdout, stderr)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert {image["key"]: image["outcome"] for image in summary["images"]} == {
        "test_images/a.jpg": "nothing",  # no --model: the emulated model detects nothing
        "test_images/b.jpg": "nothing",
        "test_images/slow.jpg": "interrupted",
    }
    assert sorted(path.name for path in (out / "test_images").iterdir()) == ["a.jpg.json", "b.jpg.json"]
    assert "Traceback" not in log.read_text(encoding="utf-8") and "Traceback" not in stderr, stderr
    printed = " ".join(stdout.split())
    assert "Interrupted (Ctrl-C): 2 of 3 uploaded image(s) finished, their results saved" in printed, printed


def test_a_miscased_jpeg_is_not_picked_up_and_hostile_names_print_escaped(tmp_path):
    """`one.Jpg` is a real JPEG that S3's case-sensitive suffix filters never send: its outcome says so (not
    `not-an-image`), and so does its gallery card (not "no result yet"). Names with escape sequences and rich markup
    print as written (a file name cannot hold the `/` of a closing tag)."""
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    names = ["one.Jpg", "x\x1b[1A\x1b[2Kbee.jpg", "[red]x[link=mailto:a@example.com]y.jpg", "notes.txt"]
    for name in names:
        (images / name).write_bytes(image_bytes())
    run = start(images, out, "--start-delay", "0")
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, (stdout, stderr)
    summary = json.loads((out / "summary.json").read_text())
    assert {image["key"]: image["outcome"] for image in summary["images"]} == {
        "test_images/one.Jpg": "not-picked-up",
        "test_images/x\x1b[1A\x1b[2Kbee.jpg": "nothing",
        "test_images/[red]x[link=mailto:a@example.com]y.jpg": "nothing",
        "test_images/notes.txt": "not-an-image",
    }
    assert "\x1b" not in stdout and "\x1b" not in stderr
    printed = " ".join(stdout.split())
    assert "test_images/x\\x1b[1A\\x1b[2Kbee.jpg" in printed
    assert "test_images/[red]x[link=mailto:a@example.com]y.jpg" in printed
    assert "not-picked-up: test_images/one.Jpg: its suffix .Jpg mixes cases" in printed
    assert "rename it to one.jpg" in printed

    visualize = ["visualize", "--results", str(out), "--images", str(images), "--out", str(tmp_path / "gallery")]
    gallery = customlabels(*visualize)
    assert gallery.returncode == 0, gallery.stderr
    assert "1 never processed (a name the pipeline does not pick up)" in " ".join(gallery.stdout.split())
    page = (tmp_path / "gallery" / "index.html").read_text(encoding="utf-8")
    data = json.loads(page.split('<script type="application/json" id="gallery-data">')[1].split("</script>")[0])
    [card] = [item for item in data["items"] if item["name"] == "one.Jpg"]
    assert card["status"] == "not-picked-up" and "its suffix .Jpg mixes cases" in card["error"]["Message"]
