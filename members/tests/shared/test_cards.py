"""Card numbers carry a Luhn check digit so that a mistyped card is caught at the till."""

import pytest

from members.cards import (
    CARD_LENGTH,
    card_number_format,
    card_number_is_valid,
    card_number_new,
    luhn_check_digit,
)


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("7992739871", "3"),  # the textbook example
        ("411111111111111", "1"),  # a well-known test card number
        ("0", "0"),
        ("1", "8"),
        ("27000000000", "9"),
    ],
)
def test_luhn_check_digit(digits, check):
    assert luhn_check_digit(digits) == check


@pytest.mark.parametrize("card", ["79927398713", "4111111111111111", "270000000009"])
def test_valid_card_numbers(card):
    assert card_number_is_valid(card)


@pytest.mark.parametrize(
    "card",
    [
        "79927398710",  # wrong check digit
        "79927398731",  # two digits swapped
        "4111111111111112",
        "2700 0000 0009",  # spaces are the caller's to strip
        "27000000000x",
        "",
        "5",
    ],
)
def test_invalid_card_numbers(card):
    assert not card_number_is_valid(card)


def test_every_single_digit_typo_is_caught():
    card = "270000123454"
    assert card_number_is_valid(card)
    for i, original in enumerate(card):
        for digit in "0123456789":
            if digit != original:
                typo = card[:i] + digit + card[i + 1 :]
                assert not card_number_is_valid(typo), typo


def test_new_card_numbers_have_the_prefix_length_and_check_digit(settings):
    settings.LOYALTY_CARD_PREFIX = "27"

    cards = {card_number_new() for _ in range(200)}

    assert len(cards) == 200
    for card in cards:
        assert len(card) == CARD_LENGTH == 12
        assert card.isdigit()
        assert card.startswith("27")
        assert card_number_is_valid(card)


def test_card_number_format():
    assert card_number_format("271234567890") == "2712 3456 7890"
