"""The sizes that keep each room readable in one sitting (issue 28, docs/design.md): no product module over 450
lines, at most three functions over 50, and no two modules that import each other, even through others or lazily.
A change that breaks one splits a room by job, as docs/design.md says where new code goes."""

import ast
import graphlib
from pathlib import Path

import pytest

from support.project import ROOT

pytestmark = pytest.mark.unit

PRODUCT_PACKAGES = ("customlabels", "customlabels_runtime", "stacks")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 50
MAX_LONG_FUNCTIONS = 3


def product_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the product's packages."""
    files = (path for package in PRODUCT_PACKAGES for path in sorted((ROOT / package).rglob("*.py")))
    return {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path for path in files}


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The product modules `module` imports anywhere in its body (module level or inside a function)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {name for name in names if name in known and name != module}
    return found


def test_no_product_module_is_longer_than_450_lines():
    long_modules = {
        name: lines
        for name, path in product_modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long_modules == {}, "split these by job (docs/design.md says where each job lives)"


def test_at_most_three_functions_are_longer_than_50_lines():
    long_functions = sorted(
        (node.end_lineno - node.lineno + 1, f"{name}.{node.name}")
        for name, path in product_modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    )
    assert len(long_functions) <= MAX_LONG_FUNCTIONS, f"build these in named steps: {long_functions}"


def test_no_product_modules_import_each_other():
    modules = product_modules()
    graph = {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle {' -> '.join(cycle.args[1])}: move what both need into a module of its own")


def test_the_import_graph_is_read_from_every_kind_of_import(tmp_path):
    """The cycle check would pass vacuously if it missed relative or lazy imports: it sees both."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def later():\n    from . import b\n")
    (package / "b.py").write_text("from pkg.a import later\n")
    known = {"pkg", "pkg.a", "pkg.b"}
    assert imported_modules("pkg.a", package / "a.py", known) == {"pkg", "pkg.b"}
    assert imported_modules("pkg.b", package / "b.py", known) == {"pkg.a"}
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}).static_order())
