"""Model instances from the rows of a statement written once, for the few
reads every till request makes (its token with its store, the member by card
or phone), and rows inserted by a statement written once, for the writes of
every purchase (the receipt, its ledger entry and points lot).

Building and compiling an ORM query cost more CPU than PostgreSQL spent
answering it (about 0.8 ms against 0.15 for the statement, bench/request_cpu.py),
and these run on every request. The statement is written once per model from
its fields; each value goes through the converters the ORM applies (SQLite's
dates and booleans, JSON), so the instances are what a queryset would give.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, signals
from django.utils import timezone


def columns_sql(model: type[Model], alias: str) -> str:
    """Every concrete column of `model`, in field order, from table `alias`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model], vendor: str) -> list[tuple[str, object, list]]:
    table = model._meta.db_table
    result = []
    for field in model._meta.concrete_fields:
        col = field.get_col(table)
        converters = connection.ops.get_db_converters(col) + field.get_db_converters(
            connection
        )
        result.append((field.attname, col, converters))
    return result


def instance_from_row(model: type[Model], values: Sequence) -> Model:
    """An instance of `model` from the values of columns_sql(model, ...)."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    names, converted = [], []
    for (name, col, converters), value in zip(
        _converters(model, db.vendor), values, strict=True
    ):
        for convert in converters:
            value = convert(value, col, db)
        names.append(name)
        converted.append(value)
    return model.from_db(db.alias, names, converted)


def row_fetch(sql: str, params: Sequence, *, prepared: bool = False) -> tuple | None:
    """The first row of `sql` (`prepared`: through prepared_cursor)."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    with prepared_cursor() if prepared else db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def prepared_cursor():
    """A cursor of Django's (its queries logged and counted, its execute
    wrappers applied) that, on PostgreSQL, binds parameters on the server
    instead of in the client: psycopg then prepares a statement it has sent
    `prepare_threshold` times on this connection (5; never through PgBouncer,
    loyalty_site.databases.postgres_tune), and PostgreSQL no longer parses and
    plans it for every write. Only for statements written once with %s
    placeholders whose every parameter PostgreSQL can type from its place;
    elsewhere, connection.cursor().

    The psycopg cursor under it is kept for the connection's next statement
    (leaving the `with` does not close it): a new one built its loaders and
    dumpers again for every statement, about 0.05 ms of a purchase's CPU in
    an in-process A/B (docs/BENCHMARKS.md, session 18)."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if db.vendor != "postgresql":
        return db.cursor()
    # What connection.cursor() does (BaseDatabaseWrapper._cursor), with
    # Django's own cursor set-up (its time zone loader) on this class.
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        # (the zone it was made for, the cursor): its connection is its own.
        zone, cursor = db.__dict__.get("_rows_kept_cursor", (None, None))
        if (
            cursor is None
            or cursor.closed
            or cursor.connection is not db.connection
            or zone != db.timezone
        ):
            cursor = _server_binding_cursor(db)
            db.__dict__["_rows_kept_cursor"] = (db.timezone, cursor)
        db.validate_thread_sharing()
        if db.queries_logged:
            return _KeptDebugCursor(cursor, db)
        return _KeptCursor(cursor, db)


def _server_binding_cursor(db):
    """A new psycopg cursor binding on the server, made by Django's own
    create_cursor (its time zone loader)."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    raw = db.connection
    factory = raw.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    try:
        return db.create_cursor()
    finally:
        raw.cursor_factory = factory


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs the statement with its values in, as Django does with
    server_side_binding: a prepared statement leaves no query text on the
    cursor for last_executed_query to read."""

    def debug_sql(
        self, sql=None, params=None, use_last_executed_query=False, many=False
    ):
        if use_last_executed_query and not many:
            sql, use_last_executed_query = self.db.ops.compose_sql(sql, params), False
        return super().debug_sql(sql, params, use_last_executed_query, many)


class _Kept:
    """Leaving the `with` (or close()) keeps the psycopg cursor open for the
    connection's next statement; the connection's close closes it."""

    def close(self) -> None:
        pass


class _KeptCursor(_Kept, CursorWrapper):
    pass


class _KeptDebugCursor(_Kept, _PreparedDebugCursor):
    pass


# --- writes ------------------------------------------------------------------------
#
# Model.save() and QuerySet.create() build and compile an InsertQuery (or an
# UpdateQuery) for every row; the statements below are written once per model
# and vendor, with each value prepared as the ORM's compiler prepares it
# (Field.pre_save, then Field.get_db_prep_save), and the model signals sent as
# save() sends them. No expressions as values (F(), db_default): the ORM only.


@functools.cache
def _insert_parts(model: type[Model], vendor: str) -> tuple[str, str, tuple, str]:
    """(table, column list, fields, returned pk column) of an INSERT of `model`."""
    meta = model._meta
    quote = connection.ops.quote_name
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    return (
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        fields,
        quote(meta.pk.column),
    )


def insert_parts(model: type[Model]) -> tuple[str, str, tuple]:
    """(quoted table, quoted column list, fields in that order) of an INSERT of
    `model` (every concrete field but an automatic pk): for a caller writing a
    larger statement around it."""
    table, columns, fields, _pk = _insert_parts(model, connection.vendor)
    return table, columns, fields


def insert_params(obj: Model, fields: Sequence, *, related: bool = True) -> list:
    """The values of `obj`'s `fields` as QuerySet.create() sends them
    (`related=False`: a related object may be unsaved yet, when the statement
    itself supplies its key).

    A value of a type prep_shortcut knows for its field is taken as Django
    would make it, without the field's methods (half this function's CPU on
    a purchase's three rows); any other value goes through pre_save and
    get_db_prep_save."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if related:
        obj._prepare_related_fields_for_save(operation_name="save")
    params, vendor = [], db.vendor
    for field in fields:
        known = _SHORTCUTS.get((id(field), vendor))
        if known is None or known[0] is not field:  # new, or an id used again
            known = _SHORTCUTS[id(field), vendor] = (
                field,
                prep_shortcut(field, vendor),
            )
        shortcut = known[1]
        if shortcut is not None:
            value = getattr(obj, shortcut[0])
            table = shortcut[1]
            adapt = table.get(type(value), _SKIP)
            if adapt is _SKIP and str in table and isinstance(value, str):
                adapt = table[str]  # a choices enum: the text fields keep it
            if adapt is None:
                params.append(value)
                continue
            if adapt is not _SKIP and (adapted := adapt(value)) is not _SKIP:
                params.append(adapted)
                continue
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{field.name}: an expression; save through the ORM.")
        params.append(field.get_db_prep_save(value, connection=db))
    return params


