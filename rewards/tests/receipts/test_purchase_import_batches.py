"""The batched purchase import (rewards.services.purchase_batches) against the
same file sent one receipt at a time through purchase_record: two states built
alike in one database (their own stores and members), the same generated file
imported each way, and every row they wrote compared."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from decimal import Decimal

import pytest
from django.db import models
from django.db.models.signals import post_save

from members.models import Member, WebhookDelivery, WebhookEvent
from members.services.webhooks import webhook_endpoint_create
from members.tests.factories import MemberFactory, StoreFactory
from rewards import imports
from rewards.imports import purchases_csv_read, purchases_import
from rewards.models import (
    LedgerEntry,
    LotDraw,
    PointsAccount,
    PointsLot,
    Purchase,
    PurchaseLine,
    Referral,
    ReferralStatus,
    StampCard,
    StampEntry,
    TierHistory,
    TierQualification,
    Voucher,
)
from rewards.selectors.invariants import ledger_discrepancies
from rewards.services import purchase_batches
from rewards.services.earning import program_settings_ensure
from rewards.services.ledger import points_adjust
from rewards.services.purchases import purchase_record
from rewards.services.returns import purchase_return_record
from rewards.services.tiers import tiers_downgrade_due
from rewards.services.vouchers import voucher_consume
from rewards.tests.factories import (
    EarningRuleFactory,
    StampProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

N_MEMBERS = 9
# Members who start the file in debt (a return clawed back points they had
# spent), by index after the nine: how they got there, then their receipts in
# the file. A receipt is (id, after which file receipt, minutes after it,
# at the stamp store, [(sku, quantity)]).
DEBT = {
    # -203, and a stamp owed (its card's voucher was used before the
    # return); the next two receipts (at the stamp store) only lower both.
    9: (
        [("LATTE", 3), ("CROIS", 1)],
        [
            ("D9-1", 20, 30, True, [("LATTE", 1)]),
            ("D9-2", 45, 30, True, [("LATTE", 2)]),
        ],
    ),
    # -42; the next receipt pays it and leaves 168 points in a smaller lot.
    10: ([("LATTE", 1)], [("D10-1", 25, 30, False, [("BEANS", 1)])]),
    # -364; four receipts in one chunk: a part of the debt, the rest of it and
    # a lot, Silver reached (the batch moves the tier), then earning at x1.5.
    11: (
        [("BEANS", 1), ("CROIS", 2)],
        [
            ("D11-1", 37, 10, False, [("LATTE", 1)]),
            ("D11-2", 37, 20, False, [("BEANS", 2)]),
            ("D11-3", 37, 30, False, [("LATTE", 1)]),
            ("D11-4", 37, 40, False, [("CROIS", 1)]),
        ],
    ),
    # -210; its receipts straddle chunks: still in debt at the end of one
    # chunk, paid off in a later one.
    12: (
        [("BEANS", 1)],
        [
            ("D12-1", 8, 30, False, [("LATTE", 1)]),
            ("D12-2", 12, 30, False, [("CROIS", 2)]),
            ("D12-3", 16, 30, False, [("BEANS", 1)]),
        ],
    ),
    # -420 and Silver (reached by the purchase returned), found below it by
    # the nightly check (tier_lapsed_on): a part of the debt at x1.5, then
    # exactly the rest (balance 0, no lot), then Silver kept (the lapse
    # cleared) and a whole lot.
    13: (
        [("BEANS", 2)],
        [
            ("D13-1", 50, 30, False, [("BEANS", 1), ("LATTE", 1)]),
            ("D13-2", 51, 30, False, [("TEA", 1)]),
            ("D13-3", 52, 30, False, [("BEANS", 1)]),
        ],
    ),
}
N_ALL = N_MEMBERS + len(DEBT)
LAPSED = 13
STAMPS_OWED = 9
START = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
SKUS = [
    ("LATTE", "Latte", "coffee", "42.00"),
    ("CROIS", "Croissant", "bakery", "38.50"),
    ("BEANS", "Beans 250 g", "beans", "210.00"),
]
HEADER = (
    "store,receipt_id,card_number,phone,total,occurred_at,"
    "sku,name,category,quantity,unit_price"
)


@pytest.fixture
def program(settings):
    """What both states share: the settings, two tiers by spend, an earning
    rule, a stamp program (at the stamp stores only), a webhook endpoint."""
    conf = program_settings_ensure()
    conf.pending_days = 2
    conf.points_expire_months = 12
    conf.save()
    TierFactory(
        name="Silver",
        rank=1,
        threshold=Decimal("400"),
        qualification=TierQualification.SPEND,
        earn_multiplier=Decimal("1.50"),
    )
    TierFactory(
        name="Gold",
        rank=2,
        threshold=Decimal("2000"),
        qualification=TierQualification.SPEND,
        earn_multiplier=Decimal("2.00"),
    )
    EarningRuleFactory(name="Bakery x2", category="bakery")
    stamps = StampProgramFactory(name="Coffee card", stamps_needed=3)
    webhook_endpoint_create(
        url="https://hooks.example.com/in", events=["points.earned", "tier.changed"]
    )
    return stamps


class State:
    """One state: its stores and members, and the names that tell it apart
    (replaced by neutral ones when the rows are compared)."""

    def __init__(self, tag: str, stamps):
        self.tag = tag
        self.main = StoreFactory(code=f"{tag}main", name=f"{tag} Main")
        self.stamp_store = StoreFactory(code=f"{tag}stamp", name=f"{tag} Stamp")
        stamps.stores.add(self.stamp_store)
        self.members = [
            MemberFactory(
                store=self.main,
                phone=f"+38067{ord(tag):03d}{i:04d}",
                email=f"{tag}{i}@example.com",
                first_name="Olena",
                last_name=f"K{i}",
            )
            for i in range(N_ALL)
        ]
        self.names = {
            self.main.code: "<main>",
            self.stamp_store.code: "<stamp>",
            f"{tag} Main": "<Main>",
            f"{tag} Stamp": "<Stamp>",
        }
        for i, m in enumerate(self.members):
            self.names[m.card_number] = f"<card{i}>"
            self.names[m.phone] = f"<phone{i}>"
        # A pending referral: member 1 referred member 0.
        Referral.objects.create(
            referrer=self.members[1],
            referee=self.members[0],
            referee_phone=self.members[0].phone,
            status=ReferralStatus.PENDING,
        )
        # Already recorded: one with the file's details (skipped), one with
        # others (reported).
        purchase_record(
            store=self.main,
            member=self.members[2],
            receipt_id="R-0003",
            total=None,
            lines=_lines_for(3),
            occurred_at=_when(3),
            recorded_at=_when(3),
            source=Purchase.Source.IMPORT,
        )
        purchase_record(
            store=self.main,
            member=self.members[3],
            receipt_id="R-0004",
            total="1.00",
            occurred_at=_when(4),
            recorded_at=_when(4),
            source=Purchase.Source.IMPORT,
        )

        for i, (bought, _receipts) in DEBT.items():
            self._debt_make(i, bought)

    def _debt_make(self, i: int, bought: list[tuple[str, int]]) -> None:
        """Member i earns points (at the stamp store: stamps too), spends
        them all, then returns the purchase: the clawback leaves the balance
        at minus what it earned. STAMPS_OWED first fills a card with two
        more purchases and uses its voucher, so the return leaves a stamp
        owed."""
        member, at = self.members[i], START - dt.timedelta(days=40, hours=i)
        receipts = [(f"DEBT-{i}", bought, at)]
        if i == STAMPS_OWED:
            receipts[:0] = [
                (f"DEBT-{i}-{n}", [("LATTE", 1)], at - dt.timedelta(hours=n))
                for n in (2, 1)
            ]
        for receipt_id, lines, when in receipts:
            purchase, _replayed = purchase_record(
                store=self.stamp_store,
                member=member,
                receipt_id=receipt_id,
                lines=_sku_lines(lines),
                occurred_at=when,
                recorded_at=when,
                source=Purchase.Source.IMPORT,
            )
        if i == STAMPS_OWED:
            voucher_consume(
                code=Voucher.objects.get(member=member).code,
                store=self.stamp_store,
                receipt_id=f"DEBT-V-{i}",
                recorded_at=at + dt.timedelta(days=1),
            )
        points_adjust(
            member=member,
            points=-PointsAccount.objects.get(member=member).balance,
            reason="Spent at the partner shop",
            created_by=None,
            recorded_at=at + dt.timedelta(days=3),
        )
        purchase_return_record(
            purchase=purchase,
            store=self.stamp_store,
            receipt_id=f"DEBT-RET-{i}",
            amount=str(purchase.total),
            recorded_at=at + dt.timedelta(days=4),
        )
        if i == LAPSED:
            tiers_downgrade_due(today=(at + dt.timedelta(days=5)).date())

    def normal(self, value) -> str:
        text = json.dumps(value, default=str, sort_keys=True)
        for name, neutral in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(name, neutral)
        return text


def _when(n: int) -> dt.datetime:
    return START + dt.timedelta(hours=37 * n)


def _sku_lines(bought: list[tuple[str, int]]) -> list[dict]:
    by_sku = {sku: (name, cat, price) for sku, name, cat, price in SKUS}
    by_sku["TEA"] = ("Tea", "tea", "28.00")
    return [
        {
            "sku": sku,
            "name": by_sku[sku][0],
            "category": by_sku[sku][1],
            "quantity": str(quantity),
            "unit_price": by_sku[sku][2],
        }
        for sku, quantity in bought
    ]


def _lines_for(n: int) -> list[dict]:
    rng = random.Random(n)  # noqa: S311 - test data
    return [
        {
            "sku": sku,
            "name": name,
            "category": cat,
            "quantity": str(rng.randint(1, 3)),
            "unit_price": price,
        }
        for sku, name, cat, price in rng.sample(SKUS, rng.randint(1, 3))
    ]


def _file(state: State) -> str:
    """~70 receipts over a year for nine members (several crossing Silver,
    some Gold), some at the stamp store, shuffled, with bad rows."""
    rng = random.Random(11)  # noqa: S311 - test data
    cards = [m.card_number for m in state.members]
    rows = []
    for n in range(1, 71):
        who = 2 if n == 3 else 3 if n == 4 else rng.randrange(N_MEMBERS)
        store = state.stamp_store.code if n % 5 == 0 else state.main.code
        lines = _lines_for(n)
        total = sum(Decimal(x["quantity"]) * Decimal(x["unit_price"]) for x in lines)
        for x in lines:
            rows.append(
                [
                    store,
                    f"R-{n:04d}",
                    cards[who],
                    "",
                    f"{total:.2f}",
                    _when(n).isoformat(),
                    x["sku"],
                    x["name"],
                    x["category"],
                    x["quantity"],
                    x["unit_price"],
                ]
            )
    for i, (_bought, receipts) in DEBT.items():
        for receipt_id, after, minutes, stamp, bought in receipts:
            lines = _sku_lines(bought)
            total = sum(
                Decimal(x["quantity"]) * Decimal(x["unit_price"]) for x in lines
            )
            when = _when(after) + dt.timedelta(minutes=minutes)
            store = state.stamp_store.code if stamp else state.main.code
            rows += [
                [store, receipt_id, cards[i], "", f"{total:.2f}", when.isoformat()]
                + [x[k] for k in ("sku", "name", "category", "quantity", "unit_price")]
                for x in lines
            ]
    main, later = state.main.code, _when(30).isoformat()
    rows += [
        # by phone, no lines
        [main, "P-1", "", state.members[5].phone, "120.00", later, "", "", "", "", ""],
        ["nowhere", "X-1", cards[0], "", "10.00", later, "", "", "", "", ""],
        [main, "X-2", cards[0], "", "10.00", "yesterday", "", "", "", "", ""],
        [main, "X-3", "999999999999", "", "10.00", later, "", "", "", "", ""],
        # the total is not the lines' sum (purchase_record's error)
        [main, "X-4", cards[1], "", "99.00", later, "TEA", "Tea", "tea", "1", "35"],
        # a bad quantity on the second line (lines[1].quantity)
        [main, "X-5", cards[1], "", "", later, "TEA", "Tea", "tea", "1", "35"],
        [main, "X-5", cards[1], "", "", later, "TEA", "Tea", "tea", "x", "35"],
        # one receipt, two cards
        [main, "X-6", cards[4], "", "35.00", later, "TEA", "Tea", "tea", "1", "35"],
        [main, "X-6", cards[6], "", "35.00", later, "TEA", "Tea", "tea", "1", "35"],
        # in the future
        [main, "X-7", cards[4], "", "5.00", "2999-01-01T10:00:00+00:00"] + [""] * 5,
        # a duplicated row: the same line twice does not add up to the total
        [main, "X-8", cards[7], "", "42.00", later, "LATTE", "Latte", "coffee", "1"]
        + ["42.00"],
        [main, "X-8", cards[7], "", "42.00", later, "LATTE", "Latte", "coffee", "1"]
        + ["42.00"],
    ]
    rng.shuffle(rows)
    lines = [HEADER] + [",".join(str(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


# Columns stamped with the time of the run, not of the purchase.
NOW_STAMPED = {
    Referral: ("created_at", "qualified_at"),
    WebhookDelivery: ("created_at", "next_attempt_at", "give_up_at"),
}


def _natural(state: State, model, pk):
    if pk is None:
        return None
    if model is Member:
        return state.normal(Member.objects.get(pk=pk).card_number)
    if model is Purchase:
        p = Purchase.objects.select_related("store").get(pk=pk)
        return state.normal([p.store.code, p.receipt_id])
    if model is LedgerEntry:
        e = LedgerEntry.objects.get(pk=pk)
        return [_natural(state, Member, e.account.member_id), e.kind, str(e.created_at)]
    if model is PointsAccount:
        return _natural(state, Member, PointsAccount.objects.get(pk=pk).member_id)
    if model is PointsLot:
        return _natural(state, LedgerEntry, PointsLot.objects.get(pk=pk).entry_id)
    if model is WebhookEvent:
        e = WebhookEvent.objects.get(pk=pk)
        return [_natural(state, Member, e.member_id), e.sequence]
    if model is StampCard:
        c = StampCard.objects.get(pk=pk)
        return [_natural(state, Member, c.member_id), c.program_id, c.number]
    if model is Voucher:  # its code is drawn at random
        v = Voucher.objects.get(pk=pk)
        return [_natural(state, Member, v.member_id), v.reward_id, str(v.issued_at)]
    row = model.objects.get(pk=pk)
    return state.normal(str(row))


def _rows(state: State, model, **where) -> list[str]:
    """Every row of `model` in `state`, every column but the pk, timestamps
    of "now", random codes and ids inside JSON, keys made natural; sorted."""
    # The fingerprint hashes the member's pk: the replays below prove it alike.
    skip = {"id", "updated_at", "code", "content_version", "fingerprint"}
    out = []
    for row in model.objects.filter(**where):
        values = {}
        for f in model._meta.concrete_fields:
            if f.primary_key and not f.is_relation or f.name in skip:
                continue
            if f.is_relation:
                values[f.name] = _natural(
                    state, f.related_model, getattr(row, f.attname)
                )
            elif isinstance(f, models.JSONField) and isinstance(
                f.value_from_object(row), dict
            ):
                data = dict(f.value_from_object(row))
                for key in list(data):
                    if key.endswith("_id") and isinstance(data[key], int):
                        data[key] = "<id>"
                values[f.name] = data
            else:
                values[f.name] = f.value_from_object(row)
        values.pop("member_id", None)  # WebhookDelivery's copy, an id
        if values.get("idempotency_key"):  # "stamp-card:<pk>"
            values["idempotency_key"] = re.sub(r"\d+", "<n>", values["idempotency_key"])
        for name in NOW_STAMPED.get(model, ()):
            values[name] = values[name] is not None  # set or not, not when
        out.append(state.normal(values))
    return sorted(out)


def _snapshot(state: State) -> dict:
    members = state.members
    accounts = [
        state.normal([m.card_number, a.balance, a.tier.name if a.tier else None])
        + str(a.tier_lapsed_on)
        for m in members
        for a in [PointsAccount.objects.select_related("tier").get(member=m)]
    ]
    return {
        "accounts": sorted(accounts),
        "purchases": _rows(state, Purchase, member__in=members),
        "lines": _rows(state, PurchaseLine, purchase__member__in=members),
        "entries": _rows(state, LedgerEntry, account__member__in=members),
        "lots": _rows(state, PointsLot, account__member__in=members),
        "draws": _rows(state, LotDraw, entry__account__member__in=members),
        "tiers": _rows(state, TierHistory, member__in=members),
        "stamps": _rows(state, StampCard, member__in=members),
        "stamp_entries": _rows(state, StampEntry, card__member__in=members),
        "vouchers": _rows(state, Voucher, member__in=members),
        "referrals": _rows(state, Referral, referee__in=members),
        "events": _rows(state, WebhookEvent, member__in=members),
        "deliveries": _rows(state, WebhookDelivery, event__member__in=members),
    }


def _report(state: State, result) -> list:
    return [
        result.total,
        result.imported,
        result.skipped,
        [state.normal([e.line, e.column, str(e.message)]) for e in result.errors],
    ]


def test_batched_import_writes_exactly_what_purchase_record_does(
    program, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(imports, "CHUNK", 9)  # several batches, members across them
    queued: dict[str, list[int]] = {"one": [], "batch": []}
    run = ["one"]
    monkeypatch.setattr(
        "members.services.webhooks.webhook_deliveries_queue",
        lambda *, delivery_ids: queued[run[0]].extend(delivery_ids),
    )
    # What objects.create tells the receivers (the dashboard cache's).
    saved: dict[str, list] = {"one": [], "batch": []}

    def on_save(sender, instance, created, **kwargs):
        if sender in (Purchase, PurchaseLine, LedgerEntry, PointsLot, TierHistory):
            saved[run[0]].append((sender.__name__, created, bool(instance.pk)))

    post_save.connect(on_save, dispatch_uid="test-import-batches")
    one, batch = State("a", program), State("b", program)
    saved["one"].clear()
    start_one, start_batch = _snapshot(one), _snapshot(batch)
    for part in start_one:  # the same start
        assert start_one[part] == start_batch[part], (
            part,
            set(start_one[part]) ^ set(start_batch[part]),
        )

    with django_capture_on_commit_callbacks(execute=True) as one_commits:
        first = purchases_import(purchases_csv_read(_file(one)), batched=False)
    run[0] = "batch"
    batched = []
    real_add = purchase_batches._Writer.add
    monkeypatch.setattr(
        purchase_batches._Writer,
        "add",
        lambda self, *args: batched.append(1) or real_add(self, *args),
    )
    # Which receipts each chunk's batch was given, and which it wrote.
    calls: list[tuple[list[str], set[str]]] = []
    real_batch = imports.purchases_record_batch

    def spy_batch(*, receipts):
        taken = real_batch(receipts=receipts)
        calls.append(
            (
                [r.receipt_id for r in receipts],
                {
                    receipts[i].receipt_id
                    for i, replayed in taken.items()
                    if not replayed
                },
            )
        )
        return taken

    monkeypatch.setattr(imports, "purchases_record_batch", spy_batch)
    debt_start = {
        i: PointsAccount.objects.get(member=batch.members[i]).balance for i in DEBT
    }
    lapsed_start = PointsAccount.objects.select_related("tier").get(
        member=batch.members[LAPSED]
    )
    owed_start = sum(
        StampCard.objects.filter(member=batch.members[STAMPS_OWED]).values_list(
            "owed", flat=True
        )
    )
    with django_capture_on_commit_callbacks(execute=True) as batch_commits:
        second = purchases_import(purchases_csv_read(_file(batch)))

    assert _report(one, first) == _report(batch, second)
    assert first.imported > 50 and first.skipped == 1 and len(first.errors) >= 8
    before, after = _snapshot(one), _snapshot(batch)
    for part in before:
        assert before[part] == after[part], (part, set(before[part]) ^ set(after[part]))
    # The file moved members up mid-file, gave stamps and vouchers, and the
    # batch wrote much of it itself (the rest went through purchase_record).
    print(len(batched), first.imported)
    assert len(batched) > first.imported / 3
    assert TierHistory.objects.filter(member__in=batch.members).count() >= 4
    assert Voucher.objects.filter(member__in=batch.members).exists()
    _debt_cases_check(batch, debt_start, lapsed_start, owed_start, calls)
    # The same side effects on commit: one call per receipt, each delivery queued.
    assert len(one_commits) == len(batch_commits) > 0
    assert len(queued["one"]) == len(queued["batch"]) > 0
    post_save.disconnect(dispatch_uid="test-import-batches")
    assert sorted(saved["one"]) == sorted(saved["batch"])
    assert ledger_discrepancies() == []

    # Again: nothing changes, every receipt is skipped, the same errors.
    run[0] = "one"
    again_one = purchases_import(purchases_csv_read(_file(one)), batched=False)
    run[0] = "batch"
    again_batch = purchases_import(purchases_csv_read(_file(batch)))
    assert _report(one, again_one) == _report(batch, again_batch)
    assert again_batch.imported == 0
    assert _snapshot(batch) == after
    assert _snapshot(one) == before


def _debt_cases_check(
    state: State,
    debt_start: dict,
    lapsed_start: PointsAccount,
    owed_start: int,
    calls: list,
) -> None:
    """The members in debt are the cases DEBT says (so that the comparison
    above covers them), and the batch itself wrote their receipts."""
    assert all(balance < 0 for balance in debt_start.values()), debt_start
    assert lapsed_start.tier.name == "Silver" and lapsed_start.tier_lapsed_on
    chunk_of = {rid: n for n, (given, _w) in enumerate(calls) for rid in given}
    written = set().union(*(w for _g, w in calls))
    for _bought, receipts in DEBT.values():
        assert {r[0] for r in receipts} <= written
    assert len({chunk_of[r[0]] for r in DEBT[11][1]}) == 1
    assert len({chunk_of[r[0]] for r in DEBT[12][1]}) > 1

    def account(i):
        return PointsAccount.objects.select_related("tier").get(member=state.members[i])

    def lots(i):
        return list(
            PointsLot.objects.filter(
                account__member=state.members[i],
                entry__purchase__receipt_id__in=[r[0] for r in DEBT[i][1]],
            ).order_by("earned_at")
        )

    # Partly paid, twice: still in debt, no lot; its stamps paid what was owed.
    assert owed_start == 1
    assert StampEntry.objects.filter(
        card__member=state.members[STAMPS_OWED], owed_delta__lt=0
    ).exists()
    assert debt_start[9] < account(9).balance < 0 and lots(9) == []
    # Paid off by one receipt: what is left is a lot smaller than the credit.
    (lot,) = lots(10)
    assert lot.remaining == account(10).balance > 0 and lot.remaining < lot.points
    assert lot.remaining == lot.points + debt_start[10]
    # Four in one chunk: no lot, a part lot, Silver, full lots at x1.5.
    paid = lots(11)
    assert len(paid) == 3 and paid[0].remaining < paid[0].points
    assert all(x.remaining == x.points for x in paid[1:])
    assert account(11).tier.name == "Silver"
    assert paid[0].available_at > paid[0].earned_at and paid[0].expires_at
    # Across chunks: two receipts pay part of the debt, the third a part lot.
    (lot,) = lots(12)
    assert 0 < lot.remaining == account(12).balance < lot.points
    # Lapsed Silver: x1.5 on a part of the debt, exactly the rest (no lot),
    # then Silver kept and a whole lot.
    (lot,) = lots(LAPSED)
    lapsed = account(LAPSED)
    assert lapsed.tier.name == "Silver" and lapsed.tier_lapsed_on is None
    assert lot.remaining == lot.points == lapsed.balance == 315
    assert (
        Purchase.objects.get(
            member=state.members[LAPSED], receipt_id="D13-2"
        ).balance_after
        == 0
    )
