"""The demo's members and their year, planned before anything is written: who they
are, when they join, shop, return and redeem. A part of the seed_demo command."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from faker import Faker

from demo.data import (
    ADJUSTMENTS,
    CATALOG,
    DEMO_EMAIL,
    DEMO_PHONE,
    DEMO_REFERRALS,
    EMAIL_DOMAINS,
    HOME_STORE_WEIGHTS,
    HOUR_WEIGHTS,
    INTERESTS,
    KYIV,
    LOCALES,
    MOBILE_CODES,
    REFERRED_SHARE,
    RETURN_SHARE,
    SEASON,
    SEGMENTS,
    SHOP_HOURS,
    TRANSLIT,
    TRANSLIT_RU,
    WEEKDAY,
)
from members.models import (
    ConsentSource,
    Gender,
    Member,
    User,
)
from members.services import FirstTouch
from rewards.services import (
    LineInput,
    ReturnLineInput,
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
    # The first visit's UTM parameters of an online sign-up (demo.seed_sources).
    first_touch: FirstTouch | None = None


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


class HistoryPlanning:
    """Plans members and the events of their history."""

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
        self._family_referral_plan(ordered)

    def _family_referral_plan(self, ordered: list[Plan]) -> None:
        """The newest friend's referral becomes a family one: the same last name
        and mail domain as the referrer, which the referral rules hold for a
        Manager's review, so that queue has one waiting. No random draws: the
        rest of the history stays the same."""
        taken = {p.email for p in ordered if p.email}
        for plan in reversed(ordered):
            referrer = plan.referred_by
            if (
                referrer is None
                or referrer.is_demo
                or not (plan.email and referrer.email)
                or plan.gender != referrer.gender
            ):
                continue
            local = plan.email.partition("@")[0]
            email = f"{local}@{referrer.email.partition('@')[2]}"
            if email != plan.email and email in taken:
                continue
            plan.last_name, plan.email = referrer.last_name, email
            return

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
