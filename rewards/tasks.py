import logging

from celery import shared_task

from rewards.selectors import ledger_discrepancies

log = logging.getLogger(__name__)


@shared_task(time_limit=600, soft_time_limit=540)
def ledger_verify() -> int:
    """Nightly: every account's cached balance must equal the sum of its entries."""
    bad = ledger_discrepancies()
    for row in bad:
        log.error(
            "Ledger mismatch on card %s: balance %s, entries %s",
            row["member__card_number"],
            row["balance"],
            row["total"],
        )
    return len(bad)
