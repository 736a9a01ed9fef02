"""Bulk CSV import of purchase history through purchase_record.

One CSV row per receipt line (or one row per receipt without lines); rows
are grouped into receipts by (store, receipt_id) and the receipts are recorded
in the order they happened, each through purchase_record with
source=IMPORT and recorded_at=occurred_at, so every ledger entry is stamped
when the purchase happened and `balance == sum(entries)` holds throughout.
Re-running a file replays: a receipt already recorded with the same details is
counted as skipped, with other details it is reported as an error.

What is cheap is done in bulk: stores are read once and the members of a chunk
of receipts are looked up in one query by card number and phone. Each receipt
keeps purchase_record's own durable transaction (one commit per receipt): a
bad receipt loses nothing else and nothing of it is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members.errors import ServiceError
from members.imports import (
    CHUNK,
    CsvRow,
    CsvUnreadable,
    ImportResult,
    Progress,
    chunks,
    csv_read,
    csv_template,
    stores_by_code,
)
from members.models import Member, Store
from members.phones import phone_normalize
from rewards.models import Purchase
from rewards.services.lines import LineInput
from rewards.services.purchase_batches import BatchReceipt, purchases_record_batch
from rewards.services.purchases import purchase_record

PURCHASE_COLUMNS = (
    "store",
    "receipt_id",
    "card_number",
    "phone",
    "total",
    "occurred_at",
    "sku",
    "name",
    "category",
    "quantity",
    "unit_price",
)
PURCHASE_REQUIRED = ("store", "receipt_id", "occurred_at")
LINE_COLUMNS = ("sku", "name", "category", "quantity", "unit_price")
RECEIPT_COLUMNS = ("card_number", "phone", "total", "occurred_at")


def purchases_template() -> list[list[str]]:
    return csv_template(
        PURCHASE_COLUMNS,
        (
            "main",
            "R-000123",
            "271234567897",
            "",
            "84.00",
            "2026-03-14T09:30:00+02:00",
            "LATTE",
            "Latte",
            "coffee",
            "2",
            "42.00",
        ),
    )


def purchases_csv_read(content: bytes | str) -> list[CsvRow]:
    rows = csv_read(content, required=PURCHASE_REQUIRED, known=PURCHASE_COLUMNS)
    if not {"card_number", "phone"} & set(rows[0].data):
        raise CsvUnreadable(
            _("Missing column(s): %(columns)s.")
            % {"columns": _("card_number or phone")}
        )
    return rows


@dataclass
class _Receipt:
    store: Store
    receipt_id: str
    rows: list[CsvRow] = field(default_factory=list)
    occurred_at: dt.datetime | None = None
    bad: bool = False

    @property
    def line(self) -> int:
        return self.rows[0].line

    @property
    def first(self) -> CsvRow:
        return self.rows[0]


def csv_time_parse(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _receipts_group(rows: list[CsvRow], result: ImportResult) -> list[_Receipt]:
    """Rows grouped into receipts in time order; rows that cannot be grouped or
    disagree with their receipt's first row are reported (and the whole receipt
    with them, so that no receipt is recorded with a line missing)."""
    stores = stores_by_code()
    receipts: dict[tuple[int, str], _Receipt] = {}
    for row in rows:
        store = stores.get(row.get("store").lower())
        if not row.get("store"):
            result.error(row.line, "store", _("Enter the store code."))
            continue
        if store is None:
            result.error(
                row.line,
                "store",
                _("No store has the code “%(code)s”.") % {"code": row.get("store")},
            )
            continue
        if not row.get("receipt_id"):
            result.error(row.line, "receipt_id", _("Enter the receipt id."))
            continue
        key = (store.pk, row.get("receipt_id"))
        receipt = receipts.get(key)
        if receipt is None:
            receipt = receipts[key] = _Receipt(store, row.get("receipt_id"))
            receipt.rows.append(row)
            try:
                receipt.occurred_at = csv_time_parse(row.get("occurred_at"))
            except ValueError:
                receipt.bad = True
                result.error(
                    row.line,
                    "occurred_at",
                    _("“%(value)s” is not a date and time such as %(example)s.")
                    % {
                        "value": row.get("occurred_at"),
                        "example": "2026-03-14T09:30:00+02:00",
                    },
                )
            continue
        receipt.rows.append(row)
        for column in RECEIPT_COLUMNS:
            if row.get(column) and row.get(column) != receipt.first.get(column):
                receipt.bad = True
                result.error(
                    row.line,
                    column,
                    _("Receipt %(receipt)s has another %(column)s on line %(line)s.")
                    % {
                        "receipt": receipt.receipt_id,
                        "column": column,
                        "line": receipt.line,
                    },
                )
    good = [receipt for receipt in receipts.values() if not receipt.bad]
    good.sort(key=lambda receipt: (receipt.occurred_at, receipt.line))
    return good


def _members_find(receipts: list[_Receipt], result: ImportResult) -> dict:
    """Each receipt's member by card number (or else phone), in one query."""
    wanted: dict[int, tuple[str, str]] = {}
    for receipt in receipts:
        card = receipt.first.get("card_number").replace(" ", "")
        if card:
            wanted[receipt.line] = ("card_number", card)
            continue
        try:
            wanted[receipt.line] = (
                "phone",
                phone_normalize(receipt.first.get("phone")),
            )
        except ServiceError as exc:
            receipt.bad = True
            result.error(receipt.line, "phone", exc.message)
    cards = {value for kind, value in wanted.values() if kind == "card_number"}
    phones = {value for kind, value in wanted.values() if kind == "phone"}
    by_key = {}
    for member in Member.objects.filter(Q(card_number__in=cards) | Q(phone__in=phones)):
        by_key[("card_number", member.card_number)] = member
        by_key[("phone", member.phone)] = member
    found = {}
    for receipt in receipts:
        key = wanted.get(receipt.line)
        if key is None:
            continue
        member = by_key.get(key)
        if member is None:
            receipt.bad = True
            message = (
                _("No member has card %(card)s.") % {"card": key[1]}
                if key[0] == "card_number"
                else _("No member has phone %(phone)s.") % {"phone": key[1]}
            )
            result.error(receipt.line, key[0], message)
        else:
            found[receipt.line] = member
    return found


