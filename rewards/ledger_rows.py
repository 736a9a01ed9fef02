"""The writes of a ledger entry as statements written once: the account's new
balance, the entry, and the points lot a credit opens or the lots a debit
draws on (their `remaining`, and a LotDraw each).

Every purchase, return and redemption posts an entry; through the ORM that is
three statements Django builds and compiles each time for a credit (an UPDATE
and two INSERTs), four for a debit (an UPDATE, an INSERT, the lots' bulk UPDATE
and the draws' bulk INSERT), each a round trip while the account is locked.
Here they are written once per vendor (members.rows: values prepared as the
ORM prepares them, the model signals sent as save() sends them). On
PostgreSQL they are one statement (data-modifying WITH), one round trip under
the lock; SQLite runs them in turn (the draws through the ORM's bulk_update
and bulk_create, which send no signals either). Tested equal to the ORM path
on both (rewards/tests/ledger/test_ledger_rows.py).

A purchase on PostgreSQL writes with entry_write_guarded (or, earning nothing,
row_insert_guarded) instead: it read the account unlocked, and its statement
takes the lock, writing only if the account is still as read
(docs/architecture.md, "What one purchase sends").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

from members.rows import (
    insert_params,
    insert_parts,
    insert_select_list,
    insert_sql,
    instance_insert,
    pre_save_send,
    row_fetch,
    saved,
)
from rewards.locks import account_lock_if_same_tier_sql, account_same_tier_sql
from rewards.models import LedgerEntry, LotDraw, PointsAccount, PointsLot

# What entry_post moves on the account, as account.save(update_fields=...) did.
ACCOUNT_FIELDS = ("balance", "updated_at")


@functools.cache
def _account_update(vendor: str) -> tuple[str, tuple]:
    meta = PointsAccount._meta
    quote = connection.ops.quote_name
    fields = tuple(meta.get_field(name) for name in ACCOUNT_FIELDS)
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from the model
    return sql, fields


@functools.cache
def _draws_sql(vendor: str) -> tuple[str, str]:
    """PostgreSQL: the WITH parts that set the drawn lots' `remaining` and
    insert a LotDraw each for the new entry `e`, from four arrays (lot ids,
    their new remaining; lot ids, points taken, in draw order), and the
    expression of the draws' new ids in that order."""
    quote = connection.ops.quote_name
    lot, draw = PointsLot._meta, LotDraw._meta
    lot_id = lot.pk.rel_db_type(connection)
    remaining = lot.get_field("remaining").cast_db_type(connection)
    points = draw.get_field("points").cast_db_type(connection)
    columns = ", ".join(
        quote(draw.get_field(name).column) for name in ("entry", "lot", "points")
    )
    lots = quote(lot.db_table)
    parts = (
        f"u AS (UPDATE {lots} SET {quote(lot.get_field('remaining').column)} = v.r"  # noqa: S608 - names from the models
        f" FROM unnest(%s::{lot_id}[], %s::{remaining}[]) AS v(id, r)"
        f" WHERE {lots}.{quote(lot.pk.column)} = v.id),"
        f" d AS (INSERT INTO {quote(draw.db_table)} ({columns})"
        f" SELECT e.id, v.lot, v.points FROM e,"
        f" unnest(%s::{lot_id}[], %s::{points}[]) WITH ORDINALITY AS v(lot, points, n)"
        f" ORDER BY v.n RETURNING {quote(draw.pk.column)})"
    )
    # Ids are drawn from the sequence in the order the rows are inserted.
    return parts, "(SELECT array_agg(d.id ORDER BY d.id) FROM d)"


def _account_params(db, account: PointsAccount, fields) -> list:
    """The values of _account_update's statement for `account` (its pre_save
    signal sent, as save(update_fields=ACCOUNT_FIELDS) sends it)."""
    pre_save_send(account, update_fields=ACCOUNT_FIELDS)
    return [
        f.get_db_prep_save(f.pre_save(account, False), connection=db) for f in fields
    ] + [account.pk]


def _link_field(model: type[Model]):
    """The LedgerEntry field that links an entry to a row of `model`."""
    for field in LedgerEntry._meta.concrete_fields:
        if field.is_relation and field.related_model is model:
            return field
    raise ValueError(f"A ledger entry has no link to {model.__name__}.")


