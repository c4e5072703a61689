"""WhatsApp staff names: the profile name Meta sends in `contacts[].profile.name` is kept (cleaned, bounded) when
it changes, so "checked in by" names the person and not their account id; written only on change."""

from __future__ import annotations

from typing import Any

import pytest

from bot.accounts import whatsapp_address
from bot.profiles import NAME_LIMIT, clean_name
from storage.store import Store
from storage.users import UserStore
from tests.conftest import FakeClock
from tests.test_whatsapp_door import DOORS_OPEN, paid_on_whatsapp
from tests.whatsapp_stack import DEWI, whatsapp_stack


def test_a_reported_name_is_cleaned_and_bounded() -> None:
    assert clean_name("  Dewi\x00\x1b[31m  Lestari\n") == "Dewi[31m Lestari"
    assert clean_name("\u202eiwed") == "iwed"  # a bidi override would turn the staff line around
    assert clean_name("👩\u200d💻 Dewi") == "👩\u200d💻 Dewi"  # joiners stay: emoji
    assert clean_name("x" * 1000) == "x" * NAME_LIMIT
    assert clean_name("\x07\x08") is None and clean_name("") is None and clean_name(None) is None


async def test_checked_in_by_names_the_whatsapp_staff_member_and_names_are_written_on_change(
        memory_store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    async with whatsapp_stack(memory_store, clock) as stack:
        first, _ = await paid_on_whatsapp(stack)
        clock.now = DOORS_OPEN  # the evening of the event: `checkin` checks in without asking (bot/checkin.py)
        writes: list[tuple[str, Any]] = []
        original = UserStore.remember_name

        async def counting(self: UserStore, user_id: str, name: str) -> None:
            writes.append((user_id, name))
            await original(self, user_id, name)

        monkeypatch.setattr(UserStore, "remember_name", counting)
        dewi = stack.services.accounts.resolve(whatsapp_address(DEWI))
        stack.wa.user(DEWI).name = "Dewi\x00 Organiser" + "!" * 300
        await stack.say(DEWI, f"checkin {first.id}")
        again = await stack.say(DEWI, f"checkin {first.id}")
        assert "Dewi Organiser!" in again.text and "whatsapp:" not in again.text
        assert writes == [(dewi, ("Dewi Organiser" + "!" * 300)[:NAME_LIMIT])]  # two messages, one write

        stack.wa.user(DEWI).name = "Dewi L."
        await stack.say(DEWI, "halo")
        assert len(writes) == 2 and await stack.services.profiles.name(dewi) == "Dewi L."
        assert await stack.services.profiles.language(dewi) is None  # a name alone does not choose a language
