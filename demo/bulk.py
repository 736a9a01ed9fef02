"""A large demo data set written in bulk: `manage.py seed_demo --members 100000
--purchases 1000000`. The stores, staff, tiers and rewards come from seed_demo's
own helpers; members, points accounts, purchases and their lines, ledger
entries, points lots and their draws, till redemptions and tier history are
computed here member by member and written with COPY on PostgreSQL
(executemany on SQLite), a chunk of members per transaction.

The ledger stays whole: one EARN entry per purchase (points = the total times
the program's rate and the member's tier multiplier, rounded down: at most 3 %
back, under the program's cap) with its lot (no expiry), and
redemptions that spend at most the balance, drawing the oldest lots first; each
entry's balance_after is the running sum. verify_ledger runs at the end.

Planted patterns (docs/analytics.md, "The large demo data set"):
- seasonality: December ×1.5, June–August ×0.7, Saturdays ×1.2 (day weights);
- churners: 30% of the regular and occasional members stop buying 1–5 months
  after they enrolled; one-off members buy once or twice in their first weeks;
- category loyalty: 35% of members buy 80% of their lines in one category
  (Member.interests holds it as ["loyal:<category>"]);
- heavy users: 1% of members buy about 12 times as often as a regular, with
  bigger baskets, and reach Gold;
- a launch cohort: 20% of members enroll in the first month, the rest spread
  over the period with slow growth;
- where members came from (demo.seed_sources.bulk_sources_plan): about half
  the launch month's members imported from the old card system, the others
  online with UTM parameters, by a friend's referral, at the partner bakery's
  counter or at a till, with acquisition spend per channel to match.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from demo.bulk_copy import BulkWriter, card_number, next_id, referral_code
from demo.bulk_data import (
    CHUNK_MEMBERS,
    FIRST_NAMES,
    HOURS,
    KYIV,
    LAST_NAMES,
    LOYAL_LINES,
    REDEEM_CHANCE,
    REDEEM_MIN_BALANCE,
    SEGMENTS,
)
from demo.bulk_plan import BulkPlanning
from demo.data import CATALOG, LOGINS, STORES, TOKEN_NAME
from demo.seed_analytics import inputs_seed
from demo.seed_sources import (
    bulk_channel_spend_save,
    bulk_partner_store,
    bulk_sources_plan,
)
from members.models import Member, User
from members.services import api_token_create
from rewards.earning import cap_per_unit_get
from rewards.models import (
    LedgerEntry,
    LotDraw,
    PointsAccount,
    PointsLot,
    Purchase,
    PurchaseLine,
    Redemption,
    TierHistory,
)
from rewards.reasons import (
    PURCHASE_EARN,
    REDEMPTION_DISCOUNT,
    TIER_ENROLLED,
    TIER_THRESHOLD_REACHED,
    reason_split,
    system_reason,
)
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.selectors.program import program_settings_get


def _reason(code: str, **params) -> tuple[str, str, str]:
    """The reason columns of a system text (rewards.reasons) as COPY takes them."""
    code, params, text = reason_split(system_reason(code, **params))
    return text, code, json.dumps(params)


class BulkSeed(BulkPlanning):
    """Plans and writes the data set; see the module docstring."""

    def __init__(self, *, command, members: int, purchases: int, seed: int):
        self.command = command
        self.out = command.stdout
        self.n_members = members
        self.n_purchases = purchases
        self.rng = random.Random(seed)
        self.seed = seed
        self.start: dt.datetime = command.start
        self.end: dt.datetime = command.end
        self.stats = {"redemptions": 0, "tier_moves": 0, "lines": 0}

    # --- the calendar ------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> dict:
        started = time.monotonic()
        self.stores = self.command.stores
        self.tiers = sorted(self.command.tiers, key=lambda t: t.rank)

        self.catalog = [
            (sku, name, cat, Decimal(price), weighed)
            for sku, name, cat, price, weighed in CATALOG
        ]
        self.categories = sorted({c[2] for c in self.catalog})
        self.by_category = {
            cat: [c for c in self.catalog if c[2] == cat] for cat in self.categories
        }
        conf = program_settings_get()
        self.point_value = conf.point_value
        self.rate = conf.points_per_unit
        self.cap_per_unit = cap_per_unit_get(
            percent=conf.earn_cap_percent, point_value=conf.point_value
        )
        self._calendar()
        plans = self._plan_members()
        self.out.write(
            f"Planned {len(plans)} members and "
            f"{sum(p['count'] for p in plans)} purchases in "
            f"{time.monotonic() - started:.1f} s; writing..."
        )
        demo_user = User.objects.create_user(
            username="demo@example.com", email="demo@example.com"
        )
        self.demo_user_id = demo_user.pk
        self.ids = {
            m: next_id(m)
            for m in (
                Member,
                PointsAccount,
                Purchase,
                PurchaseLine,
                LedgerEntry,
                PointsLot,
                LotDraw,
                Redemption,
                TierHistory,
            )
        }
        self.w = {
            "member": BulkWriter(
                Member,
                [
                    "id",
                    "user_id",
                    "card_number",
                    "phone",
                    "email",
                    "first_name",
                    "last_name",
                    "birthday",
                    "gender",
                    "interests",
                    "language",
                    "email_consent",
                    "email_consent_at",
                    "email_consent_source",
                    "sms_consent",
                    "sms_consent_at",
                    "sms_consent_source",
                    "home_store_id",
                    "enrolled_store_id",
                    "enrolled_at",
                    "referral_code",
                    "search_text",
                    "source",
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "first_seen_at",
                    "referred_by_id",
                ],
            ),  # fmt: skip
            "account": BulkWriter(
                PointsAccount,
                ["id", "member_id", "balance", "tier_id", "tier_since", "updated_at"],
            ),
            "purchase": BulkWriter(
                Purchase,
                [
                    "id",
                    "store_id",
                    "receipt_id",
                    "member_id",
                    "total",
                    "occurred_at",
                    "points_earned",
                    "points_per_unit",
                    "min_purchase",
                    "points_exact",
                    "eligible_total",
                    "tier_multiplier",
                    "tier_id",
                    "points_cap_per_unit",
                    "membership_multiplier",
                    "balance_after",
                    "source",
                    "fingerprint",
                    "created_at",
                ],
            ),  # fmt: skip
            "line": BulkWriter(
                PurchaseLine,
                [
                    "id",
                    "purchase_id",
                    "sku",
                    "name",
                    "category",
                    "quantity",
                    "unit_price",
                    "amount",
                    "eligible",
                    "points_exact",
                ],
            ),  # fmt: skip
            "redemption": BulkWriter(
                Redemption,
                [
                    "id",
                    "member_id",
                    "store_id",
                    "receipt_id",
                    "points",
                    "discount",
                    "balance_after",
                    "fingerprint",
                    "created_at",
                ],
            ),  # fmt: skip
            "entry": BulkWriter(
                LedgerEntry,
                [
                    "id",
                    "account_id",
                    "kind",
                    "points",
                    "balance_after",
                    "reason",
                    "reason_code",
                    "reason_params",
                    "purchase_id",
                    "redemption_id",
                    "created_at",
                ],
            ),  # fmt: skip
            "lot": BulkWriter(
                PointsLot,
                [
                    "id",
                    "account_id",
                    "entry_id",
                    "points",
                    "remaining",
                    "earned_at",
                    "available_at",
                ],
            ),  # fmt: skip
            "draw": BulkWriter(LotDraw, ["id", "entry_id", "lot_id", "points"]),
            "tier": BulkWriter(
                TierHistory,
                [
                    "id",
                    "member_id",
                    "from_tier_id",
                    "to_tier_id",
                    "kind",
                    "reason",
                    "reason_code",
                    "reason_params",
                    "value",
                    "created_at",
                ],
            ),  # fmt: skip
        }
        self.partner_store = bulk_partner_store()
        bulk_sources_plan(
            plans,
            first_id=self.ids[Member],
            launch_days=min(30, len(self.days)),
            rng=random.Random(self.seed + 16),
        )
        self.receipt = 0
        written = 0
        self.skip_fk_triggers = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                )
                self.skip_fk_triggers = bool(cursor.fetchone()[0])
        for chunk_start in range(0, len(plans), CHUNK_MEMBERS):
            chunk = plans[chunk_start : chunk_start + CHUNK_MEMBERS]
            for plan in chunk:
                self._member(plan)
            with transaction.atomic(), connection.cursor() as cursor:
                if self.skip_fk_triggers:
                    # Rows come whole from one plan; verify_ledger checks the
                    # result. Per-row FK triggers would double the load time.
                    cursor.execute("SET LOCAL session_replication_role = replica")
                for name in ("member", "account", "purchase", "line", "redemption",
                             "entry", "lot", "draw", "tier"):  # fmt: skip
                    self.w[name].flush(cursor)
            written += len(chunk)
            if progress:
                progress(written, len(plans))
        self._sequences_reset()
        self.stats["sources"] = bulk_channel_spend_save(
            plans, partner_store=self.partner_store, rng=random.Random(self.seed + 17)
        )
        return {"seconds": time.monotonic() - started, **self.stats}

    def _new_id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def _member(self, plan: dict) -> None:
        rng = self.rng
        i = plan["i"]
        member_id = self._new_id(Member)
        account_id = self._new_id(PointsAccount)
        enrolled = plan["enrolled"]
        store = self.stores[plan["store"]]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"member{i}@example.net" if rng.random() < 0.5 else None
        phone = f"+38099{i:07d}"
        if i == 0:
            email, phone = "demo@example.com", "+380501234567"
        consent = rng.random() < 0.6
        interests = [f"loyal:{plan['loyal']}"] if plan["loyal"] else []
        self.w["member"].add(
            member_id,
            self.demo_user_id if i == 0 else None,
            card_number(member_id),
            phone,
            email,
            first,
            last,
            dt.date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.7
            else None,
            rng.choice(["f", "m", ""]),
            json.dumps(interests),
            "uk",
            consent and email is not None,
            enrolled if consent and email else None,
            "counter" if consent and email else "",
            consent,
            enrolled if consent else None,
            "counter" if consent else "",
            store.pk,
            self.partner_store.pk
            if plan["partner"]
            else (None if plan["source"] == "online" else store.pk),
            enrolled,
            referral_code(member_id),
            " ".join(x for x in (first, last, email or "") if x).casefold(),
            plan["source"],
            *plan["utm"],
            plan["first_seen"],
            plan["referred_by"],
        )
        tier_index = 0
        tier = self.tiers[0] if self.tiers else None
        tier_since = enrolled
        if tier is not None:
            self.w["tier"].add(
                self._new_id(TierHistory), member_id, None, tier.pk, "initial",
                *_reason(TIER_ENROLLED), Decimal("0"), enrolled,
            )  # fmt: skip
        balance = 0
        lots: list[
            list
        ] = []  # [lot id, points, remaining, earned, entry id], oldest first
        spend = Decimal("0")
        n = plan["count"]
        a = max(plan["first_day"], 0)
        b = max(plan["last_day"], a)
        day_indexes = self._draw_days(a, b, n)
        previous = enrolled
        lines_range = SEGMENTS[plan["segment"]][2]
        heavy = plan["segment"] == "heavy"
        for day_index in day_indexes:
            at = dt.datetime.combine(
                self.days[day_index],
                dt.time(rng.choice(HOURS), rng.randrange(60), rng.randrange(60)),
                tzinfo=KYIV,
            )
            # Strictly after the previous event: the ledger orders by time.
            at = max(at, previous + dt.timedelta(minutes=2))
            if at > self.end:
                break
            previous = at
            store_index = (
                plan["store"] if rng.random() < 0.8 else rng.randrange(len(self.stores))
            )
            shop = self.stores[store_index]
            purchase_id = self._new_id(Purchase)
            self.receipt += 1
            multiplier = tier.earn_multiplier if tier is not None else Decimal("1")
            per_unit = self.rate * multiplier
            total = Decimal("0")
            for _line in range(
                rng.randint(*lines_range) + (1 if heavy and rng.random() < 0.5 else 0)
            ):
                if plan["loyal"] and rng.random() < LOYAL_LINES:
                    sku, name, cat, price, weighed = rng.choice(
                        self.by_category[plan["loyal"]]
                    )
                else:
                    sku, name, cat, price, weighed = rng.choice(self.catalog)
                if weighed:
                    qty = Decimal(rng.randint(250, 1200)) / 1000
                else:
                    qty = Decimal(2 if rng.random() < 0.15 else 1)
                amount = (price * qty).quantize(Decimal("0.01"))
                total += amount
                self.w["line"].add(
                    self._new_id(PurchaseLine), purchase_id, sku, name, cat,
                    qty, price, amount, True, amount * per_unit,
                )  # fmt: skip
                self.stats["lines"] += 1
            exact = total * per_unit
            points = int(exact.to_integral_value(rounding=ROUND_DOWN))
            balance += points
            entry_id = self._new_id(LedgerEntry)
            receipt = f"B{self.receipt}"
            self.w["purchase"].add(
                purchase_id, shop.pk, receipt, member_id, total, at, points,
                per_unit, Decimal("0"), exact, total, multiplier,
                tier.pk if tier is not None else None, self.cap_per_unit, Decimal("1"),
                balance, "import", "bulk", at,
            )  # fmt: skip
            self.w["entry"].add(
                entry_id, account_id, "earn", points, balance,
                *_reason(PURCHASE_EARN, receipt=receipt, store=shop.code),
                purchase_id, None, at,
            )  # fmt: skip
            if points:
                lot_id = self._new_id(PointsLot)
                lots.append([lot_id, points, points, at, entry_id])
            spend += total
            # A qualifying purchase moves the member up at once (later ones earn more).
            while (
                tier_index + 1 < len(self.tiers)
                and spend >= self.tiers[tier_index + 1].threshold
            ):
                old = self.tiers[tier_index]
                tier_index += 1
                tier = self.tiers[tier_index]
                tier_since = at
                self.w["tier"].add(
                    self._new_id(TierHistory), member_id, old.pk, tier.pk, "up",
                    *_reason(TIER_THRESHOLD_REACHED), spend, at,
                )  # fmt: skip
                self.stats["tier_moves"] += 1
            chance = REDEEM_CHANCE * (1.5 if heavy else 1.0)
            if balance >= REDEEM_MIN_BALANCE and rng.random() < chance:
                spend_points = min(balance // 100, rng.choice([2, 3, 5, 10])) * 100
                at_redeem = at + dt.timedelta(seconds=30)
                previous = at_redeem
                balance -= spend_points
                redemption_id = self._new_id(Redemption)
                self.receipt += 1
                self.w["redemption"].add(
                    redemption_id, member_id, shop.pk, f"R{self.receipt}",
                    spend_points, (Decimal(spend_points) * self.point_value).quantize(
                        Decimal("0.01")
                    ),
                    balance, "bulk", at_redeem,
                )  # fmt: skip
                redeem_entry = self._new_id(LedgerEntry)
                self.w["entry"].add(
                    redeem_entry, account_id, "redeem", -spend_points, balance,
                    *_reason(
                        REDEMPTION_DISCOUNT, receipt=f"R{self.receipt}", store=shop.code
                    ),
                    None, redemption_id, at_redeem,
                )  # fmt: skip
                need = spend_points
                for lot in lots:
                    if not need:
                        break
                    take = min(lot[2], need)
                    if take:
                        lot[2] -= take
                        need -= take
                        self.w["draw"].add(
                            self._new_id(LotDraw), redeem_entry, lot[0], take
                        )
                self.stats["redemptions"] += 1
        # Lots last: their remaining points are known once the member's history is.
        for lot_id, points, remaining, at, entry_id in lots:
            self.w["lot"].add(lot_id, account_id, entry_id, points, remaining, at, at)
        self.w["account"].add(
            account_id, member_id, balance, tier.pk if tier else None, tier_since,
            self.end,
        )  # fmt: skip

    def _sequences_reset(self) -> None:
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in self.ids:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
                cursor.execute(f"ANALYZE {table}")


def seed(*, command, members: int, purchases: int, seed: int) -> None:
    """seed_demo's bulk path: stores, staff, tiers and rewards through its own
    helpers, then the members' history in bulk, the ledger check, the logins
    and the analytics snapshots."""
    from analytics.management.commands.analytics_recompute import progress_bar
    from analytics.services.rfm import rfm_refresh
    from analytics.services.snapshots import snapshots_refresh_range

    out = command.stdout
    started = time.monotonic()
    command.stores = command._stores_create()
    command.staff = command._staff_create()
    command.tiers = command._tiers_create()
    command.rewards = command._rewards_create()
    command._program_money_set()
    bulk = BulkSeed(command=command, members=members, purchases=purchases, seed=seed)
    stats = bulk.run(progress=progress_bar(out))
    out.write(
        "Sources: "
        + ", ".join(f"{source} {n}" for source, n in stats["sources"].items())
    )
    out.write(
        f"Wrote {members} members, {bulk.receipt - stats['redemptions']} purchases "
        f"({stats['lines']} lines), {stats['redemptions']} redemptions, "
        f"{stats['tier_moves']} tier moves in {stats['seconds']:.1f} s."
    )
    for user in User.objects.filter(
        username__in=[login for _who, login, _pw, _path in LOGINS]
    ):
        password = next(pw for _w, login, pw, _p in LOGINS if login == user.username)
        user.password = make_password(password)
        user.save(update_fields=["password"])
    check = time.monotonic()
    problems = ledger_invariant_violations()
    if problems:
        raise RuntimeError(f"Ledger check failed: {problems[:3]}")
    out.write(f"verify_ledger: clean ({time.monotonic() - check:.1f} s).")

    inputs_seed(
        start=command.start,
        end=timezone.now(),
        rng=random.Random(seed + 7),
        acquisition=False,  # BulkSeed wrote it per channel
    )
    snap = time.monotonic()
    out.write("Analytics snapshots...")
    snapshots_refresh_range(
        day_from=command.start.astimezone(KYIV).date(),
        day_to=timezone.localdate(),
        progress=progress_bar(out),
    )
    out.write(f"Snapshots in {time.monotonic() - snap:.1f} s.")
    rfm = time.monotonic()
    # The nightly scores: the Acquisition page's CLV per channel reads them.
    scored = rfm_refresh(now=command.end)
    out.write(f"RFM scores: {scored} members in {time.monotonic() - rfm:.1f} s.")

    store = next(s for s in command.stores if s.code == STORES[0][0])
    _token, raw = api_token_create(store=store, name=TOKEN_NAME)
    out.write(
        command.style.SUCCESS(
            f"Bulk demo data done in {time.monotonic() - started:.1f} s."
        )
    )
    command._print_logins(token=raw)