@functools.cache
def _entry_insert_sql(vendor: str, row_model: type[Model] | None) -> str:
    """The entry's INSERT; with `row_model`, its link to that row taken from
    the new row `r` of the same statement."""
    if row_model is None:
        return insert_sql(LedgerEntry)
    link = _link_field(row_model).attname
    table, columns, fields = insert_parts(LedgerEntry)
    values = ", ".join(
        "(SELECT r.id FROM r)" if f.attname == link else "%s" for f in fields
    )
    pk = connection.ops.quote_name(LedgerEntry._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}"  # noqa: S608 - names from the model


@functools.cache
def _entry_write_sql(
    vendor: str,
    with_lot: bool,
    with_draws: bool = False,
    row_model: type[Model] | None = None,
    also: tuple[str, ...] = (),
) -> str:
    """PostgreSQL: (row_model) the INSERT of the row the entry links to, the
    account UPDATE, the entry INSERT, and (with_lot) the lot INSERT taking the
    entry's new id or (with_draws) the drawn lots' UPDATE and the draws'
    INSERT, in one statement that returns the entry's id, the lot's id (or the
    draws' ids) and the row's id, then the value of each scalar subquery of
    `also`."""
    update, _fields = _account_update(vendor)
    parts = [f"a AS ({update})", f"e AS ({_entry_insert_sql(vendor, row_model)})"]
    if row_model is not None:
        parts.insert(0, f"r AS ({insert_sql(row_model)})")
    second = "NULL"
    if with_lot:
        table, columns, fields = insert_parts(PointsLot)
        values = ", ".join("e.id" if f.attname == "entry_id" else "%s" for f in fields)
        parts.append(
            f"l AS (INSERT INTO {table} ({columns}) SELECT {values} FROM e"  # noqa: S608 - names from the models
            f" RETURNING {table}.id)"
        )
        second = "(SELECT l.id FROM l)"
    elif with_draws:
        draws, second = _draws_sql(vendor)
        parts.append(draws)
    third = "(SELECT r.id FROM r)" if row_model is not None else "NULL"
    extra = "".join(f", ({sql})" for sql in also)
    return (
        f"WITH {', '.join(parts)} SELECT (SELECT e.id FROM e), {second}, {third}{extra}"  # noqa: S608 - names from the models
    )


