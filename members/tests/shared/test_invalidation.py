"""members.invalidation: a cache forgets now and when the transaction commits;
and every cache of rows in the apps forgets through it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from members.invalidation import forget_now_and_on_commit

pytestmark = pytest.mark.django_db

# A callable handed to on_commit whose name says it forgets cached state.
FORGETS = re.compile(r"forget|clear|bump|generation|invalidat|changed", re.I)
APPS = ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo")


def test_forgets_at_once_and_again_at_the_commit(django_capture_on_commit_callbacks):
    calls = []
    with django_capture_on_commit_callbacks(execute=True):
        forget_now_and_on_commit(lambda: calls.append("forgot"))
        assert calls == ["forgot"]  # this transaction's own reads see the change
    assert calls == ["forgot", "forgot"]  # a reader in between does not keep the old


def test_a_rolled_back_write_is_forgotten_only_once(django_capture_on_commit_callbacks):
    calls = []
    with django_capture_on_commit_callbacks(execute=True) as queued:
        try:
            with transaction.atomic():
                forget_now_and_on_commit(lambda: calls.append("forgot"))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert calls == ["forgot"]
    assert queued == []


def _on_commit_callees(tree: ast.AST):
    """(line, source of the callable) of every transaction.on_commit(...) call."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "on_commit"
            and node.args
        ):
            yield node.lineno, ast.unparse(node.args[0])


def test_every_cache_forgets_through_the_one_helper():
    """A new cache that forgot only at the commit (or only at once) would keep
    stale rows: its invalidation must go through forget_now_and_on_commit."""
    base = Path(settings.BASE_DIR)
    seen, offenders = 0, []
    for app in APPS:
        for path in sorted((base / app).rglob("*.py")):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            if path == base / "members" / "invalidation.py":  # the helper
                continue
            for line, callee in _on_commit_callees(ast.parse(path.read_text())):
                seen += 1
                if FORGETS.search(callee):
                    offenders.append(f"{path.relative_to(base)}:{line}: {callee}")
    assert seen > 5  # the walk found the apps' on_commit calls
    assert offenders == [], "use members.invalidation.forget_now_and_on_commit"
