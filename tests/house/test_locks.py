"""Every row lock goes through a locks module, and every lock has its place in
the one lock order written in rewards/locks.py's docstring.

Read from the source with `ast`: a `select_for_update` call, or `FOR UPDATE` in
a string that is not a docstring (raw SQL), outside a module named locks.py
fails; so does a function of a locks module that neither rewards/locks.py's
docstring nor its own module's names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The four apps and the two layers above them.
PACKAGES = ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo")
ORDER = ROOT / "rewards" / "locks.py"

# Moved by the lead after the points merge: the row locks these services still
# take themselves (their place in the order is already in rewards/locks.py's
# docstring). Empty this as they move; a file listed here that no longer locks
# anything fails, so the list only shrinks.
NOT_YET_MOVED: set[str] = set()

SQL_LOCK = re.compile(r"\bFOR\s+UPDATE\b")


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            found.append(path)
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes of the module, its classes and functions."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                ids.add(id(body[0].value))
    return ids


def _row_locks(path: Path) -> list[int]:
    """Line numbers of the row locks a module takes itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    lines = []
    for node in ast.walk(tree):
        orm_lock = isinstance(node, ast.Attribute) and node.attr == "select_for_update"
        sql_lock = (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and SQL_LOCK.search(node.value) is not None
        )
        if orm_lock or sql_lock:
            lines.append(node.lineno)
    return sorted(lines)


def _locks_modules() -> list[Path]:
    return [path for path in _modules() if path.name == "locks.py"]


def test_row_locks_are_taken_in_locks_modules_only():
    offenders, still_listed = [], set()
    for path in _modules():
        if path.name == "locks.py":
            continue
        name = path.relative_to(ROOT).as_posix()
        lines = _row_locks(path)
        if not lines:
            continue
        if name in NOT_YET_MOVED:
            still_listed.add(name)
            continue
        offenders += [f"{name}:{line}" for line in lines]
    assert not offenders, (
        "Row locks outside a locks module (add a function to the app's locks.py "
        "and give it its place in rewards/locks.py's docstring):\n"
        + "\n".join(offenders)
    )
    stale = sorted(NOT_YET_MOVED - still_listed)
    assert not stale, (
        f"These lock nothing any more; drop them from NOT_YET_MOVED: {stale}"
    )


def test_the_check_sees_a_lock_and_skips_docstrings(tmp_path):
    source = tmp_path / "services.py"
    source.write_text(
        '"""Claims rows with SELECT ... FOR UPDATE SKIP LOCKED."""\n'
        "def f(qs, table):\n"
        '    """Uses `select_for_update`."""\n'
        "    qs.select_for_update(of=('self',)).first()\n"
        '    return f"SELECT * FROM {table} FOR UPDATE OF {table}"\n'
    )
    assert _row_locks(source) == [4, 5]


def test_every_lock_has_its_place_in_the_order():
    order = ast.get_docstring(ast.parse(ORDER.read_text(encoding="utf-8"))) or ""
    modules = _locks_modules()
    assert {p.relative_to(ROOT).as_posix() for p in modules} >= {
        "members/locks.py",
        "rewards/locks.py",
        "campaigns/locks.py",
        "analytics/locks.py",
    }
    unnamed, undocumented = [], []
    for path in modules:
        name = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        own = ast.get_docstring(tree) or ""
        if path != ORDER and name not in order:
            unnamed.append(name)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            word = re.compile(rf"\b{re.escape(node.name)}\b")
            if not (word.search(order) or word.search(own)):
                unnamed.append(f"{name}: {node.name}")
            if not ast.get_docstring(node):
                undocumented.append(f"{name}: {node.name}")
    assert not unnamed, (
        "Not placed in the lock order (name them in rewards/locks.py's docstring):\n"
        + "\n".join(unnamed)
    )
    assert not undocumented, (
        "Say what each lock locks and after which lock:\n" + "\n".join(undocumented)
    )


def test_the_locks_modules_point_to_the_order_instead_of_restating_it():
    for path in _locks_modules():
        if path == ORDER:
            continue
        own = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert "The order is in rewards/locks.py" in " ".join(own.split()), path