_SKIP = object()  # an adapter's "not this value: ask the field"
# (id(field), vendor) -> (field, prep_shortcut's answer): a Field hashes in
# Python, slower than the rest of the loop.
_SHORTCUTS: dict[tuple[int, str], tuple] = {}


def _finite(value):
    # DecimalField.to_python refuses NaN and infinities: the field says so.
    return value if value.is_finite() else _SKIP


def _aware(value):
    # A naive datetime gets DateTimeField's warning and the default zone.
    return value if timezone.is_aware(value) else _SKIP


def prep_shortcut(field, vendor: str) -> tuple[str, dict] | None:
    """(attname, {value type: adapter}) for a field of one of Django's own
    classes whose pre_save reads the attribute as it is: for a value of
    exactly such a type, adapter(value) is what pre_save and
    get_db_prep_save give (None: the value itself; _SKIP: ask the field).
    None for any other field (a subclass, an automatic time, a file, a time
    on SQLite, which stores it as text).
    members/tests/shared/test_rows_prep_shortcut.py holds every field of every
    model to Django's own result on both databases."""
    from django.db import models

    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        target = prep_shortcut(field.target_field, vendor)
        return (field.attname, target[1]) if target is not None else None
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return None
    table = _prep_table(kind, field, vendor)
    if table is None:
        return None
    if kind is not models.BooleanField or field.null:
        table[type(None)] = None  # NULL (a BooleanField not null refuses it)
    return field.attname, table


def _prep_table(kind, field, vendor: str) -> dict | None:
    from django.db import models

    integers = (
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
    )
    if kind in integers:
        ops = connections[DEFAULT_DB_ALIAS].ops
        typed = getattr(ops, "integerfield_type_map", {})  # psycopg 3's Int4, Int8...
        return {int: typed.get(field.get_internal_type())}
    if kind in (models.AutoField, models.BigAutoField, models.SmallAutoField):
        return {int: None}
    if kind in (
        models.CharField,
        models.TextField,
        models.EmailField,
        models.SlugField,
    ):
        return {str: None}
    if kind is models.BooleanField:
        return {bool: None}
    if kind is models.DecimalField:
        return {Decimal: _finite}
    if kind is models.JSONField:
        # What JSONField.get_db_prep_value ends with (no connection state used).
        ops = connections[DEFAULT_DB_ALIAS].ops
        adapt = functools.partial(ops.adapt_json_value, encoder=field.encoder)
        return {dict: adapt, list: adapt}
    if vendor == "postgresql" and kind is models.DateTimeField:
        return {dt.datetime: _aware}
    if vendor == "postgresql" and kind is models.DateField:
        return {dt.date: None}
    return None


