"""The program's branding: one row edited in admin, read from the cache (no
page pays a query for it), used by the portal, the admin and the emails."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from members import branding
from members.branding import (
    branding_cache_clear,
    branding_get,
    contrast,
    mix,
    readable_on,
)
from members.models import AuditAction, Branding, StaffAuditEvent
from members.password_reset import password_reset_email_send
from members.services import branding_ensure, branding_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_branding():
    branding_cache_clear()
    yield
    branding_cache_clear()


def _png(size=(64, 64), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _branding_queries(queries) -> list[str]:
    table = Branding._meta.db_table
    return [q["sql"] for q in queries if table in q["sql"]]


# --- reading ---------------------------------------------------------------------------


def test_without_a_name_the_program_is_the_loyalty_club():
    Branding.objects.all().delete()
    brand = branding_get()
    assert brand.name == "Loyalty club"
    assert brand.short_name == "Loyalty club"
    assert brand.favicon_url.endswith("img/favicon.svg")
    assert brand.favicon_type == "image/svg+xml"
    assert brand.logo_url == ""


def test_the_row_is_read_once_then_comes_from_the_cache(django_assert_num_queries):
    branding_update(program_name="Coffee Club")
    branding_cache_clear()
    with django_assert_num_queries(1):
        assert branding_get().name == "Coffee Club"
    # The next request (the thread's copy goes), or another process: the cache.
    branding._local_clear()
    with django_assert_num_queries(0):
        assert branding_get().name == "Coffee Club"


def test_a_save_is_seen_at_once_and_changes_the_version():
    before = branding_get()
    branding_update(program_name="Coffee Club", primary_color="#8B4513")
    after = branding_get()
    assert after.name == "Coffee Club"
    assert after.primary == "#8b4513"
    assert after.version != before.version


def test_a_colour_written_past_validation_falls_back_to_the_default():
    branding_ensure()
    Branding.objects.update(primary_color="red}</s")
    branding_cache_clear()
    assert branding_get().primary == "#0d6efd"


def test_a_colour_must_be_six_hex_digits():
    with pytest.raises(ValidationError, match="six hex digits"):
        branding_update(primary_color="#abc")


@pytest.mark.parametrize(
    ("background", "text"),
    [
        ("#0d6efd", "#ffffff"),  # Bootstrap's blue keeps white text
        ("#ffd500", "#212529"),  # a yellow gets dark text
        ("#f8f9fa", "#212529"),
        ("#8b4513", "#ffffff"),
    ],
)
def test_the_text_colour_reads_on_the_brand_colour(background, text):
    assert readable_on(background) == text
    assert contrast(background, readable_on(background)) >= 4.5


def test_shades_mix_towards_black_and_white():
    assert mix("#0d6efd", "#000000", 0.15) == "#0b5ed7"  # Bootstrap's own hover
    assert mix("#000000", "#ffffff", 0.5) == "#808080"


# --- pages -----------------------------------------------------------------------------


def test_portal_pages_carry_the_name_colours_and_logo(client):
    branding_update(
        program_name="Coffee Club",
        primary_color="#8b4513",
        logo=SimpleUploadedFile("logo.png", _png(), content_type="image/png"),
    )
    brand = branding_get()
    html = client.get(reverse("login")).text
    assert "<title>" in html and "· Coffee Club</title>" in html
    assert 'class="brand-logo" src="/media/branding/logo' in html
    assert '<meta name="theme-color" content="#8b4513">' in html
    assert f'href="/branding/portal.css?v={brand.version}"' in html
    assert f'<link rel="manifest" href="{reverse("manifest")}">' in html
    assert "Coffee Club\n  </footer>" in html

    css = client.get(f"/branding/portal.css?v={brand.version}")
    assert css["Content-Type"].startswith("text/css")
    assert "--bs-primary: #8b4513;" in css.text
    assert "--bs-primary-rgb: 139, 69, 19;" in css.text
    assert "immutable" in css["Cache-Control"]
    assert "immutable" not in client.get("/branding/portal.css?v=old")["Cache-Control"]
    assert client.get("/branding/other.css").status_code == 404


def test_pages_read_the_branding_from_the_cache_not_the_database(client, customer):
    user, _member = customer
    client.force_login(user)
    client.get(reverse("portal:dashboard"))  # the first read after a change
    for name in ("portal:dashboard", "portal:card", "login"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        assert _branding_queries(queries.captured_queries) == [], name


def test_an_uploaded_favicon_is_linked_and_favicon_ico_leads_to_it(client):
    branding_update(
        favicon=SimpleUploadedFile("tab.png", _png((32, 32)), content_type="image/png")
    )
    html = client.get(reverse("login")).text
    assert '<link rel="icon" href="/media/branding/tab' in html
    assert 'type="image/png"' in html
    assert client.get("/favicon.ico")["Location"].startswith("/media/branding/tab")


# --- admin -----------------------------------------------------------------------------


def test_admin_header_title_and_colours_name_the_program(client, admin_user):
    branding_update(program_name="Coffee Club", primary_color="#8b4513")
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    assert response.context["site_header"] == "Coffee Club back office"
    assert "| Coffee Club</title>" in response.text
    assert "/branding/admin.css?v=" in response.text
    css = client.get(reverse("branding_css", args=["admin"])).text
    assert "--header-bg: #8b4513;" in css


def test_admin_opens_the_one_row_and_saves_it_with_an_audit_row(client, admin_user):
    client.force_login(admin_user)
    changelist = client.get(reverse("admin:members_branding_changelist"))
    row = branding_ensure()
    assert changelist["Location"] == reverse(
        "admin:members_branding_change", args=[row.pk]
    )
    page = client.get(changelist["Location"])
    assert 'type="color"' in page.text

    response = client.post(
        changelist["Location"],
        {
            "program_name": "Coffee Club",
            "short_name": "Coffee",
            "logo": SimpleUploadedFile("logo.png", _png(), content_type="image/png"),
            "primary_color": "#8b4513",
            "secondary_color": "#6c757d",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    row.refresh_from_db()
    assert row.program_name == "Coffee Club"
    assert row.logo.name.startswith("branding/logo")
    assert branding_get().name == "Coffee Club"
    event = StaffAuditEvent.objects.get(object_type="members.branding")
    assert event.action == AuditAction.RECORD_CHANGED
    assert client.get(reverse("admin:members_branding_add")).status_code == 403


def test_a_manager_may_change_the_branding(client, manager):
    client.force_login(manager)
    row = branding_ensure()
    response = client.get(reverse("admin:members_branding_change", args=[row.pk]))
    assert response.status_code == 200
    assert 'name="program_name"' in response.text


# --- emails ----------------------------------------------------------------------------


def test_the_password_reset_email_names_the_program(customer):
    branding_update(program_name="Coffee Club")
    _user, member = customer

    sent = password_reset_email_send(email=member.email, language="en")

    assert sent == 1
    (message,) = mail.outbox
    assert message.subject == "Coffee Club: reset your password"
    assert message.body.startswith("Hello from Coffee Club,")
    assert "your Coffee Club account at" in message.body
    assert "\n-- \nCoffee Club\n" in message.body
    assert message.from_email == "Coffee Club <loyalty@localhost>"
    html, _mimetype = message.alternatives[0]
    assert "Coffee Club" in html


def test_without_a_name_the_email_uses_the_default_name(customer):
    _user, member = customer
    password_reset_email_send(email=member.email, language="en")
    (message,) = mail.outbox
    assert message.subject == "Loyalty club: reset your password"


# --- the program's name on the customer pages ---------------------------------------


def test_customer_pages_say_the_program_name_not_loyalty_club(client, manager):
    branding_update(program_name="Brewline Coffee")
    signup = client.get(reverse("portal:signup")).content.decode()
    assert "Join Brewline Coffee" in signup
    client.force_login(manager)  # a login without a card
    home = client.get(reverse("portal:home")).content.decode()
    assert "This login has no Brewline Coffee card" in home
    for page in (signup, home):
        assert "loyalty club" not in page.lower()
        assert "loyalty card" not in page.lower()


def test_the_one_time_code_names_the_program_by_its_short_name(
    store, sms_outbox, django_capture_on_commit_callbacks
):
    from members.services import member_enroll, member_signup

    branding_update(program_name="Brewline Coffee Roasters", short_name="Brewline")
    member_enroll(phone="0671234567", store=store)
    with django_capture_on_commit_callbacks(execute=True):
        member_signup(
            email="olena@example.com", password="pass-word-123", phone="+380671234567"
        )

    (sms,) = sms_outbox
    assert sms["text"].startswith("Your Brewline confirmation code: ")


def test_the_email_layout_escapes_the_name_and_the_text_and_links_the_logo(settings):
    from members.emails import branded_email

    settings.SITE_URL = "https://club.example.com"
    settings.MEDIA_URL = "/media/"
    branding_update(
        program_name="Bean <b>&</b> Co",
        logo=SimpleUploadedFile("logo.png", _png(), "image/png"),
    )

    email = branded_email(
        subject="Hi", text="1 < 2\n\nhttps://x.example/", to=["a@b.c"]
    )

    html, _mimetype = email.alternatives[0]
    assert "Bean &lt;b&gt;&amp;&lt;/b&gt; Co" in html
    assert "<b>&</b>" not in html
    assert "<p>1 &lt; 2</p>" in html
    assert 'src="https://club.example.com/media/branding/logo' in html
    assert email.body.startswith("1 < 2\n\nhttps://x.example/\n")
    assert "\n-- \nBean <b>&</b> Co\nhttps://club.example.com/\n" in email.body
    assert email.from_email == '"Bean <b>&</b> Co" <loyalty@localhost>'
