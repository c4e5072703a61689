"""The fake Bot API server, driven by a real python-telegram-bot Application over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import io
import json
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.telegram import (
    SIMULATOR_KEY,
    FakeTelegram,
    SandboxError,
    TelegramApiError,
    create_telegram_app,
    parse_html,
    render_html,
)

App: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

AYU = 5551
BUDI = 5552
BUY = "buy:tier-1"


def png(width: int = 120, height: int = 80, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the buyer in bold, with a buy button and a link."""
    assert update.effective_user is not None and update.message is not None
    name = html.escape(update.effective_user.first_name)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Buy", callback_data=BUY)],
            [InlineKeyboardButton("Website", url="https://karcis.example.com/events")],
        ]
    )
    await update.message.reply_html(f"<b>Welcome</b>, {name}!", reply_markup=keyboard)


async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge the press, then replace the greeting with the choice."""
    query = update.callback_query
    assert query is not None
    await query.answer("Reserved for 15 minutes")
    await query.edit_message_text(f"You chose <code>{html.escape(query.data or '')}</code>", parse_mode=ParseMode.HTML)


async def photo_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the largest size and report how many bytes arrived."""
    assert update.message is not None
    file = await update.message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    context.bot_data.setdefault("photos", []).append(bytes(data))
    await update.message.reply_text(f"got {len(data)} bytes")


def build(fake: FakeTelegram, *, polling: bool = True) -> App:
    builder = ApplicationBuilder().token(fake.token).base_url(fake.api_url).base_file_url(fake.file_url)
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(chosen))
    application.add_handler(MessageHandler(filters.PHOTO, photo_received))
    return application


@contextlib.asynccontextmanager
async def polling(application: App) -> AsyncIterator[App]:
    async with application:
        assert application.updater is not None
        await application.updater.start_polling()
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_user(AYU, "Ayu <3", username="ayu", language_code="id", started=True)
        server.add_user(BUDI, "Budi")
        yield server


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[App]:
    async with polling(build(fake)) as application:
        yield application


@pytest.fixture
async def bot_only(fake: FakeTelegram) -> AsyncIterator[App]:
    """An initialised Application that does not poll: for calling Bot methods directly."""
    async with build(fake, polling=False) as application:
        yield application


# ------------------------------------------------------------------------------------------- basics


async def test_initialize_calls_get_me(fake: FakeTelegram, bot_only: App) -> None:
    assert bot_only.bot.username == "KarcisBot"
    assert bot_only.bot.id == fake.bot_id
    assert [c.method for c in fake.calls][:1] == ["getMe"]


