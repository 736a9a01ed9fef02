"""The rewards catalog and vouchers as customers, tills and staff read them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from members.formatting import date_format, datetime_format
from members.models import Store
from rewards.models import Category, Reward, Voucher, VoucherStatus

VOUCHER_CODE_CHARS = frozenset("ABCDEFGHJKMNPQRSTUVWXYZ23456789")


def reward_list_available(*, now: dt.datetime | None = None) -> QuerySet[Reward]:
    """The catalog as customers see it: active, within its dates, not out of stock."""
    now = now or timezone.now()
    return (
        Reward.objects.filter(is_active=True)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=now))
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=now))
        .filter(Q(stock__isnull=True) | Q(stock__gt=0))
        .order_by("points_cost", "name")
    )


def reward_list_nearest(
    *,
    balance: int,
    tier_id: int | None,
    limit: int = 5,
    now: dt.datetime | None = None,
) -> list[tuple[Reward, int]]:
    """The available rewards a member with `balance` points and tier `tier_id`
    is nearest to, with the points each still needs: only those for every tier
    or for theirs (the rule of redemption's tier check); first those they can
    take now (0 needed), the dearest first, then the others by points needed.
    Two bounded queries."""
    for_them = Q(tiers__isnull=True)
    if tier_id is not None:
        for_them |= Q(tiers=tier_id)
    available = reward_list_available(now=now).filter(for_them).distinct()
    affordable = list(
        available.filter(points_cost__lte=balance).order_by("-points_cost", "name")[
            :limit
        ]
    )
    later = list(available.filter(points_cost__gt=balance)[: limit - len(affordable)])
    return [(reward, 0) for reward in affordable] + [
        (reward, reward.points_cost - balance) for reward in later
    ]


def vouchers_usable_for_member(
    *, member_id: int, now: dt.datetime | None = None
) -> QuerySet[Voucher]:
    """The member's vouchers that can be used now (issued, not expired), the
    soonest to expire first."""
    return (
        Voucher.objects.filter(
            member_id=member_id,
            status=VoucherStatus.ISSUED,
            expires_at__gt=now or timezone.now(),
        )
        .select_related("reward")
        .order_by("expires_at", "id")
    )


def vouchers_for_member(*, member_id: int) -> QuerySet[Voucher]:
    return (
        Voucher.objects.filter(member_id=member_id)
        .select_related("reward", "used_store")
        .order_by("-issued_at", "-id")
    )


def vouchers_usable_count(*, member_id: int, now: dt.datetime | None = None) -> int:
    """How many of the member's vouchers can be used now: issued, not expired."""
    return Voucher.objects.filter(
        member_id=member_id,
        status=VoucherStatus.ISSUED,
        expires_at__gt=now or timezone.now(),
    ).count()


def voucher_code_normalize(code: str | None) -> str | None:
    """'k7pq2 xm9rd', 'K7PQ2XM9RD' → 'K7PQ2-XM9RD'; None when it cannot be a code."""
    raw = "".join(ch for ch in (code or "").upper() if ch not in " -")
    if len(raw) != 10 or not set(raw) <= VOUCHER_CODE_CHARS:
        return None
    return f"{raw[:5]}-{raw[5:]}"


def voucher_refusal(
    voucher: Voucher, *, now: dt.datetime | None = None, till: Store | None = None
) -> str:
    """Why the voucher cannot be used now, as a sentence; "" when it can.

    `till`: the store whose till (API or Counter) asks. A till learns only that
    the voucher was used and when; another store's name and receipt are not its
    business. Without `till` (the member's own pages, the back office) the
    sentence says where and on which receipt.
    """
    now = now or timezone.now()
    if voucher.status == VoucherStatus.USED and till is not None:
        return _(
            "Voucher %(code)s was already used on %(date)s; a voucher is used once."
        ) % {
            "code": voucher.code,
            "date": datetime_format(localtime(voucher.used_at)),
        }
    if voucher.status == VoucherStatus.USED:
        where = voucher.used_store.name if voucher.used_store_id else ""
        return _(
            "Voucher %(code)s was already used on %(date)s at %(store)s "
            "(receipt %(receipt)s)."
        ) % {
            "code": voucher.code,
            "date": datetime_format(localtime(voucher.used_at)),
            "store": where,
            "receipt": voucher.used_receipt_id,
        }
    if voucher.status == VoucherStatus.CANCELLED:
        return _("Voucher %(code)s was cancelled on %(date)s.") % {
            "code": voucher.code,
            "date": date_format(localtime(voucher.cancelled_at)),
        }
    if voucher.status == VoucherStatus.EXPIRED or voucher.expires_at <= now:
        return _("Voucher %(code)s expired on %(date)s.") % {
            "code": voucher.code,
            "date": date_format(localtime(voucher.expires_at)),
        }
    return ""


def category_names() -> dict[str, str]:
    """{category code as the till sends it, lower case: its name in the active
    language}: one query. A code without a Category row has no entry."""
    return {
        category.code.lower(): category.name
        for category in Category.objects.only(
            "code", *(f"name_{code}" for code, _name in settings.LANGUAGES)
        )
    }


def category_name(code: str, names: dict[str, str]) -> str:
    """The customer's name of an item category: its translation, else the code."""
    return names.get(code.lower(), code) if code else ""
