"""`manage.py check --deploy` is clean with production values from the environment."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

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
}


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    return _manage(tmp_path, ["check", "--deploy", "--fail-level", "WARNING"], **env)


def _manage(tmp_path, argv: list[str], **env) -> subprocess.CompletedProcess:
    # The test process's own settings must not leak in: conftest sets
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which check --deploy rejects.
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION
        and key != "SECRET_KEY"
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
        ({}, "security.W009"),  # no SECRET_KEY: the development default is refused
        ({"SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"DEBUG": "1"}, "security.W018"),
    ],
)
def test_check_deploy_flags_a_development_value(tmp_path, env, warning):
    if "SECRET_KEY" not in env and warning != "security.W009":
        env = {**env, "SECRET_KEY": secrets.token_urlsafe(50)}

    result = _check_deploy(tmp_path, **env)

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def _env_example() -> dict[str, str]:
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            values[key] = value
    return values


def test_env_example_lists_every_variable_settings_reads():
    settings_py = (BASE_DIR / "loyalty_site" / "settings.py").read_text()
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
    values = {
        k: v
        for k, v in _env_example().items()
        if k not in ("DATABASE_URL", "LOYALTY_VAR_DIR")
    }

    result = _check_deploy(tmp_path, **values)

    assert result.returncode == 0, result.stdout + result.stderr
