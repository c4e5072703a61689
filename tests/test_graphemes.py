"""Cutting text on whole characters as a person sees them: no half emoji sequence in a name sent to Midtrans."""

from __future__ import annotations

import pytest

from bot.graphemes import clusters, cut, cut_bytes
from bot.payments import CUSTOMER_NAME_MAX, customer_details, item_name
from tests.helpers import buyer

SINGER = "👩\u200d🎤"
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
THUMB = "👍🏽"
FLAG = "🇮🇩"
WALES = "🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"


@pytest.mark.parametrize("text", [SINGER, FAMILY, THUMB, FLAG, WALES, "❤\ufe0f", "e\u0301", "1\ufe0f\u20e3"])
def test_an_emoji_sequence_is_one_cluster(text: str) -> None:
    assert list(clusters(text)) == [text]


def test_clusters_join_back_to_the_text() -> None:
    text = f"Ayu {FLAG}{FLAG} {SINGER}{THUMB} Zoë"
    assert "".join(clusters(text)) == text
    assert list(clusters(f"{FLAG}{FLAG}")) == [FLAG, FLAG]  # four indicators: two flags, not one and a half


def test_cut_keeps_whole_clusters() -> None:
    assert cut(f"ab{FAMILY}", 5) == "ab"  # the family is 7 code points: all of it or none
    assert cut(f"ab{FAMILY}", 9) == f"ab{FAMILY}"
    assert cut_bytes(f"a{SINGER}", 8) == "a"  # 👩 alone (4 bytes) would change the meaning


def test_a_long_name_with_emoji_fits_midtrans_without_half_a_sequence() -> None:
    name = "Sintaaaaaaaaaaaaaaaaaaaaaaaa" + SINGER  # 28 letters then the 3 code points: over 30
    first = customer_details(buyer(name=name))["first_name"]
    assert len(first) <= CUSTOMER_NAME_MAX and not first.endswith("👩") and "\u200d" not in first
    name = "Sinta Maharani Putri Lestari " + FAMILY
    first = customer_details(buyer(name=name))["first_name"]
    assert first == "Sinta Maharani Putri Lestari"


def test_item_names_are_cut_on_whole_characters() -> None:
    name = item_name("VIP " + THUMB * 20)
    assert len(name.encode()) <= 50 and name.endswith(THUMB)
