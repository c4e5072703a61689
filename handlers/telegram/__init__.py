"""The Telegram front door: one module per audience (buyer, organiser, admin), refunds from the chat for admins
and organisers (handlers/telegram/refunds.py), texts from one catalog (handlers/messages.py), and the notifier that
delivers what orders owe.

    register(application, services)   every handler, the language memo and the error handler
    set_commands(bot, services)       each role's command menu (handlers/telegram/commands.py)
    TelegramNotifier(bot, services)   bot.notifications.Notifier over Telegram (handlers/telegram/notifier.py)
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.delivery_router import ChannelRouter
from bot.digest import DigestRouter, NoDigestSender
from bot.links import TELEGRAM
from bot.services import NoNotifier, Services
from handlers.telegram import admin, buyer, organiser, refunds
from handlers.telegram.commands import set_commands
from handlers.telegram.notifier import TelegramNotifier
from handlers.telegram.shared import SERVICES_KEY, on_error, remember_user

REMEMBER_GROUP = -1  # runs before every other handler, for every update


def register(application: Application, services: Services) -> None:
    """Add every handler and the global error handler, and keep `services` in bot_data[SERVICES_KEY].

    The Telegram notifier is registered into the services' ChannelRouter (bot/delivery_router.py), so tickets
    and payment news reach the people on Telegram through this bot (and the others through their own door);
    services built without a router and without a notifier get the Telegram notifier itself."""
    application.bot_data[SERVICES_KEY] = services
    notifier = services.delivery.notifier
    if isinstance(notifier, ChannelRouter):
        notifier.register(TELEGRAM, TelegramNotifier(application.bot, services))
    elif isinstance(notifier, NoNotifier):
        services.delivery.notifier = TelegramNotifier(application.bot, services)
    if isinstance(services.digests.sender, DigestRouter):  # the organisers' sale digests, by channel
        services.digests.sender.register(TELEGRAM, TelegramNotifier(application.bot, services))
    elif isinstance(services.digests.sender, NoDigestSender):
        services.digests.sender = TelegramNotifier(application.bot, services)
    application.add_handler(TypeHandler(Update, remember_user), group=REMEMBER_GROUP)
    organiser.register(application)  # before the buyer: it owns `/start t_<code>` and photos
    admin.register(application)
    refunds.register(application)
    buyer.register(application)
    buyer.register_fallback(application)
    application.add_error_handler(on_error)


__all__ = ["SERVICES_KEY", "TelegramNotifier", "register", "set_commands"]
