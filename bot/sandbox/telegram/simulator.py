"""`TelegramSimulator`: the fake Telegram world, its state plus the Bot API and the user-acting API."""

from __future__ import annotations

from bot.sandbox.telegram.bot_api import BotApi
from bot.sandbox.telegram.users import UserActions


class TelegramSimulator(UserActions, BotApi):
    """The fake Telegram world behind the HTTP server. Every method runs on the event loop; none blocks it."""
