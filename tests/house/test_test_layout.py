"""Tests mirror the code: every test module of an app sits in
`<app>/tests/<area>/test_<thing>.py`, one level of area folder, each folder a
package (`__init__.py`, so two areas may both have a test_admin.py).

At `<app>/tests/` itself only `__init__.py`, `conftest.py`, `factories.py` (the
app's one factories module) and helper modules that are not tests may sit; a new
flat `<app>/tests/test_x.py` fails here until it is put in its area. The browser
tests keep one folder and one name per journey or page."""

from __future__ import annotations

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
APPS = ["members", "rewards", "campaigns", "analytics", "demo"]
ROOT_FILES = {"__init__.py", "conftest.py", "factories.py"}
BROWSER_PREFIXES = ("test_journey_", "test_page_")


def layout_faults(base: Path, apps: list[str]) -> list[str]:
    """What breaks the layout in `base`, one line per file or folder."""
    faults = []
    for app in apps:
        app_dir = base / app
        tests_dir = app_dir / "tests"
        for path in sorted(app_dir.rglob("test_*.py")):
            if tests_dir not in path.parents:
                faults.append(f"{path.relative_to(base)}: a test outside {app}/tests/")
        if not tests_dir.is_dir():
            continue
        if not (tests_dir / "__init__.py").is_file():
            faults.append(f"{tests_dir.relative_to(base)}: no __init__.py")
        for path in sorted(tests_dir.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(base)
            depth = len(path.relative_to(tests_dir).parts)
            if path.is_dir():
                if depth > 1:
                    faults.append(f"{rel}: one level of area folder only")
                elif not (path / "__init__.py").is_file():
                    faults.append(f"{rel}: an area folder without __init__.py")
                continue
            if path.suffix != ".py":
                continue
            if depth == 1 and path.name.startswith("test_"):
                faults.append(f"{rel}: a flat test; move it to {app}/tests/<area>/")
            if path.name == "factories.py" and depth != 1:
                faults.append(f"{rel}: one factories module per app, {app}/tests/")
    return faults


def browser_faults(base: Path) -> list[str]:
    return [
        f"{path.relative_to(base)}: name it test_journey_<who>_<what>.py or test_page_<what>.py"
        for path in sorted((base / "tests" / "browser").glob("test_*.py"))
        if not path.name.startswith(BROWSER_PREFIXES)
    ]


def test_every_app_test_sits_in_its_area():
    assert layout_faults(BASE_DIR, APPS) == []


def test_every_browser_test_is_named_after_its_journey_or_page():
    assert browser_faults(BASE_DIR) == []


def test_a_new_flat_test_is_caught(tmp_path):
    def put(rel: str) -> None:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    for rel in (
        "members/tests/__init__.py",
        "members/tests/factories.py",
        "members/tests/conftest.py",
        "members/tests/helpers.py",
        "members/tests/admin/__init__.py",
        "members/tests/admin/test_admin.py",
        "members/tests/api/__init__.py",
        "members/tests/api/test_admin.py",
    ):
        put(rel)
    assert layout_faults(tmp_path, ["members"]) == []

    for rel in (
        "members/tests/test_new.py",
        "members/tests/views/test_portal.py",
        "members/tests/api/deep/__init__.py",
        "members/tests/api/factories.py",
        "members/test_stray.py",
        "tests/browser/test_checkout.py",
    ):
        put(rel)
    assert layout_faults(tmp_path, ["members"]) == [
        "members/test_stray.py: a test outside members/tests/",
        "members/tests/api/deep: one level of area folder only",
        "members/tests/api/factories.py: one factories module per app, members/tests/",
        "members/tests/test_new.py: a flat test; move it to members/tests/<area>/",
        "members/tests/views: an area folder without __init__.py",
    ]
    assert browser_faults(tmp_path) == [
        "tests/browser/test_checkout.py: name it test_journey_<who>_<what>.py or test_page_<what>.py"
    ]
