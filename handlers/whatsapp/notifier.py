"""The WhatsApp notifier: what the domain owes people reached on WhatsApp (`bot.notifications.Notifier`,
registered in the ChannelRouter under "whatsapp").

- the buyer: payment received and one QR image per ticket; the hold ended, the payment failed, a refund, and
  the rest of the order notices as one text each;
- staff (organisers, admins) reached on WhatsApp: a sale goes into the organiser's sale digest (bot/digest.py),
  which `send_digest` sends as a new message per interval (WhatsApp cannot edit a sent message); the admins'
  notices one text each.

The 24-hour rule. Free-form messages reach a person only within 24 hours of their last message (Meta's
"Customer service windows"); Meta accepts a late one and fails it afterwards (131047), so the notifier decides
before sending, from when the person last wrote (`last_from`, the webhook inbox; a 10-minute margin), and also
treats a synchronous `OutsideWindow` the same way. Outside the window:

- tickets: the `WHATSAPP_TEMPLATE_TICKETS` template ("Tiket {{1}} untuk pesanan {{2}} sudah siap"), which counts
  as delivering them: the buyer's reply opens the window and answers with the menu, whose My tickets (or typing
  `tickets`) sends the QR images. (A retry that sent them unasked later would send them twice.)
- any other notice: the `WHATSAPP_TEMPLATE_NOTICE` template with the notice as one line.
- with no template configured: an error log line naming the setting, and the notice stays owed (raised, so the
  delivery service retries it with backoff; it goes out once the person writes again).

Parts (docs/channels.md): `buyer` (the buyer's text), `ticket:<code>`, `template:<kind>`, `user:<account>`.

Each message Meta accepts is recorded (`record`: its wamid → order, kind, person, part; whatsapp_statuses), so
a `failed` status that arrives later is matched to the copy it concerns and owed again (wiring.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.accounts import AccountId, whatsapp_number
from bot.delivery_router import ADMINS, AUDIENCE, BUYER, EVERYONE, ORGANISERS
from bot.digest import Digest
from bot.links import WHATSAPP, channel_of
from bot.notifications import Notice, Undeliverable
from bot.outbox import Message
from bot.services import Services
from handlers.views import lines_text, price
from handlers.whatsapp.client import OutsideWindow, Sent, TemplateRef, Templates, WhatsAppClient
from handlers.whatsapp.texts import ENGLISH, INDONESIAN, language_for, say, what_happened
from handlers.whatsapp.views import digest_text, send_ticket
from storage.documents import EventDoc

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
MARGIN = timedelta(minutes=10)  # a message sent this close to the window's end may arrive after it
BUYER_TEXTS = {Message.EXPIRED: "notice.expired", Message.FAILED: "notice.failed",
               Message.REFUNDED: "notice.refunded"}


class RecordSent(Protocol):
    async def __call__(self, message_id: str, *, recipient: str, order: str, kind: str, person: str, part: str,
                       detail: dict[str, object], now: datetime) -> None: ...


async def _record_nothing(message_id: str, **_: object) -> None:
    return None


class TemplateMissing(OutsideWindow):
    """Outside the 24-hour window with no template configured: the message stays owed."""

    def __init__(self, setting: str) -> None:
        super().__init__(400, 131047, f"outside the 24-hour window and {setting} is not configured")


def one_line(text: str) -> str:
    """A template parameter: no new lines, tabs or runs of spaces (error 132018), at most 1024 characters."""
    return re.sub(r"\s+", " ", text.replace("\n", " · ")).strip()[:1000]


class WhatsAppNotifier:
    def __init__(self, services: Services, client: WhatsAppClient, templates: Templates, *,
                 last_from: Callable[[str], Awaitable[datetime | None]],
                 record: RecordSent = _record_nothing) -> None:
        self._services = services
        self._record_sent = record
        self._client = client
        self._templates = templates
        self._last_from = last_from

    async def notify(self, notice: Notice) -> None:
        audience = AUDIENCE.get(notice.message, EVERYONE)
        only = notice.only  # a re-delivery: only those whose copy failed
        if BUYER in audience and channel_of(notice.order.buyer_address) == WHATSAPP and (
                only is None or BUYER in only):
            await self._to_buyer(notice)
        staff: list[AccountId] = []
        if ORGANISERS in audience and notice.event is not None:
            staff += notice.event.organisers
        if ADMINS in audience:
            staff += sorted(notice.admin_ids)
        for account in dict.fromkeys(staff):
            if only is not None and account not in only:
                continue
            if notice.message == Message.SALE and account in (notice.event.organisers if notice.event else []):
                await self._sale(notice, account)
                continue
            number = self._number(account)
            if number is not None and f"user:{account}" not in notice.delivered:
                text = self._staff_text(notice, await self._staff_lang(account, number, notice.event))
                await self._send(number, text, notice, f"user:{account}", person=account)

    # ---- who and in which language ---------------------------------------------------------------------------

    def _number(self, account: AccountId) -> str | None:
        address = self._services.accounts.address_on(account, WHATSAPP)
        return whatsapp_number(address) if address else None

    async def _lang(self, account: AccountId, number: str) -> str:
        return language_for(number, await self._services.profiles.language(account))

    async def _staff_lang(self, account: AccountId, number: str, event: EventDoc | None) -> str:
        """An organiser's or admin's language: the one they chose, else the events file's for them, else by
        their number (+62: Indonesian); bot/profiles.py."""
        profiles = self._services.profiles
        chosen = await profiles.language(account)
        return language_for(number, chosen if chosen in (INDONESIAN, ENGLISH)
                            else await profiles.file_language(account, [event]))

    async def _window_open(self, number: str) -> bool:
        last = await self._last_from(number.lstrip("+"))
        if last is None:
            return False
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return self._services.clock() - last < WINDOW - MARGIN

    # ---- sending -----------------------------------------------------------------------------------------------

    async def _record(self, sent: Sent, number: str, notice: Notice, person: str, part: str) -> None:
        """Remember which copy the wamid is, so a later `failed` status can owe it again. A send Meta took is
        not undone by a failed write here: logged, and that copy cannot be matched to a later failure."""
        try:
            await self._record_sent(sent.message_id, recipient=number.lstrip("+"), order=notice.order.id,
                                    kind=notice.message.value, person=person, part=part, detail=notice.detail,
                                    now=self._services.clock())
        except Exception as exc:  # noqa: BLE001 - see above
            log.warning("order %s: could not record WhatsApp message %s… (%s); a later failure of it will only "
                        "be logged", notice.order.id, sent.message_id[:16], type(exc).__name__)

    async def _send(self, number: str, text: str, notice: Notice, part: str, *, person: str = BUYER) -> None:
        """One text, free-form inside the window, else the notice template; recorded as `part`."""
        if part in notice.delivered:
            return
        if await self._window_open(number):
            try:
                sent = await self._client.send_text(number, text[:4096])
            except OutsideWindow:
                pass
            else:
                await self._record(sent, number, notice, person, part)
                await notice.sent(part)
                return
        sent = await self._template(number, self._templates.notice, "WHATSAPP_TEMPLATE_NOTICE", [one_line(text)],
                                    notice)
        await self._record(sent, number, notice, person, part)
        await notice.sent(part)

    async def _template(self, number: str, template: TemplateRef | None, setting: str, parameters: list[str],
                        notice: Notice) -> Sent:
        if template is None:
            log.error("order %s: %s for %s is outside WhatsApp's 24-hour window and %s is not configured; it "
                      "stays owed until they write again", notice.order.id, notice.message.value,
                      number[:4] + "…", setting)
            raise TemplateMissing(setting)
        return await self._client.send_template(number, template, parameters)

    async def _to_buyer(self, notice: Notice) -> None:
        order = notice.order
        number = whatsapp_number(order.buyer_address or "")
        if number is None:
            return
        lang = await self._lang(order.user_id, number)
        title = notice.event.title if notice.event else order.event_id
        if notice.message == Message.PAID:
            await self._paid(notice, number, lang, title)
            return
        key = BUYER_TEXTS.get(notice.message)
        if key is not None:
            text = say(lang, key, order=order.id, title=title, lines=lines_text(lang, order.lines),
                       total=price(lang, order.total))
        else:
            text = say(lang, "wa.notice.other", order=order.id, title=title,
                       what=what_happened(lang, notice.message.value))
        await self._send(number, text, notice, "buyer")

    async def _paid(self, notice: Notice, number: str, lang: str, title: str) -> None:
        """The receipt, then one QR image per ticket not yet sent."""
        order = notice.order
        owed = [tk for tk in notice.tickets if f"ticket:{tk.id}" not in notice.delivered]
        if not await self._window_open(number):
            if "template:tickets" not in notice.delivered:
                sent = await self._template(number, self._templates.tickets, "WHATSAPP_TEMPLATE_TICKETS",
                                            [one_line(title), order.id], notice)
                await self._record(sent, number, notice, BUYER, "template:tickets")
                await notice.sent("template:tickets")
            for ticket in owed:  # the template told them; their reply (`tickets`, My tickets) brings the QR images
                await notice.sent(f"ticket:{ticket.id}")
            return
        if "buyer" not in notice.delivered:
            values = {"order": order.id, "lines": lines_text(lang, order.lines), "total": price(lang, order.total)}
            sent = await self._client.send_text(number, say(lang, "receipt.paid" if order.total else "receipt.free",
                                                            **values))
            await self._record(sent, number, notice, BUYER, "buyer")
            await notice.sent("buyer")
        for ticket in owed:
            sent = await send_ticket(self._client, number, ticket, notice.event, lang, self._services.links)
            await self._record(sent, number, notice, BUYER, f"ticket:{ticket.id}")
            await notice.sent(f"ticket:{ticket.id}")

    async def _sale(self, notice: Notice, account: AccountId) -> None:
        """The sale into the organiser's digest (stored before the part is recorded); the digest job sends it.
        An organiser told by a per-sale message before (`user:<account>`) is not told again."""
        if f"digest:{account}" in notice.delivered or f"user:{account}" in notice.delivered:
            return
        if self._number(account) is None:
            return
        await self._services.digests.add_sale(account, notice.order)
        await notice.sent(f"digest:{account}")

    async def send_digest(self, digest: Digest, *, edit_message_id: int | None) -> None:
        """A new message with the digest (WhatsApp cannot edit one: `None`, so the next digest is a new message
        with the sales since this one); outside the window, the notice template with the digest as one line."""
        number = self._number(digest.recipient)
        if number is None:
            raise Undeliverable(f"{digest.recipient} has no WhatsApp address")
        text = digest_text(await self._staff_lang(digest.recipient, number, None), digest)
        if await self._window_open(number):
            try:
                await self._client.send_text(number, text)
                return None
            except OutsideWindow:
                pass
        if self._templates.notice is None:
            log.error("sale digest for %s… is outside WhatsApp's 24-hour window and WHATSAPP_TEMPLATE_NOTICE is not "
                      "configured; it stays pending until they write again", number[:4])
            raise TemplateMissing("WHATSAPP_TEMPLATE_NOTICE")
        await self._client.send_template(number, self._templates.notice, [one_line(text)])
        return None

    def _staff_text(self, notice: Notice, lang: str) -> str:
        order = notice.order
        title = notice.event.title if notice.event else order.event_id
        if notice.message == Message.SALE:
            return say(lang, "wa.sale", order=order.id, title=title, lines=lines_text(lang, order.lines),
                       total=price(lang, order.total))
        return say(lang, "wa.notice.other", order=order.id, title=title, what=what_happened(lang, notice.message.value))
