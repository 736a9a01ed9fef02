"""The loyalty card in the phone's wallet: one pass per member (Apple Wallet and
Google Wallet share its serial number), and the Apple devices that registered
it for updates (Apple's pass web service, rewards.wallet.views)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WalletPass(models.Model):
    """A member's card as a wallet pass: made when the member first downloads the
    Apple pass or opens the Google "save" link (rewards.wallet.services).

    `updated_at` is when what the pass shows (balance, tier) last changed, in
    whole seconds and strictly increasing: it is the Last-Modified of the pass
    and the `passesUpdatedSince` tag of Apple's web service. A change also
    makes the pass due for a sync (`sync_due_at`): an APNs push to every
    registered device and a PATCH of the Google object; a failed sync is
    retried later with a growing delay (rewards.wallet.sync)."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="wallet_pass",
    )
    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    # What Apple's devices send back as "Authorization: ApplePass <token>".
    auth_token = models.CharField(_("authentication token"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("content changed at"), default=timezone.now)
    # The Google Wallet object exists once the member opened the save link.
    google_object_id = models.CharField(
        _("Google Wallet object"), max_length=200, blank=True
    )
    # Sync state (an outbox of one row per member: changes coalesce).
    content_version = models.PositiveIntegerField(default=0)
    synced_version = models.PositiveIntegerField(default=0)
    sync_due_at = models.DateTimeField(_("sync due at"), null=True, blank=True)
    sync_claimed_until = models.DateTimeField(null=True, blank=True)
    sync_attempts = models.PositiveIntegerField(_("failed sync attempts"), default=0)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wallet pass")
        verbose_name_plural = _("wallet passes")
        indexes = [
            models.Index(
                fields=["sync_due_at"],
                name="walletpass_sync_due",
                condition=models.Q(sync_due_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.serial_number


class AppleDeviceRegistration(models.Model):
    """One Apple device that asked to hear when a pass changes (Apple's
    "Register a Pass for Update Notifications"): its push token is where the
    APNs push goes."""

    wallet_pass = models.ForeignKey(
        WalletPass,
        verbose_name=_("wallet pass"),
        on_delete=models.CASCADE,
        related_name="apple_registrations",
    )
    device_library_id = models.CharField(_("device library identifier"), max_length=128)
    push_token = models.CharField(_("push token"), max_length=256)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("Apple Wallet device registration")
        verbose_name_plural = _("Apple Wallet device registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["device_library_id", "wallet_pass"],
                name="apple_registration_device_pass_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_library_id} · {self.wallet_pass_id}"
