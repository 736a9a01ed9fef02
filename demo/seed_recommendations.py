"""Demo data for RFM and recommendations: called once at the end of seed_demo."""

from __future__ import annotations

from analytics.selectors.rfm import rfm_segment_summary
from analytics.services.recommend import copurchase_refresh, reward_categories_set
from analytics.services.rfm import rfm_refresh
from demo.texts import same_text

# demo reward (its name in demo/data.py) → the purchase categories it belongs to
REWARD_CATEGORIES = {
    "Безкоштовна кава": ["coffee", "beans"],
    "Круасан у подарунок": ["bakery"],
}


def seed(*, command) -> None:
    """Map the demo's product rewards to categories, then fill the RFM and
    co-purchase tables as the nightly jobs would on the seed's last day."""
    for reward in command.rewards:
        for name, categories in REWARD_CATEGORIES.items():
            if same_text(reward, "name", name):
                reward_categories_set(reward=reward, categories=categories)
    scored = rfm_refresh(now=command.end)
    pairs = copurchase_refresh(now=command.end)
    biggest = sorted(rfm_segment_summary(), key=lambda row: -row.members)[:3]
    command.stdout.write(
        f"RFM: {scored} members scored ("
        + ", ".join(f"{row.label} {row.members}" for row in biggest)
        + f"); {pairs} co-purchase pairs."
    )
