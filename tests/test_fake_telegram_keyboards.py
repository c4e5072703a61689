"""The fake Bot API's reply keyboards (ReplyKeyboardMarkup, KeyboardButton, ReplyKeyboardRemove) and shared
contacts, as core.telegram.org/bots/api documents them (bot/sandbox/telegram/reply_keyboards.py quotes each rule),
driven by a real python-telegram-bot Bot over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest

from bot.sandbox.telegram import FakeTelegram, SandboxError, TelegramApiError

AYU = 5551
SHARE = KeyboardButton("📱 Share my number", request_contact=True)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_user(AYU, "Ayu", last_name="Lestari", started=True, phone_number="+6281234567890")
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url) as client:
        yield client


async def refused(fake: FakeTelegram, markup: dict[str, Any]) -> str:
    with pytest.raises(TelegramApiError) as caught:
        await fake.call("sendMessage", {"chat_id": AYU, "text": "x", "reply_markup": markup})
    return caught.value.description


async def test_a_request_contact_keyboard_is_shown_and_shares_the_users_own_number(fake: FakeTelegram,
                                                                                   bot: Bot) -> None:
    sent = await bot.send_message(AYU, "Your number?", reply_markup=ReplyKeyboardMarkup(
        [[SHARE], ["✖ Cancel"]], one_time_keyboard=True, resize_keyboard=True, input_field_placeholder="0812…"))
    assert sent.reply_markup is None  # Message.reply_markup is the inline keyboard only
    shown = fake.reply_keyboard(AYU)
    assert shown is not None and shown.message_id == sent.message_id and not shown.hidden

    shared = await fake.press_keyboard_button(AYU, "📱 Share my number")
    assert shared.contact == {"phone_number": "6281234567890", "first_name": "Ayu", "last_name": "Lestari",
                              "user_id": AYU}
    assert shared.reply_to_message_id == sent.message_id  # "replying to the message that attached" the keyboard
    assert fake.reply_keyboard(AYU).hidden  # one_time_keyboard: hidden once used, still available
    [raw] = fake.take_updates()
    message = Update.de_json(raw, bot).message
    assert message.contact.user_id == message.from_user.id == AYU and message.reply_to_message.text == "Your number?"

    typed = await fake.press_keyboard_button(AYU, "✖ Cancel")  # a text button sends its text
    assert typed.text == "✖ Cancel" and typed.contact is None


async def test_the_keyboard_stays_until_removed_and_inline_messages_leave_it(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(AYU, "Your number?", reply_markup=ReplyKeyboardMarkup([[SHARE]]))
    await bot.send_message(AYU, "Meanwhile", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("Go", callback_data="go")]]))
    await bot.send_message(AYU, "And plain")
    assert fake.reply_keyboard(AYU) is not None  # "displayed until a new keyboard is sent by a bot"

    await bot.send_message(AYU, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert fake.reply_keyboard(AYU) is None
    with pytest.raises(SandboxError, match="no request_contact button"):
        await fake.share_contact(AYU)  # nothing to press: a removed keyboard cannot be summoned
    with pytest.raises(SandboxError, match="no reply keyboard button"):
        await fake.press_keyboard_button(AYU, "📱 Share my number")


async def test_an_edit_cannot_carry_a_reply_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(AYU, "Step 3")
    with pytest.raises(BadRequest, match="(?i)inline keyboard expected"):
        await bot.edit_message_text("Step 3 again", chat_id=AYU, message_id=sent.message_id,
                                    reply_markup=ReplyKeyboardMarkup([[SHARE]]))  # type: ignore[arg-type]
    assert fake.reply_keyboard(AYU) is None


async def test_reply_keyboard_rules(fake: FakeTelegram) -> None:
    assert "Text must be non-empty" in await refused(fake, {"keyboard": [[{"text": ""}]]})
    assert "Array of Arrays" in await refused(fake, {"keyboard": [{"text": "flat"}]})
    assert "at most one of request_contact, request_location" in await refused(
        fake, {"keyboard": [[{"text": "both", "request_contact": True, "request_location": True}]]})
    assert 'Field "request_contact" must be of type Boolean' in await refused(
        fake, {"keyboard": [[{"text": "x", "request_contact": "yes"}]]})
    assert 'Field "one_time_keyboard" must be of type Boolean' in await refused(
        fake, {"keyboard": [["x"]], "one_time_keyboard": "true"})
    assert "1-64 characters" in await refused(fake, {"keyboard": [["x"]], "input_field_placeholder": "x" * 65})
    assert "1-64 characters" in await refused(fake, {"keyboard": [["x"]], "input_field_placeholder": ""})
    not_true = await refused(fake, {"remove_keyboard": False})
    assert not_true == "Bad Request: can't parse reply keyboard markup JSON object"
    assert fake.reply_keyboard(AYU) is None  # nothing refused was shown


async def test_an_attached_contact_is_anyones_and_carries_a_user_id_only_when_given(fake: FakeTelegram) -> None:
    someone = await fake.send_contact(AYU, "+6281399998888", "Budi")
    assert someone.contact == {"phone_number": "+6281399998888", "first_name": "Budi"}
    forwarded = await fake.send_contact(AYU, "+6281399998888", "Budi", contact_user_id=5552)
    assert forwarded.contact["user_id"] == 5552 and forwarded.reply_to_message_id is None
    assert [u["message"]["contact"]["first_name"] for u in fake.take_updates()] == ["Budi", "Budi"]


async def test_the_sandbox_endpoints_press_the_keyboard_and_attach_contacts(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(AYU, "Your number?", reply_markup=ReplyKeyboardMarkup([[SHARE]], one_time_keyboard=True))
    base = f"{fake.base_url}/sandbox"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/users/{AYU}/keyboard", json={"text": "📱 Share my number"}) as response:
            shared = await response.json()
        assert shared["contact"]["user_id"] == AYU and shared["from_bot"] is False
        async with http.post(f"{base}/users/{AYU}/keyboard", json={"text": "Nope"}) as response:
            assert response.status == 400 and "no reply keyboard button" in (await response.json())["error"]
        async with http.post(f"{base}/users/{AYU}/contacts",
                             json={"phone_number": "+6281399998888", "first_name": "Budi"}) as response:
            assert (await response.json())["contact"] == {"phone_number": "+6281399998888", "first_name": "Budi"}
        async with http.get(f"{base}/users") as response:
            [user] = (await response.json())["users"]
        assert user["phone_number"] == "+6281234567890"


def test_every_user_has_a_phone_number_by_default() -> None:
    server = FakeTelegram()
    assert server.add_user(900000001, "Sinta").phone_number == "+6281200000001"
