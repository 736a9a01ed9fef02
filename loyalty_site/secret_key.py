"""What makes a SECRET_KEY unfit for a server running with DEBUG off.

Plain Python, no Django import: settings.py calls it while it loads (to refuse
to start) and the deploy check in loyalty_site.checks calls it again (to say so
in `manage.py check --deploy`). The length, variety and prefix rules are
Django's own security.W009; the placeholders are the ones this repository ships.
"""

from __future__ import annotations

# Django's security.W009 (django/core/checks/security/base.py).
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
INSECURE_PREFIX = "django-insecure-"

# The default in settings.py (development only) and the value in .env.example.
DEVELOPMENT_KEY = "django-insecure-dev-key-change-me-" + "x" * 30
PLACEHOLDERS = frozenset(
    {
        DEVELOPMENT_KEY,
        "change-me-to-50-or-more-random-characters-from-secrets-token-urlsafe",
    }
)
# Example files say "change me" in these words; no generated key does.
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me")


def secret_key_problem(key: str) -> str | None:
    """Why `key` must not sign sessions and tokens on a server, or None if it may."""
    if key in PLACEHOLDERS or any(w in key.lower() for w in PLACEHOLDER_WORDS):
        return "it is a placeholder from this repository"
    if key.startswith(INSECURE_PREFIX):
        return f"it starts with {INSECURE_PREFIX!r}, the mark of a development key"
    if len(key) < MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {MIN_LENGTH}"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return (
            f"it has {len(set(key))} distinct characters, "
            f"fewer than {MIN_UNIQUE_CHARACTERS}"
        )
    return None


def secret_key_advice(problem: str) -> str:
    """The one message for the refusal at start-up and the deploy check."""
    return (
        f"SECRET_KEY is not fit for a server: {problem}. Set SECRET_KEY to 50 or "
        'more random characters, e.g. python3 -c "import secrets; '
        'print(secrets.token_urlsafe(50))" (or DEBUG=1 on a laptop).'
    )