def insert_select_list(model: type[Model], exprs: dict[str, str]) -> tuple[str, list]:
    """For an INSERT INTO <table> (<columns of insert_parts>) SELECT ... FROM
    <another part of the statement>: the SELECT list, `exprs[attname]` for the
    fields it names and a placeholder cast to its column's type for each other
    field (in a SELECT, PostgreSQL cannot type a parameter from the column it
    goes into); and those other fields, in order, for insert_params. An
    expression with `{}` wraps the field's own placeholder, whose value is
    still sent (the field stays among the others)."""
    items, rest = [], []
    for field in insert_parts(model)[2]:
        placeholder = f"%s::{field.cast_db_type(connection)}"
        expr = exprs.get(field.attname)
        if expr is not None and "{}" not in expr:
            items.append(expr)
        else:
            items.append(expr.format(placeholder) if expr else placeholder)
            rest.append(field)
    return ", ".join(items), rest


def insert_sql(model: type[Model]) -> str:
    """INSERT INTO <table> (<columns>) VALUES (%s, ...) RETURNING <pk>."""
    table, columns, fields, pk = _insert_parts(model, connection.vendor)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608 - names from the model


def pre_save_send(obj: Model, *, update_fields=None) -> None:
    """The pre_save signal save() sends, when anything listens."""
    sender = type(obj)
    if signals.pre_save.has_listeners(sender):
        signals.pre_save.send(
            sender=sender,
            instance=obj,
            raw=False,
            using=connection.alias,
            update_fields=update_fields,
        )


def saved(obj: Model, pk=None, *, created: bool, update_fields=None) -> None:
    """Mark `obj` saved (with `pk`, when inserted) and send the post_save
    signal save() sends, when anything listens."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = db.alias
    sender = type(obj)
    if signals.post_save.has_listeners(sender):
        signals.post_save.send(
            sender=sender,
            instance=obj,
            created=created,
            update_fields=frozenset(update_fields) if update_fields else None,
            raw=False,
            using=db.alias,
        )


def instance_insert(obj: Model) -> Model:
    """Insert the new `obj` as `type(obj).objects.create(...)` would (values,
    returned pk, signals) in a statement written once; returns it."""
    db = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy
    if obj.pk is not None:
        raise ValueError("instance_insert inserts new rows only.")
    model = type(obj)
    pre_save_send(obj)
    _table, _columns, fields, _pk = _insert_parts(model, db.vendor)
    params = insert_params(obj, fields)
    row = row_fetch(insert_sql(model), params, prepared=True)
    pk = model._meta.pk
    col, value = pk.get_col(model._meta.db_table), row[0]
    for convert in db.ops.get_db_converters(col) + pk.get_db_converters(db):
        value = convert(value, col, db)
    saved(obj, value, created=True)
    return obj


# --- a queryset compiled once ------------------------------------------------------


class QueryOnce:
    """A queryset's SELECT compiled once per database vendor and shape, then run
    again with other values: for a read under a lock (the lots a redemption
    draws on) where building and compiling the query cost more than
    PostgreSQL spent answering it.

    `build(shape, **values)` makes the queryset. It is called once per vendor
    and `shape` (a hashable the SQL depends on: which filters, the slice) with
    the `stand_ins` given here; each parameter of the compiled SQL that equals
    a stand-in is filled from the values of the call, the others are kept. The
    queryset must select its model's concrete fields in field order (no only(),
    values() or annotations); `rows()` makes instances as the queryset would.
    """

    def __init__(self, model: type[Model], build, **stand_ins) -> None:
        self.model, self.build, self.stand_ins = model, build, stand_ins
        self._compiled: dict[tuple, tuple[str, list]] = {}

    def _sql(self, shape) -> tuple[str, list]:
        key = (connection.vendor, shape)
        if key not in self._compiled:
            query = self.build(shape, **self.stand_ins).query
            compiler = query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            if len(compiler.select) != len(self.model._meta.concrete_fields):
                raise ValueError("QueryOnce reads the model's concrete fields only.")
            adapted = {
                name: self._adapt(value) for name, value in self.stand_ins.items()
            }
            slots = []
            for param in params:
                name = next(
                    (
                        n
                        for n, v in adapted.items()
                        if type(v) is type(param) and v == param
                    ),
                    None,
                )
                slots.append((name, param))
            self._compiled[key] = (sql, slots)
        return self._compiled[key]

    @staticmethod
    def _adapt(value):
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def rows(self, shape, **values) -> list[Model]:
        """The instances the queryset of `shape` gives with `values` (named as
        the stand-ins; each one its stand-in's type), through prepared_cursor."""
        sql, slots = self._sql(shape)
        params = [
            self._adapt(values[name]) if name is not None else param
            for name, param in slots
        ]
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            return [instance_from_row(self.model, row) for row in cursor.fetchall()]
