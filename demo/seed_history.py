"""The demo's history written through the services, one event at a time in
chronological order. A part of the seed_demo command."""

from __future__ import annotations

import datetime as dt
import heapq

from demo.data import (
    DEMO_EMAIL,
    KYIV,
    STAMP_VOUCHER_USE_SHARE,
)
from demo.seed_plan import Event, Plan
from members.errors import Conflict
from members.models import (
    Store,
    User,
)
from members.services import member_enroll, member_update_profile
from rewards.models import (
    Purchase,
    Voucher,
    VoucherSource,
)
from rewards.services import (
    birthday_bonus_grant_due,
    membership_vouchers_issue_due,
    points_adjust,
    points_redeem,
    purchase_record,
    purchase_return_record,
    reward_redeem,
    voucher_consume,
    voucher_expire_due,
)


class HistoryWriting:
    """Writes the planned events through the services."""

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
            first_touch=plan.first_touch,
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
        # At the purchase's moment, not minutes after: it is written now, and an
        # event of the same member still in the queue may be due in between (the
        # last day's events all share the history's end), which would then be
        # written later with an earlier time, out of the ledger's order.
        taken_at = at
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
