"""Load the demo data set once: stores, staff, members and a year of history.

Everything is written through the services, one event at a time in global
chronological order, so ledger entries are stamped in the order they happened
and every balance equals the sum of its entries. The services open their own
durable transactions: this command must not wrap them in another one.

Demo only: the phone numbers are valid Ukrainian mobile numbers that may belong
to real people, so never point a real SMS gateway at a seeded database. Email
addresses use the reserved example.* domains.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from faker import Faker

from demo import seed_campaigns as campaigns_demo
from demo import seed_feedback as demo_feedback
from demo import seed_recommendations as demo_recs
from demo.bulk import seed as bulk_seed
from demo.data import (
    ADJUSTMENTS,
    ADMIN,
    BONUSES,
    CATALOG,
    DEMO_EMAIL,
    DEMO_PHONE,
    DEMO_REFERRALS,
    EARNING_RULES,
    EMAIL_DOMAINS,
    EXPIRE_MONTHS,
    HOME_STORE_WEIGHTS,
    HOUR_WEIGHTS,
    INTERESTS,
    KYIV,
    LOCALES,
    LOGINS,
    MEMBERSHIP_SUBSCRIBERS,
    MOBILE_CODES,
    PARTNER,
    PARTNER_DAYS,
    PARTNER_REWARD,
    PARTNER_SHARE,
    PARTNER_STORE,
    PENDING_DAYS,
    REFERRED_SHARE,
    RETURN_SHARE,
    REWARDS,
    SEASON,
    SEGMENTS,
    SHOP_HOURS,
    STAFF,
    STAMP_PROGRAMS,
    STAMP_VOUCHER_USE_SHARE,
    STORES,
    TIERS,
    TOKEN_NAME,
    TRANSLIT,
    TRANSLIT_RU,
    WEEKDAY,
)
from demo.seed_analytics import seed as analytics_demo_seed
from demo.seed_delivery import seed as delivery_seed
from demo.seed_events import seed as events_demo_seed
from demo.seed_segments import seed as segments_demo_seed
from members.errors import Conflict
from members.links import absolute_url
from members.models import (
    ApiToken,
    ConsentSource,
    Gender,
    Member,
    Store,
    User,
)
from members.services import (
    api_token_create,
    member_enroll,
    member_update_profile,
    partner_create,
    store_get_or_create,
)
from rewards.models import (
    EarningRule,
    MembershipPlan,
    Purchase,
    Reward,
    StampProgram,
    Tier,
    Voucher,
    VoucherSource,
)
from rewards.selectors import (
    ledger_discrepancies,
    stamp_card_violations,
)
from rewards.services import (
    LineInput,
    ReturnLineInput,
    birthday_bonus_grant_due,
    bonus_settings_update,
    earning_rule_save,
    membership_plan_save,
    membership_vouchers_issue_due,
    points_adjust,
    points_expire_due,
    points_redeem,
    program_settings_update,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    reward_save,
    stamp_cards_expire_due,
    stamp_program_save,
    subscription_cancel,
    subscription_sell,
    subscriptions_expire_due,
    tier_save,
    voucher_consume,
    voucher_expire_due,
)


@dataclass
class Plan:
    """A member to be: who they are and how they shop."""

    phone: str
    first_name: str
    last_name: str
    gender: str
    language: str
    email: str | None
    birthday: dt.date | None
    interests: list[str]
    store_index: int
    enrolled_at: dt.datetime
    rate: float
    stops_at: dt.datetime | None
    email_consent: bool
    sms_consent: bool
    source: str = ConsentSource.COUNTER
    redeem_appetite: float = 0.15
    is_demo: bool = False
    voucher_kept: bool = False
    user: User | None = None
    member: Member | None = None
    balance: int = 0
    referred_by: Plan | None = None


@dataclass
class Stats:
    members: int = 0
    purchases: int = 0
    returns: int = 0
    redemptions: int = 0
    adjustments: int = 0
    overdrawn_by_return: int = 0
    vouchers: int = 0
    vouchers_used: int = 0
    vouchers_expired: int = 0
    subscriptions: int = 0
    referrals: int = 0
    birthday_bonuses: int = 0
    lots_expired: int = 0
    stamp_vouchers: int = 0


@dataclass(order=True)
class Event:
    at: dt.datetime
    order: int  # enrollments first, then purchases, returns, adjustments
    seq: int
    kind: str = field(compare=False)
    plan: Plan = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


class Command(BaseCommand):
    help = (
        "Load demo data once: 3 stores, a staff user per role, a demo customer and "
        "members with months of purchases, returns and redemptions. Does nothing "
        "when the demo data is there already."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=200, help="default 200")
        parser.add_argument("--months", type=int, default=12, help="default 12")
        parser.add_argument("--seed", type=int, default=42, help="default 42")
        parser.add_argument(
            "--purchases",
            type=int,
            default=None,
            help="a large data set in bulk with this many purchases (demo.bulk)",
        )

    def handle(self, *args, members: int, months: int, seed: int, **options):
        if members < 1 or months < 1:
            raise CommandError("--members and --months must be at least 1.")
        started = time.monotonic()
        if self._already_seeded():
            self.stdout.write("The demo data is there already; nothing to do.")
            self._print_logins(token=None)
            return

        self.rng = random.Random(seed)
        self.stamp_rng = random.Random(seed + 2)
        self.seed = seed
        self.stats = Stats()
        self.seq = 0
        self.end = timezone.now().replace(second=0, microsecond=0)
        self.end -= dt.timedelta(hours=1)
        self.start = self.end - dt.timedelta(days=round(months * 30.44))
        if options.get("purchases"):
            return bulk_seed(
                command=self, members=members, purchases=options["purchases"], seed=seed
            )
        self.stdout.write(
            f"Seeding demo data: {members} members, {months} months "
            f"({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}), seed {seed}."
        )
        # PBKDF2 takes most of a second per password; hash on the other core
        # while the history is written (hashlib releases the GIL).
        with ThreadPoolExecutor(max_workers=2) as pool:
            hashes = {
                login: pool.submit(make_password, password)
                for _who, login, password, _path in LOGINS
            }
            self.stores = self._stores_create()
            self.receipts = [0] * len(self.stores)
            self.staff = self._staff_create()
            # Before the purchase stream, so members move up in time order.
            self.tiers = self._tiers_create()
            self.rewards = self._rewards_create()
            self._earning_create()
            self._stamp_programs_create()
            bonus_settings_update(**BONUSES)
            plans = self._members_plan(members, seed)
            self._referrals_plan(plans, seed)
            events = self._events_plan(plans)
            self._partner_plan(events)
            events += self._memberships_plan(plans)
            self.stdout.write(f"Writing {len(events)} events in time order...")
            self._events_run(events)
            self._points_expire_and_pend()
            stamp_cards_expire_due(now=self.end)
            self._memberships_finish()
            delivery_seed(command=self)
            segments_demo_seed(command=self)
            campaigns_demo.seed(command=self)
            events_demo_seed(command=self)
            demo_recs.seed(command=self)
            demo_feedback.seed(command=self)
            analytics_demo_seed(command=self)
            self._passwords_set(hashes)

        problems = ledger_discrepancies() + stamp_card_violations()
        if problems:
            raise CommandError(f"Ledger check failed: {problems[:3]}")
        _token, raw = api_token_create(store=self.stores[0], name=TOKEN_NAME)
        s = self.stats
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {time.monotonic() - started:.1f} s: {s.members} members, "
                f"{s.purchases} purchases, {s.returns} returns "
                f"({s.overdrawn_by_return} left a balance owed), "
                f"{s.redemptions} redemptions, {s.adjustments} adjustments, "
                f"{s.vouchers} vouchers ({s.vouchers_used} used, "
                f"{s.vouchers_expired} expired), {s.stamp_vouchers} vouchers for "
                f"full stamp cards, {s.subscriptions} membership sales, "
                f"{s.referrals} referrals, {s.birthday_bonuses} birthday bonuses, "
                f"{s.lots_expired} expired points lots."
            )
        )
        self._print_logins(token=raw)

    def _already_seeded(self) -> bool:
        """True when a complete demo set is there; refuses a half-written one."""
        if ApiToken.objects.filter(store__code=STORES[0][0], name=TOKEN_NAME).exists():
            return True
        logins = [login for _who, login, _pw, _path in LOGINS]
        if (
            Store.objects.filter(code__in=[code for code, *_rest in STORES]).exists()
            or User.objects.filter(username__in=logins).exists()
        ):
            raise CommandError(
                "Part of the demo data is there but not all of it (an earlier run "
                "stopped half-way?). Start from an empty database: `make clean` "
                "removes the SQLite file and the venv; then `make run`."
            )
        groups = {group for _u, _p, group, *_rest in STAFF}
        missing = groups - set(
            Group.objects.filter(name__in=groups).values_list("name", flat=True)
        )
        if missing:
            raise CommandError(
                f"Group(s) {', '.join(sorted(missing))} missing: "
                "run `manage.py migrate` first."
            )
        return False

    # --- stores and staff --------------------------------------------------------

    def _stores_create(self) -> list[Store]:
        stores = []
        for code, name, address in STORES:
            store, _created = store_get_or_create(
                code=code, name=name, address=address, timezone_name="Europe/Kyiv"
            )
            stores.append(store)
        self.stdout.write(f"Stores: {', '.join(s.code for s in stores)}")
        return stores

    def _staff_create(self) -> dict[str, User]:
        """Staff users with unusable passwords; _passwords_set gives them theirs."""
        by_code = {s.code: s for s in self.stores}
        staff = {}
        for username, _password, group, store_code, first, last in STAFF:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@example.com",
                first_name=first,
                last_name=last,
                is_staff=True,
                store=by_code[store_code],
            )
            user.groups.add(Group.objects.get(name=group))
            staff[username] = user
        staff[ADMIN[0]] = User.objects.create_superuser(
            username=ADMIN[0], email="admin@example.com", store=self.stores[0]
        )
        self.stdout.write(f"Staff users: {', '.join(staff)}")
        return staff

    def _tiers_create(self) -> list[Tier]:
        tiers = [
            tier_save(
                tier=Tier(
                    name=name,
                    rank=rank,
                    threshold=Decimal(threshold),
                    earn_multiplier=Decimal(multiplier),
                    benefits=benefits,
                    grace_days=30,
                )
            )
            for name, rank, threshold, multiplier, benefits in TIERS
        ]
        self.stdout.write(f"Tiers: {', '.join(t.name for t in tiers)}")
        return tiers

    def _earning_create(self) -> None:
        """Earning rules of every kind, a draft for the simulator, and points that
        expire 9 months after they are earned (so the oldest history expires)."""
        program_settings_update(points_expire_months=EXPIRE_MONTHS)
        for name, kind, status, match, values, stores in EARNING_RULES:
            earning_rule_save(
                rule=EarningRule(
                    name=name, kind=kind, status=status, **match, **values
                ),
                stores=[self.stores[i] for i in stores],
            )

    def _points_expire_and_pend(self) -> None:
        """After the history: expire what is older than the expiry, then make new
        points pend for a week, with a fresh purchase of the demo customer to show it."""
        self.stats.lots_expired = points_expire_due(now=self.end)
        program_settings_update(pending_days=PENDING_DAYS)
        demo = Member.objects.get(email=DEMO_EMAIL)
        purchase_record(
            store=self.stores[0],
            member=demo,
            receipt_id="DEMO-TODAY",
            lines=[
                LineInput(
                    sku="COF-CAP",
                    name="Капучино",
                    category="coffee",
                    quantity=Decimal(2),
                    unit_price=Decimal("65.00"),
                ),
                LineInput(
                    sku="BAK-CRS",
                    name="Круасан вершковий",
                    category="bakery",
                    quantity=Decimal(1),
                    unit_price=Decimal("55.00"),
                ),
            ],
        )

    def _rewards_create(self) -> list[Reward]:
        rewards = []
        for (name, description, kind, value, cost, stock, limit, days, on_cancel,
             on_expiry) in REWARDS:  # fmt: skip
            rewards.append(
                reward_save(
                    reward=Reward(
                        name=name,
                        description=description,
                        type=kind,
                        value=value,
                        points_cost=cost,
                        stock=stock,
                        limit_count=limit[0] if limit else None,
                        limit_days=limit[1] if limit else None,
                        voucher_valid_days=days,
                        refund_points_on_cancel=on_cancel,
                        refund_points_on_expiry=on_expiry,
                        created_at=self.start,
                    )
                )
            )
        self.stdout.write(f"Rewards: {len(rewards)}")
        return rewards

    def _stamp_programs_create(self) -> None:
        """Before the purchase stream, so the year's coffees fill the cards."""
        by_code = {store.code: store for store in self.stores}
        for (name, description, trigger, category, min_spend, needed, reward,
             days, stores) in STAMP_PROGRAMS:  # fmt: skip
            program = stamp_program_save(
                program=StampProgram(
                    name=name,
                    description=description,
                    trigger=trigger,
                    category=category,
                    min_spend=min_spend,
                    stamps_needed=needed,
                    reward=self.rewards[reward],
                    card_valid_days=days,
                    created_at=self.start,
                )
            )
            program.stores.set([by_code[code] for code in stores])
        self.stdout.write(f"Stamp programs: {len(STAMP_PROGRAMS)}")

    # --- partner and paid membership -------------------------------------------------

    def _partner_plan(self, events: list[Event]) -> None:
        """A partner bakery with one store: a share of the recent purchases move
        there, and it funds the croissant reward. Its own random stream, so the
        rest of the demo data stays as it was."""
        name, email, phone, value = PARTNER
        code, store_name, address = PARTNER_STORE
        store, _created = store_get_or_create(
            code=code, name=store_name, address=address
        )
        self.partner = partner_create(
            name=name,
            stores=[store],
            contact_email=email,
            contact_phone=phone,
            point_value=value,
        )
        store.refresh_from_db(fields=["partner"])
        self.stores.append(store)
        self.receipts.append(0)
        for reward in self.rewards:
            if reward.name == PARTNER_REWARD:
                reward.funded_by = self.partner
                reward_save(reward=reward)
        rng = random.Random(self.seed + 1)  # apart from self.rng: the rest stays
        since = self.end - dt.timedelta(days=PARTNER_DAYS)
        moved = 0
        for event in events:
            if (
                event.kind == "purchase"
                and event.at >= since
                and rng.random() < PARTNER_SHARE
            ):
                event.data["store"] = len(self.stores) - 1
                moved += 1
        self.stdout.write(f"Partner: {name}, {moved} purchases at {code}")

    def _memberships_plan(self, plans: list[Plan]) -> list[Event]:
        """The "Club" plan and ~20 subscribers: most bought in the last month
        (some end within a week), a few renewed, one lapsed; the demo customer
        is a member whose membership ends in a few days."""
        coffee = next(r for r in self.rewards if r.name == "Безкоштовна кава")
        silver = next((t for t in self.tiers if t.name == "Silver"), None)
        self.club = membership_plan_save(
            plan=MembershipPlan(
                name="Club",
                description="Бали × 1,5, щомісяця кава в подарунок, рівень Silver.",
                price=Decimal("99.00"),
                period_months=1,
                earn_multiplier=Decimal("1.50"),
                monthly_reward=coffee,
                guaranteed_tier=silver,
                created_at=self.start,
            )
        )
        rng = random.Random(self.seed + 2)
        old_enough = [
            p
            for p in plans
            if not p.is_demo and p.enrolled_at < self.end - dt.timedelta(days=70)
        ]
        chosen = rng.sample(old_enough, min(MEMBERSHIP_SUBSCRIBERS, len(old_enough)))
        events = []
        for i, plan in enumerate(chosen):
            if i % 5 == 0:  # renewed: two sales a month apart
                starts = [
                    self.end - dt.timedelta(days=rng.randint(35, 55)),
                ]
                starts.append(starts[0] + dt.timedelta(days=28))
            elif i == 1:  # lapsed: one month, long ago
                starts = [self.end - dt.timedelta(days=60)]
            else:  # the last month; some end within a week
                starts = [self.end - dt.timedelta(days=rng.randint(2, 29))]
            for at in starts:
                events.append(self._event(self._shop_time(at), 4, "membership", plan))
        demo = next((p for p in plans if p.is_demo), None)
        if demo is not None:
            at = self._shop_time(self.end - dt.timedelta(days=26))
            events.append(self._event(at, 4, "membership", demo))
        self.cancel_plan = chosen[2] if len(chosen) > 2 else None
        return events

    def _membership_sell(self, event: Event) -> None:
        plan = event.plan
        store_index = plan.store_index
        subscription_sell(
            member=plan.member,
            plan=self.club,
            store=self.stores[store_index],
            receipt_id=self._receipt_new(store_index, event.at),
            sold_by=self._cashier_at(self.stores[store_index]),
            at=event.at,
        )
        self.stats.subscriptions += 1

    def _memberships_finish(self) -> None:
        """One subscriber asked for the money back; the lapsed ones expire."""
        if self.cancel_plan is not None and self.cancel_plan.member is not None:
            sub = self.cancel_plan.member.subscriptions.filter(status="active").first()
            if sub is not None:
                subscription_cancel(
                    subscription=sub,
                    by=self.staff["manager"],
                    reason="Refunded at the till",
                )
        subscriptions_expire_due(now=timezone.now())

    def _passwords_set(self, hashes: dict[str, Future]) -> None:
        for user in User.objects.filter(username__in=hashes):
            user.password = hashes[user.username].result()
            user.save(update_fields=["password"])

    # --- planning ----------------------------------------------------------------

    def _phone_new(self, taken: set[str]) -> str:
        while True:
            phone = (
                f"+380{self.rng.choice(MOBILE_CODES)}{self.rng.randrange(10**7):07d}"
            )
            if phone not in taken and phonenumbers.is_valid_number(
                phonenumbers.parse(phone)
            ):
                taken.add(phone)
                return phone

    def _email_new(self, first: str, last: str, locale: str, taken: set[str]) -> str:
        table = TRANSLIT_RU if locale == "ru_RU" else TRANSLIT
        base = f"{first.lower().translate(table)}.{last.lower().translate(table)}"
        base = "".join(c for c in base if c.isascii() and (c.isalnum() or c == "."))
        while True:
            suffix = self.rng.choice(
                ["", str(self.rng.randint(1, 99)), str(self.rng.randint(1960, 2006))]
            )
            email = f"{base or 'member'}{suffix}@{self.rng.choice(EMAIL_DOMAINS)}"
            if email not in taken:
                taken.add(email)
                return email

    def _members_plan(self, count: int, seed: int) -> list[Plan]:
        rng = self.rng
        fakers = {}
        for i, (locale, _share, _languages) in enumerate(LOCALES):
            fakers[locale] = Faker(locale)
            fakers[locale].seed_instance(seed + i)
        phones, emails = {DEMO_PHONE}, {DEMO_EMAIL}
        span = (self.end - self.start).total_seconds()
        plans = [self._demo_plan()]
        for _n in range(count - 1):
            locale, _share, languages = rng.choices(
                LOCALES, weights=[loc[1] for loc in LOCALES]
            )[0]
            fake = fakers[locale]
            roll = rng.random()
            if roll < 0.53:
                gender = Gender.FEMALE
                first, last = fake.first_name_female(), fake.last_name_female()
            elif roll < 0.97:
                gender = Gender.MALE
                first, last = fake.first_name_male(), fake.last_name_male()
            else:
                gender, first, last = Gender.OTHER, fake.first_name(), fake.last_name()
            if rng.random() < 0.15:
                gender = Gender.UNDISCLOSED
            # A quarter joined in the opening weeks, the rest over the whole
            # period, a little more towards the end as word spreads.
            if rng.random() < 0.25:
                offset = rng.uniform(0, min(14 * 86400, span * 0.1))
            else:
                offset = span * rng.random() ** 0.85
            enrolled_at = self._shop_time(self.start + dt.timedelta(seconds=offset))
            _segment, _share, rate, churn = rng.choices(
                SEGMENTS, weights=[s[1] for s in SEGMENTS]
            )[0]
            stops_at = None
            if rng.random() < churn:
                stops_at = enrolled_at + (self.end - enrolled_at) * rng.uniform(
                    0.1, 0.7
                )
            email = None
            if rng.random() < 0.65:
                email = self._email_new(first, last, locale, emails)
            plans.append(
                Plan(
                    phone=self._phone_new(phones),
                    first_name=first,
                    last_name=last,
                    gender=gender,
                    language=rng.choice(languages),
                    email=email,
                    birthday=fake.date_of_birth(minimum_age=18, maximum_age=78)
                    if rng.random() < 0.55
                    else None,
                    interests=rng.sample(
                        list(INTERESTS), k=rng.choice([0, 0, 1, 1, 2, 3])
                    ),
                    store_index=rng.choices(
                        range(len(self.stores)), weights=HOME_STORE_WEIGHTS
                    )[0],
                    enrolled_at=enrolled_at,
                    rate=rate * rng.uniform(0.6, 1.4),
                    stops_at=stops_at,
                    email_consent=bool(email) and rng.random() < 0.55,
                    sms_consent=rng.random() < 0.4,
                    redeem_appetite=rng.uniform(0.05, 0.35),
                )
            )
        return plans

    def _referrals_plan(self, plans: list[Plan], seed: int) -> None:
        """Some members join with the code of one who joined before them.

        A random generator of its own, so the rest of the history stays the
        same with or without referrals."""
        rng = random.Random(seed + 1)
        ordered = sorted(plans, key=lambda p: p.enrolled_at)
        demo = next(p for p in ordered if p.is_demo)
        later = [p for p in ordered if p.enrolled_at > demo.enrolled_at]
        for plan in rng.sample(later, min(DEMO_REFERRALS, len(later))):
            plan.referred_by = demo
        for i, plan in enumerate(ordered):
            joins_with_code = rng.random() < REFERRED_SHARE
            if i and joins_with_code and plan.referred_by is None and not plan.is_demo:
                # Anyone who joined before, but the demo customer, whose
                # friends are exactly the DEMO_REFERRALS above (the demo
                # page shows them, a test counts them).
                earlier = [p for p in ordered[:i] if not p.is_demo]
                if earlier:
                    plan.referred_by = rng.choice(earlier)

    def _demo_plan(self) -> Plan:
        return Plan(
            phone=DEMO_PHONE,
            first_name="Олена",
            last_name="Коваленко",
            gender=Gender.FEMALE,
            language="uk",
            email=DEMO_EMAIL,
            birthday=dt.date(1991, 4, 17),
            interests=["coffee", "pastry"],
            store_index=0,
            enrolled_at=self._shop_time(self.start + dt.timedelta(days=1)),
            rate=0.3,
            stops_at=None,
            email_consent=True,
            sms_consent=True,
            source=ConsentSource.PORTAL,
            redeem_appetite=0.25,
            is_demo=True,
        )

    def _shop_time(self, moment: dt.datetime) -> dt.datetime:
        """The same day in Kyiv at a plausible shop hour, within the period."""
        day = moment.astimezone(KYIV).date()
        hour = self.rng.choices(SHOP_HOURS, weights=HOUR_WEIGHTS)[0]
        clock = dt.time(hour, self.rng.randrange(60), self.rng.randrange(60))
        at = dt.datetime.combine(day, clock, tzinfo=KYIV)
        return min(max(at, self.start), self.end)

    def _basket(self, plan: Plan, when: dt.datetime) -> list[LineInput]:
        rng = self.rng
        liked = {cat for i in plan.interests for cat in INTERESTS[i]}
        weights = [3.0 if item[2] in liked else 1.0 for item in CATALOG]
        size = rng.choices([1, 2, 3, 4, 5, 6], weights=[30, 30, 18, 10, 7, 5])[0]
        if when.month == 12:  # gifts
            size += rng.choice([0, 1, 2])
        lines: dict[str, LineInput] = {}
        for sku, name, category, price, by_weight in rng.choices(
            CATALOG, weights=weights, k=size
        ):
            if by_weight:
                qty = Decimal(rng.randrange(150, 1500)) / 1000
            else:
                qty = Decimal(rng.choices([1, 2, 3], weights=[80, 15, 5])[0])
            if sku in lines:
                qty += lines[sku].quantity
            lines[sku] = LineInput(
                sku=sku,
                quantity=qty,
                unit_price=Decimal(price),
                name=name,
                category=category,
            )
        return list(lines.values())

    def _event(self, at, order: int, kind: str, plan: Plan, data=None) -> Event:
        self.seq += 1
        return Event(at, order, self.seq, kind, plan, data or {})

    def _events_plan(self, plans: list[Plan]) -> list[Event]:
        """Every enrollment, purchase and adjustment; returns follow their purchase."""
        rng = self.rng
        events: list[Event] = []
        for plan in plans:
            events.append(self._event(plan.enrolled_at, 0, "enroll", plan))
            last = plan.stops_at or self.end
            times = []
            if rng.random() < 0.8 or not plan.rate:  # buys something on enrolling
                times.append(plan.enrolled_at + dt.timedelta(minutes=rng.randint(1, 4)))
            day = plan.enrolled_at.astimezone(KYIV).date() + dt.timedelta(days=1)
            while plan.rate and day <= last.astimezone(KYIV).date():
                chance = plan.rate * SEASON[day.month] * WEEKDAY[day.weekday()]
                if rng.random() < chance:
                    noon = dt.datetime.combine(day, dt.time(12), tzinfo=KYIV)
                    times.append(self._shop_time(noon))
                day += dt.timedelta(days=1)
            purchases = []
            for at in (t for t in times if t <= last):
                store = plan.store_index
                if rng.random() < 0.1:  # now and then at another shop
                    store = rng.choices(range(len(self.stores)), weights=[5, 4, 1])[0]
                data = {
                    "store": store,
                    "lines": self._basket(plan, at.astimezone(KYIV)),
                }
                if rng.random() < RETURN_SHARE:
                    how = rng.choice(["amount", "lines"])
                    data["return"] = self._return_plan(at, data["lines"], how)
                purchases.append(self._event(at, 1, "purchase", plan, data))
            events += purchases
            if plan.is_demo:
                events += self._demo_extras(plan, purchases)
            elif purchases and rng.random() < 0.04:
                points, reason = rng.choice(ADJUSTMENTS)
                later = rng.choice(purchases).at + dt.timedelta(days=rng.randint(0, 3))
                at = self._shop_time(later)
                if at > plan.enrolled_at:
                    data = {"points": points, "reason": reason}
                    events.append(self._event(at, 3, "adjust", plan, data))
        return events

    def _return_plan(self, bought_at, lines: list[LineInput], how: str) -> dict:
        rng = self.rng
        later = bought_at + dt.timedelta(days=rng.randint(0, 10))
        plan = {"at": max(self._shop_time(later), bought_at + dt.timedelta(hours=1))}
        if how == "lines":
            line = rng.choice(lines)
            qty = line.quantity
            if qty > 1:
                qty = Decimal(rng.randint(1, int(qty)))
            plan["lines"] = [ReturnLineInput(sku=line.sku, quantity=qty)]
            return plan
        total = sum((li.quantity * li.unit_price for li in lines), Decimal("0"))
        full = rng.random() < 0.3
        share = Decimal(1) if full else Decimal(rng.randint(20, 60)) / 100
        plan["amount"] = max(Decimal("1.00"), (total * share).quantize(Decimal("0.01")))
        # Some spend all their points before bringing everything back, so the
        # return leaves them owing points (a negative balance).
        plan["spend_first"] = full and rng.random() < 0.5
        return plan

    def _demo_extras(self, plan: Plan, purchases: list[Event]) -> list[Event]:
        """The demo customer's statement shows every kind of entry."""
        n = len(purchases)
        if n < 4:
            return []
        first, middle, late = purchases[n // 4], purchases[n // 2], purchases[-2]
        first.data["return"] = self._return_plan(first.at, first.data["lines"], "lines")
        late.data["return"] = self._return_plan(late.at, late.data["lines"], "amount")
        late.data["return"]["spend_first"] = False
        middle.data["redeem"] = True
        for late_one in purchases[-6:]:  # an unused voucher to show at the till
            late_one.data["voucher"] = "keep"
        data = {"points": 50, "reason": ADJUSTMENTS[0][1]}
        return [self._event(first.at + dt.timedelta(hours=2), 3, "adjust", plan, data)]

    # --- writing -----------------------------------------------------------------

    def _events_run(self, events: list[Event]) -> None:
        # A heap, so that returns pushed when their purchase exists still come
        # out in time order with everything else.
        heapq.heapify(events)
        month = None
        while events:
            event = heapq.heappop(events)
            if event.at > self.end:
                continue
            if (event.at.year, event.at.month) != month:
                if month:
                    self._progress(month)
                month = (event.at.year, event.at.month)
                # The nightly birthday job, once at the start of each month.
                self.stats.birthday_bonuses += birthday_bonus_grant_due(
                    today=event.at.astimezone(KYIV).date(), at=event.at
                )
                # And the nightly membership vouchers.
                membership_vouchers_issue_due(at=event.at)
            if event.kind == "enroll":
                self._enroll(event.plan, event.at)
            elif event.kind == "purchase":
                self._purchase(event, events)
            elif event.kind == "return":
                self._return(event)
            elif event.kind == "adjust":
                self._adjust(event)
            elif event.kind == "voucher_use":
                self._voucher_use(event)
            elif event.kind == "membership":
                self._membership_sell(event)
            elif event.kind == "voucher_expiry":
                self.stats.vouchers_expired += voucher_expire_due(now=event.at)
        if month:
            self._progress(month)

    def _receipt_new(self, store_index: int, at: dt.datetime) -> str:
        self.receipts[store_index] += 1
        code = self.stores[store_index].code
        return f"{code[:2].upper()}{store_index + 1}-{at.astimezone(KYIV):%y%m%d}-{self.receipts[store_index]:05d}"

    def _cashier_at(self, store: Store) -> User | None:
        return self.staff["cashier"] if store.pk == self.stores[0].pk else None

    def _enroll(self, plan: Plan, at: dt.datetime) -> None:
        if plan.is_demo:
            plan.user = User.objects.create_user(
                username=DEMO_EMAIL,
                email=DEMO_EMAIL,
                first_name=plan.first_name,
                last_name=plan.last_name,
            )
        store = self.stores[plan.store_index]
        plan.member = member_enroll(
            phone=plan.phone,
            email=plan.email,
            first_name=plan.first_name,
            last_name=plan.last_name,
            birthday=plan.birthday,
            gender=plan.gender,
            language=plan.language,
            store=store,
            enrolled_by=None if plan.user else self._cashier_at(store),
            user=plan.user,
            email_consent=plan.email_consent,
            sms_consent=plan.sms_consent,
            source=plan.source,
            enrolled_at=at,
            referral_code=(
                plan.referred_by.member.referral_code
                if plan.referred_by and plan.referred_by.member
                else None
            ),
        )
        # Bonuses may have credited points already.
        plan.balance = plan.member.account.balance
        if plan.interests:  # member_enroll takes no interests
            member_update_profile(member=plan.member, interests=plan.interests)
        self.stats.members += 1
        self.stats.referrals += plan.referred_by is not None

    def _purchase(self, event: Event, queue: list[Event]) -> None:
        plan, at = event.plan, event.at
        store_index = event.data["store"]
        store = self.stores[store_index]
        receipt = self._receipt_new(store_index, at)
        wants = event.data.get("redeem") or self.rng.random() < plan.redeem_appetite / 2
        wants = wants and "voucher" not in event.data  # saving up for a reward
        if plan.balance >= 200 and wants:
            points = min(plan.balance, self.rng.choice([100, 150, 200, 300, 500]))
            if self.rng.random() < 0.2:
                points = plan.balance  # spends it all
            self._redeem(plan, store, receipt, points // 50 * 50 or points, at)
        purchase, _replayed = purchase_record(
            store=store,
            member=plan.member,
            receipt_id=receipt,
            lines=event.data["lines"],
            occurred_at=at,
            source=Purchase.Source.IMPORT,
            recorded_at=at,
        )
        plan.balance = purchase.balance_after
        self.stats.purchases += 1
        self._stamp_vouchers_plan(plan, store_index, purchase, queue)
        keep = event.data.get("voucher") == "keep" and not plan.voucher_kept
        if keep or self.rng.random() < plan.redeem_appetite / 4:
            self._voucher_take(plan, store_index, at, queue, keep=keep)
        if "return" in event.data:
            ret = event.data["return"]
            data = {**ret, "purchase": purchase, "store": store, "index": store_index}
            heapq.heappush(queue, self._event(ret["at"], 2, "return", plan, data))

    def _voucher_take(
        self, plan: Plan, store_index: int, at, queue: list[Event], *, keep: bool
    ) -> None:
        """Take an affordable reward; most vouchers are used within days, some expire."""
        affordable = sorted(
            (r for r in self.rewards if r.points_cost <= plan.balance),
            key=lambda r: r.points_cost,
        )
        if not affordable:
            return
        # The demo customer's last one is the cheapest, so there is always one.
        reward = affordable[0] if keep else self.rng.choice(affordable)
        taken_at = at + dt.timedelta(minutes=2)
        self.seq += 1
        try:
            voucher, _replayed = reward_redeem(
                member=plan.member,
                reward=reward,
                idempotency_key=f"seed-voucher-{self.seq}",
                recorded_at=taken_at,
            )
        except (
            Conflict
        ):  # out of stock or over the member's limit: skip, as a customer would
            return
        plan.balance -= voucher.points_spent
        self.stats.vouchers += 1
        if keep:
            plan.voucher_kept = True
            return
        if self.rng.random() < 0.7:
            used_at = self._shop_time(
                taken_at + dt.timedelta(days=self.rng.randint(0, 10))
            )
            used_at = max(used_at, taken_at + dt.timedelta(minutes=5))
            data = {"code": voucher.code, "store": store_index}
            heapq.heappush(queue, self._event(used_at, 4, "voucher_use", plan, data))
        else:
            heapq.heappush(
                queue, self._event(voucher.expires_at, 5, "voucher_expiry", plan)
            )

    def _stamp_vouchers_plan(
        self, plan: Plan, store_index: int, purchase: Purchase, queue: list[Event]
    ) -> None:
        """Most vouchers of stamp cards this purchase filled are used within days;
        the demo customer keeps those of the last month to show."""
        for code, issued_at in Voucher.objects.filter(
            member=plan.member,
            source=VoucherSource.STAMP_CARD,
            issued_at=purchase.created_at,
        ).values_list("code", "issued_at"):
            self.stats.stamp_vouchers += 1
            rng = self.stamp_rng  # its own, so the rest of the history is unchanged
            recent = issued_at > self.end - dt.timedelta(days=30)
            if (plan.is_demo and recent) or rng.random() > STAMP_VOUCHER_USE_SHARE:
                continue
            used_at = issued_at + dt.timedelta(
                days=rng.randint(0, 10), minutes=rng.randint(5, 600)
            )
            data = {"code": code, "store": store_index, "stamp": True}
            heapq.heappush(queue, self._event(used_at, 4, "voucher_use", plan, data))

    def _voucher_use(self, event: Event) -> None:
        index = event.data["store"]
        store = self.stores[index]
        try:
            voucher_consume(
                code=event.data["code"],
                store=store,
                receipt_id=self._receipt_new(index, event.at),
                created_by=self._cashier_at(store),
                recorded_at=event.at,
            )
        except Conflict:
            if not event.data.get("stamp"):
                raise
            return  # a return undid the full card and cancelled its voucher
        self.stats.vouchers_used += 1

    def _redeem(self, plan: Plan, store: Store, receipt: str, points: int, at) -> None:
        redemption, _replayed = points_redeem(
            member=plan.member,
            store=store,
            points=points,
            receipt_id=receipt,
            recorded_at=at,
        )
        plan.balance = redemption.balance_after
        self.stats.redemptions += 1

    def _return(self, event: Event) -> None:
        plan, data, at = event.plan, event.data, event.at
        store = data["store"]
        if data.get("spend_first") and plan.balance > 0:
            receipt = self._receipt_new(data["index"], at)
            self._redeem(plan, store, receipt, plan.balance, at)
        ret, _replayed = purchase_return_record(
            purchase=data["purchase"],
            store=store,
            receipt_id=f"R-{data['purchase'].receipt_id}",  # one return per purchase
            amount=data.get("amount"),
            lines=data.get("lines"),
            recorded_at=at,
        )
        plan.balance = ret.balance_after
        self.stats.returns += 1
        self.stats.overdrawn_by_return += ret.balance_after < 0

    def _adjust(self, event: Event) -> None:
        plan, points = event.plan, event.data["points"]
        if points < 0 and plan.balance + points < 0:
            return  # the service would refuse: a deduction never overdraws
        entry = points_adjust(
            member=plan.member,
            points=points,
            reason=event.data["reason"],
            created_by=self.staff["manager"],
            recorded_at=event.at,
        )
        plan.balance = entry.balance_after
        self.stats.adjustments += 1

    def _progress(self, month: tuple[int, int]) -> None:
        s = self.stats
        self.stdout.write(
            f"  {month[0]}-{month[1]:02d}: {s.members:4d} members, "
            f"{s.purchases:6d} purchases, {s.returns:4d} returns, "
            f"{s.redemptions:4d} redemptions"
        )

    # --- output ------------------------------------------------------------------

    def _print_logins(self, *, token: str | None) -> None:
        base = absolute_url("").rstrip("/")  # the address make run serves
        w = self.stdout.write
        w("")
        w("Demo logins (demo passwords; never load this data in production):")
        w(f"  {'who':<18} {'login':<17} {'password':<14} page")
        for who, login, password, path in LOGINS:
            w(f"  {who:<18} {login:<17} {password:<14} {path}")
        w("")
        w(f"  Portal    {base}/")
        w(f"  Admin     {base}/admin/")
        w(f"  Counter   {base}/admin/counter/")
        w(f"  API docs  {base}/api/v1/docs/")
        w("  (on another port with `make run PORT=8123`)")
        w("")
        code = STORES[0][0]
        if token:
            w(f"POS API token for store {code} (shown once only, stored hashed):")
            w(f"  Authorization: Token {token}")
        else:
            w(f"The POS API token for {code} was printed by the first run; ")
            w(f"`manage.py create_api_token {code}` makes another.")
