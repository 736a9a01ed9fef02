"""Moving members from an earlier program: opening balances with their lots and
expiry, tiers, consents with their dates, through the member import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from members import imports as member_imports
from members.cards import luhn_check_digit
from members.imports import members_csv_read, members_import, members_template
from members.models import ConsentEvent, Member
from members.services import enrolment_bulk as member_services
from rewards.models import LedgerEntry, LedgerKind, PointsLot, TierHistory
from rewards.reasons import reason_render
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.services.bonuses import bonus_settings_update
from rewards.services.earning import program_settings_update
from rewards.services.migration import day_end, opening_key
from rewards.tests.factories import TierFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "phone,first_name,card_number,email_consent,email_consent_at,sms_consent,"
    "sms_consent_at,opening_balance,points_expire_on,tier\n"
)


def card(i: int) -> str:
    body = f"2791{i:07d}"
    return body + luhn_check_digit(body)


@pytest.fixture
def program(store):
    bonus_settings_update(welcome_points=50, profile_points=0)
    program_settings_update(points_expire_months=12)
    return {
        "silver": TierFactory(name="Silver", rank=1),
        "gold": TierFactory(name="Gold", rank=2),
    }


def migration_file(n: int) -> str:
    """n members: balances 0..., every third with its own expiry, tiers and
    consents on some."""
    lines = [HEADER]
    for i in range(n):
        expiry = f"2031-{1 + i % 12:02d}-15" if i % 3 == 0 else ""
        tier = ("", "Silver", "gold")[i % 3]
        email_yes = "yes" if i % 2 else ""
        email_at = f"2020-02-{1 + i % 28:02d}" if i % 4 == 1 else ""
        sms = "1" if i % 5 == 0 else "no"
        lines.append(
            f"067 3{i:02d} {i // 100:02d} {i % 100:02d},M{i},{card(i)},{email_yes},"
            f"{email_at},{sms},,{i * 10 + 1},{expiry},{tier}\n"
        )
    return "".join(lines)


def _import(text: str, store, **kwargs):
    return members_import(members_csv_read(text), store=store, **kwargs)


def test_opening_balances_tiers_and_consents_are_imported_exactly(store, program):
    n = 30
    result = _import(migration_file(n), store)

    assert (result.imported, result.skipped, result.errors) == (n, 0, [])
    default_expiry = timezone.now() + dt.timedelta(days=365)
    for i in range(n):
        member = Member.objects.select_related("account__tier").get(card_number=card(i))
        # The welcome bonus, then the opening balance.
        assert member.account.balance == 50 + i * 10 + 1
        entry = LedgerEntry.objects.get(idempotency_key=opening_key(member))
        assert (entry.kind, entry.points, entry.balance_after) == (
            LedgerKind.ADJUST,
            i * 10 + 1,
            member.account.balance,
        )
        assert entry.reason_code == "opening_balance"
        assert entry.reason == "Balance carried over from the previous program"
        lot = PointsLot.objects.get(entry=entry)
        assert lot.remaining == lot.points == i * 10 + 1
        if i % 3 == 0:
            assert lot.expires_at == day_end(dt.date(2031, 1 + i % 12, 15))
        else:  # the program's expiry, counted from the import
            assert abs(lot.expires_at - default_expiry) < dt.timedelta(days=2)
        tier = (None, program["silver"], program["gold"])[i % 3]
        assert member.account.tier == tier
        history = list(TierHistory.objects.filter(member=member))
        if tier is None:
            assert history == []
        else:
            (row,) = history
            assert (row.to_tier, row.kind, row.reason_code) == (
                tier,
                TierHistory.Kind.INITIAL,
                "tier_imported",
            )
            assert row.value == Decimal(0)
        assert member.email_consent == bool(i % 2)
        if i % 4 == 1:
            assert timezone.localdate(member.email_consent_at) == dt.date(
                2020, 2, 1 + i % 28
            )
        assert member.sms_consent == (i % 5 == 0)
        events = {
            e.channel: e.created_at for e in ConsentEvent.objects.filter(member=member)
        }
        assert set(events) == {
            c for c, on in (("email", i % 2), ("sms", i % 5 == 0)) if on
        }
        if "email" in events:
            assert events["email"] == member.email_consent_at
    assert ledger_invariant_violations() == []
    out = StringIO()
    call_command("verify_ledger", stdout=out)  # exits 1 on any broken invariant
    assert "0" in out.getvalue()


def test_reimport_adds_no_balance_twice(store, program):
    text = migration_file(8)
    _import(text, store)
    balances = dict(Member.objects.values_list("phone", "account__balance"))

    again = _import(text, store)

    assert (again.imported, again.skipped, again.errors) == (0, 8, [])
    assert dict(Member.objects.values_list("phone", "account__balance")) == balances
    assert LedgerEntry.objects.filter(reason_code="opening_balance").count() == 8
    assert TierHistory.objects.count() == 5


def test_refused_rows_say_why_and_leave_nothing(store, program):
    text = HEADER + (
        "0671000001,A,,,,,,12.5,,\n"
        "0671000002,B,,,,,,-3,,\n"
        "0671000003,C,,,,,,100,2020-01-01,\n"
        "0671000004,D,,,,,,100,31/12/2030,\n"
        "0671000005,E,,,,,,,2030-12-31,\n"
        "0671000006,F,,,,,,100,,Platinum\n"
        "0671000007,G,,maybe,,,,100,,\n"
        "0671000008,H,,yes,2999-01-01,,,100,,\n"
        "0671000009,I,,no,2020-01-01,,,100,,\n"
        "0671000010,J,,yes,yesterday,,,100,,\n"
        "0671000011,K,,,,,,100,2030-12-31,silver\n"
    )
    result = _import(text, store)

    assert (result.imported, result.failed) == (1, 10)
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (2, "opening_balance", "Enter a whole number of points."),
        (3, "opening_balance", "The number of points must be greater than zero."),
        (
            4,
            "points_expire_on",
            "The date has passed: these points would expire at once.",
        ),
        (5, "points_expire_on", "“31/12/2030” is not a date such as 2027-03-31."),
        (
            6,
            "points_expire_on",
            "An expiry date is given without an opening balance.",
        ),
        (
            7,
            "tier",
            "No active tier is called “Platinum”. The tiers are: Gold, Silver.",
        ),
        (8, "email_consent", "“maybe” is neither yes nor no."),
        (9, "email_consent_at", "The date is in the future."),
        (
            10,
            "email_consent_at",
            "A consent date is given, but email_consent is not “yes”.",
        ),
        (11, "email_consent_at", "“yesterday” is not a date such as 2021-03-04."),
    ]
    (member,) = Member.objects.all()
    assert member.first_name == "K" and member.account.balance == 150
    assert member.account.tier == program["silver"]
    assert ledger_invariant_violations() == []


def test_dry_run_reports_what_the_import_does_and_writes_nothing(store, program):
    text = migration_file(12) + (
        "0671000001,A,,,,,,-1,,\n"  # refused by the import's check
        f"0671000002,B,{card(3)},,,,,5,,\n"  # card of line 5: refused by the service
        "067 301 00 01,Again,,,,,,5,,\n"  # phone of line 3: skipped
    )
    counts = (
        Member.objects.count(),
        LedgerEntry.objects.count(),
        PointsLot.objects.count(),
        TierHistory.objects.count(),
        ConsentEvent.objects.count(),
    )

    dry = _import(text, store, dry_run=True)

    assert counts == (
        Member.objects.count(),
        LedgerEntry.objects.count(),
        PointsLot.objects.count(),
        TierHistory.objects.count(),
        ConsentEvent.objects.count(),
    )
    assert dry.dry_run
    real = _import(text, store)
    assert not real.dry_run

    def report(r):
        return (
            r.total,
            r.imported,
            r.skipped,
            [(e.line, e.column, e.message) for e in r.errors],
            [(n.line, n.column, n.message) for n in r.notes],
        )

    assert report(dry) == report(real)
    assert (real.imported, real.skipped, real.failed) == (12, 1, 2)


def test_one_by_one_fallback_writes_the_same_balances(monkeypatch, store, program):
    """If a unique constraint stops a chunk (a member enrolled meanwhile), each
    row goes through member_enroll; its opening balance and tier go with it."""
    monkeypatch.setattr(
        member_imports, "members_enroll_many", member_services._members_enroll_each
    )
    result = _import(migration_file(6), store)

    assert (result.imported, result.errors) == (6, [])
    for i in range(6):
        member = Member.objects.get(card_number=card(i))
        assert member.account.balance == 50 + i * 10 + 1
    assert TierHistory.objects.count() == 4
    assert ledger_invariant_violations() == []


def test_command_prints_progress_and_the_summary(store, program, tmp_path):
    path = tmp_path / "old-program.csv"
    path.write_text(migration_file(5))
    out = StringIO()

    call_command("import_members", str(path), "--store", "main", stdout=out)

    text = out.getvalue()
    assert "5/5 rows" in text and "Imported: 5." in text
    assert Member.objects.count() == 5


def test_template_has_the_migration_columns():
    header = members_template()[0]
    for column in (
        "email_consent_at",
        "sms_consent",
        "opening_balance",
        "points_expire_on",
        "tier",
    ):
        assert column in header


def test_opening_reasons_render_in_the_readers_language():
    from django.utils import translation

    with translation.override("en"):
        assert reason_render("tier_imported", {}) == (
            "Carried over from the previous program"
        )


def test_admin_import_page_checks_then_imports_a_migration_file(
    client, manager, store, program
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(manager)
    content = (migration_file(3) + "0671000001,A,,,,,,-1,,\n").encode()

    def upload(**extra):
        return client.post(
            reverse("admin:members_member_import"),
            {
                "kind": "members",
                "store": store.pk,
                "file": SimpleUploadedFile("old.csv", content),
                **extra,
            },
        ).content.decode()

    html = upload(dry_run="on")

    assert "Check only: nothing was written" in html
    assert '<td id="import-imported">3</td>' in html
    assert (
        "<td>5</td><td>opening_balance</td><td>The number of points must be "
        "greater than zero.</td>" in html
    )
    assert not Member.objects.exists() and not LedgerEntry.objects.exists()

    html = upload()

    assert '<td id="import-imported">3</td>' in html
    assert LedgerEntry.objects.filter(reason_code="opening_balance").count() == 3
    assert ledger_invariant_violations() == []


def test_command_help_lists_the_migration_columns():
    from django.core.management import load_command_class

    command = load_command_class("members", "import_members")
    assert "opening_balance" in command.help and "sms_consent_at" in command.help
