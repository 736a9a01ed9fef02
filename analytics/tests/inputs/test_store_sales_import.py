"""Daily store sales from a CSV file: the import, its command and its admin page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from analytics.imports import store_sales_csv_read, store_sales_import
from analytics.models import StoreSales

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:analytics_storesales_import"


def rows(text: str):
    return store_sales_csv_read(text)


def figures() -> dict:
    return {
        (r.store.code, r.day.isoformat()): (r.total, r.receipts)
        for r in StoreSales.objects.select_related("store")
    }


GOOD = (
    "store,date,total,receipts\n"
    "main,2026-03-01,18250.40,412\n"
    "MAIN,2026-03-02,0,\n"
    "other,2026-03-01,950.5,31\n"
)


def test_import_writes_one_row_per_store_and_day(store, other_store, manager):
    result = store_sales_import(rows(GOOD), entered_by=manager)

    assert (result.imported, result.skipped, result.errors) == (3, 0, [])
    assert figures() == {
        ("main", "2026-03-01"): (Decimal("18250.40"), 412),
        ("main", "2026-03-02"): (Decimal("0.00"), 0),
        ("other", "2026-03-01"): (Decimal("950.50"), 31),
    }
    assert set(StoreSales.objects.values_list("entered_by", flat=True)) == {manager.pk}


def test_reimport_skips_the_same_days_and_replaces_corrected_ones(store, other_store):
    store_sales_import(rows(GOOD), entered_by=None)

    result = store_sales_import(
        rows(GOOD.replace("950.5,31", "990.00,33")), entered_by=None
    )

    assert (result.imported, result.skipped, result.errors) == (1, 2, [])
    assert [(n.line, n.column) for n in result.notes] == [(4, "total")]
    assert "950.50" in result.notes[0].message.replace("\xa0", "")
    assert figures()[("other", "2026-03-01")] == (Decimal("990.00"), 33)
    assert StoreSales.objects.count() == 3


def test_refused_rows_say_why_and_the_others_are_written(store):
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    text = (
        "store,date,total,receipts\n"
        "nowhere,2026-03-01,10.00,\n"
        "main,01/03/2026,10.00,\n"
        f"main,{future},10.00,\n"
        "main,2026-03-03,-5,\n"
        "main,2026-03-04,1e3,\n"
        "main,2026-03-05,10.001,\n"
        "main,2026-03-06,10.00,many\n"
        "main,2026-03-07,10.00,3\n"
        "main,2026-03-07,11.00,3\n"
    )
    result = store_sales_import(rows(text), entered_by=None)

    assert [(e.line, e.column) for e in result.errors] == [
        (2, "store"),
        (3, "date"),
        (4, "date"),
        (5, "total"),
        (6, "total"),
        (7, "total"),
        (8, "receipts"),
        (10, "date"),
    ]
    messages = {e.line: e.message for e in result.errors}
    assert messages[2] == "No store has the code “nowhere”."
    assert messages[3] == "“01/03/2026” is not a date such as 2026-03-14."
    assert messages[4] == "The day has not ended yet."
    assert messages[10] == "Line 9 has this store and day already."
    assert result.imported == 1
    assert figures() == {("main", "2026-03-07"): (Decimal("10.00"), 3)}


def test_dry_run_reports_what_the_import_does_and_writes_nothing(store, other_store):
    store_sales_import(
        rows("store,date,total\nmain,2026-03-01,1.00\n"), entered_by=None
    )
    text = GOOD + "nowhere,2026-03-01,1.00,\nmain,2026-03-02,0.00,0\n"
    before = figures()

    dry = store_sales_import(rows(text), entered_by=None, dry_run=True)

    assert figures() == before
    real = store_sales_import(rows(text), entered_by=None)

    def report(r):
        return (
            r.total,
            r.imported,
            r.skipped,
            [(e.line, e.column, e.message) for e in r.errors],
            [(n.line, n.column, n.message) for n in r.notes],
        )

    assert dry.dry_run and not real.dry_run
    assert report(dry) == report(real)
    assert (real.imported, real.skipped, real.failed) == (3, 0, 2)


def test_command_imports_and_reports(store, other_store, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD)
    out = StringIO()

    call_command("import_store_sales", str(path), stdout=out)

    assert "Imported: 3." in out.getvalue()
    assert StoreSales.objects.count() == 3


def test_command_dry_run_writes_nothing(store, other_store, tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(GOOD)
    out = StringIO()

    call_command("import_store_sales", str(path), "--dry-run", stdout=out)

    assert "Dry run: nothing was written." in out.getvalue()
    assert not StoreSales.objects.exists()


def _upload(client, content: bytes, **extra):
    data = {"file": SimpleUploadedFile("sales.csv", content), **extra}
    return client.post(reverse(IMPORT_URL), data)


def test_admin_changelist_links_the_import_for_managers(client, manager, marketer):
    client.force_login(manager)
    page = client.get(reverse("admin:analytics_storesales_changelist"))
    assert reverse(IMPORT_URL) in page.content.decode()
    client.force_login(marketer)
    page = client.get(reverse("admin:analytics_storesales_changelist"))
    assert page.status_code == 200
    assert reverse(IMPORT_URL) not in page.content.decode()


@pytest.mark.parametrize("role", ["cashier", "marketer"])
def test_admin_import_refuses_staff_who_may_not_enter_sales(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    assert _upload(client, GOOD.encode()).status_code == 403
    url = reverse("admin:analytics_storesales_import_template")
    assert client.get(url).status_code == 403
    assert not StoreSales.objects.exists()


def test_admin_import_dry_run_then_import(client, manager, store, other_store):
    client.force_login(manager)
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    content = (GOOD + "main,2026-13-01,1.00,\n").encode()

    page = _upload(client, content, dry_run="on")

    html = page.content.decode()
    assert "Check only: nothing was written" in html
    assert '<td id="import-imported">3</td>' in html
    assert '<td id="import-failed">1</td>' in html
    assert (
        "<td>5</td><td>date</td><td>“2026-13-01” is not a date such as "
        "2026-03-14.</td>" in html
    )
    assert not StoreSales.objects.exists()

    page = _upload(client, content)

    assert '<td id="import-imported">3</td>' in page.content.decode()
    assert StoreSales.objects.count() == 3


def test_admin_import_refuses_an_unreadable_file(client, manager):
    client.force_login(manager)
    page = _upload(client, b"day,amount\n1,2\n")
    assert "Missing column(s): store, date, total." in page.content.decode()


def test_admin_template_download(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:analytics_storesales_import_template"))
    assert response.status_code == 200
    assert b"store,date,total,receipts" in response.content
