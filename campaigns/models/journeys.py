"""Automated journeys: messages a member gets because of something that happened
to them (joined, birthday, points about to expire...), each switched on in admin."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models.texts import SubjectBodyTexts
from members.models import Channel


class JourneyKind(models.TextChoices):
    WELCOME = "welcome", _("Welcome")
    BIRTHDAY = "birthday", _("Birthday")
    POINTS_EXPIRING = "points_expiring", _("Points about to expire")
    TIER_UP = "tier_up", _("Tier upgrade")
    TIER_DOWN = "tier_down", _("Tier downgrade")
    WIN_BACK = "win_back", _("Win-back")
    VOUCHER_REMINDER = "voucher_reminder", _("Unused voucher reminder")
    MEMBERSHIP_RENEWAL = "membership_renewal", _("Paid membership renewal")


# Journeys about something the member owns or paid for are service messages:
# they go without marketing consent, outside the frequency cap and quiet hours.
SERVICE_JOURNEYS = frozenset(
    {JourneyKind.VOUCHER_REMINDER, JourneyKind.MEMBERSHIP_RENEWAL}
)


class JourneyChannel(models.TextChoices):
    PREFERRED = "", _("Member's preferred channel")
    EMAIL = Channel.EMAIL.value, Channel.EMAIL.label
    SMS = Channel.SMS.value, Channel.SMS.label
    TELEGRAM = Channel.TELEGRAM.value, Channel.TELEGRAM.label
    VIBER = Channel.VIBER.value, Channel.VIBER.label
    PUSH = Channel.PUSH.value, Channel.PUSH.label


class Journey(SubjectBodyTexts, models.Model):
    """One automated journey: off until a Marketer switches it on, with its
    subject and text in every language (campaigns/translation.py: subject_uk,
    body_uk...). Variables: {{ first_name }}, {{ balance }}, {{ tier }},
    {{ points_expiring }}, {{ points_expiring_on }} (and per journey, see
    campaigns.journeys.render). `days` is the journey's delay or threshold: days before the points
    or voucher expire, days without a purchase for win-back, days after enrolment
    for the welcome window (see campaigns.journeys.services)."""

    kind = models.CharField(
        _("journey"), max_length=24, choices=JourneyKind.choices, unique=True
    )
    enabled = models.BooleanField(_("switched on"), default=False)
    channel = models.CharField(
        _("channel"),
        max_length=8,
        choices=JourneyChannel.choices,
        blank=True,
        default=JourneyChannel.PREFERRED,
    )
    days = models.PositiveSmallIntegerField(
        _("days"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_(
            "Points expiring / voucher reminder / renewal: days before the end. "
            "Win-back: days without a purchase. Welcome: how long after joining "
            "a member still gets it."
        ),
    )
    segment = models.ForeignKey(
        "campaigns.Segment",
        verbose_name=_("only members of segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Optional: send only to the due members who are in this segment, "
            "e.g. win-back to members whose P(alive) fell below a threshold."
        ),
    )
    subject = models.CharField(_("subject (email)"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def marketing(self) -> bool:
        return self.kind not in SERVICE_JOURNEYS
