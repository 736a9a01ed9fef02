"""Receipt lines: what a till sends for each line of a purchase or a return, and
their checks (InvalidInput naming the line's field)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from members.errors import InvalidInput
from rewards.services.inputs import MAX_QUANTITY, amount_clean, quantity_clean


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: Decimal
    unit_price: Decimal = Decimal("0")
    name: str = ""
    category: str = ""


def purchase_lines_clean(lines: Iterable[LineInput | dict] | None) -> list[LineInput]:
    """A purchase's lines, checked and trimmed to what their columns hold."""
    cleaned = []
    for i, raw in enumerate(lines or []):
        line = raw if isinstance(raw, LineInput) else LineInput(**raw)
        sku = (line.sku or "").strip()
        if not sku:
            raise InvalidInput(_("Enter the SKU."), field=f"lines[{i}].sku")
        qty = quantity_clean(line.quantity, field=f"lines[{i}].quantity")
        if not qty.is_finite() or qty <= 0 or qty > MAX_QUANTITY:
            raise InvalidInput(
                _("The quantity must be greater than zero."),
                field=f"lines[{i}].quantity",
            )
        price = amount_clean(
            line.unit_price, field=f"lines[{i}].unit_price", allow_zero=True
        )
        cleaned.append(
            LineInput(
                sku=sku[:64],
                quantity=qty.quantize(Decimal("0.001")),
                unit_price=price,
                name=(line.name or "")[:200],
                category=(line.category or "")[:100],
            )
        )
    return cleaned


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: Decimal


def return_lines_clean(lines: list[ReturnLineInput]) -> list[dict]:
    """A return's lines as its row keeps them: sku and quantity (as text, three
    places). Raises InvalidInput naming the line's quantity."""
    clean_lines = []
    for i, line in enumerate(lines):
        qty = quantity_clean(line.quantity, field=f"lines[{i}].quantity")
        if not qty.is_finite() or qty <= 0:
            raise InvalidInput(
                _("The quantity must be greater than zero."),
                field=f"lines[{i}].quantity",
            )
        if qty > MAX_QUANTITY:  # quantize() below raises InvalidOperation on 1e999
            raise InvalidInput(
                _("The quantity is too large."), field=f"lines[{i}].quantity"
            )
        clean_lines.append(
            {
                "sku": (line.sku or "").strip(),
                "quantity": str(qty.quantize(Decimal("0.001"))),
            }
        )
    return clean_lines
