"""People and places: staff users, partners, stores, members, consent and one-time codes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.appendonly import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet


class User(AbstractUser):
    """A web login: a customer who signed up, or a staff member.

    Customers log in with their email; `username` is set to it at sign-up.
    Staff may have a home store, which the Counter preselects.
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

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Partner(models.Model):
    """A partner business of the coalition: its stores earn and redeem our points.

    Each month the program settles with it: the partner pays for the points its
    stores issued and is paid for the points redeemed through it, each at
    `point_value` (rewards.selectors.partners.partner_settlements).
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    point_value = models.DecimalField(
        _("settlement value of one point"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text=_("Money per point in the settlement; empty: the program's value."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    """A shop of the chain, or of a partner; purchases, tokens and staff belong to one."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Kyiv")
    is_active = models.BooleanField(_("active"), default=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stores",
        help_text=_("Empty for our own stores."),
    )

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Gender(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")
    OTHER = "o", _("Other")
    UNDISCLOSED = "", _("Prefer not to say")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ConsentSource(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    PORTAL = "portal", _("Customer portal")
    API = "api", _("Till API")
    ADMIN = "admin", _("Staff in admin")
    IMPORT = "import", _("Import")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")


def member_timezone_default() -> str:
    return settings.TIME_ZONE


def timezone_validate(value: str) -> None:
    """An IANA time zone name such as Europe/Kyiv."""
    import zoneinfo

    from django.core.exceptions import ValidationError

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not a time zone such as Europe/Kyiv."),
            params={"value": value},
        ) from None


class Member(models.Model):
    """A loyalty program member, with or without a web login.

    Staff can enroll a customer with just a phone number; the customer claims
    the membership later by proving the phone or email with a one-time code.
    The current consent per channel is kept here for fast segmenting; every
    change is also written to ConsentEvent.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("web login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    card_number = models.CharField(_("card number"), max_length=20, unique=True)
    phone = models.CharField(_("phone"), max_length=20, unique=True)
    email = models.EmailField(_("email"), null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, blank=True, default=""
    )
    interests = models.JSONField(_("interests"), default=list, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="uk"
    )
    # How every sender reaches this member when it names no channel (the rule:
    # members.messages.member_channel); empty means email when there is an
    # address, else SMS.
    preferred_channel = models.CharField(
        _("preferred channel"),
        max_length=8,
        choices=Channel.choices,
        blank=True,
        default="",
    )
    # The hour (0-23, local time) the member likes to get messages; delivery
    # may hold a message until then.
    preferred_send_hour = models.PositiveSmallIntegerField(
        _("preferred hour for messages"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(23)],
    )
    email_consent = models.BooleanField(_("email consent"), default=False)
    email_consent_at = models.DateTimeField(
        _("email consent changed"), null=True, blank=True
    )
    email_consent_source = models.CharField(
        _("email consent source"),
        max_length=16,
        choices=ConsentSource.choices,
        blank=True,
    )
    sms_consent = models.BooleanField(_("SMS consent"), default=False)
    sms_consent_at = models.DateTimeField(
        _("SMS consent changed"), null=True, blank=True
    )
    sms_consent_source = models.CharField(
        _("SMS consent source"),
        max_length=16,
        choices=ConsentSource.choices,
        blank=True,
    )
    home_store = models.ForeignKey(
        Store,
        verbose_name=_("home store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="home_members",
    )
    enrolled_store = models.ForeignKey(
        Store,
        verbose_name=_("enrolled at store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolled_members",
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    referral_code = models.CharField(
        _("referral code"),
        max_length=12,
        unique=True,
        editable=False,
        help_text=_("Friends join with it and both get a bonus."),
    )
    device_id = models.CharField(
        _("device id"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_(
            "The app or browser that enrolled, when known; spots self-referrals."
        ),
    )
    birthday_set_at = models.DateTimeField(_("birthday entered"), null=True, blank=True)
    birthday_bonus_year = models.PositiveSmallIntegerField(
        _("birthday bonus given for year"), null=True, blank=True
    )
    profile_bonus_at = models.DateTimeField(
        _("profile bonus given"), null=True, blank=True
    )
    # Case-folded name and email for staff search. SQLite's LIKE folds only ASCII,
    # so "олена" would not find "Олена" there; folding in Python works on both DBs.
    search_text = models.CharField(max_length=450, blank=True, editable=False)
    # Last: the name shadows django.utils.timezone in the class body above.
    # Quiet hours for marketing SMS are kept in the member's own time zone.
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default=member_timezone_default,
        blank=True,
        validators=[timezone_validate],
        help_text=_("Such as Europe/Kyiv; empty means the program's time zone."),
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="member_email_unique_ci",
                condition=models.Q(email__isnull=False),
                violation_error_message=_("A member with this email already exists."),
            ),
        ]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.full_name or self.phone} · {self.card_number}"

    def save(self, *args, **kwargs):
        self.search_text_refresh()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name", "email"} & set(
            update_fields
        ):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def search_text_refresh(self) -> None:
        """Fold name and email into search_text (save does it; bulk_create does not)."""
        self.search_text = " ".join(
            part for part in (self.first_name, self.last_name, self.email or "") if part
        ).casefold()


class ConsentEvent(models.Model):
    """One change of a member's marketing consent: history is never rewritten."""

    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="consent_events",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        state = _("granted") if self.granted else _("withdrawn")
        return f"{self.get_channel_display()}: {state}"


class OneTimeCode(models.Model):
    """A short code sent by SMS or email to prove a phone or an address.

    Only a hash of the code is stored. Codes expire and allow a few attempts.
    A member has at most one unused code: a new one voids (uses up) the others.
    """

    class Purpose(models.TextChoices):
        CLAIM = "claim", _("Claim a membership")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="codes"
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    destination = models.CharField(_("sent to"), max_length=254)
    code_hash = models.CharField(max_length=128)
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        constraints = [
            # A new code voids the earlier ones (members.services.otp_send).
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(used_at__isnull=True),
                name="one_time_code_one_unused_per_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.destination}"


class ApiToken(models.Model):
    """A till's credential for the POS API. Only the SHA-256 of the token is kept."""

    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=80, help_text=_("e.g. Till 2"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(
        _("created"), default=timezone.now, editable=False
    )
    last_used_at = models.DateTimeField(
        _("last used"), null=True, blank=True, editable=False
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["store__code", "name"]

    def __str__(self) -> str:
        return f"{self.store.code} · {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class BonusSettings(models.Model):
    """Bonus and referral amounts: one row, edited by Managers in admin.

    Every amount defaults to 0, which switches that bonus off.
    """

    welcome_points = models.PositiveIntegerField(
        _("welcome bonus"), default=0, help_text=_("Points for every new member.")
    )
    profile_points = models.PositiveIntegerField(
        _("profile bonus"),
        default=0,
        help_text=_(
            "Points, once, when first name, last name, birthday and email are all set."
        ),
    )
    birthday_points = models.PositiveIntegerField(
        _("birthday bonus"),
        default=0,
        help_text=_(
            "Points once a year in the birthday month; not when the birthday was "
            "entered less than 30 days before it."
        ),
    )
    birthday_reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("birthday gift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "A free voucher for this reward in the birthday month, as well as or "
            "instead of the points, under the same rules."
        ),
    )
    referee_points = models.PositiveIntegerField(
        _("bonus for the referred member"),
        default=0,
        help_text=_("Points for a new member who joins with a friend's code."),
    )
    referrer_points = models.PositiveIntegerField(
        _("bonus for the referrer"),
        default=0,
        help_text=_("Points for the friend after the new member's first purchase."),
    )
    referral_min_purchase = models.DecimalField(
        _("minimum first purchase"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("A purchase of at least this total qualifies the referral."),
    )
    referral_cap_per_month = models.PositiveIntegerField(
        _("referrals per referrer per month"),
        default=10,
        help_text=_("Referrals beyond this in a calendar month are refused."),
    )
    referral_review_per_day = models.PositiveIntegerField(
        _("referrals per day before review"),
        default=3,
        help_text=_(
            "A referrer's referrals beyond this in one day wait for a staff review."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bonus settings")
        verbose_name_plural = _("bonus settings")

    def __str__(self) -> str:
        return str(_("Bonus settings"))


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first purchase")
    REVIEW = "review", _("Waiting for review")
    QUALIFIED = "qualified", _("Bonus given")
    REFUSED = "refused", _("Refused")


class RefusalReason(models.TextChoices):
    SELF_REFERRAL = "self", _("Self-referral (same phone, email or device)")
    ALREADY_ENROLLED = "enrolled", _("Already an enrolled member")
    OVER_CAP = "cap", _("Over the monthly cap of the referrer")
    STAFF = "staff", _("Refused by staff after review")


class Referral(models.Model):
    """A member who joined with another member's referral code.

    The referee gets the referee bonus at enrollment (unless refused); the
    referrer gets the referrer bonus when the referral qualifies, after the
    referee's first qualifying purchase.
    """

    referrer = models.ForeignKey(
        Member,
        verbose_name=_("referrer"),
        on_delete=models.CASCADE,
        related_name="referrals_made",
    )
    referee = models.OneToOneField(
        Member,
        verbose_name=_("referred member"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="referral",
    )
    # Kept for refusals of an already-enrolled member, who gets no new row.
    referee_phone = models.CharField(_("phone of the referred"), max_length=20)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReferralStatus.choices,
        default=ReferralStatus.PENDING,
        db_index=True,
    )
    refusal_reason = models.CharField(
        _("refusal reason"), max_length=16, choices=RefusalReason.choices, blank=True
    )
    review_note = models.CharField(_("why in review"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    qualified_at = models.DateTimeField(_("qualified"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["referrer", "created_at"])]

    def __str__(self) -> str:
        return f"{self.referrer.card_number} → {self.referee_phone}"


# --- Staff controls, audit and privacy ---------------------------------------------


class StaffControls(models.Model):
    """Limits on what staff may do with points: one row, edited by Managers in admin.

    A limit of 0 switches that limit off.
    """

    adjustment_approval_threshold = models.PositiveIntegerField(
        _("adjustment approval threshold"),
        default=500,
        help_text=_(
            "Points (added or taken) one staff member may adjust for one member in "
            "24 hours without approval; an adjustment beyond that waits for another "
            "Manager's approval."
        ),
    )
    cashier_daily_redeemed_points = models.PositiveIntegerField(
        _("points a cashier may redeem per day"),
        default=20000,
        help_text=_(
            "Points one cashier may spend as discounts at the Counter in a day, "
            "all customers together. 0: no limit."
        ),
    )
    cashier_daily_returns = models.PositiveIntegerField(
        _("returns a cashier may record per day"),
        default=20,
        help_text=_(
            "Returns one cashier may record at the Counter in a day. 0: no limit."
        ),
    )
    anomaly_member_daily_transactions = models.PositiveIntegerField(
        _("member transactions a day before a flag"),
        default=20,
        help_text=_(
            "A member with more purchases and redemptions than this in a day is "
            "flagged for review. 0: do not check."
        ),
    )
    anomaly_cashier_daily_operations = models.PositiveIntegerField(
        _("cashier operations a day before a flag"),
        default=200,
        help_text=_(
            "A staff user who records more purchases, returns and redemptions than "
            "this in a day is flagged for review. 0: do not check."
        ),
    )
    anomaly_return_window_days = models.PositiveIntegerField(
        _("days from a redemption to a return"),
        default=7,
        help_text=_(
            "A member who returns a purchase within this many days after redeeming "
            "points or using a voucher is flagged for review. 0: do not check."
        ),
    )
    anomaly_adjustment_points = models.PositiveIntegerField(
        _("manual adjustment size before a flag"),
        default=1000,
        help_text=_(
            "A manual adjustment of more than this many points (added or taken) is "
            "flagged for review. 0: do not check."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("staff controls")
        verbose_name_plural = _("staff controls")
        permissions = [
            ("exempt_daily_limits", _("Is not bound by the cashier daily limits")),
        ]

    def __str__(self) -> str:
        return str(_("Staff controls"))


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class AdjustmentRequest(models.Model):
    """A manual points adjustment asked for by staff.

    While what its requester applied at once to the member in the last 24
    hours, this one included, stays within the approval threshold, it is applied
    at once (approved, with no approver); beyond it, it waits until a Manager
    other than the requester approves or refuses it. Approval posts exactly one ledger entry, linked here.
    """

    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="adjustment_requests",
    )
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AdjustmentStatus.choices,
        default=AdjustmentStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=255, blank=True)
    ledger_entry = models.OneToOneField(
        "rewards.LedgerEntry",
        verbose_name=_("ledger entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustment_request",
    )
    idempotency_key = models.CharField(max_length=80, unique=True)

    class Meta:
        verbose_name = _("points adjustment request")
        verbose_name_plural = _("points adjustment requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-requested_at"]),
            models.Index(fields=["requested_by", "requested_at"]),
        ]
        permissions = [
            ("approve_adjustmentrequest", _("Can approve or refuse adjustments")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(points=0), name="adjustment_points_not_zero"
            ),
            # Approved means posted: the entry and the status commit together.
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | models.Q(ledger_entry__isnull=False),
                name="adjustment_approved_has_entry",
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("requested_by")),
                name="adjustment_not_self_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} · {self.member.card_number}"


class AuditAction(models.TextChoices):
    MEMBER_VIEWED = "member.viewed", _("Opened a member's data")
    MEMBER_CHANGED = "member.changed", _("Changed a member")
    MEMBER_ENROLLED = "member.enrolled", _("Enrolled a member")
    MEMBER_EXPORTED = "member.exported", _("Downloaded a member's data")
    MEMBER_ANONYMIZED = "member.anonymized", _("Anonymized a member")
    ADJUSTMENT_REQUESTED = "adjustment.requested", _("Requested a points adjustment")
    ADJUSTMENT_APPLIED = "adjustment.applied", _("Adjusted points (no approval needed)")
    ADJUSTMENT_APPROVED = "adjustment.approved", _("Approved a points adjustment")
    ADJUSTMENT_REFUSED = "adjustment.refused", _("Refused a points adjustment")
    PURCHASE_RECORDED = "counter.purchase", _("Recorded a purchase")
    RETURN_RECORDED = "counter.return", _("Recorded a return")
    POINTS_REDEEMED = "counter.redemption", _("Redeemed points")
    VOUCHER_CONSUMED = "counter.voucher", _("Used a voucher")
    LIMIT_REFUSED = "limit.refused", _("Refused by a daily limit")
    EVENT_CHECKIN = "event.checkin", _("Checked a member in at an event")
    COMPLAINT_LOGGED = "complaint.logged", _("Logged a complaint for a member")
    COMPLAINT_REPLIED = "complaint.replied", _("Replied to a complaint")
    COMPLAINT_STATUS = "complaint.status", _("Changed a complaint's status")
    COMPLAINT_ASSIGNED = "complaint.assigned", _("Assigned a complaint")
    CAMPAIGN_SENT = "campaign.sent", _("Sent a campaign")
    CAMPAIGN_SCHEDULED = "campaign.scheduled", _("Scheduled a campaign")
    CAMPAIGN_CANCELLED = "campaign.cancelled", _("Cancelled a campaign")
    # Back-office records (stores, partners, staff users, settings ...): the
    # row's type and id say which.
    RECORD_ADDED = "record.added", _("Added a back-office record")
    RECORD_CHANGED = "record.changed", _("Changed a back-office record")
    RECORD_DELETED = "record.deleted", _("Deleted a back-office record")


AuditAppendOnlyError = AppendOnlyError  # the name the audit code and tests use


class StaffAuditEventQuerySet(AppendOnlyQuerySet):
    """Reads only: bulk update and delete would rewrite history."""


class StaffAuditEvent(AppendOnlyModel):
    """Who did what to which member, and who opened whose data. Append-only.

    Written in the transaction of the action it records, with one INSERT.
    `details` holds ids, amounts and the names of changed fields, never the
    personal data itself, so erasing a member leaves nothing personal here.
    """

    append_only_message = "The audit log is append-only."

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = StaffAuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["actor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_type} {self.object_id}"


class ErasureSource(models.TextChoices):
    PORTAL = "portal", _("The customer, in the portal")
    ADMIN = "admin", _("Staff in admin")


class MemberErasure(models.Model):
    """A member's request to be forgotten, carried out at once (member_anonymize).

    The member row, its ledger, purchases and vouchers stay for the accounts and
    the figures; the personal data on them is blanked and the login disabled.
    """

    member = models.OneToOneField(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="erasure",
    )
    source = models.CharField(
        _("asked by"), max_length=16, choices=ErasureSource.choices
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("anonymized"), default=timezone.now)

    class Meta:
        verbose_name = _("anonymized member")
        verbose_name_plural = _("anonymized members")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member.card_number} · {self.created_at:%Y-%m-%d}"


# --- Anomaly monitoring ------------------------------------------------------------


class AnomalySubject(models.TextChoices):
    MEMBER = "member", _("Member")
    CASHIER = "cashier", _("Staff user")


class AnomalyRule(models.TextChoices):
    # Many transactions is one rule for both subjects: a member's purchases and
    # redemptions, or the operations a staff user recorded.
    MANY_TRANSACTIONS = "many_transactions", _("Many transactions in a day")
    REDEEM_THEN_RETURN = "redeem_then_return", _("Redemption followed by a return")
    LARGE_ADJUSTMENT = "large_adjustment", _("Large manual adjustment")


class AnomalyStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    DISMISSED = "dismissed", _("Dismissed")
    CONFIRMED = "confirmed", _("Confirmed")


class AnomalyFlag(models.Model):
    """A member or a staff user whose activity on a day broke an anomaly rule.

    Written by members.anomalies.anomalies_scan, once per (rule, subject, day):
    the conditional unique constraints make a rerun flag nothing twice (a plain
    unique over nullable columns would not, NULLs being distinct). Managers
    dismiss or confirm flags in admin; `details` holds counts, amounts and ids.
    """

    subject_kind = models.CharField(
        _("subject"), max_length=16, choices=AnomalySubject.choices
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="anomaly_flags",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="anomaly_flags",
    )
    rule = models.CharField(_("rule"), max_length=32, choices=AnomalyRule.choices)
    day = models.DateField(_("day"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AnomalyStatus.choices,
        default=AnomalyStatus.OPEN,
    )
    created_at = models.DateTimeField(_("flagged"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("anomaly flag")
        verbose_name_plural = _("anomaly flags")
        ordering = ["-day", "-id"]
        indexes = [models.Index(fields=["status", "-day"])]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "member", "day"],
                condition=models.Q(subject_kind="member"),
                name="anomaly_member_once_a_day",
            ),
            models.UniqueConstraint(
                fields=["rule", "user", "day"],
                condition=models.Q(subject_kind="cashier"),
                name="anomaly_user_once_a_day",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        subject_kind="member",
                        member__isnull=False,
                        user__isnull=True,
                    )
                    | models.Q(
                        subject_kind="cashier",
                        member__isnull=True,
                        user__isnull=False,
                    )
                ),
                name="anomaly_subject_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.subject_label} · {self.day}"

    @property
    def subject_label(self) -> str:
        if self.subject_kind == AnomalySubject.MEMBER:
            return self.member.card_number if self.member_id else "-"
        return self.user.username if self.user_id else "-"
