"""Reads about surveys and complaints shared by the portal, admin, tasks and
analytics: the NPS and satisfaction scores, a member's own complaints, the
staff queue, and the signed survey links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from campaigns.models import (
    Campaign,
    Complaint,
    ComplaintMessage,
    ComplaintSender,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from members.links import absolute_url
from members.models import Member, Store
from rewards.models import Purchase

SURVEY_LINK_SALT = "campaigns.survey-link"
PROMOTER_MIN = 9
DETRACTOR_MAX = 6
COMPLAINT_PURCHASE_CHOICES = 20
DEFAULT_OVERDUE_HOURS = 48


# --- scores -------------------------------------------------------------------------


@dataclass(frozen=True)
class NpsResult:
    """NPS over a period: `score` = % promoters (9–10) − % detractors (0–6),
    rounded to one place, None when nobody answered."""

    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


@dataclass(frozen=True)
class SatisfactionResult:
    """Average satisfaction (1–5) over a period, None when nobody answered."""

    responses: int
    average: float | None


def _responses(
    *,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    store: Store | None,
    survey: Survey | None,
) -> QuerySet[SurveyResponse]:
    qs = SurveyResponse.objects.filter(
        survey__kind=kind, created_at__gte=start, created_at__lt=end
    )
    if store is not None:
        qs = qs.filter(store=store)
    if survey is not None:
        qs = qs.filter(survey=survey)
    return qs


def nps_for_period(
    *,
    start: dt.datetime,
    end: dt.datetime,
    store: Store | None = None,
    survey: Survey | None = None,
) -> NpsResult:
    """NPS of the answers given in [start, end) to NPS surveys (all of them, or
    `survey`), of one store's purchases when `store` is given. One query."""
    row = _responses(
        kind=SurveyKind.NPS, start=start, end=end, store=store, survey=survey
    ).aggregate(
        responses=Count("id"),
        promoters=Count("id", filter=Q(score__gte=PROMOTER_MIN)),
        detractors=Count("id", filter=Q(score__lte=DETRACTOR_MAX)),
    )
    total, promoters, detractors = (
        row["responses"],
        row["promoters"],
        row["detractors"],
    )
    score = round((promoters - detractors) * 100 / total, 1) if total else None
    return NpsResult(
        responses=total,
        promoters=promoters,
        passives=total - promoters - detractors,
        detractors=detractors,
        score=score,
    )


def satisfaction_for_period(
    *,
    start: dt.datetime,
    end: dt.datetime,
    store: Store | None = None,
    survey: Survey | None = None,
) -> SatisfactionResult:
    """Average score of the answers given in [start, end) to satisfaction
    surveys, rounded to two places. One query."""
    row = _responses(
        kind=SurveyKind.SATISFACTION, start=start, end=end, store=store, survey=survey
    ).aggregate(responses=Count("id"), average=Avg("score"))
    average = row["average"]
    return SatisfactionResult(
        responses=row["responses"],
        average=round(float(average), 2) if average is not None else None,
    )


# --- signed survey links ------------------------------------------------------------


@dataclass(frozen=True)
class SurveyLink:
    survey: Survey
    member: Member
    purchase: Purchase | None
    # The campaign that sent the link; its answers are attributed to it.
    campaign: Campaign | None = None


class SurveyLinkInvalid(Exception):
    """The link was changed, or names something that no longer exists."""


class SurveyLinkExpired(Exception):
    """The link was genuine but is older than the survey allows."""


def survey_link_token(
    *,
    survey: Survey,
    member: Member,
    purchase: Purchase | None,
    campaign: Campaign | None = None,
) -> str:
    """A signed, timestamped token naming the survey, member and purchase (and
    the campaign that sends it, when one does)."""
    data = {"s": survey.pk, "m": member.pk, "p": purchase.pk if purchase else None}
    if campaign is not None:
        data["c"] = campaign.pk
    return signing.dumps(data, salt=SURVEY_LINK_SALT, compress=True)


