"""Every browser test logs in through tests/browser/_journey.py: portal_login or
admin_login. They wait for the landing page's `load` event; the copies of the
login lines each test used to carry waited with `expect(page).to_have_url`,
which resolves when the navigation commits, before the page's deferred scripts
have run, and a test that then clicked a control those scripts wire up clicked
a dead one now and then. A line outside the helpers that names the login form's
fields fails here, with its file and line.

It reads the source only (no browser), so it runs where Chromium is missing and
the browser tests are skipped, and it lives here because tests/browser holds one
module per journey or page (test_test_layout.py)."""

from __future__ import annotations

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BROWSER_DIR = BASE_DIR / "tests" / "browser"
HELPERS = "_journey.py"
# The fields of both login forms; not the sign-up form's #id_password1/2.
LOGIN_FIELD = re.compile(r"#id_(?:username|password)(?![\w-])")


def login_copies(folder: Path) -> list[str]:
    """`file:line: text` of each line under `folder`, the helpers aside, that
    names a login form field."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if path == folder / HELPERS:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if LOGIN_FIELD.search(line):
                rel = path.relative_to(folder.parent.parent)
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_browser_tests_log_in_through_the_helpers():
    assert login_copies(BROWSER_DIR) == [], (
        "log in with tests.browser._journey.portal_login or admin_login, which "
        "wait for the page's load event; find another form's password field by "
        "its label"
    )


def test_the_helpers_fill_the_fields_the_check_looks_for():
    helpers = (BROWSER_DIR / HELPERS).read_text(encoding="utf-8")
    assert len(LOGIN_FIELD.findall(helpers)) == 4  # two fields, two forms


def test_a_copied_login_is_caught(tmp_path):
    folder = tmp_path / "tests" / "browser"
    (folder / "deeper").mkdir(parents=True)
    (folder / HELPERS).write_text('page.locator("#id_username").fill(name)\n')
    (folder / "test_page_x.py").write_text(
        "def test_x(page):\n"
        '    page.locator("#id_password1").fill(PASSWORD)\n'
        '    page.locator("#id_username").fill("olena@example.com")\n'
        "    admin.locator('#id_password').fill(PASSWORD)\n"
    )
    (folder / "deeper" / "steps.py").write_text('SELECTOR = "#id_password"\n')
    assert login_copies(folder) == [
        'tests/browser/deeper/steps.py:1: SELECTOR = "#id_password"',
        'tests/browser/test_page_x.py:3: page.locator("#id_username").fill("olena@example.com")',
        "tests/browser/test_page_x.py:4: admin.locator('#id_password').fill(PASSWORD)",
    ]
