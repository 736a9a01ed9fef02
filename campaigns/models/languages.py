"""Staff-written texts kept once per language (`title_uk`, `body_ro`, ...)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

CONTENT_LANGUAGES = ("uk", "ru", "ro", "en")


def fallback_order(language: str | None = None) -> list[str]:
    """The reader's language, then the site's default, then any other."""
    language = (language or translation.get_language() or "").split("-")[0]
    order = [language, settings.LANGUAGE_CODE, *CONTENT_LANGUAGES]
    return [code for code in dict.fromkeys(order) if code in CONTENT_LANGUAGES]


def translated(obj, field: str, language: str | None = None) -> str:
    """`obj.<field>_<language>`, else the default language's, else the first filled."""
    for code in fallback_order(language):
        value = getattr(obj, f"{field}_{code}", "")
        if value:
            return value
    return ""
