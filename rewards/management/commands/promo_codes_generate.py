"""Generate a batch of unique promo codes for a promotion, with progress, and
write them as CSV (members.csvexport) to a file or standard output."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from members.csvexport import csv_writer
from members.errors import ServiceError
from rewards.models import PromoCode
from rewards.services.promocode_batches import promo_batch_generate, promo_batch_rows


class Command(BaseCommand):
    help = (
        "Generate SIZE unique promo codes (10 characters without 0, O, 1, I or L, "
        "each used once) for the promotion PROMO_ID, which has unique codes; "
        "--csv writes them to a file ('-' for standard output)."
    )

    def add_arguments(self, parser):
        parser.add_argument("promo_id", type=int)
        parser.add_argument("size", type=int)
        parser.add_argument("--label", default="")
        parser.add_argument("--csv", dest="csv_path", default=None)

    def handle(self, *args, promo_id, size, label, csv_path, **options):
        promo = PromoCode.objects.filter(pk=promo_id).first()
        if promo is None:
            raise CommandError(f"No promo code {promo_id}.")
        err = self.stderr

        def progress(done: int, total: int) -> None:
            err.write(f"\r{done}/{total} codes", ending="")
            err.flush()

        try:
            batch = promo_batch_generate(
                promo=promo, size=size, label=label, progress=progress
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        err.write("")
        if csv_path == "-":
            csv_writer(sys.stdout).writerows(promo_batch_rows(batch))
        elif csv_path:
            with open(csv_path, "w", newline="", encoding="utf-8-sig") as f:
                csv_writer(f).writerows(promo_batch_rows(batch))
        self.stdout.write(f"Batch {batch.pk}: {batch.size} codes.")
