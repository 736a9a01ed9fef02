"""The bulk path of the member import (members_enroll_many) against the per-row
path it replaced (member_enroll for each row): the same file must give the same
members, accounts, bonuses, lots, consent history and reported rows."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from members import imports as member_imports
from members.cards import card_number_is_valid, luhn_check_digit
from members.imports import MEMBER_COLUMNS, MEMBER_REQUIRED, csv_read, members_import
from members.models import ConsentEvent, ConsentSource, Member
from members.services import (
    EnrollInput,
    MemberAlreadyEnrolled,
    member_enroll,
    members_enroll_many,
)
from members.services import enrolment_bulk as member_services
from members.tests.factories import MemberFactory
from rewards.imports import purchases_csv_read, purchases_import
from rewards.models import LedgerEntry, PointsLot
from rewards.selectors.invariants import ledger_invariant_violations
from rewards.services import bonus_settings_update, program_settings_update

pytestmark = pytest.mark.django_db


def card(body: str) -> str:
    return body + luhn_check_digit(body)


CARD_A = card("27111111111")
CARD_B = card("27222222222")
CARD_TAKEN = card("27333333333")


@pytest.fixture
def bonuses(store, other_store):
    bonus_settings_update(welcome_points=50, profile_points=20)
    program_settings_update(points_expire_months=12)


@pytest.fixture
def existing(store):
    """Enrolled before the file: its phone, email and card are taken."""
    return member_enroll(
        phone="+380679999999",
        email="taken@example.com",
        store=store,
        card_number=CARD_TAKEN,
    )


# Every kind of row the importer passes on to the service, plus bad rows it
# refuses itself. Rows that name an earlier row's card give it a fixed card so
# that the messages do not depend on the random draw.
FILE = (
    "phone,email,first_name,last_name,birthday,card_number,store\n"
    f"067 111 22 33,Olena@Example.com,Olena,Kovalenko,1990-05-17,{CARD_A},\n"
    "0671112234,,Ivan,,,,other\n"
    "0671112235,ivan@example.com,Ivan,Petrenko,1985-01-31,123,\n"  # bad card: drawn
    "0671112236,olena@example.com,Dup,Email,,,\n"  # email of line 2
    "0671112233,,Same,Phone,,,\n"  # phone of line 2: skipped
    f"0671112237,,Dup,Card,,{CARD_A},\n"  # card of line 2
    "+380679999999,,Known,Phone,,,\n"  # enrolled before: skipped
    "0671112238,TAKEN@example.com,Known,Email,,,\n"  # enrolled before
    f"0671112239,,Known,Card,,{CARD_TAKEN},\n"  # enrolled before
    "not a phone,,Bad,Phone,,,\n"
    "0671112240,,Bad,Date,17/05/1990,,\n"
    "0671112241,,Bad,Store,,,nowhere\n"
    "0671112242,not-an-email,Bad,Email,,,\n"
    f"0671112243,last@example.com,Last,Row,2000-02-29,{CARD_B},main\n"
)


def rows(text: str = FILE):
    return csv_read(text, required=MEMBER_REQUIRED, known=MEMBER_COLUMNS)


class _Undo(Exception):
    pass


def per_row(monkeypatch):
    """Make members_import use the per-row path (member_enroll for each row)."""
    monkeypatch.setattr(
        member_imports, "members_enroll_many", member_services._members_enroll_each
    )


def snapshot() -> dict:
    """Everything an enrollment writes, by phone, without ids, timestamps and
    generated codes (the idempotency keys with the member's pk as <pk>)."""
    out = {}
    skip = {"id", "referral_code", "search_text"}
    for member in Member.objects.select_related("account").order_by("phone"):
        fields = {}
        for field in Member._meta.concrete_fields:
            if field.name in skip:
                continue
            value = getattr(member, field.attname)
            if field.get_internal_type() == "DateTimeField":
                value = value is not None
            fields[field.name] = value
        fields["search_text"] = member.search_text
        if fields["card_number"] not in (CARD_A, CARD_B, CARD_TAKEN):
            assert card_number_is_valid(fields["card_number"])
            fields["card_number"] = "<drawn>"
        account = member.account
        entries = [
            (
                entry.kind,
                entry.points,
                entry.balance_after,
                entry.reason,
                (entry.idempotency_key or "").replace(str(member.pk), "<pk>"),
                entry.created_by_id,
            )
            for entry in LedgerEntry.objects.filter(account=account).order_by(
                "created_at", "id"
            )
        ]
        lots = [
            (
                lot.entry.kind,
                lot.points,
                lot.remaining,
                lot.available_at == lot.earned_at == lot.entry.created_at,
                lot.expires_at - lot.earned_at if lot.expires_at else None,
            )
            for lot in PointsLot.objects.filter(account=account)
            .select_related("entry")
            .order_by("entry__created_at", "entry_id")
        ]
        consent = sorted(
            (event.channel, event.granted, event.source, event.changed_by_id)
            for event in ConsentEvent.objects.filter(member=member)
        )
        out[member.phone] = {
            "member": fields,
            "account": (account.balance, account.tier_id, account.tier_since),
            "entries": entries,
            "lots": lots,
            "consent": consent,
        }
    return out


def result_tuple(result):
    return (
        result.total,
        result.imported,
        result.skipped,
        [(e.line, e.column, e.message) for e in result.errors],
        [(n.line, n.column, n.message) for n in result.notes],
    )


def import_both_ways(monkeypatch, text: str = FILE, *, store=None, race=None):
    """(result, snapshot) of the per-row path, undone, then of the bulk path.

    `race()`, when given, enrolls members "meanwhile": before the per-row
    import (what member_enroll would then find) and, for the bulk path, after
    its duplicate lookups and before its inserts; the bulk path must then fall
    back to member_enroll."""
    try:
        with transaction.atomic():
            with monkeypatch.context() as patched:
                per_row(patched)
                if race:
                    race()
                each = result_tuple(members_import(rows(text), store=store))
                each_snapshot = snapshot()
                assert ledger_invariant_violations() == []
            raise _Undo
    except _Undo:
        pass
    if race:
        draw_unused = member_services._draw_unused
        raced = []

        def lookups_then_race(*args, **kwargs):
            if not raced:
                raced.append(race())
            return draw_unused(*args, **kwargs)

        monkeypatch.setattr(member_services, "_draw_unused", lookups_then_race)
        each_row = member_services._members_enroll_each
        fell_back = []

        def counted(**kwargs):
            fell_back.append(len(kwargs["rows"]))
            return each_row(**kwargs)

        monkeypatch.setattr(member_services, "_members_enroll_each", counted)
    bulk = result_tuple(members_import(rows(text), store=store))
    if race:
        assert raced, "the race did not run"
        assert fell_back, "the unique constraints did not stop the bulk insert"
    return (each, each_snapshot), (bulk, snapshot())


def test_bulk_path_writes_what_member_enroll_writes(
    monkeypatch, store, other_store, bonuses, existing
):
    (each, each_snapshot), (bulk, bulk_snapshot) = import_both_ways(
        monkeypatch, store=store
    )

    assert bulk == each
    assert bulk_snapshot == each_snapshot
    assert ledger_invariant_violations() == []
    # What the comparison covers, so that it cannot pass on two empty runs:
    total, imported, skipped, errors, notes = bulk
    assert (total, imported, skipped) == (14, 4, 2)
    assert [(line, column) for line, column, _message in errors] == [
        (5, "email"),
        (7, "card_number"),
        (9, "email"),
        (10, "card_number"),
        (11, "phone"),
        (12, "birthday"),
        (13, "store"),
        (14, "email"),
    ]
    assert errors[0][2] == "This email belongs to another member."
    assert errors[1][2] == f"Card {CARD_A} belongs to another member."
    assert errors[3][2] == f"Card {CARD_TAKEN} belongs to another member."
    assert [(line, column) for line, column, _message in notes] == [(4, "card_number")]
    olena = bulk_snapshot["+380671112233"]
    assert olena["member"]["email"] == "olena@example.com"
    assert olena["member"]["profile_bonus_at"] is True
    assert olena["account"][0] == 70
    assert [entry[:5] for entry in olena["entries"]] == [
        ("bonus", 50, 50, "Welcome bonus", "welcome:<pk>"),
        ("bonus", 20, 70, "Bonus for completing the profile", "profile:<pk>"),
    ]
    assert [lot[:4] for lot in olena["lots"]] == [
        ("bonus", 50, 50, True),
        ("bonus", 20, 20, True),
    ]
    assert olena["lots"][0][4] is not None  # points expire, as configured
    ivan = bulk_snapshot["+380671112234"]
    assert ivan["account"][0] == 50 and ivan["member"]["profile_bonus_at"] is False
    assert ivan["member"]["home_store"] == other_store.pk
    assert bulk_snapshot["+380671112235"]["member"]["card_number"] == "<drawn>"


def test_bulk_path_writes_the_consent_history_member_enroll_writes(
    monkeypatch, store, bonuses, cashier
):
    inputs = [
        EnrollInput(phone="0671112233", email="a@example.com", email_consent=True),
        EnrollInput(phone="0671112234", sms_consent=True, language="en"),
        EnrollInput(
            phone="0671112235",
            email="b@example.com",
            email_consent=True,
            sms_consent=True,
            store=store,
        ),
        EnrollInput(phone="0671112236", language="xx"),  # unknown language
    ]

    def outcomes(results):
        return [
            (type(o.error).__name__, o.error.field, str(o.error))
            if o.error
            else o.member.phone
            for o in results
        ]

    try:
        with transaction.atomic():
            each = outcomes(
                member_services._members_enroll_each(
                    rows=inputs, source=ConsentSource.COUNTER, enrolled_by=cashier
                )
            )
            each_snapshot = snapshot()
            raise _Undo
    except _Undo:
        pass
    bulk = outcomes(
        members_enroll_many(
            rows=inputs, source=ConsentSource.COUNTER, enrolled_by=cashier
        )
    )

    assert bulk == each
    assert bulk[3] == ("InvalidInput", "language", "Unknown language “xx”.")
    assert snapshot() == each_snapshot
    both = snapshot()["+380671112235"]
    assert both["consent"] == [
        ("email", True, "counter", cashier.pk),
        ("sms", True, "counter", cashier.pk),
    ]
    assert both["member"]["email_consent"] and both["member"]["sms_consent"]
    assert both["member"]["enrolled_by"] == cashier.pk
    assert ledger_invariant_violations() == []


def test_rerunning_the_file_imports_nothing_and_pays_nothing(store, bonuses, existing):
    first = members_import(rows(), store=store)
    members, entries, lots = (
        Member.objects.count(),
        LedgerEntry.objects.count(),
        PointsLot.objects.count(),
    )

    again = members_import(rows(), store=store)

    assert first.imported == 4
    assert (again.imported, again.skipped) == (0, 2 + 4)
    assert (
        Member.objects.count(),
        LedgerEntry.objects.count(),
        PointsLot.objects.count(),
    ) == (members, entries, lots)
    assert ledger_invariant_violations() == []


def test_bulk_bonus_keys_refuse_a_second_payment(store, bonuses):
    """The idempotency key is member_enroll's: a welcome bonus paid by the bulk
    path is not paid again by the per-member service."""
    from rewards.services import points_bonus_grant

    (outcome,) = members_enroll_many(
        rows=[EnrollInput(phone="0671112233")], source=ConsentSource.IMPORT
    )
    member = outcome.member

    points_bonus_grant(
        member=member,
        points=50,
        reason="Welcome bonus",
        idempotency_key=f"welcome:{member.pk}",
    )

    member.account.refresh_from_db()
    assert member.account.balance == 50
    assert LedgerEntry.objects.filter(account=member.account).count() == 1


def test_a_member_enrolled_meanwhile_is_reported_as_before(
    monkeypatch, store, bonuses, existing
):
    """A phone and an email enrolled by a till after the bulk path looked them up:
    the unique constraints stop the chunk, every row goes through member_enroll,
    nothing is lost and the rows are reported as the per-row import reports them."""

    def race():
        member_enroll(phone="0671112234", store=store, card_number=card("27444444444"))
        member_enroll(
            phone="0671112299",
            email="last@example.com",
            store=store,
            card_number=card("27555555555"),
        )

    (each, each_snapshot), (bulk, bulk_snapshot) = import_both_ways(
        monkeypatch, store=store, race=race
    )

    assert bulk == each
    assert bulk_snapshot == each_snapshot
    total, imported, skipped, errors, _notes = bulk
    assert (imported, skipped) == (2, 3)  # line 3 is now a known phone
    assert (15, "email") in [(line, column) for line, column, _message in errors]
    assert ledger_invariant_violations() == []


def test_dry_run_writes_nothing_and_counts_as_the_import(store, bonuses, existing):
    counts = (Member.objects.count(), LedgerEntry.objects.count())

    dry = members_import(rows(), store=store, dry_run=True)

    assert (Member.objects.count(), LedgerEntry.objects.count()) == counts
    assert not ConsentEvent.objects.exists()
    # The dry run is the import rolled back: the rows the service refuses (an
    # email or card of an earlier row or of a member) are refused in it too.
    assert dry.dry_run and (dry.imported, dry.skipped) == (4, 2)
    real = members_import(rows(), store=store)
    assert result_tuple(dry) == result_tuple(real)


def _file(n: int, *, start: int) -> str:
    lines = ["phone,email,first_name,last_name,birthday,card_number,store"]
    for i in range(start, start + n):
        body = f"2790{i:07d}"
        lines.append(
            f"067 100 {i // 100:02d} {i % 100:02d},m{i}@example.com,Olena,K{i},"
            f"1990-01-{1 + i % 28:02d},{body + luhn_check_digit(body) if i % 2 else ''},"
        )
    return "\n".join(lines) + "\n"


def test_statements_per_chunk_do_not_grow_with_its_size(store, bonuses):
    """Members, accounts, two bonuses with their lots each: a fixed number of
    statements per chunk (sizes kept under SQLite's 999 parameters per INSERT)."""

    def statements(n: int, start: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            result = members_import(rows(_file(n, start=start)), store=store)
        assert (result.imported, result.errors) == (n, [])
        return len(queries)

    # As many rows as one INSERT of members takes on this database (SQLite
    # binds at most max_query_params values per statement; Django splits).
    limit = connection.ops.bulk_batch_size(
        [f for f in Member._meta.concrete_fields if not f.primary_key], [None] * 24
    )
    n = min(24, limit)
    small, big = statements(2, start=0), statements(n, start=100)

    assert small == big
    assert big <= 15
    assert LedgerEntry.objects.count() == 2 * (2 + n)
    assert ledger_invariant_violations() == []


def test_in_file_duplicates_are_refused_like_member_enroll(store):
    inputs = [
        EnrollInput(phone="0671112233", email="a@example.com", card_number=CARD_A),
        EnrollInput(phone="+380671112233"),  # the same phone
        EnrollInput(phone="0671112234", email="A@example.com"),  # the same email
        EnrollInput(phone="0671112235", card_number=CARD_A),  # the same card
        EnrollInput(phone="0671112236", card_number=" 123 "),
    ]

    outcomes = members_enroll_many(rows=inputs, source=ConsentSource.IMPORT)

    first = outcomes[0].member
    assert first.card_number == CARD_A
    assert isinstance(outcomes[1].error, MemberAlreadyEnrolled)
    assert outcomes[1].error.field == "phone" and outcomes[1].error.member is first
    assert str(outcomes[2].error) == "This email belongs to another member."
    assert str(outcomes[3].error) == f"Card {CARD_A} belongs to another member."
    assert str(outcomes[4].error) == "“123” is not a valid card number."
    assert Member.objects.count() == 1


# --- purchases: what the importer adds around purchase_record ------------------------


def _purchases_file(members, receipts: int) -> str:
    lines = [
        "store,receipt_id,card_number,phone,total,occurred_at,"
        "sku,name,category,quantity,unit_price"
    ]
    for i in range(receipts):
        member = members[i % len(members)]
        card, phone = (member.card_number, "") if i % 2 else ("", member.phone)
        lines.append(
            f"main,R{i},{card},{phone},42.00,2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00,"
            "LATTE,Latte,coffee,1,42.00"
        )
    return "\n".join(lines) + "\n"


def test_purchase_import_adds_no_statement_per_receipt(store):
    """A chunk of receipts is read and written in a fixed number of statements
    (rewards.services.purchase_batches: the stores once, the chunk's members
    in one query, the accounts locked together, the receipts looked up
    together, one bulk insert per table), whatever the number of receipts;
    a replayed file the same. None goes one by one through purchase_record."""
    members = [MemberFactory(store=store) for _ in range(3)]

    def statements(text: str, **expected) -> int:
        with CaptureQueriesContext(connection) as queries:
            result = purchases_import(purchases_csv_read(text))
        assert not result.errors
        assert (result.imported, result.skipped) == (
            expected.get("imported", 0),
            expected.get("skipped", 0),
        )
        return len(queries)

    statements(_purchases_file(members, 3), imported=3)  # the settings row made
    # Later receipts each time: history is imported in time order.
    few = statements(
        _purchases_file(members, 3).replace("main,R", "main,T").replace("-01-", "-02-"),
        imported=3,
    )
    many = (
        _purchases_file(members, 30).replace("main,R", "main,S").replace("-01-", "-03-")
    )
    assert statements(many, imported=30) == few
    assert statements(many, skipped=30) < few
    assert ledger_invariant_violations() == []
