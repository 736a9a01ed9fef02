"""The till receipt: what a purchase, a return and a redemption have in common.

Each is a row unique per (store, receipt_id) that a till may send again. The
same body (its fingerprint) returns the first row (`replayed=True`); the same
receipt id with another body is a Conflict naming receipt_id. Each is written
by receipt_record: in one durable transaction (rerun after a deadlock,
rewards.services.idempotency), the member's points account locked first
(rewards.locks; a purchase on PostgreSQL reads it unlocked and its write
takes the lock: receipt_record's `relock`), then the replay check, then the service's own write, which
creates the row (TillReceipt.row_create) and posts its ledger entry
(TillReceipt.entry_post; or makes the row with TillReceipt.row_new and has
entry_post insert it with the entry) in the same transaction, then
`on_written`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.errors import Conflict
from members.models import Store, User
from members.rows import instance_insert
from rewards.locks import account_lock_with_receipt
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PointsAccount,
    Purchase,
    PurchaseReturn,
    Redemption,
)
from rewards.reasons import SystemReason
from rewards.services.idempotency import body_fingerprint, idempotent_write
from rewards.services.ledger import AccountChanged, entry_post

Row = TypeVar("Row", bound=Model)


@dataclass(frozen=True)
class ReceiptKind:
    """A kind of till receipt: the table that keeps it, the LedgerEntry field that
    links its entry to it, the kind of that entry, and what a resend with
    another body is told (`%(receipt)s`, translated when it is raised)."""

    model: type[Model]
    link: str
    entry_kind: str
    mismatch: str


RECEIPT_KINDS = {
    kind.model: kind
    for kind in (
        ReceiptKind(
            Purchase,
            "purchase",
            LedgerKind.EARN,
            _(
                "Receipt %(receipt)s was already recorded at this store with other details."
            ),
        ),
        ReceiptKind(
            PurchaseReturn,
            "purchase_return",
            LedgerKind.CLAWBACK,
            _(
                "Return receipt %(receipt)s was already recorded at this store "
                "with other details."
            ),
        ),
        ReceiptKind(
            Redemption,
            "redemption",
            LedgerKind.REDEEM,
            _(
                "Receipt %(receipt)s already has a redemption at this store "
                "with other details."
            ),
        ),
    )
}


@dataclass(frozen=True)
class TillReceipt:
    """One receipt a till sent: its table (a key of RECEIPT_KINDS), the store and
    receipt id that make it unique, whose account it moves, the body a resend
    must repeat, and who recorded it (`recorded_at` only when importing
    history)."""

    model: type[Model]
    store: Store
    receipt_id: str  # cleaned (rewards.services.inputs.receipt_id_clean)
    member_id: int
    body: dict  # the request's details, cleaned; a replay must match them
    created_by: User | None = None
    recorded_at: dt.datetime | None = None

    @property
    def kind(self) -> ReceiptKind:
        return RECEIPT_KINDS[self.model]

    @cached_property
    def fingerprint(self) -> str:
        return body_fingerprint(self.body)

    def lookup(self) -> Model | None:
        """The row this store already recorded under this receipt id."""
        return self.model.objects.filter(
            store=self.store, receipt_id=self.receipt_id
        ).first()

    def replay(self, existing: Model) -> tuple[Model, bool]:
        """(the first row, True) when the body is the same; else Conflict."""
        if existing.fingerprint != self.fingerprint:
            message = self.kind.mismatch % {"receipt": self.receipt_id}
            raise Conflict(message, field="receipt_id")
        return existing, True

    def account_lock(self) -> tuple[PointsAccount, Model | None]:
        """Lock the member's account and look the receipt up, in one statement
        (the row itself read only when there is one: a replay)."""
        account, existing_id = account_lock_with_receipt(
            member_id=self.member_id,
            model=self.model,
            store_id=self.store.pk,
            receipt_id=self.receipt_id,
        )
        existing = self.model.objects.get(pk=existing_id) if existing_id else None
        return account, existing

    def row_new(self, *, balance_after: int, **fields) -> Model:
        """The receipt's row, unsaved, with the columns every receipt has: for
        entry_post(..., insert_link=True), which inserts it with its entry."""
        return self.model(
            store=self.store,
            receipt_id=self.receipt_id,
            balance_after=balance_after,
            fingerprint=self.fingerprint,
            created_by=self.created_by,
            created_at=self.recorded_at or timezone.now(),
            **fields,
        )

    def row_create(self, *, balance_after: int, **fields) -> Model:
        """Insert the receipt's row (as objects.create() would, in a statement
        written once: members.rows)."""
        return instance_insert(self.row_new(balance_after=balance_after, **fields))

    def entry_post(
        self,
        account: PointsAccount,
        row: Model,
        points: int,
        reason: SystemReason,
        **extra,
    ) -> LedgerEntry:
        """The receipt's ledger entry, linked to its row
        (rewards.services.ledger.entry_post: `extra` are its other arguments)."""
        return entry_post(
            account=account,
            kind=self.kind.entry_kind,
            points=points,
            reason=reason,
            created_by=self.created_by,
            recorded_at=self.recorded_at,
            **{self.kind.link: row},
            **extra,
        )


def receipt_record(
    receipt: TillReceipt,
    *,
    write: Callable[[PointsAccount], Row],
    lock: Callable[[], tuple[PointsAccount, Row | None]] | None = None,
    on_written: Callable[[Row], None] | None = None,
    relock: Callable[[], tuple[PointsAccount, Row | None]] | None = None,
) -> tuple[Row, bool]:
    """Record a till receipt once. Returns (row, replayed).

    `lock()` locks the member's account and finds the receipt already recorded
    (default: TillReceipt.account_lock; a purchase reads both in one statement).
    Found: the replay. Else `write(account)` makes the row and its entry, and
    `on_written(row)`, when given, runs after it in the same transaction (not on
    a replay); raising there rolls the write back (staff audit, limits). A
    concurrent writer of the same receipt id is answered from its row, also
    when `lock()` read before that writer committed (its look-up shares the
    locking statement's start) and `write` then refused (a Conflict: the points
    it spent are gone).

    `lock()` may read the account without locking it, for a `write` that
    takes the lock itself and raises AccountChanged, having written nothing,
    when the account changed since the read (rewards.services.ledger
    entry_post(guarded=True)): then `relock()` (default: `lock`) reads it
    again, locked, and `write` runs again."""

    def work() -> tuple[Row, bool]:
        account, existing = (lock or receipt.account_lock)()
        if existing is not None:
            return receipt.replay(existing)
        try:
            try:
                row = write(account)
            except AccountChanged:
                account, existing = (relock or lock or receipt.account_lock)()
                if existing is not None:
                    return receipt.replay(existing)
                row = write(account)
        except Conflict:
            existing = receipt.lookup()  # a statement of its own: reads it now
            if existing is None:
                raise
            transaction.set_rollback(True)  # nothing of this attempt stays
            return receipt.replay(existing)
        if on_written is not None:
            on_written(row)
        return row, False

    return idempotent_write(work, receipt.lookup, receipt.replay)
