"""A fake Telegram Bot API server, for tests and for the browser sandbox chat.

One `TelegramSimulator` holds the whole world: users, their private chats with the bot, files, the update queue,
the webhook, command lists, and a log of every Bot API call. `create_telegram_app` puts it behind aiohttp at the
same paths as api.telegram.org, so python-telegram-bot talks to it over HTTP unchanged; `FakeTelegram` is the
simulator plus a server on 127.0.0.1 and a free port.

    async with FakeTelegram() as fake:
        fake.add_user(42, "Ayu")
        app = (ApplicationBuilder().token(fake.token)
               .base_url(fake.api_url).base_file_url(fake.file_url).build())
        ...
        await fake.send_text(42, "/start")
        reply = await fake.wait_for_message(42)

What it enforces, and answers the way Telegram does (HTTP status = ``error_code``):

* token: a well-formed but wrong token is 401 ``Unauthorized``; a malformed one, or an unknown method, 404
  ``Not Found``. Method names are case-insensitive, as on Telegram.
* chats: only private chats with users the test added. Unknown chat → ``chat not found``; a user who blocked the
  bot → 403 ``Forbidden: bot was blocked by the user``; a user who never wrote to the bot (``started=False``) →
  403 ``Forbidden: bot can't initiate conversation with a user``.
* text: 1-4096 characters after entity parsing and trimming (``message text is empty`` / ``message is too long``),
  captions ≤ 1024 (``message caption is too long``).
* ``parse_mode=HTML`` is parsed like TDLib's ``parse_html`` (same tags, same error texts, entity offsets in UTF-16).
  One deliberate difference: with ``strict_html=True`` (default) a ``&`` that does not start ``&lt;``, ``&gt;``,
  ``&amp;``, ``&quot;`` or ``&#NN;`` is refused. Telegram itself keeps such a ``&`` literally, but its docs say
  it must be escaped, and text that forgot to escape ``&`` also forgot ``<``, which Telegram does refuse.
  ``Markdown``/``MarkdownV2`` are accepted without checking.
* inline keyboards: exactly one action field per button (``Text buttons are unallowed in the inline keyboard``),
  ``callback_data`` 1-64 bytes (``BUTTON_DATA_INVALID``), URL buttons: ``http``/``https``/``tg`` only
  (``... is invalid: Unsupported URL protocol``), a host without a dot such as ``localhost`` (``... is invalid:
  Wrong HTTP URL``, the text Telegram gives for ``http://localhost:5678``), a loopback/private IP or a
  ``*.localhost``/``*.local``/``*.internal`` host (``BUTTON_URL_INVALID``). Sandbox only: URLs starting with one
  of ``allowed_local_urls`` skip the host rule, so the sandbox's Midtrans payment page on 127.0.0.1 can be a button.
* edits: ``message is not modified: ...`` when text/entities and inline keyboard are unchanged. As on Telegram,
  an edit without ``reply_markup`` removes the inline keyboard.
* reply keyboards (reply_keyboards.py, each rule quoted from core.telegram.org/bots/api): KeyboardButton kinds
  (at most one; ``request_contact`` a Boolean), ``one_time_keyboard``/``resize_keyboard``/``is_persistent``
  Booleans, ``input_field_placeholder`` 1-64 characters, ReplyKeyboardRemove. The chat shows the latest reply
  keyboard a bot message brought until a removal (`reply_keyboard`); `press_keyboard_button` presses one of its
  buttons (a one-time keyboard hides), and a ``request_contact`` button shares the user's own number
  (`share_contact`: private chat, a Contact with their ``user_id``, in reply to the keyboard's message);
  `send_contact` attaches anyone's contact.
* 429: `inject_retry_after` makes the next K matching calls answer ``Too Many Requests: retry after N`` with
  ``parameters.retry_after``.

Error texts not confirmed against the live API (the fake's best guess): the one-action-per-button complaint,
``inline keyboard expected``, ``BOT_COMMAND_INVALID``/``BOT_COMMAND_DESCRIPTION_INVALID``, the language-code and
scope complaints, ``MESSAGE_TOO_LONG`` for long callback answers, ``can't parse JSON``.

Updates flow to the bot either through ``getUpdates`` (long polling, ``offset`` confirmation, negative offsets,
``allowed_updates`` remembered between calls, a newer ``getUpdates`` ends an older one with 409) or, after
``setWebhook``, by POSTs to the webhook URL with ``X-Telegram-Bot-Api-Secret-Token``, one at a time and in order,
retried until the endpoint answers 2xx. A webhook may answer with a method call in its body, as Telegram allows.
Plain-HTTP and local webhook URLs are accepted unless ``strict_webhooks=True``.

The ``/sandbox/...`` JSON endpoints are for a local browser chat; they have no authentication. Never expose them.

Layout: `errors` (TelegramApiError, SandboxError), `rules` (Telegram's limits and parameter rules), `records` (users,
messages, files, calls), `html` (Telegram's HTML: parse_html, render_html), `state` (the world and how tests read it),
`bot_api` (the Bot API methods the bot calls), `users` (what a fake user does), `simulator` (TelegramSimulator, the
three composed), `server` (create_telegram_app, the /sandbox JSON routes, FakeTelegram).
"""

from __future__ import annotations

from bot.sandbox.telegram.errors import HtmlParseError, SandboxError, TelegramApiError
from bot.sandbox.telegram.html import parse_html, render_html
from bot.sandbox.telegram.records import (
    ApiCall,
    CallbackQueryRecord,
    ChatEvent,
    FakeUser,
    MessageRecord,
    StoredFile,
    UploadedFile,
)
from bot.sandbox.telegram.rules import DEFAULT_TOKEN
from bot.sandbox.telegram.server import SIMULATOR_KEY, WEBHOOK_SESSION_KEY, FakeTelegram, create_telegram_app
from bot.sandbox.telegram.simulator import TelegramSimulator

__all__ = [
    "DEFAULT_TOKEN",
    "SIMULATOR_KEY",
    "WEBHOOK_SESSION_KEY",
    "ApiCall",
    "CallbackQueryRecord",
    "ChatEvent",
    "FakeTelegram",
    "FakeUser",
    "HtmlParseError",
    "MessageRecord",
    "SandboxError",
    "StoredFile",
    "TelegramApiError",
    "TelegramSimulator",
    "UploadedFile",
    "create_telegram_app",
    "parse_html",
    "render_html",
]