def entry_write(
    account: PointsAccount,
    entry: LedgerEntry,
    lot: PointsLot | None = None,
    draws: list[LotDraw] = (),
    row: Model | None = None,
    also: Sequence[tuple[str, list]] = (),
) -> list:
    """Save `account`'s balance (and updated_at), insert the new `entry` and
    the new `lot` of it, as account.save(update_fields=ACCOUNT_FIELDS),
    entry.save() and lot.save() would, in that order; or, for a debit, the
    `draws` (new LotDraws of `entry`, each with its lot's `remaining` already
    lowered) as PointsLot.objects.bulk_update(lots, ["remaining"]) and
    LotDraw.objects.bulk_create(draws) would after them. `row`, when given, is
    the new (unsaved) row the entry links to (a redemption), inserted first as
    members.rows.instance_insert would. The account must be locked.

    `also` (PostgreSQL only): scalar subqueries (SQL, params) answered by the
    same statement, whose values it returns in order: a read the caller needs
    under the lock, without a round trip of its own. They read as of the
    statement's start, so not the rows it writes."""
    if lot is not None and draws:
        raise ValueError("An entry opens a lot or draws on lots, not both.")
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if also and db.vendor != "postgresql":
        raise ValueError("entry_write answers `also` on PostgreSQL only.")
    link = None
    found: list = []
    if row is not None:
        link = _link_field(type(row))
        if db.vendor != "postgresql":  # SQLite: a statement of its own, first
            setattr(entry, link.name, instance_insert(row))
            row = link = None
    update, account_fields = _account_update(db.vendor)
    if row is not None:
        pre_save_send(row)
        row_params = insert_params(row, insert_parts(type(row))[2])
    account_params = _account_params(db, account, account_fields)
    pre_save_send(entry)
    entry_fields = insert_parts(LedgerEntry)[2]
    if link is None:
        entry_params = insert_params(entry, entry_fields)
    else:  # the link's value comes from the statement's new row
        entry_fields = [f for f in entry_fields if f is not link]
        entry_params = insert_params(entry, entry_fields, related=False)
    if lot is not None:
        pre_save_send(lot)
    lots = list({d.lot.pk: d.lot for d in draws}.values())  # each lot once
    draw_pks = None
    if db.vendor == "postgresql":
        lot_params = []
        if lot is not None:
            lot_fields = [
                f for f in insert_parts(PointsLot)[2] if f.attname != "entry_id"
            ]
            lot_params = insert_params(lot, lot_fields, related=False)
        elif draws:
            lot_params = [
                [x.pk for x in lots],
                [x.remaining for x in lots],
                [d.lot.pk for d in draws],
                [d.points for d in draws],
            ]
        written = row_fetch(
            _entry_write_sql(
                db.vendor,
                lot is not None,
                bool(draws),
                type(row) if row is not None else None,
                tuple(sql for sql, _params in also),
            ),
            (row_params if row is not None else [])
            + account_params
            + entry_params
            + lot_params
            + [value for _sql, params in also for value in params],
            prepared=True,
        )
        found = list(written[3:])
        entry_pk, lot_pk = written[0], (written[1] if lot is not None else None)
        draw_pks = written[1] if draws else None
        if row is not None:
            saved(row, written[2], created=True)
            setattr(entry, link.attname, row.pk)
    else:
        with db.cursor() as cursor:
            cursor.execute(update, account_params)
        entry_pk, lot_pk = row_fetch(insert_sql(LedgerEntry), entry_params)[0], None
    saved(account, created=False, update_fields=ACCOUNT_FIELDS)
    saved(entry, entry_pk, created=True)
    for draw in draws:
        draw.entry = entry
    if draw_pks is not None:
        for draw, pk in zip(draws, draw_pks, strict=True):
            # As bulk_create leaves them: saved, no signal sent.
            draw.pk, draw._state.adding, draw._state.db = pk, False, db.alias
    elif draws:  # SQLite: the ORM's bulk statements, now that the entry has its id
        PointsLot.objects.bulk_update(lots, ["remaining"])
        LotDraw.objects.bulk_create(draws)
    if lot is None:
        return found
    lot.entry = entry
    if lot_pk is None:  # SQLite: its own statement, now that the entry has its id
        lot_params = insert_params(lot, insert_parts(PointsLot)[2])
        lot_pk = row_fetch(insert_sql(PointsLot), lot_params)[0]
    saved(lot, lot_pk, created=True)
    return found


@functools.cache
def _guarded_write_sql(
    vendor: str,
    row_model: type[Model],
    with_version: bool,
    also: tuple[str, ...],
    stamped: bool = False,
) -> str:
    """PostgreSQL: entry_write_guarded's statement. `a` adds the points to the
    balance of the account if it is still as read (the same tier; with
    `with_version`, the same row version), taking its lock; the row, the entry
    and the lot are inserted from `a`'s new balance, so nothing is written when
    `a` updated nothing. `a.stamp`, the account's new `updated_at`, is never
    before its last one; with `stamped` it is the entry's time (_guarded_exprs).
    Returns the new balance (NULL: nothing written), the entry's, the lot's
    and the row's ids, the stamp, then the values of `also`."""
    quote = connection.ops.quote_name
    meta = PointsAccount._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    balance = quote(meta.get_field("balance").column)
    updated = quote(meta.get_field("updated_at").column)
    version = " AND xmin::text = %s" if with_version else ""
    account = (
        f"a AS (UPDATE {table} SET {balance} = {balance} + %s,"  # noqa: S608 - names from the models
        f" {updated} = GREATEST(%s, {updated})"
        f" WHERE {account_same_tier_sql()}"
        f" AND {balance} <= %s{version} RETURNING {pk} AS id,"
        f" {balance} AS balance, %s::integer AS points, {updated} AS stamp)"
    )
    parts = [account]
    row_exprs, entry_exprs, lot_exprs = _guarded_exprs(row_model, stamped)
    for name, model, exprs, source, where in (
        ("r", row_model, row_exprs, "a", ""),
        ("e", LedgerEntry, entry_exprs, "a, r", ""),
        (
            # A member in debt pays it first: the lot holds what is left.
            "l",
            PointsLot,
            lot_exprs,
            "a, e",
            " WHERE LEAST(a.balance, a.points) > 0",
        ),
    ):
        target, columns, _fields = insert_parts(model)
        select, _rest = insert_select_list(model, exprs)
        parts.append(
            f"{name} AS (INSERT INTO {target} ({columns}) SELECT {select}"  # noqa: S608 - names from the models
            f" FROM {source}{where} RETURNING {target}.{quote(model._meta.pk.column)})"
        )
    extra = "".join(f", ({sql})" for sql in also)
    return (
        f"WITH {', '.join(parts)} SELECT (SELECT a.balance FROM a),"  # noqa: S608 - names from the models
        f" (SELECT e.id FROM e), (SELECT l.id FROM l), (SELECT r.id FROM r),"
        f" (SELECT a.stamp FROM a){extra}"
    )


