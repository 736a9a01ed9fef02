"""`manage.py check --deploy` is clean with production values from the environment."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fresh_process import json_from_fresh_process

BASE_DIR = Path(__file__).resolve().parent.parent.parent

PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "loyalty.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://loyalty.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "BEHIND_TLS_PROXY": "1",
    "SITE_URL": "https://loyalty.example.com",
}
# Read by settings.py; the test process's values must not leak into the child.
# PYTEST_VERSION (pytest sets it) would let a weak SECRET_KEY through.
NOT_INHERITED = ("SECRET_KEY", "PORT", "CACHE_URL", "PYTEST_VERSION")


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    return _manage(tmp_path, ["check", "--deploy", "--fail-level", "WARNING"], **env)


def _manage(tmp_path, argv: list[str], **env) -> subprocess.CompletedProcess:
    # The test process's own settings must not leak in: conftest sets
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which check --deploy rejects.
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION
        and key not in NOT_INHERITED
        and not key.startswith("DJANGO_")
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="loyalty_site.settings",
        LOYALTY_VAR_DIR=str(tmp_path),
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or f"sqlite:///{tmp_path}/db.sqlite3",
        **PRODUCTION,
    )
    environ.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py with a fixed argv
        [sys.executable, "manage.py", *argv],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _check_deploy(tmp_path, SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_collectstatic_works_with_production_storage(tmp_path):
    # The manifest storage rewrites every reference inside CSS and JS and refuses
    # one to a missing file (a vendored library's source map did exactly that).
    static_root = tmp_path / "static"

    result = _manage(
        tmp_path,
        ["collectstatic", "--noinput", "--verbosity", "0"],
        SECRET_KEY=secrets.token_urlsafe(50),
        STATIC_ROOT=str(static_root),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    manifest = (static_root / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"DEBUG": "1"}, "security.W018"),
        ({"CACHE_URL": "locmemcache://"}, "loyalty_site.W001"),
        ({"SITE_URL": "http://127.0.0.1:8000"}, "loyalty_site.W002"),
    ],
)
def test_check_deploy_flags_a_development_value(tmp_path, env, warning):
    result = _check_deploy(tmp_path, SECRET_KEY=secrets.token_urlsafe(50), **env)

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


WEAK_KEYS = {
    "unset": None,  # the development default of settings.py
    "env.example": "change-me-to-50-or-more-random-characters-from-secrets-token-urlsafe",
    "insecure prefix": "django-insecure-" + secrets.token_urlsafe(50),
    "49 characters": secrets.token_urlsafe(50)[:49],
    "4 distinct characters": "abcd" * 20,
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_settings_refuse_a_weak_secret_key_with_debug_off(tmp_path, key):
    env = {} if key is None else {"SECRET_KEY": key}

    result = _check_deploy(tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not fit for a server" in result.stderr


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_the_deploy_check_names_a_weak_secret_key_as_an_error(settings, key):
    from loyalty_site.checks import secret_key_check
    from loyalty_site.secret_key import DEVELOPMENT_KEY

    settings.SECRET_KEY = DEVELOPMENT_KEY if key is None else key

    (error,) = secret_key_check()

    assert error.id == "loyalty_site.E001"
    assert error.is_serious()  # an Error, not a Warning
    assert error.msg.startswith("SECRET_KEY is not fit for a server")


def test_the_deploy_check_passes_a_random_key(settings):
    from loyalty_site.checks import secret_key_check

    settings.SECRET_KEY = secrets.token_urlsafe(50)

    assert secret_key_check() == []


def test_check_deploy_fails_on_a_weak_key_with_debug_on(tmp_path):
    # DEBUG=1 loads the settings; the check still fails, with an Error.
    result = _check_deploy(tmp_path, DEBUG="1", SECRET_KEY=_env_example()["SECRET_KEY"])

    assert result.returncode != 0
    assert "loyalty_site.E001" in result.stderr
    assert "SECRET_KEY is not fit for a server" in result.stderr


# --- the cache: one every process shares ---------------------------------------


def test_the_deploy_check_warns_on_the_per_process_cache_the_tests_use(settings):
    from loyalty_site.checks import cache_shared_check

    # conftest keeps the test suite's counters in local memory, on purpose.
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    (warning,) = cache_shared_check()
    assert warning.id == "loyalty_site.W001"
    assert "CACHES['default']" in warning.msg

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    assert [w.id for w in cache_shared_check()] == ["loyalty_site.W001"]


def _caches_of(tmp_path, **env) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    return json_from_fresh_process(code, tmp_path, unset=("CACHE_URL", "DEBUG"), **env)


def test_the_default_cache_is_the_database_and_cache_url_names_redis(tmp_path):
    from django.conf import settings

    default = _caches_of(tmp_path)
    assert default["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert default["LOCATION"] == settings.DB_CACHE_TABLE
    assert default["OPTIONS"]["MAX_ENTRIES"] >= 100_000

    redis = _caches_of(tmp_path, CACHE_URL="redis://127.0.0.1:6379/2")
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.django_db
def test_migrate_makes_the_database_cache_table(settings):
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connection

    assert settings.DB_CACHE_TABLE in connection.introspection.table_names()
    cache = DatabaseCache(settings.DB_CACHE_TABLE, {})
    assert cache.add("k", 1) is True
    assert cache.add("k", 2) is False
    assert cache.get("k") == 1


def _env_example() -> dict[str, str]:
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            values[key] = value
    return values


def test_env_example_lists_every_variable_settings_reads():
    # settings.py and the modules it imports settings from (settings_*.py)
    settings_py = "\n".join(
        path.read_text() for path in (BASE_DIR / "loyalty_site").glob("settings*.py")
    )
    read = set(
        re.findall(
            r'\.(?:str|bool|int|float|list|path|url|db_url|email_url)\(\s*"([A-Z_]+)"',
            settings_py,
        )
    )
    documented = set(
        re.findall(
            r"^#? ?([A-Z][A-Z_]+)=", (BASE_DIR / ".env.example").read_text(), re.M
        )
    )

    assert read, "no env.<type>(...) calls found in settings.py"
    assert read - documented == set()


def test_check_deploy_is_clean_with_the_env_example_values(tmp_path):
    # All but SECRET_KEY, whose example value is a placeholder the site refuses
    # (test_settings_refuse_a_weak_secret_key_with_debug_off).
    values = {
        k: v
        for k, v in _env_example().items()
        if k not in ("DATABASE_URL", "LOYALTY_VAR_DIR")
    }
    values["SECRET_KEY"] = secrets.token_urlsafe(50)

    result = _check_deploy(tmp_path, **values)

    assert result.returncode == 0, result.stdout + result.stderr
