"""The demo's promo codes: a shared code entered online and a batch of unique
discount codes used at the tills, named in every language, their uses counted
and their bonuses in the ledger."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from demo.seed_promos import BATCH_SIZE, SHARED_CODE
from rewards.models import LedgerEntry, PromoCode, PromoCodeKey, PromoCodeUse
from rewards.reasons import PROMO_CODE_BONUS

pytestmark = pytest.mark.django_db


def test_demo_promo_codes_are_used_online_and_at_the_till():
    call_command("seed_demo", members=30, months=2, stdout=StringIO())

    shared = PromoCodeKey.objects.get(code=SHARED_CODE).promo
    batch_promo = PromoCode.objects.exclude(pk=shared.pk).get()
    assert batch_promo.keys.count() == BATCH_SIZE
    uses = PromoCodeUse.objects.all()
    online = uses.filter(promo=shared, purchase__isnull=True)
    at_till = uses.filter(promo=batch_promo, purchase__isnull=False)
    assert online.count() > 0 and at_till.count() > 0
    assert shared.uses_count == online.count()
    # Each online use paid its 50 points through the ledger.
    assert LedgerEntry.objects.filter(reason_code=PROMO_CODE_BONUS).count() == (
        online.count()
    )
    assert all(use.discount > 0 for use in at_till)
    names = {}
    for language in ("uk", "ru", "ro", "en"):
        with translation.override(language):
            names[language] = PromoCode.objects.get(pk=shared.pk).name
    assert len(set(names.values())) == 4, names
