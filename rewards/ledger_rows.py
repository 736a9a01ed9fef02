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
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

from members.rows import (
    insert_params,
    insert_parts,
    insert_sql,
    instance_insert,
    pre_save_send,
    row_fetch,
    saved,
)
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
    pre_save_send(account, update_fields=ACCOUNT_FIELDS)
    account_params = [
        f.get_db_prep_save(f.pre_save(account, False), connection=db)
        for f in account_fields
    ] + [account.pk]
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
