"""Members: the card, phone and profile of a customer, and their consent history."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models.stores import Store


class Gender(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")
    OTHER = "o", _("Other")
    UNDISCLOSED = "", _("Prefer not to say")


class Channel(models.TextChoices):
    """Every way a message reaches a member. Each channel has its consent
    fields on Member (`<channel>_consent`, `_consent_at`, `_consent_source`),
    its address (members.messages.member_address) and its backend
    (campaigns.messaging.backends)."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    TELEGRAM = "telegram", _("Telegram")
    VIBER = "viber", _("Viber")
    PUSH = "push", _("Web push")


class ConsentSource(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    PORTAL = "portal", _("Customer portal")
    API = "api", _("Till API")
    ADMIN = "admin", _("Staff in admin")
    IMPORT = "import", _("Import")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    TELEGRAM = "telegram", _("Telegram bot")


class MemberSource(models.TextChoices):
    """Where a member came from (docs/analytics.md, "Where members come from"):
    the channel their acquisition cost and CLV are counted under."""

    TILL = "till", _("Till or counter in a store")
    ONLINE = "online", _("Online sign-up")
    REFERRAL = "referral", _("Referral by a member")
    PARTNER = "partner", _("Partner store")
    IMPORT = "import", _("Import from an earlier system")
    OTHER = "other", _("Other or unknown")


UTM_MAX_LENGTH = 100  # each utm_* value kept, cut to this


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


def consent_fields(consent, changed, source) -> tuple:
    """A channel's consent fields on Member: whether the member agreed, when
    that last changed, and where (ConsentSource). The channels added after
    email and SMS take these, with database defaults so that raw and bulk
    inserts that leave them out still work."""
    return (
        models.BooleanField(consent, default=False, db_default=False),
        models.DateTimeField(changed, null=True, blank=True),
        models.CharField(
            source,
            max_length=16,
            choices=ConsentSource.choices,
            blank=True,
            db_default="",
        ),
    )


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
    # Free text from before the interests list (members.Interest); what did
    # not match an interest of the list stays here.
    interests = models.JSONField(_("other interests"), default=list, blank=True)
    picked_interests = models.ManyToManyField(
        "members.Interest",
        verbose_name=_("interests"),
        blank=True,
        related_name="members",
    )
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
    telegram_consent, telegram_consent_at, telegram_consent_source = consent_fields(
        _("Telegram consent"),
        _("Telegram consent changed"),
        _("Telegram consent source"),
    )
    viber_consent, viber_consent_at, viber_consent_source = consent_fields(
        _("Viber consent"), _("Viber consent changed"), _("Viber consent source")
    )
    push_consent, push_consent_at, push_consent_source = consent_fields(
        _("web push consent"),
        _("web push consent changed"),
        _("web push consent source"),
    )
    # How many browsers the member turned notifications on in (their web push
    # subscriptions, members.models.push), kept by members.services.push in
    # the same transaction: the campaign fan-out reads a member's push address
    # from here without a query per member.
    push_devices = models.PositiveSmallIntegerField(
        _("web push devices"), default=0, db_default=0, editable=False
    )
    # The Telegram chat the member linked with the bot (members.messages:
    # their address on that channel); empty until they link it.
    telegram_chat_id = models.CharField(
        _("Telegram chat"), max_length=32, blank=True, db_default="", db_index=True
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
    # Where the member came from; set once at enrolment (members.sources).
    source = models.CharField(
        _("came from"),
        max_length=12,
        choices=MemberSource.choices,
        default=MemberSource.OTHER,
        # Rows written by code that predates the column (older migrations'
        # tests, a rolling deploy) still get a value.
        db_default=MemberSource.OTHER,
        db_index=True,
    )
    utm_source = models.CharField(
        _("UTM source"), max_length=UTM_MAX_LENGTH, blank=True, db_default=""
    )
    utm_medium = models.CharField(
        _("UTM medium"), max_length=UTM_MAX_LENGTH, blank=True, db_default=""
    )
    utm_campaign = models.CharField(
        _("UTM campaign"), max_length=UTM_MAX_LENGTH, blank=True, db_default=""
    )
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_seen_at = models.DateTimeField(
        _("first visit"),
        null=True,
        blank=True,
        help_text=_("The first visit to the website, for online sign-ups."),
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
