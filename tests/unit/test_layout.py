"""The layout is the architecture: which part may import which, read from the source, so that a shortcut across
the parts fails here rather than in a review (README.md's layout and docs/design.md draw the same picture)."""

import ast
import sys
from pathlib import Path

import pytest

from support.project import ROOT

pytestmark = pytest.mark.unit

ALLOWED = {
    "config": set(),
    "escaping": set(),
    "errors": {"config", "escaping"},
    "limits": set(),
    "plots": set(),
    "outputs": set(),
    "operations": {"config", "errors", "limits", "outputs", "operations"},
    "datasets": {"config", "plots", "datasets"},
    "evaluation": {"config", "plots", "escaping", "outputs", "datasets", "evaluation"},
    "visualize": {"config", "escaping", "outputs", "datasets", "evaluation", "visualize"},
    "review": {"config", "datasets", "evaluation", "review"},
    "local": {"config", "limits", "outputs", "datasets", "operations", "local"},
}
"""The parts of `customlabels` and what each may import of the others (any part may import the function code's
package, `customlabels_runtime`). Only the CLI (`cli`, `__main__`) puts them together."""


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= (
                {f"{node.module}.{alias.name}" for alias in node.names}
                if node.module == "customlabels"
                else {node.module}
            )
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def part(module: str) -> str:
    """`customlabels.operations.transfer` -> `operations`, `customlabels.config` -> `config`."""
    return module.split(".")[1]


def modules(package: str) -> list[tuple[str, Path]]:
    return [
        (".".join(path.relative_to(ROOT).with_suffix("").parts), path)
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def test_each_part_of_the_tool_imports_only_the_parts_below_it():
    problems = []
    for name, path in modules("customlabels"):
        if name in ("customlabels.__init__", "customlabels.__main__") or part(name) == "cli":
            continue
        own = part(name)
        assert own in ALLOWED, f"{name}: a part that ALLOWED does not know; add it with what it may import"
        for imported in imports(path):
            if imported.startswith("customlabels.") and part(imported) not in ALLOWED[own] | {own}:
                problems.append(f"{name} imports {imported}")
    assert problems == []


def test_the_function_code_never_imports_the_tool_and_the_contract_only_the_standard_library():
    for name, path in modules("customlabels_runtime"):
        assert not {i for i in imports(path) if i == "customlabels" or i.startswith("customlabels.")}, name
    contract = imports(ROOT / "customlabels_runtime" / "contract.py")
    assert {i.split(".")[0] for i in contract} <= set(sys.stdlib_module_names), contract


def test_the_stack_reads_only_the_configuration_and_the_contract_of_the_tool():
    for name, path in modules("stacks"):
        ours = {i for i in imports(path) if i.split(".")[0] in ("customlabels", "customlabels_runtime")}
        assert ours <= {"customlabels.config", "customlabels_runtime", "customlabels_runtime.contract"}, name


def test_nothing_edits_the_import_path():
    edits = "sys." + "path"
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("customlabels", "customlabels_runtime", "stacks", "bench", "tests", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if edits in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
