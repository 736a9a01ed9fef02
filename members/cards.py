"""Card numbers: short digit strings with a Luhn check digit, so a typo at the till is caught."""

from __future__ import annotations

import secrets

from django.conf import settings

CARD_LENGTH = 12


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if (
            i % 2 == 0
        ):  # every second digit from the right, counting the check digit's place
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card_number_is_valid(card: str) -> bool:
    return card.isdigit() and len(card) >= 2 and luhn_check_digit(card[:-1]) == card[-1]


def card_number_new() -> str:
    """A random card number: the configured prefix, random digits, a check digit."""
    prefix = settings.LOYALTY_CARD_PREFIX
    body_length = CARD_LENGTH - len(prefix) - 1
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(body_length))
    return body + luhn_check_digit(body)


def card_number_format(card: str) -> str:
    """Groups of four for people to read: 2712 3456 7890."""
    return " ".join(card[i : i + 4] for i in range(0, len(card), 4))
