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
import random
import time
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo import seed_approvals as approvals_demo
from demo import seed_campaigns as campaigns_demo
from demo import seed_channels as channels_demo
from demo import seed_churn as churn_demo
from demo import seed_feedback as demo_feedback
from demo import seed_partners as partners_demo
from demo import seed_recommendations as demo_recs
from demo import seed_sources as sources_demo
from demo import seed_surveys as demo_surveys
from demo.bulk import seed as bulk_seed
from demo.data import (
    BONUSES,
    LOGINS,
    STAFF,
    STORES,
    TOKEN_NAME,
)
from demo.seed_analytics import seed as analytics_demo_seed
from demo.seed_branding import seed as branding_seed
from demo.seed_clv import seed as clv_demo_seed
from demo.seed_crm import seed as crm_seed
from demo.seed_delivery import seed as delivery_seed
from demo.seed_events import seed as events_demo_seed
from demo.seed_history import HistoryWriting
from demo.seed_plan import HistoryPlanning, Stats
from demo.seed_program import ProgramSeeding
from demo.seed_promos import seed as promos_seed
from demo.seed_segments import seed as segments_demo_seed
from members.links import absolute_url
from members.models import (
    ApiToken,
    Store,
    User,
)
from members.services import api_token_create, interests_ensure, leave_reasons_ensure
from rewards.selectors.invariants import ledger_discrepancies, stamp_card_violations
from rewards.services import (
    bonus_settings_update,
    stamp_cards_expire_due,
)


class Command(ProgramSeeding, HistoryPlanning, HistoryWriting, BaseCommand):
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
        branding_seed(command=self)  # the bulk seed's program is the same shop
        # The lists a program starts with (a flushed test database lost them).
        interests_ensure()
        leave_reasons_ensure()
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
            sources_demo.plans_sources_assign(plans)
            events = self._events_plan(plans)
            self._partner_plan(events)
            partners_demo.seed(command=self)
            events += self._memberships_plan(plans)
            self.stdout.write(f"Writing {len(events)} events in time order...")
            self._events_run(events)
            self._points_expire_and_pend()
            stamp_cards_expire_due(now=self.end)
            self._memberships_finish()
            # Before the journeys run: their messages then go by every channel.
            channels_demo.seed(command=self)
            delivery_seed(command=self)
            segments_demo_seed(command=self)
            campaigns_demo.seed(command=self)
            events_demo_seed(command=self)
            crm_seed(command=self)  # interests picked, before the recommendations
            demo_recs.seed(command=self)
            # The survey of several questions first: its rows come first in the
            # back office (tests/pages/test_escaping.py opens the first of each).
            demo_surveys.seed(command=self)
            demo_feedback.seed(command=self)
            churn_demo.seed(command=self)
            approvals_demo.seed(command=self)
            promos_seed(command=self)
            analytics_demo_seed(command=self)
            clv_demo_seed(command=self)
            sources_demo.seed(command=self)
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