def _guarded_exprs(row_model: type[Model], stamped: bool) -> tuple[dict, dict, dict]:
    """What the guarded statement writes itself, of the row, the entry and
    the lot."""
    link = _link_field(row_model).attname
    entry = {"balance_after": "a.balance", link: "r.id"}
    lot = {"entry_id": "e.id", "remaining": "LEAST(a.balance, a.points)"}
    if stamped:  # no earlier than the account's last write
        entry["created_at"] = "a.stamp"
        lot.update(earned_at="a.stamp", available_at="GREATEST({}, a.stamp)")
    return {"balance_after": "a.balance"}, entry, lot


@functools.cache
def _guarded_fields(
    vendor: str, row_model: type[Model], stamped: bool = False
) -> tuple[list, list, list]:
    """The fields whose values entry_write_guarded sends, of the row, the
    entry and the lot (the others come from the statement)."""
    models_ = (row_model, LedgerEntry, PointsLot)
    exprs = zip(models_, _guarded_exprs(row_model, stamped), strict=True)
    return tuple(insert_select_list(model, found)[1] for model, found in exprs)


def entry_write_guarded(
    account: PointsAccount,
    entry: LedgerEntry,
    lot: PointsLot,
    row: Model,
    *,
    room: int,
    version: str | None = None,
    also: Sequence[tuple[str, list]] = (),
    stamped: bool = False,
) -> list | None:
    """entry_write for a credit that opens a lot and links a new `row` (a
    purchase), on an account read WITHOUT its lock (PostgreSQL only): the
    statement takes the lock itself, by updating the balance, and writes only
    if the account is still as read: the same tier (the points were computed
    with its multiplier), a balance of at most `room` (so that the new one
    fits), and, with `version` (the `xmin` read with it), no write at all
    since (`also`'s values, read as of the statement's start, would miss one).
    So the lock is held from this statement to the commit, not from the read.

    The new balance comes from the row locked, not from the one read: the
    entry's and the row's balance_after, and the lot's `remaining` (the points
    left once a debt is paid; no lot when none are) are set from it, on the
    instances too. `lot` is the lot of the whole points. `stamped` (a live
    write): the entry's time is no earlier than the account's last write, so
    it follows an entry written while this one waited for the lock. Returns
    `also`'s values; None when the account had changed and nothing was
    written (the pre_save signals were sent: the caller writes again locked)."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if db.vendor != "postgresql":
        raise ValueError("entry_write_guarded is PostgreSQL's.")
    link = _link_field(type(row))
    row_fields, entry_fields, lot_fields = _guarded_fields(
        db.vendor, type(row), stamped
    )
    pre_save_send(row)
    row_params = insert_params(row, row_fields)
    pre_save_send(account, update_fields=ACCOUNT_FIELDS)
    updated = PointsAccount._meta.get_field("updated_at")
    account_params = [
        entry.points,
        updated.get_db_prep_save(updated.pre_save(account, False), connection=db),
        account.pk,
        account.tier_id,
        room,
        *([version] if version is not None else []),
        entry.points,
    ]
    pre_save_send(entry)
    entry_params = insert_params(entry, entry_fields, related=False)
    pre_save_send(lot)
    lot_params = insert_params(lot, lot_fields, related=False)
    written = row_fetch(
        _guarded_write_sql(
            db.vendor,
            type(row),
            version is not None,
            tuple(sql for sql, _params in also),
            stamped,
        ),
        account_params
        + row_params
        + entry_params
        + lot_params
        + [value for _sql, params in also for value in params],
        prepared=True,
    )
    balance, entry_pk, lot_pk, row_pk, created_at = written[:5]
    if balance is None:
        return None
    account.balance = entry.balance_after = row.balance_after = balance
    if stamped:
        account.updated_at = entry.created_at = lot.earned_at = created_at
        lot.available_at = max(lot.available_at, created_at)
    saved(row, row_pk, created=True)
    setattr(entry, link.attname, row.pk)
    saved(account, created=False, update_fields=ACCOUNT_FIELDS)
    saved(entry, entry_pk, created=True)
    if lot_pk is not None:
        lot.remaining = min(balance, entry.points)
        lot.entry = entry
        saved(lot, lot_pk, created=True)
    return list(written[5:])


@functools.cache
def _guarded_insert_sql(vendor: str, row_model: type[Model]) -> str:
    """PostgreSQL: row_insert_guarded's statement."""
    quote = connection.ops.quote_name
    target, columns, _fields = insert_parts(row_model)
    select, _rest = insert_select_list(row_model, {"balance_after": "a.balance"})
    return (
        f"WITH a AS ({account_lock_if_same_tier_sql(vendor)}),"  # noqa: S608 - names from the models
        f" r AS (INSERT INTO {target} ({columns}) SELECT {select} FROM a"
        f" RETURNING {target}.{quote(row_model._meta.pk.column)})"
        f" SELECT (SELECT a.balance FROM a), (SELECT r.id FROM r)"
    )


