"""The demo's program: stores, staff, tiers, earning rules, rewards, stamp programs,
the partner and the paid membership. A part of the seed_demo command."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import Future
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from demo.data import (
    ADMIN,
    DEMO_EMAIL,
    EARN_CAP_PERCENT,
    EARNING_RULES,
    EXPIRE_MONTHS,
    MEMBERSHIP_SUBSCRIBERS,
    PARTNER,
    PARTNER_DAYS,
    PARTNER_REWARD,
    PARTNER_SHARE,
    PARTNER_STORE,
    PENDING_DAYS,
    POINT_VALUE,
    POINTS_PER_UNIT,
    REWARDS,
    STAFF,
    STAMP_PROGRAMS,
    STORES,
    TIERS,
)
from demo.reward_pictures import reward_pictures_attach
from demo.seed_plan import Event, Plan
from demo.texts import CATEGORIES, same_text, translations
from members.models import (
    Member,
    Store,
    User,
)
from members.services import (
    partner_create,
    store_get_or_create,
)
from rewards.models import (
    Category,
    EarningRule,
    MembershipPlan,
    Reward,
    StampProgram,
    Tier,
)
from rewards.services import (
    LineInput,
    category_save,
    earning_rule_save,
    membership_plan_save,
    points_expire_due,
    program_settings_update,
    purchase_record,
    reward_save,
    stamp_program_save,
    subscription_cancel,
    subscription_sell,
    subscriptions_expire_due,
    tier_save,
)


class ProgramSeeding:
    """Sets up what the shop offers before the history is written."""

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
                    **translations("name", name),
                    rank=rank,
                    threshold=Decimal(threshold),
                    earn_multiplier=Decimal(multiplier),
                    **translations("benefits", benefits),
                    grace_days=30,
                )
            )
            for name, rank, threshold, multiplier, benefits in TIERS
        ]
        self.stdout.write(f"Tiers: {', '.join(t.name for t in tiers)}")
        return tiers

    def _program_money_set(self) -> None:
        """The earning rate, the point value and the cap on one purchase
        (docs/demo.md: about 2–5 % back, at most 10 %)."""
        program_settings_update(
            points_per_unit=POINTS_PER_UNIT,
            point_value=POINT_VALUE,
            earn_cap_percent=EARN_CAP_PERCENT,
        )

    def _earning_create(self) -> None:
        """Earning rules of every kind, a draft for the simulator, and points that
        expire 9 months after they are earned (so the oldest history expires)."""
        self._program_money_set()
        program_settings_update(points_expire_months=EXPIRE_MONTHS)
        for name, kind, status, match, values, stores in EARNING_RULES:
            earning_rule_save(
                rule=EarningRule(
                    **translations("name", name),
                    kind=kind,
                    status=status,
                    **match,
                    **values,
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
                        **translations("name", name),
                        **translations("description", description),
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
        pictures = reward_pictures_attach(rewards)
        self.stdout.write(f"Rewards: {len(rewards)} ({pictures} with pictures)")
        for code in CATEGORIES:
            category_save(
                category=Category(code=code, **translations("name", code, CATEGORIES))
            )
        return rewards

    def _stamp_programs_create(self) -> None:
        """Before the purchase stream, so the year's coffees fill the cards."""
        by_code = {store.code: store for store in self.stores}
        for (name, description, trigger, category, min_spend, needed, reward,
             days, stores) in STAMP_PROGRAMS:  # fmt: skip
            program = stamp_program_save(
                program=StampProgram(
                    **translations("name", name),
                    **translations("description", description),
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
            if same_text(reward, "name", PARTNER_REWARD):
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
        coffee = next(
            r for r in self.rewards if same_text(r, "name", "Безкоштовна кава")
        )
        silver = next((t for t in self.tiers if same_text(t, "name", "Silver")), None)
        self.club = membership_plan_save(
            plan=MembershipPlan(
                **translations("name", "Club"),
                **translations(
                    "description",
                    "Бали × 1,5, щомісяця кава в подарунок, рівень Silver.",
                ),
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
