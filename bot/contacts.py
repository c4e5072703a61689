"""Validating the buyer's name, email and phone, each with a specific reason when it is wrong."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.errors import ContactField, InvalidContact
from storage.documents import Buyer

NAME_MAX = 80


def clean_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise InvalidContact(ContactField.NAME, "empty")
    if len(name) > NAME_MAX:
        raise InvalidContact(ContactField.NAME, "too_long")
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        raise InvalidContact(ContactField.NAME, "no_letters")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in name):
        raise InvalidContact(ContactField.NAME, "control_characters")
    return name


def clean_email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidContact(ContactField.EMAIL, "invalid") from None


def clean_phone(text: str) -> str:
    """A phone number in E.164 (`+6281234567890`); local Indonesian numbers (`0812-...`) are accepted."""
    raw = text.strip()
    if not raw or any(ch.isalpha() for ch in raw):
        raise InvalidContact(ContactField.PHONE, "not_a_number")
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        raise InvalidContact(ContactField.PHONE, "not_a_number") from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        problem = {
            phonenumbers.ValidationResult.TOO_SHORT: "too_short",
            phonenumbers.ValidationResult.TOO_LONG: "too_long",
        }.get(reason, "invalid")
        raise InvalidContact(ContactField.PHONE, problem)
    if phonenumbers.number_type(number) not in {
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        raise InvalidContact(ContactField.PHONE, "not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def make_buyer(name: str, email: str, phone: str) -> Buyer:
    return Buyer(name=clean_name(name), email=clean_email(email), phone=clean_phone(phone))
