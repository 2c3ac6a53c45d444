"""The wheel on its own: built, installed (not editable) into a fresh venv outside the checkout, and run from a
directory that is not the checkout, so nothing can reach `cdk.json` or the source tree by accident."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from support.project import ROOT

pytestmark = pytest.mark.e2e


SHIPPED = ("pyproject.toml", "customlabels", "customlabels_runtime")


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv with the wheel installed and, behind it, the project's third-party dependencies.

    No network: the wheel is built without build isolation (setuptools comes from the project's .venv) and
    installed with `--no-deps`; the dependencies are the .venv's site-packages, added by a `.pth` line. A path
    in a `.pth` file is appended to the import path without processing that folder's own `.pth` files, so the
    .venv's editable-install hook for `customlabels` stays inert, and the wheel's copy is the only one
    importable."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = root / "wheels"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        cwd=root,
    )
    [wheel] = wheels.glob("customlabels-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            str(wheel),
        ],
        cwd=root,
    )
    site_packages = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).stdout.strip()
    )
    (site_packages / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    completed = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    assert completed.returncode == 0, f"{command}\n{completed.stdout}\n{completed.stderr}"
    return completed


def test_the_installed_packages_are_the_wheels_not_the_checkout(venv, tmp_path):
    located = run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import customlabels, customlabels_runtime, customlabels.config; "
            "print(customlabels.__file__); print(customlabels_runtime.__file__)",
        ],
        cwd=tmp_path,
    )
    for line in located.stdout.split():
        assert Path(line).is_relative_to(venv), line
        assert not Path(line).is_relative_to(ROOT), line


def test_help_sample_data_and_a_local_run_from_outside_the_checkout(venv, tmp_path):
    customlabels = str(venv / "bin" / "customlabels")
    assert "local" in run([customlabels, "--help"], cwd=tmp_path).stdout

    run([customlabels, "sample-data", "sample", "--count", "3"], cwd=tmp_path)
    images = sorted(path.name for path in (tmp_path / "sample" / "images").rglob("*") if path.is_file())
    assert len(images) == 3

    run(
        [
            customlabels,
            "local",
            "run",
            "--images",
            "sample/images",
            "--model",
            "manifest:sample/manifest.jsonl",
            "--out",
            "results",
        ],
        cwd=tmp_path,
        timeout=600,
    )
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["counts"] == {"labels": 3}
    # The schemas are package data too: the wheel's events are checked against its own event.schema.json.
    checked = run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import json, sys; from customlabels.results.schema_check import schema_problems; "
            "events = [json.loads(line) for line in open('results/events.jsonl')]; "
            "print(len(events), sum(len(schema_problems(event, 'event')) for event in events))",
        ],
        cwd=tmp_path,
    )
    assert checked.stdout.split() == ["3", "0"]
    for image in summary["images"]:
        assert (tmp_path / "results" / image["result"]).is_file()

    # The pages' templates are package data: the wheel's report and gallery are whole pages, not a missing file.
    run(
        [
            customlabels,
            "evaluate",
            "--manifest",
            "sample/manifest.jsonl",
            "--results",
            "results",
            "--report",
            "report",
        ],
        cwd=tmp_path,
    )
    report = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "<style>" in report and "<h2>Headline</h2>" in report and "$body" not in report
    run(
        [customlabels, "visualize", "--results", "results", "--images", "sample/images", "--out", "gallery"],
        cwd=tmp_path,
    )
    assert "__GALLERY_DATA__" not in (tmp_path / "gallery" / "index.html").read_text(encoding="utf-8")
