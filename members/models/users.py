"""Web logins: customers who signed up, and staff."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A web login: a customer who signed up, or a staff member.

    Customers log in with their email; `username` is set to it at sign-up.
    Staff may have a home store, which the Counter preselects. A partner's
    staff (with the Partner role) are linked to their partner: the admin shows
    them only its data (members.admin_base.PartnerScopedAdminMixin).
    """

    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
        help_text=_("The store a staff member works at; the Counter uses it."),
    )
    partner = models.ForeignKey(
        "members.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_(
            "A partner's staff login: the back office shows it only that "
            "partner's settlement, rewards, stores and vouchers used."
        ),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
