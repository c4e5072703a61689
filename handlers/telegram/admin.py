"""Admins (ADMIN_IDS): run the expiry now and see what it released. (/stats for every event lives with the
organisers' /stats; admins are told of refunds and payment problems by the notifier.)"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from handlers.formatting import paginate
from handlers.messages import t
from handlers.telegram.shared import PRIVATE, Context, account, is_admin, lang, reply, services_of


async def expire_command(update: Update, context: Context) -> None:
    """Expire every hold that has ended, report orders and seats per event, then tell the buyers."""
    services, lang_ = services_of(context), lang(update)
    if not is_admin(services, account(update, context)):
        await reply(update, context, t(lang_, "refused.admin_only"))
        return
    report = await services.orders.expire_due()
    if not report.orders:
        await reply(update, context, t(lang_, "expire.none"))
    else:
        titles = {e.id: e.title for e in await services.catalog.events()}
        rows = [t(lang_, "expire.done", orders=len(report.orders), seats=report.seats)]
        rows += [t(lang_, "expire.event", title=titles.get(event_id, event_id), orders=e.orders, seats=e.seats)
                 for event_id, e in sorted(report.per_event.items())]
        for page in paginate(rows, separator="\n"):
            await reply(update, context, page)
    await services.delivery.deliver_due()


def register(application: Application) -> None:
    application.add_handler(CommandHandler("expire", expire_command, filters=PRIVATE))
