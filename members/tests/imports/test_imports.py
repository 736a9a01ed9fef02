"""CSV import of members and purchases: the services, the commands, the admin page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.urls import reverse

from members.cards import luhn_check_digit
from members.imports import (
    MEMBER_COLUMNS,
    MEMBER_REQUIRED,
    CsvUnreadable,
    csv_read,
    members_import,
)
from members.models import Member
from members.tests.factories import MemberFactory
from rewards.imports import purchases_csv_read, purchases_import
from rewards.models import LedgerEntry, Purchase
from rewards.selectors.invariants import ledger_discrepancies

pytestmark = pytest.mark.django_db

CARD = "2712345678" + "9"  # body of 11 digits below gets its check digit
CARD = CARD + luhn_check_digit(CARD)


def members_rows(text: str):
    return csv_read(text, required=MEMBER_REQUIRED, known=MEMBER_COLUMNS)


MEMBERS_CSV = (
    "phone,email,first_name,last_name,birthday,card_number,store\n"
    f"067 111 22 33,olena@example.com,Olena,Kovalenko,1990-05-17,{CARD},\n"
    "+380671112234,,Ivan,,,,other\n"
    "0671112235,,Bad,Card,,123,\n"
)


def test_members_import_enrolls_through_the_service(store, other_store):
    result = members_import(members_rows(MEMBERS_CSV), store=store)

    assert (result.imported, result.skipped, result.errors) == (3, 0, [])
    olena = Member.objects.get(phone="+380671112233")
    assert olena.card_number == CARD  # the old system's card is kept
    assert olena.birthday == dt.date(1990, 5, 17)
    assert olena.home_store == store
    assert olena.email == "olena@example.com"
    assert Member.objects.get(phone="+380671112234").home_store == other_store
    bad_card = Member.objects.get(phone="+380671112235")
    assert bad_card.card_number != "123" and len(bad_card.card_number) == 12
    assert [(n.line, n.column) for n in result.notes] == [(4, "card_number")]
    assert all(hasattr(m, "account") for m in Member.objects.all())
    assert ledger_discrepancies() == []


def test_members_reimport_skips_enrolled_phones(store, other_store):
    members_import(members_rows(MEMBERS_CSV), store=store)
    result = members_import(members_rows(MEMBERS_CSV), store=store)

    assert (result.imported, result.skipped, result.errors) == (0, 3, [])
    assert Member.objects.count() == 3


def test_members_import_reports_bad_rows_and_keeps_the_good_ones(store):
    taken = MemberFactory(store=store, email="taken@example.com")
    text = (
        "phone,email,first_name,birthday,card_number,store\n"
        "0671112233,,Good,,,\n"
        "not a phone,,X,,,\n"
        "0671112236,,X,17/05/1990,,\n"
        "0671112237,,X,,,nowhere\n"
        "0671112238,taken@example.com,X,,,\n"
        f"0671112239,,X,,{taken.card_number},\n"
        "0671112240,not-an-email,X,,,\n"
        "0671112241,,Good too,,,\n"
    )
    result = members_import(members_rows(text), store=store)

    assert result.imported == 2
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "phone"),
        (4, "birthday"),
        (5, "store"),
        (6, "email"),
        (7, "card_number"),
        (8, "email"),
    ]
    assert result.errors[0].message == "“not a phone” is not a phone number."
    assert (
        result.errors[4].message
        == f"Card {taken.card_number} belongs to another member."
    )
    assert set(Member.objects.values_list("first_name", flat=True)) == {
        taken.first_name,
        "Good",
        "Good too",
    }


def test_members_dry_run_writes_nothing(store, other_store):
    result = members_import(members_rows(MEMBERS_CSV), store=store, dry_run=True)
    assert result.imported == 3 and result.dry_run
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "This is not a CSV file."),
        ("phone\n".encode("utf-16"), "This is not a CSV file."),
        (b"\xff\xfe\xfa broken", "The file is not UTF-8 text."),
        (b"name,amount\nx,1\n", "Missing column(s): phone."),
        (b"phone\n", "The file has a header but no rows."),
    ],
)
def test_unreadable_files_get_a_clear_message(content, message):
    with pytest.raises(CsvUnreadable) as info:
        csv_read(content, required=MEMBER_REQUIRED, known=MEMBER_COLUMNS)
    assert info.value.message.startswith(message)


def test_bom_and_semicolons_are_read(store):
    content = "\ufeffPhone;First_name\n067 111 22 33;Olena\n".encode()
    rows = csv_read(content, required=MEMBER_REQUIRED, known=MEMBER_COLUMNS)
    assert [(row.line, row.data) for row in rows] == [
        (2, {"phone": "067 111 22 33", "first_name": "Olena"})
    ]


# --- purchases ------------------------------------------------------------------------

PURCHASES_CSV = (
    "store,receipt_id,card_number,phone,total,occurred_at,sku,name,category,quantity,unit_price\n"
    "main,R2,{card},,84.00,2026-03-14T09:30:00+02:00,LATTE,Latte,coffee,2,42.00\n"
    "main,R1,,{phone},100.00,2026-03-01T10:00:00,,,,,\n"
    "main,R2,{card},,84.00,2026-03-14T09:30:00+02:00,,,,,\n"
    "other,R1,{card},,55.50,2026-02-01T08:00:00+02:00,,,,,\n"
)


def _purchases_csv(member, extra: str = "") -> str:
    return PURCHASES_CSV.format(card=member.card_number, phone=member.phone) + extra


def test_purchases_import_records_history_in_time_order(member, other_store):
    # R2: a LATTE line (line 2) and a row without line columns (line 4).
    text = _purchases_csv(member)
    result = purchases_import(purchases_csv_read(text))

    assert (result.imported, result.skipped, result.errors) == (3, 0, [])
    purchases = list(Purchase.objects.order_by("pk"))
    assert [(p.store.code, p.receipt_id) for p in purchases] == [
        ("other", "R1"),
        ("main", "R1"),
        ("main", "R2"),
    ]
    assert {p.source for p in purchases} == {Purchase.Source.IMPORT}
    r2 = purchases[2]
    assert r2.total == Decimal("84.00")
    assert [(line.sku, line.quantity) for line in r2.lines.all()] == [
        ("LATTE", Decimal("2.000"))
    ]
    assert r2.created_at == dt.datetime(2026, 3, 14, 7, 30, tzinfo=dt.UTC)
    entries = LedgerEntry.objects.filter(purchase__isnull=False).order_by("pk")
    assert [e.created_at.date() for e in entries] == sorted(
        e.created_at.date() for e in entries
    )
    member.account.refresh_from_db()
    assert (
        member.account.balance == member.account.entries.aggregate(s=Sum("points"))["s"]
    )
    assert ledger_discrepancies() == []


def test_purchases_reimport_replays(member, other_store):
    purchases_import(purchases_csv_read(_purchases_csv(member)))
    member.account.refresh_from_db()
    balance = member.account.balance

    result = purchases_import(purchases_csv_read(_purchases_csv(member)))

    assert (result.imported, result.skipped, result.errors) == (0, 3, [])
    assert Purchase.objects.count() == 3
    member.account.refresh_from_db()
    assert member.account.balance == balance


def test_purchases_import_reports_bad_rows_and_keeps_the_good_ones(member, other_store):
    card = member.card_number
    text = (
        "store,receipt_id,card_number,phone,total,occurred_at,sku,quantity,unit_price\n"
        f"main,G1,{card},,10.00,2026-03-01T10:00:00,,,\n"
        f"nowhere,B1,{card},,10.00,2026-03-01T10:00:00,,,\n"
        f"main,B2,000,,10.00,2026-03-01T10:00:00,,,\n"
        f"main,B3,,0671234,10.00,2026-03-01T10:00:00,,,\n"
        f"main,B4,{card},,ten,2026-03-01T10:00:00,,,\n"
        f"main,B5,{card},,10.00,yesterday,,,\n"
        f"main,B6,{card},,10.00,2026-03-01T10:00:00,A,1,4.00\n"
        f"main,B6,{card},,10.00,2026-03-01T10:00:00,B,1,5.00\n"
        f"main,B7,{card},,10.00,2026-03-01T10:00:00,A,0,4.00\n"
        f"main,B8,{card},,10.00,2026-03-01T10:00:00,,,\n"
        f"main,B8,{card},,12.00,2026-03-01T10:00:00,,,\n"
        f"main,B9,{card},,10.00,2099-01-01T10:00:00,,,\n"
        f"main,G2,{card},,20.00,2026-03-02T10:00:00,,,\n"
    )
    result = purchases_import(purchases_csv_read(text))

    assert (result.imported, result.skipped) == (2, 0)
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "store"),
        (4, "card_number"),
        (5, "phone"),
        (6, "total"),
        (7, "occurred_at"),
        (8, "total"),
        (10, "quantity"),
        (12, "total"),
        (13, "occurred_at"),
    ]
    messages = {e.line: e.message for e in result.errors}
    assert messages[4] == "No member has card 000."
    assert messages[6] == "Enter an amount such as 125.50."
    assert messages[8] == "The total 10.00 does not equal the sum of the lines, 9.00."
    assert messages[12] == "Receipt B8 has another total on line 11."
    assert set(Purchase.objects.values_list("receipt_id", flat=True)) == {"G1", "G2"}
    assert ledger_discrepancies() == []


def test_purchases_same_receipt_other_details_is_an_error(member, other_store):
    purchases_import(purchases_csv_read(_purchases_csv(member)))
    changed = _purchases_csv(member).replace("100.00", "101.00")

    result = purchases_import(purchases_csv_read(changed))

    assert (result.imported, result.skipped) == (0, 2)
    assert [(e.line, e.column) for e in result.errors] == [(3, "receipt_id")]
    assert (
        "already recorded at this store with other details" in result.errors[0].message
    )


def test_purchases_file_needs_card_or_phone_column():
    with pytest.raises(
        CsvUnreadable, match=r"Missing column\(s\): card_number or phone"
    ):
        purchases_csv_read("store,receipt_id,total,occurred_at\nmain,R1,1,2026-01-01\n")


# --- commands -------------------------------------------------------------------------


def _command(name, *args):
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_import_members_command_prints_progress_and_summary(
    store, other_store, tmp_path
):
    path = tmp_path / "members.csv"
    path.write_text(MEMBERS_CSV)

    code, out, err = _command("import_members", str(path), "--store", "main")

    assert code == 0 and err == ""
    assert "3 rows in" in out
    assert "3/3 rows" in out
    assert "Imported: 3. Skipped as already there: 0. Rows with errors: 0." in out
    assert "Line 4, card_number:" in out
    code, out, _err = _command("import_members", str(path), "--store", "main")
    assert code == 0 and "Imported: 0. Skipped as already there: 3." in out


def test_import_members_command_exits_1_on_a_bad_row(store, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("phone\n0671112233\nnope\n")

    code, out, err = _command("import_members", str(path), "--store", "main")

    assert code == 1
    assert "Imported: 1." in out and "Rows with errors: 1." in out
    assert "Line 3, phone: “nope” is not a phone number." in err


def test_import_members_command_dry_run(store, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("phone\n0671112233\n")
    code, out, _err = _command(
        "import_members", str(path), "--store", "main", "--dry-run"
    )
    assert code == 0 and "Dry run: nothing was written." in out
    assert not Member.objects.exists()


def test_import_commands_refuse_junk_with_a_message(store, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(CommandError, match="This is not a CSV file"):
        call_command("import_members", str(path), "--store", "main", stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import_purchases", str(tmp_path / "missing.csv"), stdout=StringIO()
        )
    path.write_text("phone\n0671112233\n")
    with pytest.raises(CommandError, match="No store has the code “nope”"):
        call_command("import_members", str(path), "--store", "nope", stdout=StringIO())


def test_import_purchases_command(member, other_store, tmp_path):
    path = tmp_path / "purchases.csv"
    path.write_text(
        _purchases_csv(member, "main,R9,000,,1.00,2026-03-01T10:00:00,,,,,\n")
    )

    code, out, err = _command("import_purchases", str(path))

    assert code == 1
    assert "5/5 rows" in out
    assert "Imported: 3. Skipped as already there: 0. Rows with errors: 1." in out
    assert "Line 6, card_number: No member has card 000." in err
    assert ledger_discrepancies() == []


# --- admin ----------------------------------------------------------------------------

IMPORT_URL = "admin:members_member_import"


def _upload(client, kind, content, **extra):
    data = {"kind": kind, "file": SimpleUploadedFile("f.csv", content), **extra}
    return client.post(reverse(IMPORT_URL), data)


def test_admin_changelist_links_the_import_page_for_managers(client, manager, cashier):
    client.force_login(manager)
    page = client.get(reverse("admin:members_member_changelist"))
    assert reverse(IMPORT_URL) in page.content.decode()
    client.force_login(cashier)
    page = client.get(reverse("admin:members_member_changelist"))
    assert page.status_code == 200
    assert reverse(IMPORT_URL) not in page.content.decode()


@pytest.mark.parametrize("role", ["cashier", "marketer"])
def test_admin_import_refuses_cashiers_and_marketers(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    assert _upload(client, "members", b"phone\n0671112233\n").status_code == 403
    url = reverse("admin:members_member_import_template", args=["members"])
    assert client.get(url).status_code == 403
    assert not Member.objects.exists()


def test_admin_import_members_shows_summary_and_errors(client, manager, store):
    client.force_login(manager)
    assert client.get(reverse(IMPORT_URL)).status_code == 200

    page = _upload(
        client,
        "members",
        b"phone,first_name\n0671112233,Olena\nnope,X\n",
        store=store.pk,
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert '<td id="import-imported">1</td>' in html
    assert '<td id="import-failed">1</td>' in html
    assert "<td>3</td><td>phone</td><td>“nope” is not a phone number.</td>" in html
    assert Member.objects.get().first_name == "Olena"


def test_admin_import_purchases(client, manager, member, other_store):
    client.force_login(manager)
    page = _upload(client, "purchases", _purchases_csv(member).encode())
    assert '<td id="import-imported">3</td>' in page.content.decode()
    assert Purchase.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\x00\x01binary", "This is not a CSV file."),
        (b"foo,bar\n1,2\n", "Missing column(s): phone."),
        ("\ufeffphone;first_name\n0671112233;Olena\n".encode(), None),
    ],
)
def test_admin_import_junk_files_get_a_message_not_a_500(
    client, manager, store, content, message
):
    client.force_login(manager)
    page = _upload(client, "members", content, store=store.pk)
    assert page.status_code == 200
    if message is None:
        assert Member.objects.get().first_name == "Olena"
    else:
        assert message in page.content.decode().replace("&#x27;", "'")
        assert not Member.objects.exists()


def test_admin_import_members_needs_a_store_for_rows_without_one(client, manager):
    client.force_login(manager)
    page = _upload(client, "members", b"phone\n0671112233\n")
    assert "Choose the home store" in page.content.decode()
    assert not Member.objects.exists()


def test_admin_import_refuses_big_files_and_names_the_command(client, manager, store):
    client.force_login(manager)
    content = b"phone\n" + b"0671112233\n" * 5001
    page = _upload(client, "members", content, store=store.pk)
    html = page.content.decode()
    assert "this page imports at most 5000" in html
    assert "manage.py import_members FILE --store CODE" in html
    assert not Member.objects.exists()


@pytest.mark.parametrize("kind", ["members", "purchases"])
def test_admin_import_templates_download(client, manager, kind):
    client.force_login(manager)
    response = client.get(reverse("admin:members_member_import_template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("phone," if kind == "members" else "store,receipt_id")


def test_member_enroll_keeps_a_valid_card_and_refuses_a_bad_one(store):
    from members.errors import InvalidInput
    from members.services import member_enroll

    member = member_enroll(phone="0671112233", store=store, card_number=f" {CARD} ")
    assert member.card_number == CARD
    with pytest.raises(InvalidInput, match="“12345” is not a valid card number."):
        member_enroll(phone="0671112234", store=store, card_number="12345")
