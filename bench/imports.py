"""7. Bulk CSV import: rows per second through `import_members` (chunks of rows
through members_enroll_many, member_enroll's set-based twin) and
`import_purchases` (chunks of receipts through purchases_record_batch, the
few it leaves through purchase_record; and its --dry-run), against
the same rows inserted with Django's bulk_create and no services (no checks,
no earning rules, no points lots, no tiers: the floor the ORM could reach).

Called by bench/run.py on its bench database (Django already set up). Sizes:
BENCH_IMPORT_MEMBERS (2000) members, BENCH_IMPORT_ROWS (10000) purchase rows,
(10 000 / 50 000 take ~10 times longer: set them to measure that size),
1 to 3 rows (receipt lines) per receipt, the file in random order.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from registry import numbers

N_MEMBERS = int(os.environ.get("BENCH_IMPORT_MEMBERS", "2000"))
N_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
SKUS = [
    ("LATTE", "Latte", "coffee", "42.00"),
    ("CROIS", "Croissant", "bakery", "38.50"),
    ("BEANS", "Beans 250 g", "beans", "210.00"),
    ("TEA", "Tea", "tea", "35.00"),
]


def _files(directory: Path) -> tuple[Path, Path, int, int]:
    """The two files, the number of purchase rows and of receipts they hold."""
    nums = numbers("import")
    rng = random.Random(7)  # noqa: S311 - test data
    members_csv, purchases_csv = directory / "members.csv", directory / "purchases.csv"
    cards = []
    with members_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "phone",
                "email",
                "first_name",
                "last_name",
                "birthday",
                "card_number",
                "store",
            ]
        )
        for i in range(N_MEMBERS):
            cards.append(nums.card(i))
            w.writerow(
                [
                    # as people type it: 067 700 00 07, normalized by the import
                    nums.phone_typed(i),
                    nums.email(i),
                    "Olena",
                    f"K{i}",
                    f"{1960 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    cards[-1],
                    "",
                ]
            )
    start = dt.datetime(2025, 11, 1, 8, tzinfo=dt.UTC)
    rows, receipt = [], 0
    while len(rows) < N_ROWS:
        receipt += 1
        card = cards[rng.randrange(N_MEMBERS)]
        when = (start + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))).isoformat()
        lines = [SKUS[rng.randrange(len(SKUS))] for _ in range(rng.randint(1, 3))]
        qty = [rng.randint(1, 3) for _ in lines]
        total = sum(
            Decimal(price) * q
            for (_s, _n, _c, price), q in zip(lines, qty, strict=True)
        )
        for (sku, name, cat, price), q in zip(lines, qty, strict=True):
            rows.append(
                [
                    "bench",
                    nums.receipt(receipt),
                    card,
                    "",
                    f"{total:.2f}",
                    when,
                    sku,
                    name,
                    cat,
                    q,
                    price,
                ]
            )
    # The last receipt may be cut short by N_ROWS and would not add up: drop it.
    last = rows[N_ROWS - 1][1] if len(rows) > N_ROWS else None
    full = [r for r in rows[:N_ROWS] if r[1] != last]
    rng.shuffle(full)  # the import puts receipts in time order itself
    with purchases_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
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
            ]
        )
        w.writerows(full)
    return members_csv, purchases_csv, len(full), len({r[1] for r in full})


def _timed(name: str, *args: str) -> float:
    from django.core.management import call_command

    t0 = time.perf_counter()
    try:
        call_command(name, *args)
    except SystemExit as exc:  # exit code 1: a row failed, which must not happen here
        raise RuntimeError(f"{name} reported row errors") from exc
    return time.perf_counter() - t0


def _baseline(members_csv: Path, purchases_csv: Path, store) -> tuple[float, float]:
    """The same rows with bulk_create: parse, normalize, insert; no services."""
    from django.db import transaction
    from django.utils import timezone

    from members.imports import MEMBER_COLUMNS, MEMBER_REQUIRED, csv_read
    from members.models import Member
    from members.phones import phone_normalize
    from members.services import referral_code_new
    from rewards.imports import csv_time_parse, purchases_csv_read
    from rewards.models import (
        LedgerEntry,
        LedgerKind,
        PointsAccount,
        Purchase,
        PurchaseLine,
    )

    t0 = time.perf_counter()
    rows = csv_read(
        members_csv.read_bytes(), required=MEMBER_REQUIRED, known=MEMBER_COLUMNS
    )
    now = timezone.now()
    with transaction.atomic():
        members = Member.objects.bulk_create(
            [
                Member(
                    phone=phone_normalize(r.get("phone")),
                    email=r.get("email"),
                    first_name=r.get("first_name"),
                    last_name=r.get("last_name"),
                    birthday=dt.date.fromisoformat(r.get("birthday")),
                    card_number=r.get("card_number"),
                    referral_code=referral_code_new(),
                    language="uk",
                    home_store=store,
                    enrolled_store=store,
                    enrolled_at=now,
                )
                for r in rows
            ],
            batch_size=1000,
        )
        PointsAccount.objects.bulk_create(
            [PointsAccount(member=m) for m in members], batch_size=1000
        )
    members_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows = purchases_csv_read(purchases_csv.read_bytes())
    receipts: dict[str, list] = {}
    for r in rows:
        receipts.setdefault(r.get("receipt_id"), []).append(r)
    accounts = {
        a.member.card_number: a
        for a in PointsAccount.objects.select_related("member").filter(
            member__in=members
        )
    }
    ordered = sorted(
        receipts.items(), key=lambda item: csv_time_parse(item[1][0].get("occurred_at"))
    )
    purchases, lines, entries = [], [], []
    for receipt_id, group in ordered:
        account = accounts[group[0].get("card_number")]
        total = Decimal(group[0].get("total"))
        points = int(total)
        account.balance += points
        when = csv_time_parse(group[0].get("occurred_at"))
        p = Purchase(
            store=store,
            receipt_id=receipt_id,
            member_id=account.member_id,
            total=total,
            occurred_at=when,
            points_earned=points,
            points_per_unit=Decimal(1),
            min_purchase=Decimal(0),
            balance_after=account.balance,
            source=Purchase.Source.IMPORT,
            fingerprint="",
            created_at=when,
        )
        purchases.append(p)
        lines.append(
            [
                PurchaseLine(
                    purchase=p,
                    sku=r.get("sku"),
                    name=r.get("name"),
                    category=r.get("category"),
                    quantity=Decimal(r.get("quantity")),
                    unit_price=Decimal(r.get("unit_price")),
                    amount=Decimal(r.get("quantity")) * Decimal(r.get("unit_price")),
                )
                for r in group
            ]
        )
        entries.append(
            LedgerEntry(
                account=account,
                kind=LedgerKind.EARN,
                points=points,
                balance_after=account.balance,
                reason="bulk",
                purchase=p,
                created_at=when,
            )
        )
    with transaction.atomic():
        Purchase.objects.bulk_create(purchases, batch_size=1000)
        PurchaseLine.objects.bulk_create(
            [x for group in lines for x in group], batch_size=1000
        )
        for e in entries:
            e.purchase_id = e.purchase.pk
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
        PointsAccount.objects.bulk_update(
            list(accounts.values()), ["balance"], batch_size=1000
        )
    purchases_s = time.perf_counter() - t0
    return members_s, purchases_s


def run() -> list[str]:
    """Run benchmark 7; return its Markdown table rows."""
    from django.core.management import call_command

    from members.models import Store
    from rewards.models import Purchase
    from rewards.selectors.invariants import ledger_discrepancies

    with tempfile.TemporaryDirectory() as tmp:
        members_csv, purchases_csv, n_rows, n_receipts = _files(Path(tmp))
        store = Store.objects.get_or_create(code="bench", defaults={"name": "Bench"})[0]
        print(f"7. Bulk import: {N_MEMBERS} members, {n_rows} purchase rows")
        members_s = _timed("import_members", str(members_csv), "--store", "bench")
        # Counted from the file and checked against the rows written: the
        # database also holds the purchases of the benchmarks run before this one
        # (bench/run.py without arguments runs them all), which counting every
        # Purchase put into the label (16377 "receipts" for 10000 rows).
        before = Purchase.objects.count()
        print("   the purchases file, --dry-run (checked, nothing written):")
        purchases_dry_s = _timed("import_purchases", str(purchases_csv), "--dry-run")
        assert Purchase.objects.count() == before, "the dry run wrote purchases"
        purchases_s = _timed("import_purchases", str(purchases_csv))
        receipts = Purchase.objects.count()
        assert receipts - before == n_receipts, (before, receipts, n_receipts)
        assert ledger_discrepancies() == []
        print("   the same purchases file again (every receipt replayed):")
        replay_s = _timed("import_purchases", str(purchases_csv))
        assert Purchase.objects.count() == receipts

        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)
        store = Store.objects.create(code="bench", name="Bench")
        print("   baseline: the same rows with bulk_create, no services")
        base_members_s, base_purchases_s = _baseline(members_csv, purchases_csv, store)
        assert ledger_discrepancies() == []

    def row(label: str, n: int, seconds: float, base: float | None) -> str:
        ratio = f"{(n / seconds) / (n / base):.3f}" if base else "1.00"
        return f"| {label} | {n} | {seconds:.2f} | {n / seconds:.0f} | {ratio} |"

    return [
        row(
            "import_members (members_enroll_many per chunk)",
            N_MEMBERS,
            members_s,
            base_members_s,
        ),
        row("members via bulk_create (baseline)", N_MEMBERS, base_members_s, None),
        row(
            f"import_purchases ({n_receipts} receipts: purchases_record_batch,"
            " purchase_record for the rest)",
            n_rows,
            purchases_s,
            base_purchases_s,
        ),
        row("purchases via bulk_create (baseline)", n_rows, base_purchases_s, None),
        row(
            "import_purchases again (all replayed)", n_rows, replay_s, base_purchases_s
        ),
        row(
            "import_purchases --dry-run (checked, nothing written)",
            n_rows,
            purchases_dry_s,
            base_purchases_s,
        ),
    ]


# --- moving from an earlier program -------------------------------------------------

N_MIGRATE = int(os.environ.get("BENCH_MIGRATE_MEMBERS", "10000"))
MIGRATE_FIRST = 500_000  # numbers("import") above the members of run()
MIGRATE_COLUMNS = (
    "phone",
    "email",
    "first_name",
    "last_name",
    "card_number",
    "email_consent",
    "email_consent_at",
    "sms_consent",
    "sms_consent_at",
    "opening_balance",
    "points_expire_on",
    "tier",
)


def _migration_file(path: Path, tiers: list[str]) -> int:
    """N_MIGRATE members of an earlier program, every one with an opening
    balance (a third with their own expiry date), a tier on two in three,
    consents with dates on half. Returns the sum of the opening balances."""
    nums = numbers("import")
    total = 0
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MIGRATE_COLUMNS)
        for k in range(N_MIGRATE):
            i = MIGRATE_FIRST + k
            points = 1 + (k * 37) % 5000
            total += points
            w.writerow(
                [
                    nums.phone_typed(i),
                    nums.email(i),
                    "Olena",
                    f"M{k}",
                    nums.card(i),
                    "yes" if k % 2 else "",
                    f"2021-{1 + k % 12:02d}-{1 + k % 28:02d}" if k % 2 else "",
                    "yes" if k % 4 == 0 else "no",
                    "2022-06-01T10:00:00+03:00" if k % 4 == 0 else "",
                    points,
                    f"{2030 + k % 3}-12-31" if k % 3 == 0 else "",
                    ("", *tiers)[k % 3],
                ]
            )
    return total


def run_migration() -> list[str]:
    """Import N_MIGRATE members with opening balances, tiers and consents
    through `import_members` (the dry run first, then the import), then check
    every ledger invariant (what `verify_ledger` checks) and the balances.
    Returns its Markdown table rows (same columns as run()'s)."""
    from django.db.models import Sum

    from members.models import Member, Store
    from rewards.models import LedgerEntry, Tier
    from rewards.selectors.invariants import ledger_invariant_violations

    Store.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    tiers = [
        Tier.objects.get_or_create(rank=rank, defaults={"name": name})[0].name
        for rank, name in ((91, "Bench Silver"), (92, "Bench Gold"))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "earlier-program.csv"
        opening = _migration_file(path, tiers)
        print(f"   moving {N_MIGRATE} members with balances from an earlier program")
        before = Member.objects.count()
        dry_s = _timed("import_members", str(path), "--store", "bench", "--dry-run")
        assert Member.objects.count() == before, "the dry run wrote members"
        real_s = _timed("import_members", str(path), "--store", "bench")
        t0 = time.perf_counter()
        violations = ledger_invariant_violations()
        verify_s = time.perf_counter() - t0
    assert violations == [], violations[:5]
    assert Member.objects.count() - before == N_MIGRATE
    written = LedgerEntry.objects.filter(reason_code="opening_balance").aggregate(
        total=Sum("points")
    )["total"]
    assert written >= opening, (written, opening)
    limit = "under 60 s" if real_s < 60 else "OVER 60 s"
    return [
        f"| import_members, earlier program: {N_MIGRATE} members with opening "
        f"balances, tiers, consents ({limit}) | {N_MIGRATE} | {real_s:.2f} | "
        f"{N_MIGRATE / real_s:.0f} | |",
        f"| the same file, --dry-run (the import rolled back) | {N_MIGRATE} | "
        f"{dry_s:.2f} | {N_MIGRATE / dry_s:.0f} | |",
        f"| verify_ledger's checks after it (whole database) | | {verify_s:.2f} | | |",
    ]
