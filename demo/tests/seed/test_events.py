"""seed_demo writes the demo events and members-only pages through the services."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import ContentPage, Event, EventRsvp, RsvpStatus
from rewards.selectors.invariants import ledger_invariant_violations

# seed_demo needs the staff groups, which a transactional test may have emptied.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_seed_demo_writes_past_gold_only_and_full_events_and_two_pages():
    call_command("seed_demo", members=40, months=2, stdout=StringIO())

    now = timezone.now()
    events = list(Event.objects.select_related("min_tier"))
    assert len(events) == 4
    past = [e for e in events if e.ends_at < now]
    assert len(past) == 1
    assert EventRsvp.objects.filter(event=past[0], checked_in_at__isnull=False).count()
    assert [e.min_tier.name_en for e in events if e.min_tier] == ["Gold"]
    full = [e for e in events if e.going_count == e.capacity]
    assert len(full) == 1
    assert EventRsvp.objects.filter(event=full[0], status=RsvpStatus.WAITLIST).exists()
    assert EventRsvp.objects.filter(
        member__email="demo@example.com", status=RsvpStatus.GOING
    ).exists()
    assert ContentPage.objects.count() == 2
    assert ledger_invariant_violations() == []
