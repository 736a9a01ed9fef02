"""The nightly customer-value refit (`clv_model_refit`, the one writer of
CLVModelFit and MemberCLV): BG/NBD and Gamma-Gamma fitted on the program's
purchases, each member's P(alive), expected purchases and value from them, the
heuristic (analytics.selectors.clv) where the history is too short, and a
check of the model against the last `holdout_days` of purchases. Formulas and
the meaning of "enough history": analytics.selectors.clv_model."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from analytics.models import CLVMethod, CLVModelFit, MemberCLV
from analytics.selectors import clv_model as cm
from analytics.selectors.clv import member_value
from rewards.models import Purchase

log = logging.getLogger(__name__)

DEFAULT_HOLDOUT_DAYS = 91  # 13 weeks
YEAR_WEEKS = 365 / 7
CHUNK_SIZE = 2000
# Calibration repeat purchases grouped for the holdout chart: 0 … 6 and 7+.
BIN_TOP = 7


def clv_holdout_days() -> int:
    return int(getattr(settings, "ANALYTICS_CLV_HOLDOUT_DAYS", DEFAULT_HOLDOUT_DAYS))


def purchase_rows(*, now: dt.datetime) -> list[tuple[int, dt.date, Decimal]]:
    """(member id, local day, net spend) of every purchase up to `now` that
    is not fully returned (one streamed SELECT)."""
    money = models.DecimalField(max_digits=14, decimal_places=2)
    net = models.ExpressionWrapper(F("total") - F("returned_total"), output_field=money)
    qs = (
        Purchase.objects.filter(occurred_at__lte=now)
        .annotate(net=net)
        .filter(net__gt=0)
        .values_list("member_id", "occurred_at", "net")
        .order_by()
    )
    return [
        (member_id, timezone.localdate(at), value)
        for member_id, at, value in qs.iterator(chunk_size=CHUNK_SIZE)
    ]


def _bins(x, model, heuristic, actual) -> list[dict]:
    out = []
    for k in range(BIN_TOP + 1):
        mask = (x >= BIN_TOP) if k == BIN_TOP else (x == k)
        out.append(
            {
                "repeat": k,
                "customers": int(mask.sum()),
                "model": float(model[mask].sum()),
                "heuristic": float(heuristic[mask].sum()),
                "actual": int(actual[mask].sum()),
            }
        )
    return out


def holdout_check(rows, *, today: dt.date, holdout_days: int) -> dict:
    """Fit on the purchases up to `today − holdout_days`, predict the days
    after, compare with what the same members bought. {} if too little
    history before the holdout."""
    cal_end = today - dt.timedelta(days=holdout_days)
    summary = cm.summarize(rows, end=cal_end)
    if not cm.enough_for_fit(summary):
        return {}
    try:
        bg, _ll = cm.bgnbd_fit(summary.x, summary.t_x, summary.T)
    except Exception:  # noqa: BLE001 - an optimiser failure means no check tonight
        log.exception("CLV holdout fit failed")
        return {}
    weeks = holdout_days / cm.DAYS_PER_WEEK
    counts = cm.count_by_customer(rows, start=cal_end + dt.timedelta(days=1), end=today)
    actual = np.array([counts.get(c, 0) for c in summary.ids])
    model = bg.expected_purchases(weeks, summary.x, summary.t_x, summary.T)
    heuristic = cm.heuristic_expected(
        x=summary.x, t_x=summary.t_x, T=summary.T, horizon_days=holdout_days
    )
    scores = {
        name: vars(cm.holdout_score(pred, actual))
        for name, pred in (("model", model), ("heuristic", heuristic))
    }
    return {
        "start": (cal_end + dt.timedelta(days=1)).isoformat(),
        "end": today.isoformat(),
        "weeks": round(weeks, 2),
        "customers": len(summary),
        "parameters": bg.as_dict(),
        **scores,
        "bins": _bins(summary.x, model, heuristic, actual),
    }


def _heuristic_row(summary, i) -> dict:
    value = member_value(
        purchases=int(summary.x[i]) + 1,
        span_days=summary.t_x[i] * cm.DAYS_PER_WEEK,
        gap_days=(summary.T[i] - summary.t_x[i]) * cm.DAYS_PER_WEEK,
        historic_value=cm.money(summary.total_spend[i]),
    )
    alive = cm.heuristic_alive(
        x=summary.x[i : i + 1], t_x=summary.t_x[i : i + 1], T=summary.T[i : i + 1]
    )[0]
    purchases = int(summary.x[i]) + 1
    return {
        "method": CLVMethod.HEURISTIC,
        "p_alive": alive,
        "expected_purchases": value.expected_purchases,
        "expected_spend": cm.money(summary.total_spend[i] / purchases),
        "predicted_value": value.predicted_value,
    }


def _predictions(summary, bg, gg) -> list[dict]:
    """Per member: the model's figures where T ≥ MIN_MEMBER_WEEKS and a model
    was fitted, else the heuristic's."""
    rows: list[dict] = [{} for _ in summary.ids]
    served = (
        summary.T >= cm.MIN_MEMBER_WEEKS if bg else np.zeros(len(summary), dtype=bool)
    )
    if bg and served.any():
        x, t_x, T = summary.x[served], summary.t_x[served], summary.T[served]
        alive = bg.p_alive(x, t_x, T)
        expected = bg.expected_purchases(YEAR_WEEKS, x, t_x, T)
        if gg:
            spend = gg.expected_spend(x, summary.mean_repeat_spend[served])
        else:  # no spend model: the member's own mean spend
            totals = np.array(summary.total_spend)[served]
            spend = totals / (x + 1)
        for j, i in enumerate(np.flatnonzero(served)):
            rows[i] = {
                "method": CLVMethod.MODEL,
                "p_alive": alive[j],
                "expected_purchases": round(float(expected[j]), 2),
                "expected_spend": cm.money(spend[j]),
                "predicted_value": cm.money(expected[j] * spend[j]),
            }
    for i in np.flatnonzero(~served):
        rows[i] = _heuristic_row(summary, i)
    return rows


