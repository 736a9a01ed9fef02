"""The statements written once (members.rows, rewards.ledger_rows) write what
the ORM writes: the same rows, the same instances, the same signals, on
SQLite and on PostgreSQL."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from members.rows import instance_insert
from members.services import member_enroll
from rewards.ledger_rows import entry_write
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    LotDraw,
    PointsAccount,
    PointsLot,
    Purchase,
    Redemption,
)

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)


def _values(obj, skip=()) -> dict:
    """Every concrete column as the ORM reads it back, but the pk and `skip`."""
    fresh = type(obj).objects.get(pk=obj.pk)
    return {
        f.attname: getattr(fresh, f.attname)
        for f in fresh._meta.concrete_fields
        if not f.primary_key and f.attname not in skip
    }


def _instance(obj, skip=()) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if not f.primary_key and f.attname not in skip
    }


def _purchase(store, member, receipt_id: str) -> Purchase:
    return Purchase(
        store=store,
        member=member,
        receipt_id=receipt_id,
        total=Decimal("123.45"),
        occurred_at=AT,
        points_earned=123,
        points_per_unit=Decimal("1.2500"),
        min_purchase=Decimal("0"),
        points_exact=Decimal("154.3125"),
        eligible_total=Decimal("123.45"),
        tier_multiplier=Decimal("1.25"),
        membership_multiplier=Decimal("1"),
        balance_after=523,
        fingerprint="f" * 64,
        created_at=AT,
    )


def test_an_inserted_purchase_is_the_row_create_writes(store, member):
    by_orm = _purchase(store, member, "ORM-1")
    by_orm.save(force_insert=True)
    written = instance_insert(_purchase(store, member, "ROWS-1"))

    assert written.pk is not None and not written._state.adding
    assert _values(written, skip={"receipt_id"}) == _values(by_orm, skip={"receipt_id"})
    assert _instance(written, skip={"receipt_id"}) == _values(
        by_orm, skip={"receipt_id"}
    )


def test_an_inserted_row_sends_post_save_as_create_does(store, member):
    heard = []

    def hear(sender, instance, **kwargs):
        heard.append((sender, instance.receipt_id, kwargs["created"]))

    post_save.connect(hear, sender=Purchase, dispatch_uid="test-rows")
    try:
        Purchase.objects.create(**_instance(_purchase(store, member, "ORM-2")))
        instance_insert(_purchase(store, member, "ROWS-2"))
    finally:
        post_save.disconnect(dispatch_uid="test-rows", sender=Purchase)

    assert heard == [(Purchase, "ORM-2", True), (Purchase, "ROWS-2", True)]


def _accounts(store, n=2) -> list[PointsAccount]:
    return [
        member_enroll(phone=f"+4478009000{i:02d}", store=store).account
        for i in range(n)
    ]


def _entry_and_lot(account, points: int, *, lot: bool):
    account.balance += points
    entry = LedgerEntry(
        account=account,
        kind=LedgerKind.EARN if points > 0 else LedgerKind.ADJUST,
        points=points,
        balance_after=account.balance,
        reason="test",
        reason_code="purchase_earn",
        reason_params={"receipt": "R-1", "amount": "1.50"},
        created_at=AT,
        breakdown=[{"rule": "base", "points": points}],
    )
    if not lot:
        return entry, None
    return entry, PointsLot(
        account=account,
        entry=entry,
        points=points,
        remaining=points - 1,
        earned_at=AT,
        available_at=AT + dt.timedelta(days=14),
        expires_at=None,
    )


def _orm_write(account, entry, lot) -> None:
    """What entry_post did before rewards.ledger_rows."""
    account.save(update_fields=["balance", "updated_at"])
    entry.save()
    if lot is not None:
        lot.save()


@pytest.mark.parametrize(("points", "lot"), [(40, True), (40, False), (-7, False)])
def test_entry_write_writes_what_the_orm_writes(store, points, lot):
    orm_account, rows_account = _accounts(store)
    for account in (orm_account, rows_account):  # something to deduct from
        _orm_write(account, *_entry_and_lot(account, 100, lot=True))
    orm_entry, orm_lot = _entry_and_lot(orm_account, points, lot=lot)
    _orm_write(orm_account, orm_entry, orm_lot)
    before = timezone.now()
    rows_entry, rows_lot = _entry_and_lot(rows_account, points, lot=lot)
    entry_write(rows_account, rows_entry, rows_lot)

    skip = {"account_id", "entry_id", "member_id", "updated_at"}
    assert _values(rows_account, skip) == _values(orm_account, skip)
    assert PointsAccount.objects.get(pk=rows_account.pk).updated_at >= before
    assert rows_account.updated_at == _values(rows_account)["updated_at"]
    assert _values(rows_entry, skip) == _values(orm_entry, skip)
    assert _instance(rows_entry, skip) == _values(orm_entry, skip)
    assert rows_entry.account_id == rows_account.pk
    if lot:
        assert _values(rows_lot, skip) == _values(orm_lot, skip)
        assert _instance(rows_lot, skip) == _values(orm_lot, skip)
        assert PointsLot.objects.get(pk=rows_lot.pk).entry_id == rows_entry.pk
        assert rows_lot.entry_id == rows_entry.pk
    else:
        assert not PointsLot.objects.filter(entry=rows_entry).exists()


def _debit_with_draws(account, lots, takes):
    """A debit of sum(takes) drawing takes[i] from lots[i] (a lot may come
    twice), as rewards.services.ledger.lots_draw_plan plans it."""
    entry, _lot = _entry_and_lot(account, -sum(takes), lot=False)
    draws = []
    for lot, take in zip(lots, takes, strict=True):
        lot.remaining -= take
        draws.append(LotDraw(lot=lot, points=take))
    return entry, draws


def _orm_debit(account, entry, draws) -> None:
    """What entry_post did for a debit before entry_write took its draws."""
    _orm_write(account, entry, None)
    for draw in draws:
        draw.entry = entry
    PointsLot.objects.bulk_update({d.lot for d in draws}, ["remaining"])
    LotDraw.objects.bulk_create(draws)


def test_entry_write_with_draws_writes_what_the_orm_writes(store):
    orm_account, rows_account = _accounts(store)
    lots = {}
    for account in (orm_account, rows_account):
        lots[account.pk] = []
        for points in (100, 50, 70):
            entry, lot = _entry_and_lot(account, points, lot=True)
            _orm_write(account, entry, lot)
            lots[account.pk].append(lot)
    # The second lot drawn on first, the first one twice (as a clawback's
    # lots of its purchase come first, then all of them in spending order).
    order, takes = [1, 0, 0, 2], [49, 60, 39, 5]

    def debit(account):
        return _debit_with_draws(account, [lots[account.pk][i] for i in order], takes)

    orm_entry, orm_draws = debit(orm_account)
    _orm_debit(orm_account, orm_entry, orm_draws)
    rows_entry, rows_draws = debit(rows_account)
    entry_write(rows_account, rows_entry, None, rows_draws)

    skip = {"account_id", "entry_id", "member_id", "updated_at", "lot_id"}
    assert _values(rows_account, skip) == _values(orm_account, skip)
    assert _values(rows_entry, skip) == _values(orm_entry, skip)
    for orm_lot, rows_lot in zip(
        lots[orm_account.pk], lots[rows_account.pk], strict=True
    ):
        assert _values(rows_lot, skip) == _values(orm_lot, skip)
        assert rows_lot.remaining == _values(rows_lot)["remaining"]
    rows_lots = [x.pk for x in lots[rows_account.pk]]
    orm_lots = [x.pk for x in lots[orm_account.pk]]
    written = [
        (rows_lots.index(d.lot_id), d.points)
        for d in LotDraw.objects.filter(entry=rows_entry).order_by("pk")
    ]
    assert written == [
        (orm_lots.index(d.lot_id), d.points)
        for d in LotDraw.objects.filter(entry=orm_entry).order_by("pk")
    ]
    assert written == list(zip(order, takes, strict=True))
    for draw in rows_draws:  # the instances as bulk_create leaves them
        assert draw.pk is not None and not draw._state.adding
        assert draw.entry_id == rows_entry.pk
        assert LotDraw.objects.get(pk=draw.pk).lot_id == draw.lot.pk
    assert [d.pk for d in rows_draws] == sorted(d.pk for d in rows_draws)


def _redemption(store, member, receipt_id: str) -> Redemption:
    return Redemption(
        member=member,
        store=store,
        receipt_id=receipt_id,
        points=7,
        discount=Decimal("0.70"),
        balance_after=93,
        fingerprint="f" * 64,
        created_at=AT,
    )


def test_entry_write_inserts_the_row_it_links_to_as_create_does(store):
    orm_account, rows_account = _accounts(store)
    for account in (orm_account, rows_account):
        _orm_write(account, *_entry_and_lot(account, 100, lot=True))
    heard = []

    def hear(sender, instance, **kwargs):
        heard.append((instance.receipt_id, kwargs["created"], instance.pk is not None))

    post_save.connect(hear, sender=Redemption, dispatch_uid="test-rows-link")
    try:
        orm_row = Redemption.objects.create(
            **_instance(_redemption(store, orm_account.member, "ORM-R"))
        )
        orm_entry, _lot = _entry_and_lot(orm_account, -7, lot=False)
        orm_entry.redemption = orm_row
        _orm_write(orm_account, orm_entry, None)
        rows_row = _redemption(store, rows_account.member, "ROWS-R")
        rows_entry, _lot = _entry_and_lot(rows_account, -7, lot=False)
        rows_entry.redemption = rows_row  # unsaved: entry_write inserts it
        entry_write(rows_account, rows_entry, row=rows_row)
    finally:
        post_save.disconnect(dispatch_uid="test-rows-link", sender=Redemption)

    assert heard == [("ORM-R", True, True), ("ROWS-R", True, True)]
    skip = {"account_id", "member_id", "updated_at", "receipt_id", "redemption_id"}
    assert rows_row.pk is not None and not rows_row._state.adding
    assert _values(rows_row, skip) == _values(orm_row, skip)
    assert _instance(rows_row, skip) == _values(orm_row, skip)
    assert _values(rows_entry, skip) == _values(orm_entry, skip)
    assert rows_entry.redemption_id == rows_row.pk
    assert LedgerEntry.objects.get(pk=rows_entry.pk).redemption_id == rows_row.pk
    assert _values(rows_account, skip) == _values(orm_account, skip)


def test_entry_write_refuses_a_lot_and_draws_at_once(store):
    (account,) = _accounts(store, n=1)
    entry, lot = _entry_and_lot(account, 10, lot=True)
    with pytest.raises(ValueError, match="opens a lot or draws on lots, not both"):
        entry_write(account, entry, lot, [LotDraw(lot=lot, points=1)])


def test_prepared_statements_are_logged_with_their_values(store, member):
    """Past psycopg's prepare threshold a statement runs by name; the query log
    (tests' query counts, the debug toolbar) still shows its text."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rewards.services import purchase_record

    for i in range(7):
        purchase_record(store=store, member=member, receipt_id=f"P-{i}", total="5")
    with CaptureQueriesContext(connection) as captured:
        purchase_record(store=store, member=member, receipt_id="P-LAST", total="5")

    sqls = [q["sql"] for q in captured.captured_queries]
    assert all(sqls), sqls
    # The purchase's INSERT, in the WITH statement that writes its entry too.
    assert any("P-LAST" in sql for sql in sqls if sql.startswith(("INSERT", "WITH")))
