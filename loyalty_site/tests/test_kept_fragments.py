"""base.html's head, menu and footer, kept rendered per process
(loyalty_site/templatetags/kept_fragments.py): every page shows what a fresh
render shows, with the visitor's own CSRF token, and the security headers are
those of any page."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.template import Context, Engine, TemplateSyntaxError, engines
from django.test import Client
from django.urls import reverse

from members.services import branding_update
from members.tests.factories import MemberFactory, UserFactory
from rewards.services import program_settings_ensure

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("portal:dashboard")
CARD = reverse("portal:card")
TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _forget_kept() -> None:
    """The compiled templates, and with them every kept part, thrown away."""
    for loader in engines["django"].engine.template_loaders:
        loader.reset()


def _without_tokens(page: bytes) -> str:
    return TOKEN_RE.sub("", page.decode())


@pytest.fixture
def two_customers(store):
    program_settings_ensure()
    clients = []
    for n in (1, 2):
        user = UserFactory(username=f"c{n}@example.com")
        MemberFactory(store=store, user=user, first_name=f"Name{n}")
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


def test_each_visitor_gets_a_token_of_their_own_csrf_secret(two_customers):
    _forget_kept()
    for client in two_customers:
        response = client.get(DASHBOARD)
        tokens = TOKEN_RE.findall(response.content.decode())
        # The language form and the log-out form, both in the kept menu.
        assert len(tokens) == 2
        secret = response.cookies["csrftoken"].value
        assert {_unmask_cipher_token(t) for t in tokens} == {secret}
    # And the token the second page carries is accepted by a POST.
    second = two_customers[1]
    second.handler.enforce_csrf_checks = True
    token = TOKEN_RE.findall(second.get(DASHBOARD).content.decode())[0]
    logout = second.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert logout.status_code == 302


def test_a_kept_page_is_the_page_rendered_afresh(two_customers):
    first, second = two_customers
    _forget_kept()
    fresh = _without_tokens(second.get(DASHBOARD).content)
    _forget_kept()
    first.get(DASHBOARD)  # the parts are kept now, from the first visitor's page

    kept = _without_tokens(second.get(DASHBOARD).content)

    assert kept == fresh
    assert "Name2" in kept and "Name1" not in kept


def test_the_menu_marks_the_page_shown(two_customers):
    client = two_customers[0]
    client.get(DASHBOARD)
    dashboard = client.get(DASHBOARD).content.decode()
    card = client.get(CARD).content.decode()
    assert re.search(rf'active" aria-current="page" href="{DASHBOARD}"', dashboard)
    assert re.search(rf'active" aria-current="page" href="{CARD}"', card)
    assert not re.search(rf'aria-current="page" href="{DASHBOARD}"', card)
    # The language form sends the visitor back to the page shown.
    assert f'name="next" value="{CARD}"' in card


def test_each_language_and_login_state_has_its_own_menu(two_customers, client):
    customer = two_customers[0]
    english = customer.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    customer.cookies["django_language"] = "uk"
    ukrainian = customer.get(DASHBOARD).content.decode()
    visitor = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en")

    assert "Log out" in english and "Log out" not in ukrainian
    assert '<html lang="uk">' in ukrainian
    assert "Log out" not in visitor.content.decode()
    assert "Log in" in visitor.content.decode()


def test_a_new_program_name_shows_at_once(two_customers):
    client = two_customers[0]
    client.get(DASHBOARD)
    branding_update(program_name="Coffee Friends")

    page = client.get(DASHBOARD).content.decode()

    assert page.count("Coffee Friends") >= 3  # title, menu, footer


def test_the_security_headers_are_those_of_every_page(two_customers):
    client = two_customers[0]
    client.get(DASHBOARD)
    response = client.get(DASHBOARD)  # menu kept
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_block_cannot_be_kept():
    engine = Engine(libraries={"kept": "loyalty_site.templatetags.kept_fragments"})
    with pytest.raises(TemplateSyntaxError, match="cannot hold a"):
        engine.from_string(
            "{% load kept %}{% keep 'x' %}{% block a %}{% endblock %}{% endkeep %}"
        )
    kept = engine.from_string("{% load kept %}{% keep 'x' v %}[{{ v }}]{% endkeep %}")
    assert kept.render(Context({"v": 1})) == "[1]"
    assert kept.render(Context({"v": 2})) == "[2]"


@pytest.mark.parametrize(
    ("body", "unkeyed"),
    [
        ("{{ user.first_name }}", "user.first_name"),
        ("{% if member.account.balance %}x{% endif %}", "member.account.balance"),
        ("{{ brand.name|default:member.phone }}", "member.phone"),
        ("{% url 'portal:card' member.pk %}", "member.pk"),
        ("{% for e in entries %}{{ e }}{% endfor %}", "entries"),
        ("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}", "name"),
        # A template it includes by name is read too.
        ("{% include 'portal/_language_form.html' %}", "form_class"),
    ],
)
def test_a_kept_part_shows_nothing_its_key_does_not_hold(body, unkeyed):
    """The tag's promise, checked when the template is compiled: a member's own
    data inside a kept part would be shown to everyone after them."""
    with pytest.raises(
        TemplateSyntaxError, match=rf"shows ([\w.]+, )*{re.escape(unkeyed)},"
    ):
        engines["django"].from_string(
            "{% load i18n kept_fragments %}"
            "{% keep 'x' user.is_authenticated request.get_full_path %}"
            f"{body}{{% endkeep %}}"
        )


def test_a_kept_part_may_show_its_key_what_it_stands_for_and_what_it_sets():
    kept = engines["django"].from_string(
        "{% load i18n kept_fragments %}"
        "{% keep 'x' user.is_authenticated request.get_full_path brand.version %}"
        "{% url 'portal:card' as card_url %}{{ card_url }} {{ request.path }} "
        "{{ brand.name }} {{ LANGUAGE_CODE }} {% for n in '12' %}{{ n }}{% endfor %}"
        "{% with shown=user.is_authenticated %}{{ shown }}{% endwith %}"
        "{% endkeep %}"
    )
    html = kept.render({"brand": {"name": "Зерно", "version": 1}})
    assert CARD in html and "Зерно" in html and "12" in html
