"""The chart specs the dashboards hand to static/js/analytics_charts.js.

Every chart says what its y axis measures. Counts (members, purchases,
complaints, points) are whole numbers: the script draws their axis with whole
ticks only, so a chart of 1 or 2 complaints reads 0, 1, 2 and never 0.1, 0.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ChartUnit(StrEnum):
    COUNT = "count"  # whole numbers: integer ticks
    MONEY = "money"
    PERCENT = "percent"


def chart_spec(
    *,
    kind: str,
    labels: Sequence[str],
    datasets: Sequence[tuple[str, Sequence]],
    unit: ChartUnit,
) -> dict:
    """One chart as JSON for the page (`json_script`): `kind` "line" or "bar",
    `datasets` as (label, values). A count series must hold whole numbers (None
    for a gap): a float there is a bug upstream, not something to round away."""
    unit = ChartUnit(unit)
    if unit is ChartUnit.COUNT:
        for label, values in datasets:
            for value in values:
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int)
                ):
                    raise ValueError(
                        f"count series {label!r} holds {value!r}, not a whole number"
                    )
    return {
        "type": kind,
        "unit": str(unit),
        "labels": list(labels),
        "datasets": [
            {"label": str(label), "data": list(values)} for label, values in datasets
        ],
    }
