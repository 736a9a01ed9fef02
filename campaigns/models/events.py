"""Events in the stores (tastings, workshops, presentations) with their RSVPs, and
members-only pages and offers; both can be limited to a minimum tier."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    TASTING = "tasting", _("Tasting")
    WORKSHOP = "workshop", _("Workshop")
    PRESENTATION = "presentation", _("Product presentation")
    OTHER = "other", _("Other")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class Event(models.Model):
    """An event in a store that members sign up for (RSVP).

    `going_count` caches the number of RSVPs that hold a place; it changes only
    under the event's row lock (campaigns.events.services), and a check
    constraint keeps it within `capacity`. `remind_at` is `starts_at` minus
    `reminder_hours`, kept by the service so the periodic reminder job finds due
    events with one indexed query.
    """

    kind = models.CharField(
        _("kind"), max_length=16, choices=EventKind.choices, default=EventKind.OTHER
    )
    # In every language (campaigns/translation.py): title_uk, title_ru...
    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(
        _("places"), validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    min_tier = models.ForeignKey(
        "rewards.Tier",
        verbose_name=_("minimum tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every member may come."),
    )
    rsvp_opens_at = models.DateTimeField(
        _("sign-up opens"),
        null=True,
        blank=True,
        help_text=_("Empty: as soon as the event is published."),
    )
    rsvp_closes_at = models.DateTimeField(
        _("sign-up closes"),
        null=True,
        blank=True,
        help_text=_("Empty: when the event starts."),
    )
    checkin_points = models.PositiveIntegerField(
        _("points for coming"),
        default=0,
        validators=[MaxValueValidator(100_000)],
        help_text=_("Given once when the member is checked in at the counter."),
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder (hours before)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    remind_at = models.DateTimeField(_("reminder due"), editable=False)
    reminders_sent_at = models.DateTimeField(
        _("reminders sent"), null=True, blank=True, editable=False
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=EventStatus.choices,
        default=EventStatus.DRAFT,
    )
    going_count = models.PositiveIntegerField(_("going"), default=0, editable=False)
    cancelled_at = models.DateTimeField(
        _("cancelled at"), null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="event_ends_after_start",
                violation_error_message=_("The event must end after it starts."),
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="event_capacity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(going_count__lte=models.F("capacity")),
                name="event_going_within_capacity",
                violation_error_message=_(
                    "The places cannot be fewer than the members going."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["status", "remind_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.going_count, 0)


class RsvpStatus(models.TextChoices):
    GOING = "going", _("Going")
    WAITLIST = "waitlist", _("On the waitlist")
    CANCELLED = "cancelled", _("Cancelled")


class EventRsvp(models.Model):
    """One member's sign-up for one event (one row per pair; a member who cancels
    and signs up again reuses it). Written only by campaigns.events.services."""

    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.PROTECT,
        related_name="rsvps",
        # The index on (event, member) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="event_rsvps",
    )
    status = models.CharField(_("status"), max_length=12, choices=RsvpStatus.choices)
    walk_in = models.BooleanField(_("walk-in"), default=False)
    # Waitlist order: when the member last joined the list (or signed up).
    queued_at = models.DateTimeField(_("signed up at"))
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("event sign-up")
        verbose_name_plural = _("event sign-ups")
        ordering = ["queued_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "member"], name="event_rsvp_member_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(checked_in_at__isnull=True)
                | models.Q(status="going"),
                name="event_rsvp_checked_in_is_going",
            ),
        ]
        indexes = [models.Index(fields=["event", "status", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.member_id} {self.status}"


class ContentKind(models.TextChoices):
    PAGE = "page", _("Page")
    OFFER = "offer", _("Offer")


class ContentPage(models.Model):
    """A members-only page or offer, shown to members of `min_tier` or higher
    between `published_from` and `published_until`. The body is plain text
    written by staff: it is escaped and its line breaks kept when shown."""

    kind = models.CharField(
        _("kind"), max_length=8, choices=ContentKind.choices, default=ContentKind.PAGE
    )
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    # In every language (campaigns/translation.py): title_uk, body_uk...
    title = models.CharField(_("title"), max_length=160)
    body = models.TextField(_("text"))
    min_tier = models.ForeignKey(
        "rewards.Tier",
        verbose_name=_("minimum tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every member sees it."),
    )
    published_from = models.DateTimeField(
        _("published from"),
        null=True,
        blank=True,
        help_text=_("Empty: not published (a draft)."),
    )
    published_until = models.DateTimeField(
        _("published until"),
        null=True,
        blank=True,
        help_text=_("Empty: no end."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("members-only page")
        verbose_name_plural = _("members-only pages")
        ordering = ["-published_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published_until__isnull=True)
                | models.Q(published_from__isnull=True)
                | models.Q(published_until__gt=models.F("published_from")),
                name="content_page_published_range",
                violation_error_message=_(
                    "“Published until” must be after “published from”."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.title
