"""Where a member came from (Member.source and its UTM fields, docs/analytics.md
"Where members come from").

The first visit's UTM parameters travel in a signed cookie
(members.middleware.FirstTouchMiddleware, first touch wins) to the online
sign-up, which hands them to member_enroll as a FirstTouch. Every other
enrolment path names its source through the consent source it already passes
(counter, till API, admin, import) and the store (a partner's store → partner);
a friend's referral code makes any enrolment but an import a referral."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import StaffActor, staff_audit_record
from members.errors import InvalidInput
from members.models import AuditAction, ConsentSource, Member, MemberSource, Store
from members.models.members import UTM_MAX_LENGTH

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
# Control characters never reach the database; the rest is data, escaped
# wherever it is shown (templates, the CSV writer).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def utm_value_clean(value) -> str:
    """One utm_* value as kept: text without control characters, stripped,
    at most UTM_MAX_LENGTH characters; anything else is ""."""
    if not isinstance(value, str):
        return ""
    return _CONTROL.sub("", value).strip()[:UTM_MAX_LENGTH]


@dataclass(frozen=True)
class FirstTouch:
    """What the first visit said about where the customer came from."""

    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    first_seen_at: dt.datetime | None = None

    @classmethod
    def from_params(
        cls, params: Mapping, *, now: dt.datetime | None = None
    ) -> FirstTouch:
        """The UTM parameters of a query string (cleaned), seen `now`."""
        return cls(
            **{name: utm_value_clean(params.get(name)) for name in UTM_FIELDS},
            first_seen_at=now or timezone.now(),
        )

    def as_json(self) -> dict:
        data = asdict(self)
        data["first_seen_at"] = (
            self.first_seen_at.isoformat() if self.first_seen_at else None
        )
        return data

    @classmethod
    def from_json(cls, data) -> FirstTouch | None:
        """Back from as_json (a cookie); None for anything malformed."""
        if not isinstance(data, dict):
            return None
        seen = data.get("first_seen_at")
        try:
            seen = dt.datetime.fromisoformat(seen) if seen else None
        except (TypeError, ValueError):
            return None
        if seen is not None and (timezone.is_naive(seen) or seen > timezone.now()):
            seen = None
        return cls(
            **{name: utm_value_clean(data.get(name)) for name in UTM_FIELDS},
            first_seen_at=seen,
        )


# The consent source each enrolment path passes to member_enroll, and the
# member source it means when neither a referral nor a partner store decides.
_BY_CONSENT_SOURCE = {
    ConsentSource.COUNTER: MemberSource.TILL,
    ConsentSource.API: MemberSource.TILL,
    ConsentSource.ADMIN: MemberSource.TILL,
    ConsentSource.PORTAL: MemberSource.ONLINE,
    ConsentSource.IMPORT: MemberSource.IMPORT,
}


def member_source_for(
    *, consent_source: str, store: Store | None, has_referrer: bool
) -> str:
    """The source of a member being enrolled: an import stays an import; a
    friend's referral code makes a referral; a partner's store a partner
    enrolment; then by the path (till, counter and staff at a store → till,
    the portal → online); staff without a store → other."""
    by_path = _BY_CONSENT_SOURCE.get(consent_source, MemberSource.OTHER)
    if by_path == MemberSource.IMPORT:
        return MemberSource.IMPORT
    if has_referrer:
        return MemberSource.REFERRAL
    if store is not None and store.partner_id:
        return MemberSource.PARTNER
    if by_path == MemberSource.TILL and store is None:
        return MemberSource.OTHER
    return by_path


def member_source_clean(source) -> str:
    """`source` when it is one of MemberSource, else InvalidInput naming the
    field "source"."""
    if not isinstance(source, str) or source not in MemberSource.values:
        raise InvalidInput(
            _("Unknown source “%(source)s”.") % {"source": str(source)[:20]},
            field="source",
        )
    return source


def utm_value_check(value, *, field: str) -> str:
    """A utm_* value typed by a till or staff, as kept: stripped; InvalidInput
    naming the field for control characters or more than UTM_MAX_LENGTH
    characters (an online link's values are cleaned quietly instead,
    utm_value_clean)."""
    value = "" if value is None else value
    if not isinstance(value, str) or _CONTROL.search(value):
        raise InvalidInput(
            _("Give %(field)s as plain text without control characters.")
            % {"field": field},
            field=field,
        )
    value = value.strip()
    if len(value) > UTM_MAX_LENGTH:
        raise InvalidInput(
            _("%(field)s has at most %(n)s characters.")
            % {"field": field, "n": UTM_MAX_LENGTH},
            field=field,
        )
    return value


_UNSET = object()


def member_source_set(
    *,
    member: Member,
    source: str,
    referred_by: Member | None = None,
    store: Store | None | object = _UNSET,
    utm: Mapping[str, str] | None = None,
    first_seen_at: dt.datetime | None | object = _UNSET,
    actor: StaffActor | None = None,
) -> Member:
    """Set where a member came from when it is learnt after enrolment (a
    partner's counter that enrolled through our till, a member found in the
    old card system) or staff correct it: the source, the friend who referred
    them (None clears it), and when given the store of enrolment (the store
    the channel's figures count them under), the utm_* values (`utm`, by field
    name; a missing name keeps its value) and the first visit. One audit row
    naming the fields that changed (no values: the audit log keeps none),
    when staff act (`actor`) and something changed. Locks nothing; queues
    nothing. InvalidInput naming the field for an unknown source, a member as
    their own referrer, a bad utm value or a first visit after enrolment."""
    source = member_source_clean(source)
    if referred_by is not None and referred_by.pk == member.pk:
        raise InvalidInput(_("A member cannot refer themselves."), field="referred_by")
    changes: dict = {"source": source, "referred_by": referred_by}
    if store is not _UNSET:
        changes["enrolled_store"] = store
    for name, value in (utm or {}).items():
        if name not in UTM_FIELDS:
            raise InvalidInput(_("Unknown field."), field=name)
        changes[name] = utm_value_check(value, field=name)
    if first_seen_at is not _UNSET:
        if first_seen_at is not None and first_seen_at > member.enrolled_at:
            raise InvalidInput(
                _("The first visit cannot be after the enrolment."),
                field="first_seen_at",
            )
        changes["first_seen_at"] = first_seen_at
    changed = [
        name for name, value in changes.items() if getattr(member, name) != value
    ]
    if not changed:
        return member
    with transaction.atomic():
        for name in changed:
            setattr(member, name, changes[name])
        member.save(update_fields=changed)
        staff_audit_record(
            actor=actor,
            action=AuditAction.MEMBER_CHANGED,
            member=member,
            obj=member,
            details={"fields": changed},
        )
    return member
