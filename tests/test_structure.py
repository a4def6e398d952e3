"""The code's structure: no import cycles, shared helpers under public names.

Reads the sources (imports inside functions count too), imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analysis", "layers", "scripts")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, str]]:
    """(module, name) for every ``from <project module> import name`` and ``import <module>``.

    Modules are named without the ``locatietoets.`` of the import namespace (``scripts.cli``).
    """
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = node.module.removeprefix("locatietoets.")
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                if sub in modules:
                    out.append((sub, ""))
                elif module in modules:
                    out.append((module, alias.name))
        elif isinstance(node, ast.Import):
            names = (alias.name.removeprefix("locatietoets.") for alias in node.names)
            out.extend((name, "") for name in names if name in modules)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    modules = _modules()
    core = PACKAGES
    graph = {
        name: {m for m, _ in _imports(path, modules) if m != name and m.startswith(core)}
        for name, path in modules.items()
        if name.startswith(core)
    }
    assert sum(map(len, graph.values())) > 100  # the imports were found
    assert _cycles(graph) == []
    # the command line registers the planning commands; they use scripts.console, never the CLI
    assert "scripts.cli" not in graph["scripts.planning"]


def test_shared_helpers_have_public_names():
    modules = _modules()
    private = [
        f"{name} imports {module}.{imported}"
        for name, path in modules.items()
        for module, imported in _imports(path, modules)
        if module.startswith("scripts") and module != name and imported.startswith("_")
    ]
    assert private == []
    exported = []
    for name, path in modules.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = [getattr(t, "id", "") for t in getattr(node, "targets", [])]
            if isinstance(node, ast.Assign) and "__all__" in targets:
                exported += [f"{name}.{e.value}" for e in node.value.elts if e.value[:1] == "_"]
    assert exported == []


def test_planning_package_reexports_its_modules():
    import locatietoets.analysis.planning as planning
    from locatietoets.analysis.planning import business, capacity, comparison, grid, sensitivity

    for module in (business, capacity, comparison, grid, sensitivity):
        for name in module.__all__:
            assert getattr(planning, name) is getattr(module, name)
