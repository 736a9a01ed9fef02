"""Links in emails and SMS lead to the address the site is served on.

Under `make run PORT=8301` settings.py makes SITE_URL http://127.0.0.1:8301
(bin/run exports PORT), and every absolute link is built from SITE_URL by
members.links.absolute_url: nothing else may read SITE_URL, ask the request for
its host, or write the default address.
"""

import re
from pathlib import Path

import pytest

from tests.fresh_process import json_from_fresh_process

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Builds a marketing SMS and email (the messages that leave with links) in a
# process whose environment is only what the test gives it. Its database is
# empty: the email's branding comes from the (local) cache, set to the defaults.
BUILD = """
import json, django
django.setup()
from members.branding import branding_cache_set_defaults
branding_cache_set_defaults()
from django.conf import settings
from campaigns.messaging.delivery import email_build, sms_text
from campaigns.models import Message

def message(channel):
    return Message(channel=channel, marketing=True, token="t0k", subject="S",
                   body="Sale! https://shop.example.net/x", language="en", to="x")

email = email_build(message("email"))
print(json.dumps({
    "site_url": settings.SITE_URL,
    "texts": [sms_text(message("sms")), email.body, email.alternatives[0][0],
              email.extra_headers["List-Unsubscribe"]],
}))
"""


def _built(tmp_path, **env) -> dict:
    return json_from_fresh_process(
        BUILD,
        tmp_path,
        unset=("PORT", "SITE_URL", "DEBUG"),
        CACHE_URL="locmemcache://",
        **env,
    )


def _our_links(texts: list[str]) -> list[str]:
    links = re.findall(r"https?://[^\s\"<>]+", "\n".join(texts))
    return [link for link in links if "shop.example.net" not in link]


@pytest.mark.parametrize(
    ("env", "site"),
    [
        ({"PORT": "8301"}, "http://127.0.0.1:8301/"),  # make run PORT=8301
        ({}, "http://127.0.0.1:8000/"),
        (
            {"PORT": "8301", "SITE_URL": "https://loyalty.example.com"},
            "https://loyalty.example.com/",
        ),
    ],
)
def test_links_in_emails_and_sms_use_the_served_address(tmp_path, env, site):
    built = _built(tmp_path, **env)

    assert built["site_url"] + "/" == site
    links = _our_links(built["texts"])
    # unsubscribe (SMS, email text and HTML, header), click tracking, open pixel
    assert len(links) >= 6
    assert all(link.startswith(site) for link in links), links


# Where absolute links are built in product code (not tests, not migrations):
# only members/links.py may, from SITE_URL.
FORBIDDEN_IN_PYTHON = re.compile(
    r"SITE_URL|build_absolute_uri|get_host\(\)|127\.0\.0\.1:8000|localhost:8000"
)
FORBIDDEN_IN_TEMPLATES = re.compile(
    r"\{\{\s*(protocol|domain)\s*\}\}|build_absolute_uri|get_host|127\.0\.0\.1:8000"
)
ALLOWED = {
    "members/links.py",
    "loyalty_site/settings.py",
    "loyalty_site/checks.py",
    # sets SITE_URL in the environment of the demo server it starts and shoots
    "demo/management/commands/screenshots.py",
}
PACKAGES = ("members", "rewards", "campaigns", "analytics", "loyalty_site", "demo")


def _product_files(pattern: str):
    for package in PACKAGES:
        for path in sorted((BASE_DIR / package).rglob(pattern)):
            parts = path.relative_to(BASE_DIR).parts
            if "tests" in parts or "migrations" in parts:
                continue
            yield path


def test_every_absolute_link_is_built_from_site_url_in_one_place():
    offenders = []
    for path in _product_files("*.py"):
        name = path.relative_to(BASE_DIR).as_posix()
        if name not in ALLOWED and FORBIDDEN_IN_PYTHON.search(path.read_text()):
            offenders.append(name)
    templates = [*(BASE_DIR / "templates").rglob("*.*"), *_product_files("*.html")]
    templates += list(_product_files("*.txt"))
    for path in templates:
        if FORBIDDEN_IN_TEMPLATES.search(path.read_text(errors="replace")):
            offenders.append(path.relative_to(BASE_DIR).as_posix())

    assert offenders == [], (
        "build absolute links with members.links.absolute_url(reverse(...))"
    )
