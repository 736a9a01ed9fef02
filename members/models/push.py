"""Web push subscriptions: the browsers a member turned notifications on in."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PushSubscription(models.Model):
    """One browser's push subscription (the W3C Push API's PushSubscription):
    the push service's endpoint and the keys to encrypt for it. A member has
    one per device; a message goes to all of them (campaigns.messaging.backends
    .push). Written only by members.services.push, which keeps
    Member.push_devices equal to the member's count of these."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
    )
    # The browser vendor's push service URL for this browser: unique, so the
    # same browser subscribing again (or for another member) replaces its row.
    endpoint = models.URLField(_("endpoint"), max_length=1000, unique=True)
    p256dh = models.CharField(_("public key (p256dh)"), max_length=120)
    auth = models.CharField(_("auth secret"), max_length=40)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    # Failed deliveries in a row (a success resets it), and the last reason.
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("web push subscription")
        verbose_name_plural = _("web push subscriptions")
        ordering = ["member_id", "pk"]

    def __str__(self) -> str:
        return f"{self.member_id} · {self.user_agent[:40] or self.endpoint[:40]}"
