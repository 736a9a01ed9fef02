"""The uk, ru, ro and en catalogs are complete, compiled, and match the code."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCALES = [code for code, _name in settings.LANGUAGES]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def _po(lang: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", LOCALES)
def test_catalog_is_fully_translated(lang):
    po = _po(lang)

    missing = [e.msgid for e in po.untranslated_entries()]
    assert missing == [], f"{lang}: {len(missing)} untranslated, e.g. {missing[:3]}"
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert po.metadata["Language"] == lang


@pytest.mark.parametrize("lang", LOCALES)
def test_translations_keep_every_placeholder(lang):
    wrong = []
    for entry in _po(lang).translated_entries():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        got = (
            [entry.msgstr]
            if not entry.msgid_plural
            else list(entry.msgstr_plural.values())
        )
        for text in got:
            # Plural forms may drop a count placeholder; named ones must all stay.
            if sorted(PLACEHOLDER.findall(text)) != wanted and not entry.msgid_plural:
                wrong.append((entry.msgid, text))
    assert wrong == []


@pytest.mark.parametrize("lang", LOCALES)
def test_compiled_catalog_matches_the_source(lang):
    mo_path = ROOT / "locale" / lang / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), "run `make messages` to compile the catalogs"
    compiled = {
        e.msgid: e.msgstr for e in polib.mofile(str(mo_path)) if not e.msgid_plural
    }
    source = {
        e.msgid: e.msgstr for e in _po(lang).translated_entries() if not e.msgid_plural
    }
    stale = [m for m, text in source.items() if compiled.get(m) != text]
    assert stale == [], f"{lang}: django.mo is stale; run `make messages` ({stale[:3]})"


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed"
)
def test_catalogs_hold_every_string_of_the_code(tmp_path):
    """Extract the strings afresh from a copy of the code and compare with the catalog."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".venv", "var", "staticfiles", "locale", "node_modules", ".git", "__pycache__"
    )
    shutil.copytree(ROOT, copy, ignore=ignore)
    (copy / "locale").mkdir()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "en",
            "--ignore=bench",
            "--ignore=*/tests/*",
            "--ignore=tests",
            "--ignore=static",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "loyalty_site.settings",
        },
    )
    fresh = {
        e.msgid for e in polib.pofile(str(copy / "locale/en/LC_MESSAGES/django.po"))
    }
    for lang in LOCALES:
        known = {e.msgid for e in _po(lang)}
        assert sorted(fresh - known) == [], (
            f"{lang}: run `make messages` and translate the new strings"
        )
