"""The writes of a ledger entry as statements written once: the account's new
balance, the entry and the points lot a credit opens.

Every purchase, return and redemption posts an entry; through the ORM that is
three statements Django builds and compiles each time (an UPDATE and two
INSERTs) and three round trips while the account is locked. Here they are
written once per vendor (members.rows: values prepared as the ORM prepares
them, the model signals sent as save() sends them). On PostgreSQL they are
one statement (data-modifying WITH), one round trip under the lock; SQLite
runs the three in turn. Tested equal to the ORM path on both
(rewards/tests/ledger/test_ledger_rows.py).
"""

from __future__ import annotations

import functools

from django.db import DEFAULT_DB_ALIAS, connection, connections

from members.rows import (
    insert_params,
    insert_parts,
    insert_sql,
    pre_save_send,
    row_fetch,
    saved,
)
from rewards.models import LedgerEntry, PointsAccount, PointsLot

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
def _entry_write_sql(vendor: str, with_lot: bool) -> str:
    """PostgreSQL: the account UPDATE, the entry INSERT and (with_lot) the lot
    INSERT taking the entry's new id, in one statement that returns the
    entry's id and the lot's."""
    update, _fields = _account_update(vendor)
    entry_insert = insert_sql(LedgerEntry)
    if not with_lot:
        return f"WITH a AS ({update}) {entry_insert}"
    table, columns, fields = insert_parts(PointsLot)
    values = ", ".join("e.id" if f.attname == "entry_id" else "%s" for f in fields)
    return (
        f"WITH a AS ({update}), e AS ({entry_insert})"  # noqa: S608 - names from the models
        f" INSERT INTO {table} ({columns}) SELECT {values} FROM e"
        f" RETURNING (SELECT e.id FROM e), {table}.id"
    )


def entry_write(
    account: PointsAccount, entry: LedgerEntry, lot: PointsLot | None = None
) -> None:
    """Save `account`'s balance (and updated_at), insert the new `entry` and
    the new `lot` of it, as account.save(update_fields=ACCOUNT_FIELDS),
    entry.save() and lot.save() would, in that order. The account must be
    locked."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    update, account_fields = _account_update(db.vendor)
    pre_save_send(account, update_fields=ACCOUNT_FIELDS)
    account_params = [
        f.get_db_prep_save(f.pre_save(account, False), connection=db)
        for f in account_fields
    ] + [account.pk]
    pre_save_send(entry)
    entry_params = insert_params(entry, insert_parts(LedgerEntry)[2])
    if lot is not None:
        pre_save_send(lot)
    if db.vendor == "postgresql":
        lot_params = []
        if lot is not None:
            lot_fields = [
                f for f in insert_parts(PointsLot)[2] if f.attname != "entry_id"
            ]
            lot_params = insert_params(lot, lot_fields, related=False)
        row = row_fetch(
            _entry_write_sql(db.vendor, lot is not None),
            account_params + entry_params + lot_params,
            prepared=True,
        )
        entry_pk, lot_pk = row[0], (row[1] if lot is not None else None)
    else:
        with db.cursor() as cursor:
            cursor.execute(update, account_params)
        entry_pk, lot_pk = row_fetch(insert_sql(LedgerEntry), entry_params)[0], None
    saved(account, created=False, update_fields=ACCOUNT_FIELDS)
    saved(entry, entry_pk, created=True)
    if lot is None:
        return
    lot.entry = entry
    if lot_pk is None:  # SQLite: its own statement, now that the entry has its id
        lot_params = insert_params(lot, insert_parts(PointsLot)[2])
        lot_pk = row_fetch(insert_sql(PointsLot), lot_params)[0]
    saved(lot, lot_pk, created=True)