def survey_link_url(
    *,
    survey: Survey,
    member: Member,
    purchase: Purchase | None,
    campaign: Campaign | None = None,
) -> str:
    """The absolute link put in an invitation (opens without logging in): the
    one link of every trigger, the campaigns' `{{ survey_link }}` too."""
    token = survey_link_token(
        survey=survey, member=member, purchase=purchase, campaign=campaign
    )
    return absolute_url(reverse("campaigns:survey_answer", args=[token]))


def survey_link_sample_url() -> str:
    """A link of the right shape that answers nothing (refused as changed):
    for a campaign's preview and test send, which must not hand a staff
    member a working link in a customer's name."""
    return absolute_url(reverse("campaigns:survey_answer", args=["sample"]))


def survey_link_read(*, token: str, now: dt.datetime | None = None) -> SurveyLink:
    """What a survey link names. Raises SurveyLinkInvalid (tampered, unknown,
    survey switched off) or SurveyLinkExpired (older than link_valid_days)."""
    try:
        data = signing.loads(token, salt=SURVEY_LINK_SALT)
        survey_id, member_id, purchase_id = data["s"], data["m"], data["p"]
        campaign_id = data.get("c")
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise SurveyLinkInvalid from None
    survey = Survey.objects.filter(pk=survey_id, active=True).first()
    member = Member.objects.filter(pk=member_id).first()
    if survey is None or member is None:
        raise SurveyLinkInvalid
    max_age = dt.timedelta(days=survey.link_valid_days)
    try:
        signing.loads(token, salt=SURVEY_LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise SurveyLinkExpired from None
    purchase = None
    if purchase_id is not None:
        purchase = (
            Purchase.objects.select_related("store")
            .filter(pk=purchase_id, member=member)
            .first()
        )
        if purchase is None:
            raise SurveyLinkInvalid
    # A campaign gone since (only drafts are deleted) leaves the answer unattributed.
    campaign = (
        Campaign.objects.filter(pk=campaign_id).first()
        if isinstance(campaign_id, int)
        else None
    )
    return SurveyLink(
        survey=survey, member=member, purchase=purchase, campaign=campaign
    )


@dataclass(frozen=True)
class CampaignSurveyFigures:
    """A survey a campaign carried: members sent its link, and answers given
    through it (`share`: percent of those sent, None when nobody was)."""

    survey: Survey
    invited: int
    answered: int

    @property
    def share(self) -> float | None:
        return round(self.answered * 100 / self.invited, 1) if self.invited else None


def campaign_survey_figures(*, campaign: Campaign) -> CampaignSurveyFigures | None:
    """The campaign's survey figures, None without a survey. Two queries."""
    if campaign.survey_id is None:
        return None
    return CampaignSurveyFigures(
        survey=campaign.survey,
        invited=SurveyInvitation.objects.filter(campaign=campaign).count(),
        answered=SurveyResponse.objects.filter(campaign=campaign).count(),
    )


def survey_response_get(
    *, survey: Survey, member: Member, purchase: Purchase | None
) -> SurveyResponse | None:
    return SurveyResponse.objects.filter(
        survey=survey, member=member, purchase=purchase
    ).first()


# --- post-purchase invitations ------------------------------------------------------


def surveys_post_purchase_active() -> QuerySet[Survey]:
    return Survey.objects.filter(active=True, post_purchase=True).order_by("pk")


def survey_purchases_due(
    *, survey: Survey, now: dt.datetime | None = None, limit: int = 5000
) -> list[int]:
    """Ids of purchases to invite now: older than the delay, inside the catch-up
    window, not invited to this survey yet, and by a member who agreed to email
    (with an address) or SMS. One query."""
    now = now or timezone.now()
    newest = now - dt.timedelta(hours=survey.delay_hours)
    oldest = newest - dt.timedelta(days=survey.window_days)
    invited = SurveyInvitation.objects.filter(survey=survey, purchase=OuterRef("pk"))
    return list(
        Purchase.objects.filter(occurred_at__lte=newest, occurred_at__gt=oldest)
        .filter(
            (
                Q(member__email_consent=True, member__email__isnull=False)
                & ~Q(member__email="")
            )
            | Q(member__sms_consent=True)
        )
        .filter(~Exists(invited))
        .order_by("occurred_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


PROMPT_CACHE_KEY = "feedback:prompt-survey"
PROMPT_CACHE_SECONDS = 60


def survey_for_prompt() -> Survey | None:
    """The survey portal pages ask about: the active post-purchase one, else
    any active one. Cached for a minute, as the dashboard asks on every visit;
    SurveyAdmin clears it on a save."""
    found = cache.get(PROMPT_CACHE_KEY, False)
    if found is False:
        found = (
            Survey.objects.filter(active=True).order_by("-post_purchase", "pk").first()
        )
        cache.set(PROMPT_CACHE_KEY, found, PROMPT_CACHE_SECONDS)
    return found


def survey_for_prompt_forget() -> None:
    cache.delete(PROMPT_CACHE_KEY)


def survey_prompt_for_member(*, member: Member) -> tuple[Survey, Purchase] | None:
    """'Tell us how we did': the member's latest purchase and the survey of
    `survey_for_prompt`, when that purchase is within the survey's link validity
    and not answered yet. One query (the purchase, with whether it was
    answered), none when there is no survey (once the cache knows)."""
    survey = survey_for_prompt()
    if survey is None:
        return None
    since = timezone.now() - dt.timedelta(days=survey.link_valid_days)
    answered = SurveyResponse.objects.filter(
        survey=survey, member=member, purchase=OuterRef("pk")
    )
    purchase = (
        Purchase.objects.filter(member=member)
        .annotate(answered=Exists(answered))
        .select_related("store")
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if purchase is None or purchase.answered or purchase.occurred_at < since:
        return None
    return survey, purchase


# --- complaints ---------------------------------------------------------------------


def complaints_for_member(*, member: Member) -> QuerySet[Complaint]:
    """A member's own complaints, newest first, with the count of staff replies."""
    return (
        Complaint.objects.filter(member=member)
        .select_related("store")
        .annotate(
            replies=Count("messages", filter=Q(messages__sender=ComplaintSender.STAFF))
        )
        .order_by("-created_at", "-id")
    )


def complaint_get_for_member(*, member: Member, complaint_id: int) -> Complaint | None:
    """One of the member's own complaints with its thread, or None (another
    member's complaint is as absent as one that does not exist)."""
    return (
        Complaint.objects.filter(member=member, pk=complaint_id)
        .select_related("store", "purchase__store")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=ComplaintMessage.objects.order_by("created_at", "id"),
            )
        )
        .first()
    )


def complaint_purchase_choices(*, member: Member) -> QuerySet[Purchase]:
    """The member's recent purchases a complaint may be about (their own only)."""
    ids = list(
        Purchase.objects.filter(member=member)
        .order_by("-occurred_at", "-pk")
        .values_list("pk", flat=True)[:COMPLAINT_PURCHASE_CHOICES]
    )
    return (
        Purchase.objects.filter(pk__in=ids)
        .select_related("store")
        .order_by("-occurred_at", "-pk")
    )


def complaint_overdue_hours() -> int:
    return getattr(settings, "LOYALTY_COMPLAINT_OVERDUE_HOURS", DEFAULT_OVERDUE_HOURS)


def complaint_is_overdue(
    complaint: Complaint, *, now: dt.datetime | None = None
) -> bool:
    """Open for longer than LOYALTY_COMPLAINT_OVERDUE_HOURS."""
    now = now or timezone.now()
    return complaint.is_open and now - complaint.created_at > dt.timedelta(
        hours=complaint_overdue_hours()
    )