def _column_of(
    receipt: _Receipt, line_rows: list[CsvRow], exc: ServiceError
) -> tuple[int, str]:
    """The CSV line and column a service error points at: lines[2].sku → sku of the
    receipt's third row."""
    name = exc.field or "receipt_id"
    if name.startswith("lines[") and "]." in name:
        index = int(name[len("lines[") : name.index("]")])
        row = line_rows[index] if index < len(line_rows) else receipt.first
        return row.line, name.split("].", 1)[1]
    return receipt.line, name


def _lines_of(receipt: _Receipt) -> tuple[list[CsvRow], list[LineInput]]:
    line_rows = [
        row for row in receipt.rows if any(row.get(column) for column in LINE_COLUMNS)
    ]
    lines = [
        LineInput(
            sku=row.get("sku"),
            quantity=row.get("quantity") or "1",
            unit_price=row.get("unit_price") or "0",
            name=row.get("name"),
            category=row.get("category"),
        )
        for row in line_rows
    ]
    return line_rows, lines


def _one_record(
    receipt: _Receipt, member: Member, result: ImportResult, *, batched: bool | None
) -> None:
    """Record one receipt through purchase_record (or count the one the batch
    recorded, `batched` telling whether it was a replay), and report it."""
    if batched is not None:
        if batched:
            result.skipped += 1
        else:
            result.imported += 1
        return
    line_rows, lines = _lines_of(receipt)
    try:
        _purchase, replayed = purchase_record(
            store=receipt.store,
            member=member,
            receipt_id=receipt.receipt_id,
            total=receipt.first.get("total") or None,
            lines=lines,
            occurred_at=receipt.occurred_at,
            recorded_at=receipt.occurred_at,
            source=Purchase.Source.IMPORT,
        )
    except ServiceError as exc:
        line, column = _column_of(receipt, line_rows, exc)
        result.error(line, column, exc.message)
    else:
        if replayed:
            result.skipped += 1
        else:
            result.imported += 1


def purchases_import(
    rows: list[CsvRow],
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    batched: bool = True,
) -> ImportResult:
    """Record the receipts of a CSV file in time order, exactly as
    purchase_record would one receipt at a time.

    `imported` and `skipped` count receipts (a replayed receipt is skipped);
    `total` counts rows. A chunk of receipts (in time order) goes first to
    purchases_record_batch, which writes those it can in one transaction (the
    accounts of their members locked), then the others go one by one through
    purchase_record in its own durable transaction, in time order (the batch
    takes the first of a member's receipts, never one after another left out). `batched=False` sends every receipt
    through purchase_record (what the batch is tested against). This
    function opens no transaction and queues nothing itself. With `dry_run`
    the rows are checked and the members looked up, nothing is written.
    """
    result = ImportResult(total=len(rows), dry_run=dry_run)
    receipts = _receipts_group(rows, result)
    done = len(rows) - sum(len(receipt.rows) for receipt in receipts)
    for chunk in chunks(receipts, CHUNK):
        members = _members_find(chunk, result)
        good = [receipt for receipt in chunk if not receipt.bad]
        if dry_run:
            result.imported += len(good)
        else:
            taken: dict[int, bool] = {}
            if batched:
                taken = purchases_record_batch(
                    receipts=[
                        BatchReceipt(
                            store=receipt.store,
                            member=members[receipt.line],
                            receipt_id=receipt.receipt_id,
                            total=receipt.first.get("total") or None,
                            lines=_lines_of(receipt)[1],
                            occurred_at=receipt.occurred_at,
                            source=Purchase.Source.IMPORT,
                        )
                        for receipt in good
                    ]
                )
            for index, receipt in enumerate(good):
                _one_record(
                    receipt,
                    members[receipt.line],
                    result,
                    batched=taken.get(index),
                )
                if progress is not None and index % 100 == 99:
                    progress(done + sum(len(r.rows) for r in good[:index]), len(rows))
        done += sum(len(receipt.rows) for receipt in chunk)
        if progress is not None:
            progress(done, len(rows))  # the command prints once a second
    if progress is not None and not receipts:
        progress(len(rows), len(rows))
    result.errors.sort(key=lambda error: error.line)
    return result
