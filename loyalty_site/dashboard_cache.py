"""The customer dashboard's panels, rendered once per version of what they show.

Customers checking their balance is the portal's most frequent request, and
rendering the panels (balance, tier progress, stamp cards, membership, latest
activity) with their five queries was most of its cost (docs/BENCHMARKS.md).
They are kept in the default cache per member and language, as HTML, and used
again while nothing they show has changed:

- the member's account row: every ledger entry moves its balance and
  `updated_at`, a tier move its `tier_id`, the nightly tier job its grace
  dates. Read with the member on every
  request, so part of the fingerprint; no signal needed on the ledger's path;
- the program's configuration (settings, tiers, rules, stamp programs,
  rewards): its `config_version` token, in the fingerprint;
- the day (tier windows) and the member's first name: in the fingerprint;
- time: pending points becoming spendable, a membership's period ending: the
  entry is kept only until then (`valid_until`);
- what moves no account column: a purchase that earned nothing (spend,
  visits), a return, stamp cards, vouchers, the membership. Signals on those
  models (cache invalidation: the one use of signals the conventions allow)
  bump the member's generation at once and again when the transaction commits;
- what staff edit that many members' panels name (stores, membership plans,
  rewards): a generation of all panels, bumped alike.

Both generations are read in the same cache round trip as the panels, before
the panels are rendered, so a change committed while a request renders makes
that request's entry stale at once. DASHBOARD_CACHE_SECONDS bounds anything
else (a `QuerySet.update()` on those models sends no signal); 0 turns the cache
off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import get_language

from members.invalidation import forget_now_and_on_commit
from members.models import Member, Store

ALL_KEY = "dashboard:gen"
# Kept far longer than any entry: an entry is stale as soon as its generation is.
GENERATION_SECONDS = 30 * 24 * 3600

Panels = tuple[str, str]


def _member_key(member_id: int) -> str:
    return f"dashboard:gen:{member_id}"


def _panels_key(member_id: int, language: str) -> str:
    return f"dashboard:{member_id}:{language}"


def dashboard_panels_get(
    *,
    member: Member,
    config_version: str,
    render: Callable[[], tuple[Panels, dt.datetime | None]],
) -> Panels:
    """The member's rendered panels: from the cache while their fingerprint
    holds, else `render()` -> (panels, valid until or None), kept for the next
    request. `member.account` must be loaded (member_get_for_user does)."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return render()[0]
    account = member.account
    key = _panels_key(member.pk, get_language() or "")
    member_key = _member_key(member.pk)
    found = cache.get_many([ALL_KEY, member_key, key])
    fingerprint = (
        found.get(ALL_KEY, 0),
        found.get(member_key, 0),
        account.balance,
        account.updated_at.isoformat() if account.updated_at else None,
        account.tier_id,
        # The nightly tier job sets these with update(), updated_at left as is.
        account.tier_lapsed_on,
        account.tier_since,
        member.first_name,
        config_version,
        timezone.localdate().isoformat(),
    )
    kept = found.get(key)
    if kept is not None:
        kept_fingerprint, valid_until, panels = kept
        if kept_fingerprint == fingerprint and (
            valid_until is None or timezone.now() < valid_until
        ):
            return panels
    panels, valid_until = render()
    cache.set(key, (fingerprint, valid_until, panels), seconds)
    return panels


def _bump(key: str) -> None:
    if not cache.add(key, 1, GENERATION_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, GENERATION_SECONDS)


def _bump_now_and_on_commit(key: str) -> None:
    forget_now_and_on_commit(lambda: _bump(key))


def dashboard_member_changed(member_id: int | None) -> None:
    """Make the member's kept panels stale, now and when the transaction commits."""
    if member_id is not None:
        _bump_now_and_on_commit(_member_key(member_id))


def dashboard_all_changed() -> None:
    """Make every member's kept panels stale, now and when the transaction commits."""
    _bump_now_and_on_commit(ALL_KEY)


def _member_row_changed(sender, instance, **kwargs) -> None:
    dashboard_member_changed(instance.member_id)


def _purchase_changed(sender, instance, created=False, **kwargs) -> None:
    # A purchase that earned points moved the account (in the fingerprint);
    # one that earned none still counts towards the tier.
    if not created or not instance.points_earned:
        dashboard_member_changed(instance.member_id)


def _return_changed(sender, instance, **kwargs) -> None:
    dashboard_member_changed(instance.purchase.member_id)


def _catalog_changed(sender, **kwargs) -> None:
    dashboard_all_changed()


def dashboard_cache_connect() -> None:
    """Connect the invalidation signals (loyalty_site's AppConfig.ready)."""
    from rewards.models import (
        MembershipPlan,
        Purchase,
        PurchaseReturn,
        Reward,
        StampCard,
        Subscription,
        Voucher,
    )

    for model in (Subscription, StampCard, Voucher):
        for signal in (post_save, post_delete):
            signal.connect(
                _member_row_changed,
                sender=model,
                dispatch_uid=f"dashboard_cache.{model.__name__}.{signal is post_save}",
            )
    post_save.connect(
        _purchase_changed, sender=Purchase, dispatch_uid="dashboard_cache.purchase"
    )
    post_save.connect(
        _return_changed, sender=PurchaseReturn, dispatch_uid="dashboard_cache.return"
    )
    for model in (Store, MembershipPlan, Reward):
        for signal in (post_save, post_delete):
            signal.connect(
                _catalog_changed,
                sender=model,
                dispatch_uid=f"dashboard_cache.{model.__name__}.{signal is post_save}",
            )
