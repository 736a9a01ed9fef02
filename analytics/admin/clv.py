"""The fitted customer-value section of the RFM page: the newest fit, its
parameters and the holdout chart (predicted against actual purchases)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from analytics.admin.charts import ChartUnit, chart_spec
from analytics.models import CLVModelFit
from analytics.selectors.clv_fits import clv_latest_fit


def clv_holdout_chart(fit: CLVModelFit | None) -> dict | None:
    """Purchases in the holdout weeks, actual against predicted (the model's
    and the heuristic's, rounded to whole purchases), by how many repeat
    purchases the members made before it. None without a holdout check."""
    bins = (fit.holdout or {}).get("bins") if fit else None
    if not bins:
        return None
    top = bins[-1]["repeat"]
    labels = [str(b["repeat"]) if b["repeat"] < top else f"{top}+" for b in bins]
    return chart_spec(
        kind="bar",
        labels=labels,
        datasets=[
            (_("Actual purchases"), [int(b["actual"]) for b in bins]),
            (_("Predicted by the model"), [round(b["model"]) for b in bins]),
            (_("Predicted by the heuristic"), [round(b["heuristic"]) for b in bins]),
        ],
        unit=ChartUnit.COUNT,
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def clv_context() -> dict:
    """What the RFM page's customer-value section shows."""
    fit = clv_latest_fit()
    holdout = (fit.holdout or {}) if fit else {}
    return {
        "clv_fit": fit,
        "clv_bgnbd": (fit.parameters or {}).get("bgnbd") if fit else None,
        "clv_gamma_gamma": (fit.parameters or {}).get("gamma_gamma") if fit else None,
        "clv_holdout": holdout,
        "clv_holdout_start": _date(holdout.get("start")),
        "clv_holdout_end": _date(holdout.get("end")),
        "clv_chart": clv_holdout_chart(fit),
    }
