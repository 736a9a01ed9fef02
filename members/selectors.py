"""Reads about members shared by the portal, the Counter, admin and the API."""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet

from members.cards import card_number_is_valid
from members.errors import InvalidInput
from members.models import LeaveReason, Member, User
from members.phones import phone_normalize
from members.rows import columns_sql, instance_from_row, row_fetch


def _members() -> QuerySet[Member]:
    return Member.objects.select_related("account__tier", "home_store", "user")


def member_get_by_card(*, card_number: str, related: bool = True) -> Member | None:
    """The member with this card, or None. With `related=False` the member's row
    alone, no joins: for writers that need only the member (the till's purchase),
    read with a statement written once (members.rows)."""
    card = "".join(ch for ch in (card_number or "") if ch.isdigit())
    if not card:
        return None
    if not related:
        return _member_by("card_number", card)
    return _members().filter(card_number=card).first()


def member_get_by_phone(*, phone: str, related: bool = True) -> Member | None:
    """The member with this phone, or None; raises InvalidInput when `phone` is not
    a number. `related` as in member_get_by_card."""
    phone = phone_normalize(phone)
    if not related:
        return _member_by("phone", phone)
    return _members().filter(phone=phone).first()


@functools.cache
def _member_sql(column: str, vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {columns_sql(Member, 'm')} FROM {quote(Member._meta.db_table)} m"  # noqa: S608 - names from the model
        f" WHERE m.{quote(column)} = %s"
    )


def _member_by(column: str, value: str) -> Member | None:
    # card_number and phone are unique: one row at most. Prepared on
    # PostgreSQL: every till purchase starts with it.
    row = row_fetch(_member_sql(column, connection.vendor), [value], prepared=True)
    return instance_from_row(Member, row) if row is not None else None


# Where user_with_member_get leaves the member for member_get_for_user.
_MEMBER_READ_WITH_USER = "_member_read_with_user"
_NOT_READ = object()


@functools.cache
def _user_member_parts(vendor: str) -> tuple[str, list]:
    """The statement reading a login with its member, the member's account with
    its tier, and home store (LEFT JOINs: each may be missing); and for each of
    those models, its field count. Names come from the models' _meta, the
    account's model included (rewards' PointsAccount: members names it nowhere,
    as member_get_for_user's select_related("account__tier") did not)."""
    user_model = get_user_model()
    account_rel = Member._meta.get_field("account")
    account_model = account_rel.related_model
    tier_fk = account_model._meta.get_field("tier")
    store_fk = Member._meta.get_field("home_store")
    user_fk = Member._meta.get_field("user")
    quote = connection.ops.quote_name
    models = [
        (user_model, "u"),
        (Member, "m"),
        (account_model, "a"),
        (tier_fk.related_model, "t"),
        (store_fk.related_model, "s"),
    ]
    table = {alias: quote(model._meta.db_table) for model, alias in models}
    pk = {alias: quote(model._meta.pk.column) for model, alias in models}
    sql = (
        "SELECT "  # noqa: S608 - names from the models
        + ", ".join(columns_sql(model, alias) for model, alias in models)
        + f" FROM {table['u']} u"
        f" LEFT JOIN {table['m']} m ON m.{quote(user_fk.column)} = u.{pk['u']}"
        f" LEFT JOIN {table['a']} a"
        f" ON a.{quote(account_rel.field.column)} = m.{pk['m']}"
        f" LEFT JOIN {table['t']} t ON t.{pk['t']} = a.{quote(tier_fk.column)}"
        f" LEFT JOIN {table['s']} s ON s.{pk['s']} = m.{quote(store_fk.column)}"
        f" WHERE u.{pk['u']} = %s"
    )
    return sql, [(model, len(model._meta.concrete_fields)) for model, _a in models]


def user_with_member_get(*, user_id: int) -> User | None:
    """The login with this id, or None, read with its member (and the member's
    account, tier and home store) in one statement written once (members.rows):
    what every portal page needs, for the authentication backend's get_user.
    The member is left for this request's first member_get_for_user."""
    sql, parts = _user_member_parts(connection.vendor)
    row = row_fetch(sql, [user_id])
    if row is None:
        return None
    rows, start = [], 0
    for model, count in parts:
        values = row[start : start + count]
        start += count
        # A missing row of a LEFT JOIN: its primary key (first column) is NULL.
        rows.append(instance_from_row(model, values) if values[0] is not None else None)
    user, member, account, tier, store = rows
    if member is not None:
        account_rel = Member._meta.get_field("account")
        Member._meta.get_field("user").set_cached_value(member, user)
        Member._meta.get_field("home_store").set_cached_value(member, store)
        account_rel.set_cached_value(member, account)
        if account is not None:
            account_rel.field.set_cached_value(account, member)
            account._meta.get_field("tier").set_cached_value(account, tier)
    setattr(user, _MEMBER_READ_WITH_USER, member)
    return user


def member_get_by_telegram_chat(*, chat_id: str) -> Member | None:
    """The member whose Telegram chat this is (linked with the bot), or None."""
    if not chat_id:
        return None
    return _members().filter(telegram_chat_id=str(chat_id)).first()


def member_get_for_user(*, user) -> Member | None:
    """The user's own member, with its account and tier and home store; the
    user is the one given (not read again: every portal page asks this).
    The first call of a request takes the member read with the user
    (user_with_member_get); any later one reads it again."""
    if not user.is_authenticated:
        return None
    # request.user is a lazy object: attribute access, not its __dict__.
    member = getattr(user, _MEMBER_READ_WITH_USER, _NOT_READ)
    if member is not _NOT_READ:
        delattr(user, _MEMBER_READ_WITH_USER)
        return member
    member = (
        Member.objects.select_related("account__tier", "home_store")
        .filter(user=user)
        .first()
    )
    if member is not None:
        member.user = user
    return member


def member_search(*, query: str, limit: int = 20) -> list[Member]:
    """What a cashier types: a card number (spaces allowed), a phone, an email or a name.

    An exact card or phone match comes alone; otherwise a name/email search.
    """
    text = (query or "").strip()
    if not text:
        return []
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) == len(
        text.replace(" ", "").replace("+", "").replace("-", "")
    ):
        if card_number_is_valid(digits):
            found = member_get_by_card(card_number=digits)
            if found:
                return [found]
        try:
            found = member_get_by_phone(phone=text)
        except InvalidInput:
            found = None
        if found:
            return [found]
        return list(
            _members().filter(
                Q(card_number__startswith=digits) | Q(phone__contains=digits)
            )[:limit]
        )
    q = Q()
    for word in text.casefold().split():
        q &= Q(search_text__contains=word)
    return list(_members().filter(q).order_by("last_name", "first_name")[:limit])


def referral_get_by_code(*, code: str) -> Member | None:
    """The member whose referral code this is (case and spaces ignored), or None."""
    code = "".join((code or "").split()).upper()
    if not code:
        return None
    return Member.objects.filter(referral_code=code).first()


def referrals_for_member(*, member: Member) -> QuerySet:
    """The referrals the member made (rewards.Referral, through its related name)."""
    return member.referrals_made.select_related("referee").order_by("-created_at")


def leave_reasons_offered() -> list[LeaveReason]:
    """The reasons the leaving question offers, in the staff's order."""
    return list(LeaveReason.objects.filter(active=True).order_by("position", "pk"))
