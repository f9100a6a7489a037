"""The package walls and kdgat-train's layers are import-linter contracts (root pyproject.toml,
``[tool.importlinter]``); this runs them on every test run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--config", str(config), "--no-cache"], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_every_import_contract_is_kept():
    done = _lint(REPO / "pyproject.toml", REPO)
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", done.stdout)
    assert done.returncode == 0 and kept, done.stdout[-3000:] + done.stderr[-2000:]
    assert int(kept.group(1)) >= 5 and int(kept.group(2)) == 0


def test_a_broken_wall_is_reported(tmp_path):
    """The contracts read real imports: kdgat-train imports kdgat-models, so forbidding it must break."""
    text = (REPO / "pyproject.toml").read_text()
    config = tmp_path / "pyproject.toml"
    config.write_text(text + '\n[[tool.importlinter.contracts]]\nname = "planted"\ntype = "forbidden"\n'
                      'source_modules = ["kdgat_train"]\nforbidden_modules = ["kdgat_models"]\n')
    done = _lint(config, REPO)
    assert done.returncode != 0 and "planted BROKEN" in done.stdout.replace("\n", " "), done.stdout[-2000:]


def import_cycles(package: str) -> list[list[str]]:
    """The sets of ``package``'s modules that import each other in a circle (strongly connected components
    of the import graph with more than one module; imports only a type checker reads left out)."""
    import grimp

    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    edges = {module: sorted(graph.find_modules_directly_imported_by(module) & graph.modules) for module in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_of_kdgat_train_imports_itself_in_a_circle():
    assert import_cycles("kdgat_train") == []


def test_the_cycle_check_sees_a_circle(tmp_path, monkeypatch):
    package = tmp_path / "circle_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle_pkg import b\n")
    (package / "b.py").write_text("def f():\n    from circle_pkg import a  # a lazy import closes the circle too\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("circle_pkg") == [["circle_pkg.a", "circle_pkg.b"]]
