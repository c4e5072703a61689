"""Each role's command menu (setMyCommands), in English (the default) and Indonesian: buyers everywhere;
organisers and admins get theirs in their own chat."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.accounts import AccountId
from bot.services import Services
from handlers.messages import label
from handlers.telegram.shared import telegram_chat

log = logging.getLogger(__name__)

BUYER = ("start", "mytickets", "orders", "help")
ORGANISER = (*BUYER, "checkin", "scan", "stats", "refund")
ADMIN = (*ORGANISER, "expire")
LANGUAGES = {None: "en", "id": "id"}  # Telegram language_code → catalog language (None: everyone else)


def menu(names: Sequence[str], lang: str) -> list[BotCommand]:
    return [BotCommand(name, label(lang, f"cmd.{name}")) for name in names]


def role_commands(services: Services, who: AccountId, organisers: set[AccountId]) -> tuple[str, ...]:
    if services.access.is_admin(who):
        return ADMIN
    return ORGANISER if who in organisers else BUYER


async def set_user_commands(bot: Bot, services: Services, who: AccountId,
                            organisers: set[AccountId] | None = None) -> bool:
    """Set one staff member's menu in their Telegram chat. False if Telegram refused (they never started the bot)
    or they have no Telegram address."""
    chat = telegram_chat(services, who)
    if chat is None:
        return False
    if organisers is None:
        organisers = {o for e in await services.catalog.events() for o in services.access.organisers(e)}
    names = role_commands(services, services.accounts.resolve(who), organisers)
    try:
        for code, lang in LANGUAGES.items():
            await bot.set_my_commands(menu(names, lang), scope=BotCommandScopeChat(chat), language_code=code)
    except TelegramError as exc:
        log.warning("cannot set the command menu for user %s yet: %s", chat, exc)
        return False
    return True


async def set_commands(bot: Bot, services: Services) -> None:
    """The buyer menu for everyone, and the organiser or admin menu in each organiser's and admin's chat."""
    for code, lang in LANGUAGES.items():
        await bot.set_my_commands(menu(BUYER, lang), scope=BotCommandScopeDefault(), language_code=code)
    organisers = {o for e in await services.catalog.events() for o in services.access.organisers(e)}
    for who in sorted(await services.access.staff()):
        await set_user_commands(bot, services, who, organisers)
