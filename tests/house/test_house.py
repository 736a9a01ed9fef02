"""The shape of the house, checked from the source with `ast`: no module import
cycle, no import that goes up the layer order (imports inside functions count),
and no module past the size where it should split by area.

Layers, lowest first: members <- rewards <- campaigns <- analytics <- loyalty_site
<- demo. Tests and migrations are left out (tests set up data across apps; a
migration is history). bench/ is a tool above everything and is left out too."""

from __future__ import annotations

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LAYERS = ["members", "rewards", "campaigns", "analytics", "loyalty_site", "demo"]
SKIP_DIRS = {"tests", "migrations", "__pycache__"}
MAX_LINES = 600


def project_modules() -> dict[str, Path]:
    out = {}
    for top in LAYERS:
        for path in (BASE_DIR / top).rglob("*.py"):
            rel = path.relative_to(BASE_DIR)
            if SKIP_DIRS & set(rel.parts[:-1]) or path.name.startswith("test_"):
                continue
            name = ".".join(rel.with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports, anywhere in its body."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in mods else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
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


def upward(graph: dict[str, set[str]]) -> list[str]:
    rank = {top: i for i, top in enumerate(LAYERS)}
    return sorted(
        f"{mod} -> {target}"
        for mod, targets in graph.items()
        for target in targets
        if rank[target.split(".")[0]] > rank[mod.split(".")[0]]
    )


def test_the_graph_reader_sees_imports_inside_functions(tmp_path):
    """The checks below are only as good as the reader: an import inside a
    function and a relative import must both count."""
    mods = {"members.a": tmp_path / "a.py", "rewards.b": tmp_path / "b.py"}
    mods["members.a"].write_text("def f():\n    from rewards.b import x\n")
    mods["rewards.b"].write_text("from .b import y\nfrom members import a\n")
    graph = import_graph(mods)
    assert graph == {"members.a": {"rewards.b"}, "rewards.b": {"members.a"}}
    assert cycles(graph) == [["members.a", "rewards.b"]]
    assert upward(graph) == ["members.a -> rewards.b"]


def test_no_module_import_cycle():
    found = cycles(import_graph(project_modules()))
    assert not found, "module import cycles:\n" + "\n".join(map(" ".join, found))


def test_no_import_goes_up_the_layers():
    found = upward(import_graph(project_modules()))
    assert not found, "imports up the layer order:\n" + "\n".join(found)


def test_no_module_past_the_size_where_it_splits():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in project_modules().items()
    }
    big = sorted(f"{n}: {s} lines" for n, s in sizes.items() if s > MAX_LINES)
    assert not big, f"modules over {MAX_LINES} lines (split by area):\n" + "\n".join(
        big
    )


def test_every_import_inside_a_function_names_what_exists():
    """Imports inside functions run late: after code moves, a stale one breaks
    only when its function runs. Every `from X import y` in the project (tests
    included) must name a module X that has y."""
    import importlib

    stale = []
    for path in BASE_DIR.glob("[a-z]*/**/*.py"):
        rel = path.relative_to(BASE_DIR)
        if rel.parts[0] not in LAYERS or "migrations" in rel.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if not isinstance(node, ast.ImportFrom) or node.level:
                    continue
                if node.module.split(".")[0] not in LAYERS:
                    continue
                try:
                    module = importlib.import_module(node.module)
                except ImportError as exc:
                    stale.append(f"{rel}:{node.lineno} {node.module}: {exc}")
                    continue
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            stale.append(
                                f"{rel}:{node.lineno} {node.module}.{alias.name}"
                            )
    assert not stale, "imports of names that do not exist:\n" + "\n".join(stale)


WRITES = {"save", "delete", "get_or_create", "update_or_create", "bulk_create",
          "bulk_update", "create"}  # fmt: skip


def test_selectors_only_read():
    """A selectors module never writes a row: no save, delete, create,
    get_or_create ... (a missing settings row is an unsaved default; an
    `*_ensure` service creates it)."""
    found = []
    for name, path in project_modules().items():
        if ".selectors" not in name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITES
                and not (  # the cache is not a row
                    isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "cache"
                )
            ):
                found.append(f"{name}:{node.lineno} .{node.func.attr}()")
    assert not found, "selectors that write:\n" + "\n".join(found)
