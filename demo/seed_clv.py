"""Demo of the fitted customer value: the nightly refit run once over the
demo history (BG/NBD and Gamma-Gamma, the holdout chart on the RFM page,
P(alive) on Member 360) and a segment of the members whose P(alive) fell
below 0.3, ready for the win-back journey. seed_demo calls `seed`."""

from __future__ import annotations

from analytics.services.clv import clv_model_refit
from campaigns.segments.selectors import segment_count
from campaigns.segments.services import segment_save

FADING_THRESHOLD = "0.3"


def seed(*, command) -> None:
    fit = clv_model_refit(now=command.end)
    segment = segment_save(
        name="Fading: P(alive) below 0.3",
        description="Members the fitted model thinks have likely stopped buying.",
        definition={
            "op": "and",
            "conditions": [{"field": "p_alive", "op": "lt", "value": FADING_THRESHOLD}],
        },
        by=command.staff.get("marketer"),
    )
    holdout = fit.holdout.get("model") or {}
    command.stdout.write(
        f"Customer value: {'fitted' if fit.fitted else 'heuristic only'}, "
        f"{fit.members_model} members by the model, {fit.members_heuristic} by "
        f"the heuristic; holdout {holdout.get('actual', 0)} purchases, "
        f"{holdout.get('predicted', 0):.0f} predicted; "
        f"{segment_count(segment)} members with P(alive) below {FADING_THRESHOLD}"
    )
