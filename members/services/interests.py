"""The interests list staff keep, and the interests a member picks from it."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from modeltranslation.utils import build_localized_fieldname

from members.defaults import INTERESTS
from members.models import Interest, Member


def interest_save(*, interest: Interest) -> Interest:
    """Create or update an interest of the list (admin, seed data)."""
    interest.full_clean()
    interest.save()
    return interest


@transaction.atomic
def member_interests_set(*, member: Member, interests: Iterable[Interest]) -> Member:
    """Set the interests a member picked. Inactive interests the member picked
    before stay (the profile page no longer offers them, so it cannot keep
    them), unless they are passed again."""
    wanted = {interest.pk for interest in interests}
    inactive = set(
        member.picked_interests.filter(active=False).values_list("pk", flat=True)
    )
    member.picked_interests.set(wanted | inactive)
    return member


def interests_match_text(
    texts: Iterable[str], *, interests: Iterable[Interest] | None = None
) -> tuple[list[Interest], list[str]]:
    """Free-text interests against the list: the interests whose code or name
    in any language matches a text (ignoring case), and the texts that match
    none (in their order)."""
    pool = list(interests) if interests is not None else list(Interest.objects.all())
    by_word: dict[str, Interest] = {}
    for interest in pool:
        words = [interest.code] + [
            getattr(interest, build_localized_fieldname("name", code), "") or ""
            for code, _name in settings.LANGUAGES
        ]
        for word in words:
            if word:
                by_word.setdefault(word.casefold(), interest)
    matched: list[Interest] = []
    rest: list[str] = []
    for text in texts:
        interest = by_word.get(str(text).strip().casefold())
        if interest is None:
            rest.append(text)
        elif interest not in matched:
            matched.append(interest)
    return matched, rest


def interests_ensure() -> int:
    """Write the default interests (members.defaults) that are missing by code;
    returns how many were written. Leaves existing rows alone."""
    written = 0
    for code, order, categories, uk, ru, ro, en in INTERESTS:
        _interest, created = Interest.objects.get_or_create(
            code=code,
            defaults={
                "order": order,
                "purchase_categories": categories,
                "name_uk": uk,
                "name_ru": ru,
                "name_ro": ro,
                "name_en": en,
            },
        )
        written += created
    return written
