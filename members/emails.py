"""The one layout of every email the system sends.

    sender (campaign, journey, reminder, digest, password reset ...)
        └─ branded_email(subject=, text=, to=, html=?) ─▶ EmailMultiAlternatives
             From:  the program's name <DEFAULT_FROM_EMAIL's address>
             text:  the text as written, then "-- " and the program's name
             HTML:  templates/members/email/base.html: a bar in the primary
                    colour with the logo (an absolute address) and the
                    name, the content, the footer with the program's name

The layout lives here (and in templates/members/email/base.*) so that a change
of name, logo or colour in the admin reaches every email, and a sender added
later gets it by building its email here (campaigns' channel-rule walk lists
every place that calls `branded_email`, and the branding walk sends from each).
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from members.branding import Brand, branding_get
from members.links import absolute_url

TEXT_TEMPLATE = "members/email/base.txt"
HTML_TEMPLATE = "members/email/base.html"


def email_from(brand: Brand | None = None) -> str:
    """DEFAULT_FROM_EMAIL's address under the program's name, so the inbox
    shows who writes (the address stays what the mail server accepts)."""
    brand = brand or branding_get()
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = address or "loyalty@localhost"
    local, _, domain = address.partition("@")
    return str(Address(display_name=brand.name, username=local, domain=domain))


def email_logo_url(brand: Brand) -> str:
    """The logo on the site's public address ("" without a logo): a mail
    client has no page to resolve a relative address against."""
    url = brand.logo_url
    if not url or url.startswith(("http://", "https://")):
        return url
    return absolute_url(url if url.startswith("/") else "/" + url)


def branded_subject(subject: str, brand: Brand | None = None) -> str:
    """ "<program>: <subject>", for the system's own notices (a marketer's
    subject is theirs and goes as written; the From name says who writes)."""
    brand = brand or branding_get()
    return gettext("%(program)s: %(subject)s") % {
        "program": brand.name,
        "subject": subject,
    }


def _paragraphs(text: str) -> SafeString:
    """`text` as HTML paragraphs, escaped here (linebreaks(autoescape=True)
    escapes it, but returns a plain str the template would escape again)."""
    return mark_safe(linebreaks(text, autoescape=True))  # noqa: S308


def branded_email(
    *,
    subject: str,
    text: str,
    to: list[str],
    html: SafeString | None = None,
    footer_text: str = "",
    footer_html: SafeString | str = "",
    headers: dict | None = None,
    language: str | None = None,
    connection=None,
) -> EmailMultiAlternatives:
    """An email in the program's layout, plain text plus HTML.

    `text` is the message as written (it starts the plain-text part); `html`
    the same content as HTML whose every typed part the caller escaped (none:
    `text`, escaped, in paragraphs); `footer_text`/`footer_html` lines that go
    below the content (e.g. an unsubscribe link). Rendered in `language` (the
    default program name and the footer's words). Not sent: the caller sends
    it, on commit where a transaction is open."""
    brand = branding_get()
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "brand": brand,
            "program_name": brand.name,
            "logo_url": email_logo_url(brand),
            "site_url": absolute_url("/"),
            "subject": subject,
            "text": text,
            "content": html if html is not None else _paragraphs(text),
            "footer_text": footer_text,
            "footer_html": footer_html,
            "language": language,
        }
        body = render_to_string(TEXT_TEMPLATE, context)
        html_body = render_to_string(HTML_TEMPLATE, context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=email_from(brand),
        to=to,
        headers=headers or {},
        connection=connection,
    )
    email.attach_alternative(html_body, "text/html")
    return email
