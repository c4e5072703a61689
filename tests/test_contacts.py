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
    ("0812", "too_short"), ("08123", "too_short"), ("+62 812", "too_short"), ("0812345678901234", "too_long"),
    ("call me", "letters"), ("0812 abc 7890", "letters"), ("", "empty"), ("  ", "empty"), ("#0812", "not_a_number"),
    ("021-5551234", "not_mobile"), ("61412345678", "missing_plus"), ("44 7911 123456", "missing_plus"),
    ("+999 123", "unknown_country"), ("+62 1234 5678 9012", "not_indonesian"), ("1234567890", "not_indonesian"),
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


@pytest.mark.parametrize("name", [
    "Sinta 👩\u200d🎤",                    # woman singer: a ZWJ sequence
    "Budi 👍🏽",                              # a skin-tone modifier
    "Ayu 🇮🇩",                               # a flag: two regional indicators
    "Rhys 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",  # Wales: a tag sequence
    "Dewi ❤\ufe0f",                          # a variation selector
    "👨\u200d👩\u200d👧 Keluarga Santoso",    # a family
    "Zoë Ana\u0301",                          # combining accent
    "می\u200cخواهم",                          # a zero-width non-joiner (Persian)
])
def test_names_with_ordinary_emoji_sequences_are_accepted(name: str) -> None:
    assert clean_name(name) == name


@pytest.mark.parametrize(("name", "problem"), [
    ("Sin\x07ta", "control_characters"), ("Sin\x1bta", "control_characters"), ("Sin\x9bta", "control_characters"),
    ("Sin\ud800ta", "control_characters"), ("Sin\u00adta", "control_characters"), ("Sin\u2060ta", "control_characters"),
    ("Sinta \u202eadmin", "direction_controls"), ("Sin\u202ata", "direction_controls"),
    ("\u2066Sinta\u2069", "direction_controls"), ("Sin\u2067ta", "direction_controls"),
    ("Sinta\u200f", "direction_controls"),
])
def test_real_control_characters_in_names_are_refused(name: str, problem: str) -> None:
    with pytest.raises(InvalidContact) as caught:
        clean_name(name)
    assert caught.value.problem == problem
