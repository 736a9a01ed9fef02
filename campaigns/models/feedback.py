"""Feedback: surveys (NPS and satisfaction) and the complaints desk.

Rows here are written by `campaigns.feedback.services` only (Survey itself is
configuration, edited in admin); reads shared by views, admin and analytics are
in `campaigns.feedback.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    NPS = "nps", _("Net Promoter Score (0–10)")
    SATISFACTION = "satisfaction", _("Satisfaction (1–5)")
    QUESTIONS = "questions", _("Questions only (no headline score)")


SCORE_RANGE = {SurveyKind.NPS: (0, 10), SurveyKind.SATISFACTION: (1, 5)}


class Survey(models.Model):
    """A question customers answer with a score and an optional comment.

    NPS asks 0–10 ("How likely are you to recommend us?"), satisfaction 1–5.
    The question is kept in each portal language (campaigns/translation.py); an
    empty one falls back in the order set in settings. With `post_purchase` on, the periodic task
    `survey_invites_send_due` invites every purchase older than `delay_hours`
    (and younger than `delay_hours` + `window_days`) once, by email or SMS, with
    a signed link valid for `link_valid_days`.
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=16, choices=SurveyKind.choices, default=SurveyKind.NPS
    )
    active = models.BooleanField(_("active"), default=True)
    # In every language (campaigns/translation.py): question_uk, question_en...
    question = models.CharField(_("question"), max_length=300)
    post_purchase = models.BooleanField(
        _("ask after each purchase"),
        default=False,
        help_text=_(
            "Invite customers by email or SMS some hours after a purchase. "
            "Only customers who agreed to messages on that channel are asked."
        ),
    )
    delay_hours = models.PositiveIntegerField(
        _("hours after the purchase"),
        default=24,
        help_text=_("How long after the purchase the invitation is sent."),
    )
    window_days = models.PositiveIntegerField(
        _("days to catch up"),
        default=3,
        help_text=_(
            "Purchases older than the delay plus this many days are not asked "
            "(so switching the survey on does not invite years of purchases)."
        ),
    )
    after_registration = models.BooleanField(
        _("ask after registration"),
        default=False,
        help_text=_(
            "Invite each new member once, the delay after they joined "
            "(only those who agreed to messages)."
        ),
    )
    after_complaint = models.BooleanField(
        _("ask after a complaint is resolved"),
        default=False,
        help_text=_(
            "Invite the customer once per resolved complaint, after the delay."
        ),
    )
    link_valid_days = models.PositiveIntegerField(_("days the link works"), default=14)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-active", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delay_hours__lte=24 * 60),
                name="survey_delay_at_most_60_days",
            ),
            models.CheckConstraint(
                condition=models.Q(link_valid_days__gte=1),
                name="survey_link_valid_at_least_a_day",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def score_min(self) -> int:
        return SCORE_RANGE.get(self.kind, (1, 5))[0]

    @property
    def score_max(self) -> int:
        return SCORE_RANGE.get(self.kind, (1, 5))[1]


class SurveyResponse(models.Model):
    """One member's answer to a survey, about one purchase or about us in general.

    At most one per (survey, member, purchase), and one without a purchase.
    `store` is the purchase's store, copied so per-store scores need no join.
    """

    survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="responses",
        # The index on (survey, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="survey_responses",
    )
    purchase = models.ForeignKey(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # The index on (store, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    # The answer to the survey's headline question (its NPS question, or its 1–5
    # one for a satisfaction survey), copied here so the NPS and satisfaction
    # figures stay one aggregate over this table; None for a survey of kind
    # "questions". Every answer, the headline's too, is a SurveyAnswer.
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    # The campaign whose link the member answered through (the link names it).
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    created_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "member", "purchase"],
                condition=models.Q(purchase__isnull=False),
                name="survey_response_once_per_purchase",
            ),
            models.UniqueConstraint(
                fields=["survey", "member"],
                condition=models.Q(purchase__isnull=True),
                name="survey_response_once_without_purchase",
            ),
            models.CheckConstraint(
                condition=models.Q(score__lte=10), name="survey_score_at_most_10"
            ),
        ]
        indexes = [
            models.Index(fields=["survey", "created_at"]),
            models.Index(fields=["store", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.score}"


class SurveyTrigger(models.TextChoices):
    PURCHASE = "purchase", _("After a purchase")
    REGISTRATION = "registration", _("After registration")
    COMPLAINT = "complaint", _("After a resolved complaint")
    CAMPAIGN = "campaign", _("Sent to a segment")


class SurveyInvitation(models.Model):
    """A survey invitation sent (or tried) for one trigger: never a second one.

    One per purchase (after a purchase), per member (after registration, and
    when sent to a segment, alone or by a campaign) and per complaint (after it is resolved), each held
    by a unique constraint. Written before the message, in the same
    transaction; a member with no consented address still gets a row (with no
    message) so they are not selected again.
    """

    survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey"),
        on_delete=models.CASCADE,
        related_name="invitations",
        # The index on (survey, purchase) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    trigger = models.CharField(
        _("trigger"),
        max_length=16,
        choices=SurveyTrigger.choices,
        default=SurveyTrigger.PURCHASE,
    )
    purchase = models.ForeignKey(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    complaint = models.ForeignKey(
        "campaigns.Complaint",
        verbose_name=_("complaint"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    message = models.ForeignKey(
        "campaigns.Message",
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A campaign that carried the survey (trigger "campaign"); none when staff
    # sent the survey to a segment by itself.
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("invited"), default=timezone.now)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "purchase"], name="survey_invitation_once"
            ),
            models.UniqueConstraint(
                fields=["survey", "member", "trigger"],
                condition=models.Q(trigger__in=["registration", "campaign"]),
                name="survey_invitation_once_per_member",
            ),
            models.UniqueConstraint(
                fields=["survey", "complaint"],
                condition=models.Q(complaint__isnull=False),
                name="survey_invitation_once_per_complaint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.get_trigger_display()} · {self.member_id}"


# --- Complaints ----------------------------------------------------------------------


class ComplaintTopic(models.TextChoices):
    SERVICE = "service", _("Service")
    PRODUCT = "product", _("Product quality")
    PRICE = "price", _("Prices")
    POINTS = "points", _("Points and rewards")
    VOUCHERS = "vouchers", _("Vouchers")
    APP = "app", _("App or website")
    OTHER = "other", _("Other")


class ComplaintStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for the customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    ComplaintStatus.NEW,
    ComplaintStatus.IN_PROGRESS,
    ComplaintStatus.WAITING,
)


class ComplaintSource(models.TextChoices):
    PORTAL = "portal", _("Customer portal")
    COUNTER = "counter", _("At the counter")


class Complaint(models.Model):
    """A customer's complaint or feedback and the work on it.

    Filed from the portal or logged by a cashier at the counter; staff work the
    queue in admin (status, assignee, replies). Resolving may grant goodwill
    points once: `goodwill_adjustment` is the AdjustmentRequest it made (applied
    at once, or waiting for a Manager above the approval threshold).
    """

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="complaints",
        # The index on (member, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    topic = models.CharField(_("topic"), max_length=16, choices=ComplaintTopic.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.NEW,
    )
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=ComplaintSource.choices,
        default=ComplaintSource.PORTAL,
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    purchase = models.ForeignKey(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    updated_at = models.DateTimeField(_("last activity"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    goodwill_points = models.PositiveIntegerField(_("goodwill points"), default=0)
    goodwill_adjustment = models.OneToOneField(
        "rewards.AdjustmentRequest",
        verbose_name=_("goodwill adjustment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaint",
    )

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["member", "-created_at"]),
        ]

    def __str__(self) -> str:
        return _("Complaint #%(id)s") % {"id": self.pk}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ComplaintSender(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff")


class ComplaintMessage(models.Model):
    """One message in a complaint's thread, from the customer or from staff.

    A staff reply is sent to the customer (email or SMS) as `sent_message`.
    """

    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    sender = models.CharField(_("from"), max_length=10, choices=ComplaintSender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("message"), max_length=4000)
    sent_message = models.ForeignKey(
        "campaigns.Message",
        verbose_name=_("sent as"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("complaint message")
        verbose_name_plural = _("complaint messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.body[:40]}"
