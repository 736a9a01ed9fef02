"""Campaigns: one message to the members of a segment, now, later or every
week or month, with an optional A/B test, holdout group and promotion."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models.texts import SubjectBodyTexts
from members.models import Channel


class CampaignChannel(models.TextChoices):
    EMAIL = Channel.EMAIL.value, Channel.EMAIL.label
    SMS = Channel.SMS.value, Channel.SMS.label
    TELEGRAM = Channel.TELEGRAM.value, Channel.TELEGRAM.label
    VIBER = Channel.VIBER.value, Channel.VIBER.label
    PUSH = Channel.PUSH.value, Channel.PUSH.label
    PREFERRED = "preferred", _("Each member's preferred channel")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Recurrence(models.TextChoices):
    NONE = "", _("Once")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class PromotionKind(models.TextChoices):
    NONE = "", _("None")
    BONUS = "bonus", _("Bonus points for buying within the window")
    COUPON = "coupon", _("A unique coupon for each recipient")


class Campaign(models.Model):
    """A message to a segment. Draft → scheduled → sending → sent, or cancelled.

    Each send is a CampaignRun (a recurring campaign has one per week or month);
    the run freezes its recipients when it starts. `holdout_percent` of the
    segment gets nothing, to measure the campaign against; of the rest,
    `variant_b_percent` get variant B. Both are decided by a hash of
    (campaign, member), so a member lands in the same group in every run.
    With a `survey`, each recipient's text carries their own signed survey
    link (campaigns.feedback.selectors.survey_link_url), the answers are
    attributed to the campaign, and members who answered it already are left
    out when a run freezes its recipients.
    """

    name = models.CharField(_("name"), max_length=120)
    segment = models.ForeignKey(
        "campaigns.Segment",
        verbose_name=_("segment"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=CampaignChannel.choices,
        default=CampaignChannel.PREFERRED,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CampaignStatus.choices,
        default=CampaignStatus.DRAFT,
        editable=False,
    )
    scheduled_at = models.DateTimeField(
        _("send at"),
        null=True,
        blank=True,
        help_text=_("Empty: send when you press “Send now”."),
    )
    recurrence = models.CharField(
        _("repeat"),
        max_length=8,
        choices=Recurrence.choices,
        default=Recurrence.NONE,
        blank=True,
    )
    variant_b_percent = models.PositiveSmallIntegerField(
        _("variant B share, %"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("0: everyone gets variant A (no A/B test)."),
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout, %"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "This share of the segment gets nothing, to compare purchases against."
        ),
    )
    window_days = models.PositiveSmallIntegerField(
        _("days to count purchases"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_(
            "Purchases within this many days of the send count for the figures and the bonus."
        ),
    )
    promotion = models.CharField(
        _("promotion"),
        max_length=8,
        choices=PromotionKind.choices,
        default=PromotionKind.NONE,
        blank=True,
    )
    bonus_points = models.PositiveIntegerField(
        _("bonus points"),
        default=0,
        help_text=_("Given once to each recipient who buys within the window."),
    )
    coupon_reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("coupon for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Each recipient gets a voucher for this reward; {{ coupon_code }} in the text."
        ),
    )
    survey = models.ForeignKey(
        "campaigns.Survey",
        verbose_name=_("survey"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text=_(
            "Optional: each recipient gets their own link to this survey, "
            "{{ survey_link }} in the text; answers count for this campaign. "
            "Members who answered it already are not sent the campaign."
        ),
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
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "scheduled_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(holdout_percent__lte=50)
                & models.Q(variant_b_percent__lte=100),
                name="campaign_percents_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)


class VariantLabel(models.TextChoices):
    A = "A", "A"
    B = "B", "B"


class CampaignVariant(SubjectBodyTexts, models.Model):
    """One version of a campaign's text, with a subject and body per language
    (campaigns/translation.py: subject_uk, body_uk...).

    A member whose language has no text gets the subject and body of the first
    language in the fallback order of settings.MODELTRANSLATION_FALLBACK_LANGUAGES
    that has one, both from the same language. Texts are Django templates over
    a fixed set of variables (campaigns.messaging.templating).
    """

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="variants",
        # The index on (campaign, label) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    label = models.CharField(
        _("variant"), max_length=1, choices=VariantLabel.choices, default="A"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("campaign text")
        verbose_name_plural = _("campaign texts")
        ordering = ["campaign", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "label"], name="campaign_variant_label_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.label}"


class RunStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignRun(models.Model):
    """One send of a campaign: recipients frozen at `started_at`, sent in chunks.

    The run is sent when `chunks_done` reaches `chunks_total`; a chunk counts
    once, however often its task runs (CampaignChunk.done_at).
    """

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="runs",
        # The index on (campaign, number) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    number = models.PositiveIntegerField(_("run"))
    key = models.CharField(_("message key"), max_length=80, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.SENDING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    recipients_total = models.PositiveIntegerField(
        _("members in the segment"), default=0
    )
    chunks_total = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)

    class Meta:
        verbose_name = _("campaign run")
        verbose_name_plural = _("campaign runs")
        ordering = ["campaign", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "number"], name="campaign_run_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(chunks_done__lte=models.F("chunks_total")),
                name="campaign_run_chunks_done_lte_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.number}"


class CampaignChunk(models.Model):
    """Up to CAMPAIGN_CHUNK_SIZE recipients of a run: member ids in (after_id, upto_id]."""

    run = models.ForeignKey(
        CampaignRun,
        on_delete=models.CASCADE,
        related_name="chunks",
        # The index on (run, number) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    number = models.PositiveIntegerField()
    after_id = models.BigIntegerField()
    upto_id = models.BigIntegerField()
    queued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("campaign chunk")
        verbose_name_plural = _("campaign chunks")
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "number"], name="campaign_chunk_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run} · {self.number}"


class CampaignRecipient(models.Model):
    """A member of the segment when a run started: sent to, or held out.

    `variant` is null for the holdout. Written when the run starts (frozen),
    completed by the chunk that sends to the member.
    """

    run = models.ForeignKey(
        CampaignRun,
        on_delete=models.CASCADE,
        related_name="recipients",
        # The index on (run, member) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="+"
    )
    holdout = models.BooleanField(_("held out"), default=False)
    variant = models.ForeignKey(
        CampaignVariant,
        verbose_name=_("variant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    processed = models.BooleanField(_("processed"), default=False)
    voucher = models.ForeignKey(
        "rewards.Voucher",
        verbose_name=_("coupon"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bonus_granted_at = models.DateTimeField(_("bonus given"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "member"], name="campaign_recipient_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.member_id}"
