"""Password reset by email: throttled, and sent by a Celery task.

    view ── password_reset_request ──┬─ over a limit: nothing (the page says "sent")
                                     └─ on commit: task members.tasks.password_reset_email_send
                                                   └─ password_reset_email_send: one email
                                                      per active login with that address

The request does the same work whether the address belongs to a login or not:
it counts the request and queues a task by name. Looking the address up,
making the token and sending happen in the worker, so neither the answer nor
its timing tells an address with an account from one without.

The limits (settings.PASSWORD_RESET_LIMIT_PER_EMAIL and _PER_IP, per hour) are
slots in the shared cache: `cache.add` takes a free one atomically on every
backend (Redis SET NX, the database cache's primary key, locmem's lock), so
simultaneous requests cannot all squeeze into the last slot.
"""

from __future__ import annotations

import hashlib
import importlib
import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from kombu.exceptions import OperationalError

from members.audit import request_ip
from members.branding import branding_get
from members.emails import branded_email
from members.links import absolute_url, site_host

logger = logging.getLogger(__name__)

TASK_NAME = "members.tasks.password_reset_email_send"
WINDOW_SECONDS = 3600
SUBJECT_TEMPLATE = "members/email/password_reset_subject.txt"
BODY_TEMPLATE = "members/email/password_reset.txt"


def _slot_take(scope: str, value: str, limit: int) -> bool:
    """Take one of `limit` slots of `scope:value` for an hour; False when all
    are taken. The value is hashed: no address in cache keys."""
    if limit <= 0:
        return True
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    keys = [f"password-reset:{scope}:{digest}:{i}" for i in range(limit)]
    taken = cache.get_many(keys)
    return any(
        cache.add(key, 1, timeout=WINDOW_SECONDS) for key in keys if key not in taken
    )


def password_reset_allowed(*, email: str, ip: str | None) -> bool:
    """Whether one more reset request for `email` from `ip` is within the limits.

    Counts the request (a slot per address, one per client address) when it is.
    The client address is checked first, so a client over its own limit does not
    use up an address's slots."""
    if ip and not _slot_take("ip", ip, settings.PASSWORD_RESET_LIMIT_PER_IP):
        return False
    return _slot_take(
        "email", email.strip().lower(), settings.PASSWORD_RESET_LIMIT_PER_EMAIL
    )


def client_ip(request) -> str | None:
    """The client's address for the throttle. Behind the TLS proxy
    (BEHIND_TLS_PROXY=1) REMOTE_ADDR is the proxy: the last X-Forwarded-For
    entry is the address the proxy saw (it appends it, docs/operations.md), the
    one entry a client cannot forge."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").strip()
    if not (settings.SECURE_PROXY_SSL_HEADER and forwarded):
        return request_ip(request)
    try:
        return str(ipaddress.ip_address(forwarded.split(",")[-1].strip()))
    except ValueError:
        return request_ip(request)


def password_reset_request(*, email: str, ip: str | None, language: str) -> bool:
    """Queue the reset email for `email` unless a limit is reached; returns
    whether it was queued. Queues members.tasks.password_reset_email_send by name
    on commit; reads no user and locks nothing."""
    if not password_reset_allowed(email=email, ip=ip):
        return False
    transaction.on_commit(lambda: _queue(email=email, language=language))
    return True


def _queue(*, email: str, language: str) -> None:
    # A broker that is down must not turn the page into an error page, which
    # would also tell this answer from the others; the person can ask again.
    try:
        _task_by_name(TASK_NAME).delay(email=email, language=language)
    except (OperationalError, OSError):
        logger.exception("Could not queue %s", TASK_NAME)


def _task_by_name(name: str):
    """The registered task `name`, its module imported (a web process has not
    imported the tasks modules): queued with .delay(), it runs in place when the
    tests make Celery eager, which app.send_task would not."""
    from celery import current_app

    importlib.import_module(name.rpartition(".")[0])
    return current_app.tasks[name]


def password_reset_email_send(*, email: str, language: str) -> int:
    """Email a reset link to every active login with a usable password and this
    address (none: nothing), the link on the public address. Returns emails sent."""
    form = PasswordResetForm()
    sent = 0
    for user in form.get_users(email):
        context = {
            "email": email,
            "user": user,
            "site_name": site_host(),
            "reset_link": absolute_url(
                reverse(
                    "password_reset_confirm",
                    kwargs={
                        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                        "token": default_token_generator.make_token(user),
                    },
                )
            ),
        }
        to_email = getattr(user, user.get_email_field_name())
        with translation.override(language):
            context["program_name"] = branding_get().name  # its default translated
            subject = "".join(render_to_string(SUBJECT_TEMPLATE, context).splitlines())
            branded_email(
                subject=subject,
                text=render_to_string(BODY_TEMPLATE, context).strip(),
                to=[to_email],
                language=language,
            ).send()
        sent += 1
    return sent