async def test_wrong_token_is_unauthorized_and_unknown_method_not_found(fake: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.base_url}/bot123:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.get(f"{fake.base_url}/bot{fake.token}/sendTeleport") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found"
        async with http.post(f"{fake.base_url}/bot{fake.token}/GETME", json={}) as response:
            assert (await response.json())["result"]["username"] == "KarcisBot"

    wrong = ApplicationBuilder().token("123:wrong").base_url(fake.api_url).updater(None).build()
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_json_form_and_query_bodies_are_all_understood(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": AYU, "text": "json", "reply_markup": markup}) as response:
            assert (await response.json())["result"]["reply_markup"] == markup
        form = {"chat_id": str(AYU), "text": "form", "reply_markup": json.dumps(markup)}
        async with http.post(url, data=form) as response:
            assert (await response.json())["ok"] is True
        async with http.get(url, params={"chat_id": str(AYU), "text": "query"}) as response:
            assert (await response.json())["result"]["text"] == "query"
    assert [m.text for m in fake.messages(AYU)] == ["json", "form", "query"]
    assert fake.calls_to("sendMessage")[1].params["chat_id"] == AYU  # decoded from the form string


# ------------------------------------------------------------------------------------------- conversation


async def test_start_replies_with_html_and_inline_keyboard(fake: FakeTelegram, app: App) -> None:
    await fake.send_text(AYU, "/start")

    reply = await fake.wait_for_message(AYU)

    assert reply.text == "Welcome, Ayu <3!"
    assert reply.source == "<b>Welcome</b>, Ayu &lt;3!"
    assert reply.parse_mode == "HTML"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 7}]
    assert reply.callback_data() == [BUY]
    assert reply.button("Website")["url"] == "https://karcis.example.com/events"
    assert reply.reply_markup == {
        "inline_keyboard": [
            [{"text": "Buy", "callback_data": BUY}],
            [{"text": "Website", "url": "https://karcis.example.com/events"}],
        ]
    }
    user_message = fake.messages(AYU, include_user=True)[0]
    assert user_message.entities == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_start_with_deep_link_payload_reaches_the_command_handler(fake: FakeTelegram) -> None:
    seen: list[list[str]] = []

    async def record_args(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(list(context.args or []))

    application = build(fake)
    application.add_handler(CommandHandler("start", record_args), group=1)
    async with polling(application):
        await fake.send_text(AYU, "/start evt_jazz-2025")
        await fake.wait_for_message(AYU)
        await fake.wait_until(lambda: bool(seen))
    assert seen == [["evt_jazz-2025"]]


async def test_button_press_reaches_callback_handler_and_is_answered(fake: FakeTelegram, app: App) -> None:
    await fake.send_text(AYU, "/start")
    greeting = await fake.wait_for_message(AYU)

    query = await fake.press_button(AYU, greeting.message_id, BUY)
    answered = await fake.wait_for_callback_answer(query)
    await fake.wait_until(lambda: greeting.edited)

    assert answered.answer_text == "Reserved for 15 minutes"
    assert greeting.text == f"You chose {BUY}"
    assert greeting.entities == [{"type": "code", "offset": 10, "length": len(BUY)}]
    assert greeting.history[0]["text"] == "Welcome, Ayu <3!"
    assert greeting.reply_markup is None  # an edit without reply_markup drops the keyboard, as on Telegram
    answer_call = fake.calls_to("answerCallbackQuery")[0]
    assert answer_call.params["callback_query_id"] == query.id


async def test_pressing_a_button_that_is_not_there_is_refused(fake: FakeTelegram, app: App) -> None:
    await fake.send_text(AYU, "/start")
    greeting = await fake.wait_for_message(AYU)

    with pytest.raises(SandboxError, match="no button"):
        await fake.press_button(AYU, greeting.message_id, "buy:tier-999")
    with pytest.raises(SandboxError, match="no message"):
        await fake.press_button(AYU, 999, BUY)


async def test_user_photo_is_downloadable_by_the_bot(fake: FakeTelegram, app: App) -> None:
    image = png(640, 480)

    sent = await fake.send_photo(AYU, image, caption="my receipt")
    reply = await fake.wait_for_message(AYU)

    assert reply.text == f"got {len(image)} bytes"
    assert app.bot_data["photos"] == [image]
    assert sent.photo is not None
    assert [(s["width"], s["height"]) for s in sent.photo] == [(90, 68), (640, 480)]
    assert fake.file_bytes(sent.photo[-1]["file_id"]) == image


async def test_polling_confirms_updates_with_offset(fake: FakeTelegram, app: App) -> None:
    for text in ("/start", "/start", "/start"):
        await fake.send_text(AYU, text)
    await fake.wait_until(lambda: len(fake.messages(AYU)) == 3)
    await fake.wait_until(lambda: not fake.pending_updates)  # the next long poll confirmed them
    await asyncio.sleep(0.1)

    assert len(fake.messages(AYU)) == 3  # nothing delivered twice


# ------------------------------------------------------------------------------------------- Telegram's rules


async def test_invalid_html_is_rejected_like_telegram(bot_only: App) -> None:
    bot = bot_only.bot
    with pytest.raises(BadRequest, match=r'(?i)can\'t parse entities: can\'t find end tag .* start tag "b"'):
        await bot.send_message(AYU, "<b>Total", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br" at byte offset 5'):
        await bot.send_message(AYU, "Line1<br>Line2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)unmatched end tag"):
        await bot.send_message(AYU, "<b><i>x</b></i>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "" at byte offset 6'):
        await bot.send_message(AYU, "Price < 100k", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)character "&"'):
        await bot.send_message(AYU, "Rock & Roll", parse_mode=ParseMode.HTML)

    ok = await bot.send_message(AYU, f"<i>{html.escape('Rock & Roll <live>')}</i>", parse_mode=ParseMode.HTML)
    assert ok.text == "Rock & Roll <live>"


async def test_text_length_limits(fake: FakeTelegram, bot_only: App) -> None:
    bot = bot_only.bot
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(AYU, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(AYU, "   \n ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(AYU, "<b></b>", parse_mode=ParseMode.HTML)

    # The limit applies after entity parsing: tags do not count.
    await bot.send_message(AYU, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(AYU, png(), caption="c" * 1025)


async def test_callback_data_over_64_bytes_is_rejected(bot_only: App) -> None:
    bot = bot_only.bot
    exactly_64 = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(AYU, "fits", reply_markup=exactly_64)

    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("long", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(AYU, "too long", reply_markup=too_long)


async def test_button_rules(fake: FakeTelegram) -> None:
    async def send(markup: dict[str, Any]) -> TelegramApiError:
        with pytest.raises(TelegramApiError) as caught:
            await fake.call("sendMessage", {"chat_id": AYU, "text": "x", "reply_markup": markup})
        return caught.value

    text_only = await send({"inline_keyboard": [[{"text": "plain"}]]})
    assert text_only.description.endswith("Text buttons are unallowed in the inline keyboard")
    empty_data = await send({"inline_keyboard": [[{"text": "plain", "callback_data": ""}]]})
    assert "Text buttons are unallowed" in empty_data.description
    both = await send({"inline_keyboard": [[{"text": "two", "callback_data": "a", "url": "https://a.example.com"}]]})
    assert "exactly one" in both.description
    not_rows = await send({"inline_keyboard": [{"text": "flat", "callback_data": "a"}]})
    assert "Array of Arrays" in not_rows.description
    ftp = await send({"inline_keyboard": [[{"text": "f", "url": "ftp://files.example.com"}]]})
    assert ftp.description == (
        "Bad Request: inline keyboard button URL 'ftp://files.example.com' is invalid: Unsupported URL protocol"
    )


async def test_local_url_buttons_are_rejected(bot_only: App) -> None:
    bot = bot_only.bot

    def button(url: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Pay", url=url)]])

    with pytest.raises(BadRequest, match=r"(?i)BUTTON_URL_INVALID"):
        await bot.send_message(AYU, "pay", reply_markup=button("http://127.0.0.1:8080/pay"))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_URL_INVALID"):
        await bot.send_message(AYU, "pay", reply_markup=button("http://pay.localhost/x"))
    with pytest.raises(BadRequest, match=r"(?i)'http://localhost:8080/pay' is invalid: wrong http url"):
        await bot.send_message(AYU, "pay", reply_markup=button("http://localhost:8080/pay"))

    sent = await bot.send_message(AYU, "pay", reply_markup=button("https://app.sandbox.midtrans.com/snap/v4/x"))
    assert sent.reply_markup is not None


async def test_unknown_chat_blocked_user_and_unstarted_user(fake: FakeTelegram, bot_only: App) -> None:
    bot = bot_only.bot
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(BUDI, "hello")

    fake.block(AYU)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(AYU, "hello")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_chat_action(AYU, "typing")
    fake.unblock(AYU)
    await bot.send_message(AYU, "hello again")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_flood_raises_retry_after(fake: FakeTelegram, bot_only: App) -> None:
    fake.inject_retry_after(7, count=2, methods=["sendMessage"])

    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot_only.bot.send_message(AYU, "hi")
        assert caught.value.retry_after in (7, dt.timedelta(seconds=7))
    await bot_only.bot.send_message(AYU, "hi")

    failed = [c for c in fake.calls_to("sendMessage") if not c.ok]
    assert [(c.error_code, c.description) for c in failed] == [(429, "Too Many Requests: retry after 7")] * 2


async def test_edit_rules(fake: FakeTelegram, bot_only: App) -> None:
    bot = bot_only.bot
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Buy", callback_data=BUY)]])
    sent = await bot.send_message(AYU, "<b>3 left</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>3 left</b>", AYU, sent.message_id, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    await bot.edit_message_text("<b>2 left</b>", AYU, sent.message_id, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    await bot.edit_message_reply_markup(AYU, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(AYU, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", AYU, 999)

    record = fake.message(AYU, sent.message_id)
    assert record.text == "2 left" and record.reply_markup is None
    assert [h["text"] for h in record.history] == ["3 left", "2 left"]

    assert await bot.delete_message(AYU, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(AYU, sent.message_id)
    assert fake.messages(AYU) == []


async def test_send_photo_upload_then_get_file_returns_same_bytes(fake: FakeTelegram, bot_only: App) -> None:
    bot = bot_only.bot
    image = png(300, 300, "blue")

    sent = await bot.send_photo(AYU, image, caption="<b>Your ticket</b>", parse_mode=ParseMode.HTML)
    file = await bot.get_file(sent.photo[-1].file_id)
    downloaded = await file.download_as_bytearray()

    assert bytes(downloaded) == image
    assert (sent.photo[-1].width, sent.photo[-1].height) == (300, 300)
    assert sent.caption == "Your ticket"
    record = fake.last_message(AYU)
    assert record is not None and record.photo_bytes == image
    upload = fake.calls_to("sendPhoto")[0].params["photo"]
    assert upload.data == image

    again = await bot.send_photo(AYU, sent.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(AYU, "AgACnot-a-real-id")
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(AYU, b"not an image at all")


async def test_commands_per_scope_and_language(fake: FakeTelegram, bot_only: App) -> None:
    bot = bot_only.bot
    buyer = [BotCommand("start", "Browse events"), BotCommand("tickets", "My tickets")]
    buyer_id = [BotCommand("start", "Lihat acara"), BotCommand("tickets", "Tiket saya")]
    organiser = [*buyer, BotCommand("stats", "Sales so far")]

    await bot.set_my_commands(buyer)
    await bot.set_my_commands(buyer_id, scope=BotCommandScopeAllPrivateChats(), language_code="id")
    await bot.set_my_commands(organiser, scope=BotCommandScopeChat(BUDI))

    assert await bot.get_my_commands() == tuple(buyer)
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="id") == tuple(buyer_id)
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert await bot.get_my_commands(scope=BotCommandScopeChat(BUDI)) == tuple(organiser)
    assert [c["command"] for c in fake.commands_for(AYU)] == ["start", "tickets"]
    assert fake.commands_for(AYU)[0]["description"] == "Lihat acara"  # Ayu's client is Indonesian
    assert [c["command"] for c in fake.commands_for(BUDI)] == ["start", "tickets", "stats"]

    await bot.delete_my_commands(scope=BotCommandScopeChat(BUDI))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(BUDI)) == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Command", "nope")])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands(buyer, scope=BotCommandScopeChat(404))


async def test_chat_action_and_menu_button(fake: FakeTelegram, bot_only: App) -> None:
    events = fake.subscribe()
    await bot_only.bot.send_chat_action(AYU, "upload_photo")
    assert fake.chat_action(AYU) == "upload_photo"
    assert (await events.get()).action == "upload_photo"
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot_only.bot.send_chat_action(AYU, "dancing")

    await fake.call("setChatMenuButton", {"chat_id": AYU, "menu_button": {"type": "commands"}})
    assert fake.menu_button(AYU) == {"type": "commands"}


# ------------------------------------------------------------------------------------------- delivery


async def test_get_updates_offset_timeout_and_allowed_updates(fake: FakeTelegram, bot_only: App) -> None:
    bot = bot_only.bot
    await fake.send_text(AYU, "one")
    await fake.send_text(AYU, "two")

    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
    assert [u.message.text for u in again if u.message] == ["two"]  # "one" was confirmed

    # A long poll returns as soon as an update arrives.
    waiting = asyncio.create_task(bot.get_updates(offset=again[-1].update_id + 1, timeout=10))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await fake.send_text(AYU, "three")
    arrived = await asyncio.wait_for(waiting, 2)
    assert [u.message.text for u in arrived if u.message] == ["three"]

    # allowed_updates is remembered: callback queries are no longer produced.
    await bot.get_updates(offset=arrived[-1].update_id + 1, timeout=0, allowed_updates=["message"])
    pick = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(AYU, "pick", reply_markup=pick)
    await fake.press_button(AYU, sent.message_id, "a")
    assert fake.pending_updates == []


async def test_a_newer_get_updates_ends_the_older_one(fake: FakeTelegram, bot_only: App) -> None:
    older = asyncio.create_task(fake.call("getUpdates", {"timeout": 10}))
    await asyncio.sleep(0.02)
    assert await fake.call("getUpdates", {"timeout": 0}) == []
    with pytest.raises(TelegramApiError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, 1)


async def test_webhook_receives_updates_with_secret_header(fake: FakeTelegram, bot_only: App) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    attempts = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=500)  # the fake retries
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/telegram", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.webhook_retry_delay = 0.01
    try:
        await bot_only.bot.set_webhook(f"http://127.0.0.1:{port}/telegram", secret_token="s3cret")
        with pytest.raises(Conflict):
            await bot_only.bot.get_updates()

        await fake.send_text(AYU, "/start")
        await fake.wait_until(lambda: bool(received))

        info = await bot_only.bot.get_webhook_info()
        assert info.url.endswith("/telegram") and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        secret, update = received[0]
        assert secret == "s3cret"
        assert update["message"]["text"] == "/start"
        await bot_only.bot.delete_webhook()
        assert fake.webhook_url == ""
    finally:
        await runner.cleanup()


async def test_process_update_without_polling(fake: FakeTelegram) -> None:
    async with build(fake, polling=False) as application:
        await fake.send_text(AYU, "/start")
        for data in fake.take_updates():
            await application.process_update(Update.de_json(data, application.bot))
    assert fake.messages(AYU)[0].text == "Welcome, Ayu <3!"


async def test_wait_for_message_times_out_with_a_transcript(fake: FakeTelegram) -> None:
    await fake.send_text(AYU, "anyone there?")
    with pytest.raises(TimeoutError, match="anyone there"):
        await fake.wait_for_message(AYU, timeout=0.05)


# ------------------------------------------------------------------------------------------- sandbox HTTP


async def test_sandbox_endpoints_drive_a_chat(fake: FakeTelegram, app: App) -> None:
    base = f"{fake.base_url}/sandbox"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/users") as response:
            assert {u["id"] for u in (await response.json())["users"]} == {AYU, BUDI}
        async with http.post(f"{base}/users/{AYU}/messages", json={"text": "/start"}) as response:
            own = await response.json()
        since = {"since": str(own["revision"]), "wait": "5"}
        async with http.get(f"{base}/chats/{AYU}/messages", params=since) as response:
            batch = await response.json()
        greeting = batch["messages"][0]
        assert greeting["from_bot"] is True
        assert greeting["html"] == "<b>Welcome</b>, Ayu &lt;3!"

        async with http.post(
            f"{base}/users/{AYU}/callbacks",
            json={"message_id": greeting["message_id"], "callback_data": BUY, "wait": 5},
        ) as response:
            assert (await response.json())["answer_text"] == "Reserved for 15 minutes"

        form = aiohttp.FormData()
        form.add_field("photo", png(), filename="receipt.png", content_type="image/png")
        form.add_field("caption", "receipt")
        async with http.post(f"{base}/users/{AYU}/photos", data=form) as response:
            photo_message = await response.json()
        async with http.get(f"{base}/files/{photo_message['photo']['file_id']}") as response:
            assert await response.read() == png()

        async with http.post(f"{base}/users/777/messages", json={"text": "hi"}) as response:
            assert response.status == 404


async def test_subscription_streams_new_and_edited_bot_messages(fake: FakeTelegram, app: App) -> None:
    events = fake.subscribe()
    await fake.send_text(AYU, "/start")
    greeting = await fake.wait_for_message(AYU)
    await fake.press_button(AYU, greeting.message_id, BUY)
    await fake.wait_until(lambda: greeting.edited)

    seen = []
    while not events.empty():
        event = events.get_nowait()
        seen.append((event.kind, event.message["from_bot"] if event.message else None))
    assert seen == [("message", False), ("message", True), ("edited", True)]
    fake.unsubscribe(events)


# ------------------------------------------------------------------------------------------- units


def test_parse_html_entities_and_offsets() -> None:
    text, entities = parse_html(
        '😀 <b>Tiket <i>VIP</i></b> <a href="https://karcis.example.com">beli</a> '
        '<pre><code class="language-python">x=1</code></pre>'
    )
    assert text == "😀 Tiket VIP beli x=1"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 9, "length": 3},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://karcis.example.com"},
        {"type": "pre", "offset": 18, "length": 3, "language": "python"},
    ]
    assert render_html(text, entities).startswith("😀 <b>Tiket <i>VIP</i></b>")
    assert parse_html("Rock & Roll", strict=False) == ("Rock & Roll", [])


def test_create_telegram_app_exposes_its_simulator() -> None:
    app = create_telegram_app("42:abc", bot_username="OtherBot")
    assert app[SIMULATOR_KEY].bot_username == "OtherBot"
    assert app[SIMULATOR_KEY].bot_id == 42
