"""The WhatsApp door: the webhook's inbox hands each verified message to `WhatsAppDoor.handle`, which finds the
handler for it and lets that handler parse, call one service and answer.

    a reply (button or list row)  → its id, `verb:args` (views.py)     → buyer.HANDLERS
    a typed word (`events`, `acara`, `checkin CODE`, `stats`, `expire`, `bahasa`, `english`, ...) → the same
    a bare ticket code (or link) typed by door staff → organiser.check_in, as `checkin CODE`
    typed text while a purchase waits for a contact detail → buyer.typed
    a photo → organiser.photo (a QR check-in for door staff)

WhatsApp has no commands or language: the first word is the command, in either language, and anything else
gets the menu. A message can be handled twice after a crash mid-way (docs/whatsapp.md "What once cannot
promise"); every step here is a conditional update or a read, so repeating one sends an answer again and changes
nothing twice (Confirm takes the draft atomically).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.services import Services
from bot.tickets import normalize_code
from handlers.whatsapp import admin, buyer, organiser
from handlers.whatsapp.chat import Chat
from handlers.whatsapp.client import WhatsAppClient
from handlers.whatsapp.texts import ENGLISH, INDONESIAN, say, title
from handlers.whatsapp.updates import InboundMessage
from handlers.whatsapp.views import EVENTS, LANGUAGE, ORDERS, TICKETS, parse_reply, reply_id

log = logging.getLogger(__name__)

Handler = Callable[[Chat, list[str]], Awaitable[None]]

WORDS: dict[str, str] = {  # what a person may type, in English and Indonesian → a reply verb
    "events": EVENTS, "event": EVENTS, "acara": EVENTS, "beli": EVENTS, "buy": EVENTS,
    "tickets": TICKETS, "ticket": TICKETS, "tiket": TICKETS, "mytickets": TICKETS,
    "orders": ORDERS, "pesanan": ORDERS, "order": "order",
    "checkin": "checkin", "scan": "checkin", "stats": "stats", "expire": "expire", "page": "page",
    "cancel": "cancel", "batal": "cancel",
}
LANGUAGES = {"bahasa": INDONESIAN, "indonesia": INDONESIAN, "indonesian": INDONESIAN,
             "english": ENGLISH, "inggris": ENGLISH}
# "order" alone lists the orders; "order <id>" (the payment finish link's text) shows that one
ALONE = {"order": ORDERS, "pesanan": ORDERS, "cancel": ORDERS}


class WhatsAppDoor:
    def __init__(self, services: Services, client: WhatsAppClient) -> None:
        self._services = services
        self._client = client
        self._handlers: dict[str, Handler] = {**buyer.HANDLERS, **organiser.HANDLERS, **admin.HANDLERS,
                                              LANGUAGE: self._language}

    async def handle(self, message: InboundMessage) -> None:
        chat = await Chat.open(self._services, self._client, message)
        if message.kind in ("button_reply", "list_reply"):
            verb, args = parse_reply(message.reply_id)
            await self._run(chat, verb, args)
        elif message.kind == "image":
            await organiser.photo(chat)
        elif message.kind == "text":
            await self._typed(chat, (message.text or "").strip())
        else:
            await self.menu(chat)

    async def _typed(self, chat: Chat, text: str) -> None:
        first, *rest = text.split(maxsplit=1) or [""]
        word = first.lower()
        args = rest[0].split() if rest else []
        if word in LANGUAGES and not args:
            await self._language(chat, [LANGUAGES[word]])
            return
        if word in WORDS:
            verb = ALONE.get(word, WORDS[word]) if not args else WORDS[word]
            await self._run(chat, verb, args)
            return
        if normalize_code(text) is not None and await self._services.access.is_staff(chat.account):
            await organiser.check_in(chat, text)  # a bare code from door staff is `checkin CODE` (no scan mode here)
            return
        draft = await self._services.checkout.current(chat.account)
        if draft is not None and draft.awaiting in buyer.ASKED:
            await buyer.typed(chat, draft)
            return
        await self.menu(chat)

    async def _run(self, chat: Chat, verb: str, args: list[str]) -> None:
        handler = self._handlers.get(verb)
        if handler is None:
            await self.menu(chat)
            return
        await handler(chat, args)

    async def _language(self, chat: Chat, args: list[str]) -> None:
        """`bahasa` / `english`, or the menu's language button (which switches to the other one)."""
        choice = args[0] if args and args[0] in (INDONESIAN, ENGLISH) else (
            ENGLISH if chat.lang == INDONESIAN else INDONESIAN)
        await chat.remember_language(choice)
        await self.menu(chat, say(choice, "wa.language"))

    async def menu(self, chat: Chat, lead: str | None = None) -> None:
        body = say(chat.lang, "wa.menu")
        if await self._services.access.is_staff(chat.account):
            body += "\n\n" + say(chat.lang, "wa.staff_menu")
        await chat.buttons(f"{lead}\n\n{body}" if lead else body, [
            (reply_id(EVENTS, 0), title(chat.lang, "wa.btn.events")),
            (TICKETS, title(chat.lang, "wa.btn.tickets")),
            (LANGUAGE, title(chat.lang, "wa.btn.language"))])
