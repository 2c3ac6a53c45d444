"""The layout is the architecture: which part may import which, read from the source, so that a shortcut across
the parts fails here rather than in a review (README.md's layout and docs/design.md draw the same picture)."""

import ast
import sys
from pathlib import Path

import pytest

from support.project import ROOT

pytestmark = pytest.mark.unit

ALLOWED = {
    "config": {"config_conversion", "config_checks", "config_model_manager", "own_model", "result_events_settings"},
    "config_checks": set(),
    "config_model_manager": {"config_checks"},
    "own_model": set(),
    "config_conversion": set(),
    "result_events_settings": set(),
    "escaping": set(),
    "errors": {"config", "escaping"},
    "limits": set(),
    "plots": set(),
    "outputs": set(),
    "operations": {"config", "errors", "limits", "outputs", "operations"},
    "datasets": {"config", "plots", "datasets"},
    "results": {"escaping", "datasets", "results"},
    "evaluation": {"config", "plots", "escaping", "outputs", "datasets", "results", "evaluation"},
    "visualize": {"config", "escaping", "outputs", "datasets", "results", "evaluation", "visualize"},
    "review": {"config", "datasets", "results", "evaluation", "review"},
    "local": {"config", "limits", "outputs", "datasets", "operations", "results", "evaluation", "local"},
    "simulation": {"config", "simulation"},
    "diy": {"datasets", "diy"},
    "lifecycle": {
        "config",
        "errors",
        "limits",
        "outputs",
        "operations",
        "datasets",
        "results",
        "evaluation",
        "lifecycle",
    },
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
        # result_events: the events' shape and pattern; model_version: the version document's initial value; both
        # standard library only like the contract
        shared = {
            "customlabels_runtime.contract",
            "customlabels_runtime.result_events",
            "customlabels_runtime.model_version",
        }
        assert ours <= {"customlabels.config", "customlabels.own_model", "customlabels_runtime", *shared}, name


def test_nothing_edits_the_import_path():
    edits = "sys." + "path"
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("customlabels", "customlabels_runtime", "stacks", "bench", "tests", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if edits in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_model_managers_rules_and_records_import_no_aws_library():
    """`decide` stays pure between `observe` and `act` (the only modules that call AWS): its rules, the records
    the steps pass, the state and the messages import the standard library and the function code alone."""
    folder = ROOT / "customlabels_runtime" / "model_manager"
    for name in ("dependencies", "records", "rules", "spend_guard", "state", "messages", "versions"):
        found = {i.split(".")[0] for i in imports(folder / f"{name}.py")}
        assert found <= set(sys.stdlib_module_names) | {"customlabels_runtime"}, (name, found)


def defined_names(path: Path) -> set[str]:
    """The names a module defines itself: not those it imports, nor those it binds to another module's
    (`RESULT_SUFFIX = contract.RESULT_SUFFIX` passes a name on, as an import would)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = ("customlabels", "customlabels_runtime", "stacks")
    imported = {  # names bound to our own modules (a saved reference to a library's function is a value of its own)
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and ((node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0] in ours
        for alias in node.names
    }

    def passed_on(value: ast.expr) -> bool:
        values = value.elts if isinstance(value, ast.Tuple) else [value]
        return all(
            isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id in imported for v in values
        )

    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign) and not passed_on(node.value):
            names |= {n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_name_is_imported_from_the_module_that_defines_it():
    """One way to import a name: `from customlabels_runtime.contract import RESULT_SUFFIX`, never through a module
    that imported it (`customlabels.config` once passed the contract's names on). Checks `from` imports."""
    problems = []
    for folder in ("customlabels", "customlabels_runtime", "stacks", "bench", "scripts", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                    continue
                if node.module.split(".")[0] not in ("customlabels", "customlabels_runtime", "stacks"):
                    continue
                source = ROOT / (node.module.replace(".", "/") + ".py")
                if not source.exists():
                    continue  # a package: its modules are imported by name
                missing = {alias.name for alias in node.names} - defined_names(source)
                problems += [f"{path.relative_to(ROOT)}: {name} from {node.module}" for name in sorted(missing)]
    assert problems == [], "\n".join(problems)
