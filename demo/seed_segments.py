"""Demo segments for seed_demo: a few a marketer would build first, one with a
nested group, and one uploaded list (through the services, like the admin)."""

from __future__ import annotations

import io

from campaigns.models import SegmentKind
from campaigns.segments.selectors import segment_count
from campaigns.segments.services import segment_import_csv, segment_save
from members.models import Member
from rewards.models import Tier

STATIC_LIST_SIZE = 12


def _definitions(command) -> list[tuple[str, str, dict]]:
    # The top tier (Gold): by rank, as its name depends on the language.
    gold = Tier.objects.filter(is_active=True).order_by("-rank").first()
    kyiv = next(
        (s for s in command.stores if s.code == "kyiv-center"), command.stores[0]
    )
    email = {"field": "consent", "op": "given", "value": "email"}
    out = []
    if gold is not None:
        out.append(
            (
                "Gold members",
                "Everyone in the Gold tier now.",
                {
                    "op": "and",
                    "conditions": [{"field": "tier", "op": "is", "value": [gold.pk]}],
                },
            )
        )
    out += [
        (
            "Lapsed 60+ days",
            "Bought before, nothing in the last 60 days.",
            {
                "op": "and",
                "conditions": [{"field": "last_purchase", "op": "gte", "value": 60}],
            },
        ),
        (
            "Points expiring in 30 days",
            "At least 50 points that expire within 30 days.",
            {
                "op": "and",
                "conditions": [
                    {"field": "points_expiring", "op": "gte", "value": 50, "days": 30}
                ],
            },
        ),
        (
            "Bakery buyers",
            "Bought from the bakery category in the last 90 days.",
            {
                "op": "and",
                "conditions": [
                    {
                        "field": "bought_category",
                        "op": "any",
                        "value": ["bakery"],
                        "days": 90,
                    }
                ],
            },
        ),
        (
            f"Email subscribers in {kyiv.name}",
            "Home store Kyiv centre, email consent given.",
            {
                "op": "and",
                "conditions": [
                    email,
                    {"field": "home_store", "op": "is", "value": [kyiv.pk]},
                ],
            },
        ),
        (
            "Win-back by email",
            "Email consent, and lapsed 60+ days or never bought (a nested group).",
            {
                "op": "and",
                "conditions": [
                    email,
                    {
                        "op": "or",
                        "conditions": [
                            {"field": "last_purchase", "op": "gte", "value": 60},
                            {"field": "last_purchase", "op": "never"},
                        ],
                    },
                ],
            },
        ),
    ]
    return out


def seed(command) -> None:
    """Called by seed_demo once the members and their history are written."""
    by = command.staff.get("marketer")
    lines = []
    for name, description, definition in _definitions(command):
        segment = segment_save(
            name=name, description=description, definition=definition, by=by
        )
        lines.append(f"{name} ({segment_count(segment)})")

    # An uploaded list: guests of a tasting, phones typed as people write them,
    # plus two that match nobody to show the report.
    phones = list(Member.objects.order_by("pk").values_list("phone", flat=True))
    guests = command.rng.sample(phones, min(STATIC_LIST_SIZE, len(phones)))
    rows = ["phone"]
    rows += [
        f"0{p[4:6]} {p[6:9]} {p[9:11]} {p[11:]}" if p.startswith("+380") else p
        for p in guests
    ]
    rows += ["+380 99 000 00 01", "no phone"]
    listing = segment_save(
        name="Coffee tasting guests",
        description="Uploaded from the tasting's sign-up sheet.",
        definition=None,
        by=by,
        kind=SegmentKind.STATIC,
    )
    upload = io.BytesIO(("\n".join(rows) + "\n").encode())
    upload.name = "tasting-guests.csv"
    result = segment_import_csv(segment=listing, file=upload, by=by)
    lines.append(
        f"Coffee tasting guests ({result.added} of {result.rows} rows matched)"
    )
    command.stdout.write("Segments: " + ", ".join(lines))
