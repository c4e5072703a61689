"""Validating the buyer's name, email and phone, each with a specific reason when it is wrong.

The reasons (`InvalidContact.problem`) are words the doors turn into messages (`contact.error.<field>.<problem>`
in handlers/messages.py), so each names one mistake a person can fix:

    name   empty · too_long · no_letters · control_characters (C0/C1 controls, zero-width spaces, ...)
           · direction_controls (bidi embeddings, overrides and isolates, which can make text read backwards)
    phone  empty · letters · not_a_number · too_short · too_long · missing_plus (a foreign number without its +)
           · unknown_country · not_indonesian (an Indonesian number that cannot be one) · invalid (a foreign one)
           · not_mobile (a landline)

Emoji sequences are ordinary in names: the zero-width joiner (👩‍🎤), variation selectors, skin-tone modifiers,
regional indicators (flags) and emoji tags are kept; they are what bot/graphemes.py keeps together.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.errors import ContactField, InvalidContact
from bot.graphemes import ZWJ, ZWNJ, is_emoji_tag
from storage.documents import Buyer

NAME_MAX = 80
# Explicit directional formatting (UAX #9): embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, and the
# marks U+200E/U+200F/U+061C. Refused: a name is shown inside our messages, where they would reorder our text.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Format characters (category Cf) that emoji and some scripts need: the joiners, and tags (subdivision flags).
ALLOWED_FORMAT = frozenset((ZWJ, ZWNJ))

# An Indonesian mobile number: 08 then 8 to 11 digits (10 to 13 digits with the 0; +62 8… without it).
ID_NATIONAL_MIN, ID_NATIONAL_MAX = 9, 12
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


def name_problem(name: str) -> str | None:
    """What makes `name` (already tidied) unusable, or None."""
    if not name:
        return "empty"
    if len(name) > NAME_MAX:
        return "too_long"
    if any(ch in DIRECTION_CONTROLS for ch in name):
        return "direction_controls"
    for ch in name:
        category = unicodedata.category(ch)
        # C0/C1 controls and lone surrogates (JSON can carry one; no store can keep it). Unassigned code points
        # are not refused: emoji newer than this Python's Unicode tables are unassigned to it.
        if category in ("Cc", "Cs"):
            return "control_characters"
        if category == "Cf" and ch not in ALLOWED_FORMAT and not is_emoji_tag(ch):
            return "control_characters"  # zero-width space, soft hyphen, word joiner...
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        return "no_letters"
    return None


def clean_name(text: str) -> str:
    name = " ".join(text.split())
    problem = name_problem(name)
    if problem is not None:
        raise InvalidContact(ContactField.NAME, problem)
    return name


def clean_email(text: str) -> str:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidContact(ContactField.EMAIL, "invalid") from None


def _phone(problem: str) -> InvalidContact:
    return InvalidContact(ContactField.PHONE, problem)


def clean_phone(text: str) -> str:
    """A mobile number in E.164 (`+6281234567890`): Indonesian ones typed as at home (`0812-…`, `62812…`),
    others with + and their country code. Refused with the reason (InvalidContact, see the module's list)."""
    raw = text.strip()
    if not raw:
        raise _phone("empty")
    if any(ch.isalpha() for ch in raw):
        raise _phone("letters")
    compact = _PHONE_PUNCTUATION.sub("", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?[0-9]+", compact):
        raise _phone("not_a_number")
    international = compact.startswith("+")
    try:
        number = phonenumbers.parse(compact, "ID")
    except phonenumbers.NumberParseException:
        raise _phone("unknown_country" if international else "not_a_number") from None
    if not phonenumbers.is_valid_number(number):
        raise _phone(_invalid_reason(number, compact, international=international))
    if phonenumbers.number_type(number) not in {
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        raise _phone("not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid_reason(number: phonenumbers.PhoneNumber, compact: str, *, international: bool) -> str:
    result = phonenumbers.is_possible_number_with_reason(number)
    if international and result == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return "unknown_country"
    if not international and not compact.startswith("0"):
        try:  # `61412345678`: a number from abroad, typed without its +
            abroad = phonenumbers.parse("+" + compact)
        except phonenumbers.NumberParseException:
            abroad = None
        if abroad is not None and abroad.country_code != 62 and phonenumbers.is_valid_number(abroad):
            return "missing_plus"
    if number.country_code == 62:
        digits = len(str(number.national_number))
        if result in (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY) \
                or digits < ID_NATIONAL_MIN:
            return "too_short"
        if result == phonenumbers.ValidationResult.TOO_LONG or digits > ID_NATIONAL_MAX:
            return "too_long"
        return "not_indonesian"
    if result == phonenumbers.ValidationResult.TOO_SHORT:
        return "too_short"
    if result == phonenumbers.ValidationResult.TOO_LONG:
        return "too_long"
    return "invalid"


def make_buyer(name: str, email: str, phone: str) -> Buyer:
    return Buyer(name=clean_name(name), email=clean_email(email), phone=clean_phone(phone))
