"""Forgetting what a cache holds when the rows behind it change.

A write forgets the cached value twice: at once, so that this transaction's
own later reads see the change, and again when the transaction commits, so that
a reader in another process that read the old rows between the write and the
commit, and cached them, does not keep them. Every cache of rows (the till
tokens, the branding, the dashboard's panels, the webhook endpoints) forgets
through `forget_now_and_on_commit`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def forget_now_and_on_commit(forget: Callable[[], None]) -> None:
    """Call `forget` now and again when the current transaction commits (at
    once a second time outside a transaction; forgetting twice is harmless).
    Nothing is forgotten at the commit of a transaction that rolls back: the
    rows did not change."""
    forget()
    transaction.on_commit(forget)
