"""Rows written in bulk for demo.bulk: COPY on PostgreSQL, executemany on SQLite,
and the ids, card numbers and referral codes the bulk rows need."""

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import NOT_PROVIDED, CharField, Max

from members.cards import luhn_check_digit
from members.services import REFERRAL_ALPHABET


class BulkWriter:
    """Rows of one model as tuples in a fixed column order: the columns named,
    then every other column at its constant default (refuses a column that has
    neither; one with only a database default is left to the database). COPY
    on PostgreSQL, executemany elsewhere."""

    def __init__(self, model, columns: Sequence[str]):
        self.model = model
        self.table = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        self.columns = list(columns)
        rest = []
        for column, f in fields.items():
            if column in self.columns:
                continue
            if f.has_db_default() and not f.has_default():
                continue  # left out: the database writes its default
            if f.has_default() and (
                not callable(f.default) or f.default in (list, dict)
            ):
                value = f.get_default()
                if isinstance(value, (list, dict)):
                    value = json.dumps(value)
                rest.append((column, value))
            elif f.null:
                rest.append((column, None))
            elif callable(f.default) and isinstance(f, CharField) and not f.unique:
                # A computed text default is the same for every row (the
                # member's time zone); a unique one (a token) is not.
                rest.append((column, f.get_default()))
            elif not f.has_default() and f.empty_strings_allowed and f.blank:
                rest.append((column, ""))
            elif f.default is NOT_PROVIDED or callable(f.default):
                raise ValueError(f"{self.table}.{column} needs a value")
        self.columns += [c for c, _v in rest]
        self.defaults = tuple(v for _c, v in rest)
        self.rows: list[tuple] = []

    def add(self, *values) -> None:
        self.rows.append(values + self.defaults)

    def flush(self, cursor) -> int:
        n = len(self.rows)
        if not n:
            return 0
        cols = ", ".join(self.columns)
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            cursor.executemany(
                f"INSERT INTO {self.table} ({cols}) VALUES ({marks})",  # noqa: S608
                [tuple(sqlite_value(v) for v in row) for row in self.rows],
            )
        self.rows = []
        return n


def sqlite_value(value):
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def next_id(model) -> int:
    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def card_number(n: int) -> str:
    body = f"{settings.LOYALTY_CARD_PREFIX}{n:09d}"
    return body + luhn_check_digit(body)


def referral_code(n: int) -> str:
    base = len(REFERRAL_ALPHABET)
    chars = []
    n += 31**6  # eight characters
    while n:
        n, r = divmod(n, base)
        chars.append(REFERRAL_ALPHABET[r])
    return "".join(reversed(chars)).rjust(8, REFERRAL_ALPHABET[0])[:8]
