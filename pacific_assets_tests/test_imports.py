"""No import cycle in ``pacific_assets``: the layers of docs/ARCHITECTURE.md stay layers.

The graph is read from the source with ``ast``, so imports inside functions count too: a lazy
import is how a cycle hides (it works until someone imports the other module first).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pacific_assets"


def _module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, modules: set[str]) -> str | None:
    """The package module ``name`` refers to (a name imported from a module is that module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports, anywhere in its body."""
    files = {_module_name(p, package): p for p in package.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(filter(None, (_resolve(a.name, modules) for a in node.names)))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                for alias in node.names:
                    target = _resolve(f"{source}.{alias.name}", modules)
                    if target:
                        targets.add(target)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_reader_sees_lazy_imports_and_finds_a_cycle(tmp_path: Path) -> None:
    """The checker itself: a cycle closed by an import inside a function is found."""
    package = tmp_path / "pacific_assets"
    (package / "storage").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "storage" / "__init__.py").write_text("")
    (package / "storage" / "lake.py").write_text("def f():\n    from pacific_assets import top\n")
    (package / "top.py").write_text("from .storage.lake import f\n")
    graph = import_graph(package)
    assert graph["pacific_assets.top"] == {"pacific_assets.storage.lake"}
    assert cycles(graph) == [["pacific_assets.storage.lake", "pacific_assets.top"]]


def test_pacific_assets_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "pacific_assets.definitions" in graph
    found = cycles(graph)
    detail = "\n".join(
        " <-> ".join(c) + "\n  " + "\n  ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c)
        for c in found
    )
    assert found == [], f"import cycles in pacific_assets:\n{detail}"
