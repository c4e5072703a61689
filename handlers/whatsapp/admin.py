"""Admins on WhatsApp: `expire` releases every hold that has ended and reports it (stats: organiser.py)."""

from __future__ import annotations

from handlers.whatsapp.chat import Chat
from handlers.whatsapp.texts import say


async def expire(chat: Chat, args: list[str]) -> None:
    services = chat.services
    if not services.access.is_admin(chat.account):
        await chat.text(say(chat.lang, "refused.admin_only"))
        return
    report = await services.orders.expire_due()
    if not report.orders:
        await chat.text(say(chat.lang, "expire.none"))
    else:
        titles = {e.id: e.title for e in await services.catalog.events()}
        rows = [say(chat.lang, "expire.done", orders=len(report.orders), seats=report.seats)]
        rows += [say(chat.lang, "expire.event", title=titles.get(event_id, event_id), orders=e.orders, seats=e.seats)
                 for event_id, e in sorted(report.per_event.items())]
        await chat.text("\n".join(rows)[:4096])
    await services.delivery.deliver_due()


HANDLERS = {"expire": expire}
