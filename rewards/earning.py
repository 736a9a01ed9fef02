"""What a purchase earns, and why: the earning rules applied in one fixed order.

A pure computation (no queries, no writes): purchase_record feeds it the
receipt, the active rules, the member's tier and membership multipliers, and
stores what it returns; the rule simulator feeds it past receipts and a draft
rule. The order is the one shown to staff next to the rules:

1. Excluded SKUs and categories earn nothing and do not count towards the minimum.
2. Minimum spend: if the eligible total is below the program's minimum, nothing.
3. Base rate: line amount × points per currency unit.
4. Product multiplier: the largest matching one multiplies the base.
5. Fixed bonuses: every matching one adds its points per unit bought.
6. Tier multiplier, then 7. membership multiplier, each on everything above.
8. Promotion: the largest matching one multiplies everything above.
9. Cap (ProgramSettings.earn_cap_percent, when set): the purchase earns at most
   that percentage of its amount, in points at the program's point value. It
   comes last, after everything the purchase itself earns (fixed bonuses
   included), and scales every line's exact points down alike, so returns take
   back the kept share of what was really earned (kept_points caps the kept
   part again).

Each line's points are kept exact (6 places) for returns; the purchase earns
the sum rounded down. The breakdown spreads the whole number earned before the
cap over the stages and rules (largest remainder), in the order above, then
the cap's line takes off the difference, so it always adds up to the points
earned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rewards.models import EarningRule, RuleKind

EXACT = Decimal("0.000001")
ONE = Decimal("1")
ZERO = Decimal("0")

# (stage, label) in the order they apply; the admin shows this list.
STAGES = (
    ("exclude", _("Excluded SKUs and categories earn nothing")),
    ("minimum", _("Minimum spend of the program, on what is left")),
    ("base", _("Base rate: points per currency unit")),
    ("product", _("Product multiplier: the largest matching one")),
    ("fixed", _("Fixed bonuses: every matching one, per unit")),
    ("tier", _("Tier multiplier")),
    ("membership", _("Membership multiplier")),
    ("promotion", _("Promotion: the largest matching one")),
    ("cap", _("Cap: at most a percentage of the purchase's amount, if set")),
)
STAGE_ORDER = {stage: i for i, (stage, _label) in enumerate(STAGES)}


@dataclass(frozen=True)
class EarnLine:
    sku: str
    category: str
    quantity: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Multiplier:
    """The member's tier or membership at the time of the purchase; `ref` is
    the tier's id, so the breakdown can name it in the reader's language."""

    name: str
    value: Decimal
    ref: int | None = None


@dataclass
class EarnResult:
    points: int
    exact: Decimal
    eligible_total: Decimal
    line_exact: list[Decimal]
    line_eligible: list[bool]
    breakdown: list[dict] = field(default_factory=list)
    cap_per_unit: Decimal | None = None  # the cap in force, in points per unit
    points_capped: int = 0  # what the cap took off


@dataclass
class _Part:
    stage: str
    rule: int | None
    name: str
    multiplier: str
    exact: Decimal = ZERO
    ref: int | None = None


def breakdown_in_order(items: Iterable[dict]) -> list[dict]:
    """A stored breakdown in the order its stages apply (STAGES); entries
    written before the order was kept come out right too. Stable: rules of
    one stage keep their order."""
    last = len(STAGE_ORDER)
    return sorted(items, key=lambda item: STAGE_ORDER.get(item.get("stage"), last))


def rule_matches_line(rule: EarningRule, line: EarnLine) -> bool:
    if rule.sku and rule.sku != line.sku:
        return False
    return not rule.category or rule.category.casefold() == line.category.casefold()


def rule_in_force(rule: EarningRule, *, at: dt.datetime, store_id: int) -> bool:
    """Dates, weekdays, hours (in the program's time zone) and stores.

    `rule.store_ids` must be set by the caller (a set; empty = every store), so
    that checking many rules against many receipts costs no queries."""
    if rule.starts_at and at < rule.starts_at:
        return False
    if rule.ends_at and at >= rule.ends_at:
        return False
    if rule.store_ids and store_id not in rule.store_ids:
        return False
    local = timezone.localtime(at)
    if rule.weekdays and str(local.weekday()) not in rule.weekdays:
        return False
    if rule.time_from or rule.time_to:
        now = local.time()
        start = rule.time_from or dt.time.min
        end = rule.time_to or dt.time.max
        # 22:00–02:00 crosses midnight
        inside = start <= now < end if start <= end else (now >= start or now < end)
        if not inside:
            return False
    return True


def cap_per_unit_get(
    *, percent: Decimal | None, point_value: Decimal
) -> Decimal | None:
    """The most points one currency unit of a purchase may earn under a cap of
    `percent` % at `point_value` a point, rounded down to EXACT (so the cap in
    points never exceeds percent × amount ÷ point value); None: no cap."""
    if percent is None:
        return None
    return (percent / 100 / point_value).quantize(EXACT, rounding=ROUND_FLOOR)


def points_cap_exact(amount: Decimal, cap_per_unit: Decimal) -> Decimal:
    """The most exact points `amount` may earn (or keep) under the cap."""
    return (amount * cap_per_unit).quantize(EXACT, rounding=ROUND_FLOOR)


def earn_compute(
    *,
    lines: Sequence[EarnLine],
    at: dt.datetime,
    store_id: int,
    base_rate: Decimal,
    min_purchase: Decimal,
    rules: Iterable[EarningRule],
    tier: Multiplier | None = None,
    membership: Multiplier | None = None,
    cap_percent: Decimal | None = None,
    point_value: Decimal | None = None,
) -> EarnResult:
    """The points `lines` earn at `at` in store `store_id` under `rules`, at
    most `cap_percent` % of the lines' amount at `point_value` a point."""
    cap_per_unit = (
        cap_per_unit_get(percent=cap_percent, point_value=point_value)
        if cap_percent is not None and point_value
        else None
    )
    in_force = [r for r in rules if rule_in_force(r, at=at, store_id=store_id)]
    # The members themselves, not RuleKind.values (it builds the labels).
    by_kind: dict[str, list[EarningRule]] = {k: [] for k in RuleKind}
    for rule in sorted(in_force, key=lambda r: r.pk or 0):
        by_kind[rule.kind].append(rule)

    line_eligible = [
        not any(rule_matches_line(r, line) for r in by_kind[RuleKind.EXCLUDE])
        for line in lines
    ]
    eligible_total = sum(
        (line.amount for line, ok in zip(lines, line_eligible, strict=True) if ok),
        ZERO,
    )
    zero = [ZERO] * len(lines)
    if eligible_total <= 0 or eligible_total < min_purchase:
        return EarnResult(
            0, ZERO, eligible_total, zero, line_eligible, cap_per_unit=cap_per_unit
        )

    parts: dict[tuple, _Part] = {}

    def add(stage, rule, name, multiplier, value, ref=None):
        key = (stage, rule)
        if key not in parts:
            parts[key] = _Part(stage, rule, name, multiplier, ref=ref)
        parts[key].exact += value

    line_exact = []
    for line, ok in zip(lines, line_eligible, strict=True):
        if not ok:
            line_exact.append(ZERO)
            continue
        base = line.amount * base_rate
        add("base", None, "", str(base_rate.normalize()), base)
        running = base
        products = [
            r for r in by_kind[RuleKind.MULTIPLIER] if rule_matches_line(r, line)
        ]
        if products:
            best = max(products, key=lambda r: r.multiplier)  # first of equals: by id
            extra = base * (best.multiplier - ONE)
            add("product", best.pk, best.name, str(best.multiplier), extra)
            running += extra
        for rule in by_kind[RuleKind.FIXED]:
            if rule_matches_line(rule, line):
                extra = Decimal(rule.points_per_unit) * line.quantity
                add("fixed", rule.pk, rule.name, "", extra)
                running += extra
        for stage, mult in (("tier", tier), ("membership", membership)):
            if mult is not None and mult.value != ONE:
                extra = running * (mult.value - ONE)
                add(stage, None, mult.name, str(mult.value), extra, ref=mult.ref)
                running += extra
        promos = [r for r in by_kind[RuleKind.PROMOTION] if rule_matches_line(r, line)]
        if promos:
            best = max(promos, key=lambda r: r.multiplier)
            extra = running * (best.multiplier - ONE)
            add("promotion", best.pk, best.name, str(best.multiplier), extra)
            running += extra
        line_exact.append(max(running, ZERO).quantize(EXACT, rounding=ROUND_HALF_EVEN))

    exact = sum(line_exact, ZERO)
    points = int(exact.to_integral_value(rounding=ROUND_FLOOR))
    # The stages in the order they apply (a rule first met on a later line
    # still sorts into its own stage); within a stage, in the order first met.
    ordered = sorted(parts.values(), key=lambda p: STAGE_ORDER[p.stage])
    breakdown = _breakdown(ordered, points)
    capped = 0
    if cap_per_unit is not None:
        cap = points_cap_exact(sum((line.amount for line in lines), ZERO), cap_per_unit)
        if exact > cap:
            line_exact = _scale_to(line_exact, cap)
            exact = cap
            capped_points = int(cap.to_integral_value(rounding=ROUND_FLOOR))
            capped = points - capped_points
            points = capped_points
            if capped:
                breakdown.append(
                    {
                        "stage": "cap",
                        "rule": None,
                        "name": "",
                        "multiplier": "",
                        "percent": format(cap_percent.normalize(), "f"),
                        "points": -capped,
                    }
                )
    return EarnResult(
        points,
        exact,
        eligible_total,
        line_exact,
        line_eligible,
        breakdown,
        cap_per_unit=cap_per_unit,
        points_capped=capped,
    )


def _scale_to(values: list[Decimal], target: Decimal) -> list[Decimal]:
    """`values` (each on the EXACT grid, their sum above `target`) scaled down
    alike so that they add up to `target` exactly: each rounded down, then the
    few millionths left go to the largest remainders. None grows."""
    total = sum(values, ZERO)
    raw = [v * target / total for v in values]
    scaled = [r.quantize(EXACT, rounding=ROUND_FLOOR) for r in raw]
    left = int((target - sum(scaled, ZERO)) / EXACT)
    order = sorted(
        (i for i, v in enumerate(values) if v > 0),
        key=lambda i: raw[i] - scaled[i],
        reverse=True,
    )
    for i in order[:left]:
        scaled[i] += EXACT
    return scaled


def _breakdown(parts: list[_Part], total: int) -> list[dict]:
    """Whole points per stage/rule adding up to `total` (largest remainder)."""
    whole = [int(p.exact.to_integral_value(rounding=ROUND_FLOOR)) for p in parts]
    fraction = [p.exact - w for p, w in zip(parts, whole, strict=True)]
    gap = total - sum(whole)
    order = sorted(range(len(parts)), key=lambda i: fraction[i], reverse=gap > 0)
    for i in order[: abs(gap)]:
        whole[i] += 1 if gap > 0 else -1
    return [
        {
            "stage": p.stage,
            "rule": p.rule,
            "name": p.name,
            "multiplier": p.multiplier,
            "points": w,
            **({"ref": p.ref} if p.ref is not None else {}),
        }
        for p, w in zip(parts, whole, strict=True)
        if w
    ]


def kept_points(
    *,
    total: Decimal,
    returned_total: Decimal,
    min_purchase: Decimal,
    exact: Decimal,
    eligible_total: Decimal,
    lines: Sequence[tuple[Decimal, Decimal, Decimal, Decimal, bool]] = (),
    cap_per_unit: Decimal | None = None,
) -> int:
    """What a purchase keeps after its returns: the kept share of its exact points.

    `lines` are (points_exact, quantity, quantity_returned, kept value, eligible).
    Line returns keep each line's points in proportion to the quantity kept;
    returns by amount then keep the rest in proportion to the money kept. If
    the eligible value kept falls below the minimum spend, nothing is kept.
    Under a cap (`cap_per_unit`, the purchase's), the kept part keeps at most
    the cap of the money kept. Each of these only shrinks as more comes back,
    so every return takes back something or nothing, never gives points."""
    kept_total = total - returned_total
    if kept_total <= 0:
        return 0
    if lines:
        kept_exact = sum(
            (pe * (q - qr) / q for pe, q, qr, _value, _ok in lines if q > 0), ZERO
        )
        lines_value = sum((value for _pe, _q, _qr, value, _ok in lines), ZERO)
        eligible_value = sum((value for *_rest, value, ok in lines if ok), ZERO)
    else:
        kept_exact, lines_value, eligible_value = exact, total, eligible_total
    if lines_value <= 0:
        return 0
    # What went back by amount (not by line) leaves this share of the rest:
    kept_exact = kept_exact * kept_total / lines_value
    eligible_value = eligible_value * kept_total / lines_value
    if eligible_value <= 0 or eligible_value < min_purchase:
        return 0
    if cap_per_unit is not None:
        kept_exact = min(kept_exact, points_cap_exact(kept_total, cap_per_unit))
    return int(kept_exact.to_integral_value(rounding=ROUND_FLOOR))
