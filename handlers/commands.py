"""Each role's command menu (setMyCommands), in English (the default) and Indonesian: buyers everywhere;
organisers and admins get theirs in their own chat."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.services import Services
from handlers.messages import label

log = logging.getLogger(__name__)

BUYER = ("start", "mytickets", "orders", "help")
ORGANISER = (*BUYER, "checkin", "scan", "stats", "refund")
ADMIN = (*ORGANISER, "expire")
LANGUAGES = {None: "en", "id": "id"}  # Telegram language_code → catalog language (None: everyone else)


def menu(names: Sequence[str], lang: str) -> list[BotCommand]:
    return [BotCommand(name, label(lang, f"cmd.{name}")) for name in names]


def role_commands(services: Services, uid: int, organisers: set[int]) -> tuple[str, ...]:
    if uid in services.settings.admin_ids:
        return ADMIN
    return ORGANISER if uid in organisers else BUYER


async def set_user_commands(bot: Bot, services: Services, uid: int, organisers: set[int] | None = None) -> bool:
    """Set one staff member's menu in their chat. False if Telegram refused (they never started the bot)."""
    if organisers is None:
        organisers = {o for e in await services.catalog.events() for o in e.organisers}
    names = role_commands(services, uid, organisers)
    try:
        for code, lang in LANGUAGES.items():
            await bot.set_my_commands(menu(names, lang), scope=BotCommandScopeChat(uid), language_code=code)
    except TelegramError as exc:
        log.warning("cannot set the command menu for user %s yet: %s", uid, exc)
        return False
    return True


async def set_commands(bot: Bot, services: Services) -> None:
    """The buyer menu for everyone, and the organiser or admin menu in each organiser's and admin's chat."""
    for code, lang in LANGUAGES.items():
        await bot.set_my_commands(menu(BUYER, lang), scope=BotCommandScopeDefault(), language_code=code)
    organisers = {o for e in await services.catalog.events() for o in e.organisers}
    for uid in sorted(organisers | set(services.settings.admin_ids)):
        await set_user_commands(bot, services, uid, organisers)