def _fit(summary):
    """(BG/NBD, its log-likelihood, Gamma-Gamma, its log-likelihood, n) or
    Nones where there is too little history or the optimiser failed."""
    if not cm.enough_for_fit(summary):
        return None, None, None, None, 0
    try:
        bg, ll = cm.bgnbd_fit(summary.x, summary.t_x, summary.T)
    except Exception:  # noqa: BLE001 - no fit tonight: the heuristic serves all
        log.exception("CLV BG/NBD fit failed")
        return None, None, None, None, 0
    if not (np.isfinite(ll) and all(v > 0 for v in bg.as_dict().values())):
        return None, None, None, None, 0
    try:
        gg, gll, n = cm.gamma_gamma_fit(summary.x, summary.mean_repeat_spend)
        if not (np.isfinite(gll) and gg.q > 1):
            gg, gll, n = None, None, 0
    except Exception:  # noqa: BLE001 - spend falls back to the member's mean
        log.exception("CLV Gamma-Gamma fit failed")
        gg, gll, n = None, None, 0
    return bg, ll, gg, gll, n


def clv_model_refit(
    *, now: dt.datetime | None = None, holdout_days: int | None = None
) -> CLVModelFit:
    """Refit the models on every purchase to date and rewrite every member's
    MemberCLV row; returns the new CLVModelFit.

    One streamed SELECT of the purchases (held in memory as one tuple per
    purchase), two fits (the holdout check and the full one, a second or two
    for thousands of members), then one transaction: the fit row, the
    members' rows upserted in chunks, rows of members with no purchase left
    deleted. Locks nothing, queues nothing; safe to run twice."""
    now = now or timezone.now()
    holdout_days = holdout_days or clv_holdout_days()
    today = timezone.localdate(now)
    rows = purchase_rows(now=now)
    holdout = holdout_check(rows, today=today, holdout_days=holdout_days)
    summary = cm.summarize(rows, end=today)
    bg, ll, gg, gll, n_spend = _fit(summary)
    predictions = _predictions(summary, bg, gg)
    objs = [
        MemberCLV(
            member_id=member_id,
            method=p["method"],
            p_alive=Decimal(str(round(float(p["p_alive"]), 4))),
            expected_purchases=Decimal(str(p["expected_purchases"])),
            expected_spend=p["expected_spend"],
            predicted_value=max(p["predicted_value"], Decimal("0.00")),
            computed_at=now,
        )
        for member_id, p in zip(summary.ids, predictions, strict=True)
    ]
    by_model = sum(1 for o in objs if o.method == CLVMethod.MODEL)
    parameters = {}
    if bg:
        parameters["bgnbd"] = bg.as_dict()
    if gg:
        parameters["gamma_gamma"] = gg.as_dict()
    update = [f.name for f in MemberCLV._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        fit = CLVModelFit.objects.create(
            fitted_at=now,
            fitted=bg is not None,
            parameters=parameters,
            log_likelihood=ll,
            customers=len(summary) if bg else 0,
            spend_log_likelihood=gll,
            spend_customers=n_spend,
            holdout=holdout,
            members_model=by_model,
            members_heuristic=len(objs) - by_model,
        )
        for start in range(0, len(objs), CHUNK_SIZE):
            MemberCLV.objects.bulk_create(
                objs[start : start + CHUNK_SIZE],
                update_conflicts=True,
                unique_fields=["member"],
                update_fields=update,
            )
        MemberCLV.objects.filter(computed_at__lt=now).delete()
    log.info(
        "CLV: %s member(s) by the model, %s by the heuristic",
        by_model,
        len(objs) - by_model,
    )
    return fit