def row_insert_guarded(account: PointsAccount, row: Model) -> bool:
    """entry_write_guarded for a receipt's `row` without an entry (a purchase
    that earns nothing): lock the account read without its lock and insert
    `row` with its balance_after from the row locked, in one statement, if the
    account still has the tier read. False when it had changed and nothing
    was written (the caller locks the account and writes again)."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if db.vendor != "postgresql":
        raise ValueError("row_insert_guarded is PostgreSQL's.")
    pre_save_send(row)
    params = insert_params(row, _guarded_fields(db.vendor, type(row))[0])
    balance, row_pk = row_fetch(
        _guarded_insert_sql(db.vendor, type(row)),
        [account.pk, account.tier_id, *params],
        prepared=True,
    )
    if balance is None:
        return False
    account.balance = row.balance_after = balance
    saved(row, row_pk, created=True)
    return True


# How many lots a redemption's write statement draws on at most (the soonest
# to expire); a spend that needs more is planned over all of them in Python.
DRAWING_LOTS = 8


@functools.cache
def _drawing_write_sql(vendor: str, row_model: type[Model]) -> str:
    """PostgreSQL: entry_write_drawing's statement. `o` is the account's lots
    spendable now, in spending order (rewards.services.ledger
    lots_in_spending_order) with the running sum of their `remaining`; `t`
    what the debit takes from each until it is covered; `ok` one row when
    they cover it. The row, the balance, the entry, the lots' `remaining` and
    a LotDraw each are written only then (from `ok`, or from what was written
    from it). Returns the entry's and the row's ids (NULL: short, nothing
    written), then the lots drawn on, the points taken and the draws' ids, in
    spending order. Only the first DRAWING_LOTS lots are looked at: a member
    may have thousands open, and most spends take one or two."""
    quote = connection.ops.quote_name
    lot, draw = PointsLot._meta, LotDraw._meta
    lots = quote(lot.db_table)

    def col(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    order = (
        f"{col(lot, 'expires_at')} ASC NULLS LAST, {col(lot, 'earned_at')},"
        f" {quote(lot.pk.column)}"
    )
    remaining = col(lot, "remaining")
    update, _fields = _account_update(vendor)
    row_table, row_columns, _f = insert_parts(row_model)
    row_select, _rest = insert_select_list(row_model, {})
    entry_table, entry_columns, _f = insert_parts(LedgerEntry)
    entry_select, _rest = insert_select_list(
        LedgerEntry, {_link_field(row_model).attname: "r.id"}
    )
    draw_columns = ", ".join(col(draw, name) for name in ("entry", "lot", "points"))
    return (
        f"WITH o AS (SELECT id, remaining, SUM(remaining) OVER (ORDER BY n) AS upto"  # noqa: S608 - names from the models
        f" FROM (SELECT {quote(lot.pk.column)} AS id, {remaining} AS remaining,"
        f" row_number() OVER (ORDER BY {order}) AS n FROM {lots}"
        f" WHERE {col(lot, 'account')} = %s AND {remaining} > 0"
        f" AND {col(lot, 'available_at')} <= %s ORDER BY {order} LIMIT %s) x),"
        f" t AS (SELECT id, LEAST(remaining, %s::bigint - (upto - remaining)) AS take,"
        f" upto FROM o WHERE upto - remaining < %s::bigint),"
        f" ok AS (SELECT 1 AS one WHERE (SELECT COALESCE(SUM(take), 0) FROM t)"
        f" = %s::bigint),"
        f" r AS (INSERT INTO {row_table} ({row_columns}) SELECT {row_select}"
        f" FROM ok RETURNING {row_table}.{quote(row_model._meta.pk.column)}),"
        f" a AS ({update} AND EXISTS (SELECT 1 FROM ok)),"
        f" e AS (INSERT INTO {entry_table} ({entry_columns}) SELECT {entry_select}"
        f" FROM r RETURNING {entry_table}.{quote(LedgerEntry._meta.pk.column)}),"
        f" u AS (UPDATE {lots} SET {remaining} = {lots}.{remaining} - t.take"
        f" FROM t, ok WHERE {lots}.{quote(lot.pk.column)} = t.id),"
        f" d AS (INSERT INTO {quote(draw.db_table)} ({draw_columns})"
        f" SELECT e.id, t.id, t.take FROM e, t ORDER BY t.upto"
        f" RETURNING {quote(draw.pk.column)})"
        f" SELECT (SELECT e.id FROM e), (SELECT r.id FROM r),"
        f" (SELECT array_agg(t.id ORDER BY t.upto) FROM t),"
        f" (SELECT array_agg(t.take ORDER BY t.upto) FROM t),"
        f" (SELECT array_agg(d.id ORDER BY d.id) FROM d)"
    )


def entry_write_drawing(
    account: PointsAccount,
    entry: LedgerEntry,
    row: Model,
    *,
    spendable_at,
) -> list[LotDraw] | None:
    """entry_write for a debit that spends points (a redemption: `entry.points`
    is negative) and links a new `row`, on PostgreSQL, with the draws on the
    lots computed by the statement itself, after the lock: the lots spendable
    at `spendable_at`, soonest-expiring first, as lots_draw_plan(...,
    spendable_only=True) takes them. No read of the lots before it, and no
    plan in Python, while the account is locked. The account must be locked
    (its balance, as entry_write sets it). Returns the draws written (saved,
    as bulk_create leaves them: no signal); None when the first DRAWING_LOTS
    spendable lots fall short, and nothing was written (the pre_save signals
    were sent: the caller plans the draws over all of them, lots_draw_plan,
    and writes with entry_write, which sends them again)."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if db.vendor != "postgresql":
        raise ValueError("entry_write_drawing is PostgreSQL's.")
    link = _link_field(type(row))
    row_fields, entry_fields = _drawing_fields(db.vendor, type(row))
    need = -entry.points
    pre_save_send(row)
    row_params = insert_params(row, row_fields)
    account_fields = _account_update(db.vendor)[1]
    account_params = _account_params(db, account, account_fields)
    pre_save_send(entry)
    entry_params = insert_params(entry, entry_fields, related=False)
    lot_field = PointsLot._meta.get_field("available_at")
    written = row_fetch(
        _drawing_write_sql(db.vendor, type(row)),
        [
            account.pk,
            lot_field.get_db_prep_value(spendable_at, connection=db),
            DRAWING_LOTS,
            need,
            need,
            need,
        ]
        + row_params
        + account_params
        + entry_params,
        prepared=True,
    )
    entry_pk, row_pk, lot_ids, takes, draw_pks = written
    if entry_pk is None:
        return None
    saved(row, row_pk, created=True)
    setattr(entry, link.attname, row.pk)
    saved(account, created=False, update_fields=ACCOUNT_FIELDS)
    saved(entry, entry_pk, created=True)
    draws = []
    for lot_id, take, pk in zip(lot_ids, takes, draw_pks, strict=True):
        draw = LotDraw(entry=entry, lot_id=lot_id, points=take)
        draw.pk, draw._state.adding, draw._state.db = pk, False, db.alias
        draws.append(draw)
    return draws


@functools.cache
def _drawing_fields(vendor: str, row_model: type[Model]) -> tuple[list, list]:
    """The fields whose values entry_write_drawing sends, of the row and the
    entry (the entry's link comes from the statement)."""
    link = _link_field(row_model).attname
    return (
        insert_select_list(row_model, {})[1],
        insert_select_list(LedgerEntry, {link: ""})[1],
    )
