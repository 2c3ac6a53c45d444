"""`make help` lists every target that has a `## ` help in the Makefile, with that help (it once missed test-e2e,
its pattern excluding digits)."""

import re
import subprocess

import pytest

from support.project import ROOT

pytestmark = pytest.mark.e2e


def test_make_help_lists_every_documented_target():
    documented = dict(
        re.findall(r"^([^\s:#=]+):[^#\n]*## (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert "test-e2e" in documented and len(documented) >= 10
    shown = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    listed = dict(re.findall(r"^  make (\S+) +(.+)$", shown.stdout, re.MULTILINE))
    assert listed == {target: help_text.strip() for target, help_text in documented.items()}
