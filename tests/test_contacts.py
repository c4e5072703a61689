"""Buyer contact details: normalised when right, a specific reason when wrong."""

from __future__ import annotations

import pytest

from bot.contacts import clean_email, clean_name, clean_phone
from bot.errors import ContactField, InvalidContact


@pytest.mark.parametrize("typed", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 3456 7890"])
def test_indonesian_mobile_numbers_are_normalised(typed: str) -> None:
    assert clean_phone(typed) == "+6281234567890"


def test_foreign_mobile_numbers_are_accepted() -> None:
    assert clean_phone("+65 9123 4567") == "+6591234567"


@pytest.mark.parametrize(("typed", "problem"), [
    ("0812", "too_short"), ("call me", "not_a_number"), ("", "not_a_number"), ("021-5551234", "not_mobile"),
])
def test_wrong_phone_numbers_say_why(typed: str, problem: str) -> None:
    with pytest.raises(InvalidContact) as caught:
        clean_phone(typed)
    assert caught.value.field == ContactField.PHONE and caught.value.problem == problem


def test_email_is_normalised_and_checked() -> None:
    assert clean_email("  Sinta@Example.COM ") == "Sinta@example.com"
    for bad in ("sinta", "sinta@", "a@b", "two@@example.com"):
        with pytest.raises(InvalidContact) as caught:
            clean_email(bad)
        assert caught.value.field == ContactField.EMAIL


def test_names_are_tidied_and_checked() -> None:
    assert clean_name("  Sinta   Maharani ") == "Sinta Maharani"
    assert clean_name("李小龍") == "李小龍"
    wrong = (("   ", "empty"), ("12345", "no_letters"), ("x" * 81, "too_long"), ("Sin\u200bta", "control_characters"))
    for bad, problem in wrong:
        with pytest.raises(InvalidContact) as caught:
            clean_name(bad)
        assert caught.value.problem == problem
