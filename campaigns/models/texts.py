"""A subject and a body kept in every language (campaigns/translation.py) and
sent together: a message never pairs one language's subject with another's body."""

from __future__ import annotations

from django.conf import settings
from modeltranslation.utils import build_localized_fieldname, resolution_order


class SubjectBodyTexts:
    """Mixin of a model with translated `subject` and `body` fields."""

    def text_in(self, language: str) -> tuple[str, str]:
        """(subject, body) as written in `language` itself, no fallback."""
        return (
            getattr(self, build_localized_fieldname("subject", language)) or "",
            getattr(self, build_localized_fieldname("body", language)) or "",
        )

    def languages(self) -> list[str]:
        """The languages that have a body."""
        return [code for code, _name in settings.LANGUAGES if self.text_in(code)[1]]

    def content_for(self, language: str) -> tuple[str, str, str]:
        """(language used, subject, body) for a reader of `language`: the first
        language in modeltranslation's fallback order (the one order, set in
        settings.MODELTRANSLATION_FALLBACK_LANGUAGES) that has a body."""
        for lang in resolution_order(language):
            subject, body = self.text_in(lang)
            if body:
                return lang, subject, body
        return language, "", ""
