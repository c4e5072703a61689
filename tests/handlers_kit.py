"""A real PTB Application with the Karcis handlers, talking HTTP to the fake Bot API, over the in-memory store and
the Midtrans simulator. Updates are fed with `application.process_update`, so every step has finished when the
call returns. Tests take it as the `kit` fixture (tests/conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

import handlers.telegram
from bot.config import Settings
from bot.event_file import load_events_file, parse_events
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram, MessageRecord, parse_html
from bot.services import Services
from storage.store import Store
from tests.conftest import ADMIN_ID, BUYER_ID, EXAMPLES, ORGANISER_ID, FakeClock
from tests.helpers import acct
from tests.stack_parts import TELEGRAM_PEOPLE, add_telegram_people, services_paying_through
from tests.stack_parts import png_of as png_of  # the kit's own name for it, as the tests import it

SERVER_KEY = "SB-Mid-server-handlers-test"
PAY_HOST = "https://pay.karcis-sim.example"
JAZZ = "jazz-senja-2026"
WORKSHOP = "workshop-ui-bandung"
KECAK = "kecak-uluwatu-2027"  # in Bali: WITA
INDO_ID = 900000011      # a buyer whose Telegram speaks Indonesian
STRANGER_ID = 900000012  # neither organiser nor admin
OTHER_ORGANISER_ID = 900000013
GENERIC_ERRORS = ("Sorry, something went wrong", "Maaf, terjadi kesalahan")
KIT_PEOPLE = {BUYER_ID: TELEGRAM_PEOPLE[BUYER_ID], INDO_ID: ("Budi", None, "id"),
              ORGANISER_ID: TELEGRAM_PEOPLE[ORGANISER_ID], ADMIN_ID: ("Adi", "Admin", "en"),
              STRANGER_ID: ("Joko", None, "en"), OTHER_ORGANISER_ID: ("Wulan", None, "en")}  # in the fake's order


@dataclass
class Bot:
    """The application under test and the world around it."""

    fake: FakeTelegram
    app: Application
    services: Services
    midtrans: MidtransSimulator
    clock: FakeClock
    expected_failures: list[str] = field(default_factory=list)
    expect_generic_error: bool = False

    async def pump(self) -> None:
        """Feed every pending update to the application (handlers may cause none, but be safe)."""
        while updates := self.fake.take_updates():
            for raw in updates:
                await self.app.process_update(Update.de_json(raw, self.app.bot))

    def sent(self, uid: int) -> list[MessageRecord]:
        return self.fake.messages(uid)

    async def say(self, uid: int, text: str) -> list[MessageRecord]:
        """The user sends `text`; the bot's new messages in that chat."""
        before = len(self.sent(uid))
        await self.fake.send_text(uid, text)
        await self.pump()
        return self.sent(uid)[before:]

    async def photo(self, uid: int, image: bytes, caption: str | None = None) -> list[MessageRecord]:
        before = len(self.sent(uid))
        await self.fake.send_photo(uid, image, caption)
        await self.pump()
        return self.sent(uid)[before:]

    async def press(self, uid: int, message: MessageRecord, text_or_data: str) -> list[MessageRecord]:
        """Press the button labelled (or carrying) `text_or_data`; the bot's new messages. The pressed message
        itself is edited in place (see `self.fake.message(uid, id)`)."""
        data = next((b["callback_data"] for b in message.buttons()
                     if b.get("callback_data") and text_or_data in (b.get("text"), b["callback_data"])), None)
        if data is None:
            raise LookupError(f"no button {text_or_data!r} on #{message.message_id}: "
                              f"{[(b.get('text'), b.get('callback_data')) for b in message.buttons()]}")
        before = len(self.sent(uid))
        query = await self.fake.press_button(uid, message.message_id, data)
        await self.pump()
        assert self.fake.callback_query(query.id).answered, f"callback {data!r} was not answered"
        return self.sent(uid)[before:]

    def shown_since(self, uid: int, revision: int) -> MessageRecord:
        """The one bot message sent or edited since `revision` (the purchase shows each step in one message). Not
        counted: deleted messages, and the short notes that take the reply keyboard away (after the phone step,
        see `is_keyboard_note`)."""
        changed = [m for m in self.fake.changes_since(uid, revision)
                   if m.from_bot and not m.deleted and not is_keyboard_note(m)]
        assert len(changed) == 1, f"{len(changed)} bot messages changed:\n{self.fake.transcript(uid)}"
        return changed[0]

    async def step(self, uid: int, text: str) -> MessageRecord:
        """The user types `text`; the bot message that answers it: the prompt edited in place, or a new one."""
        revision = self.fake.revision
        await self.fake.send_text(uid, text)
        await self.pump()
        return self.shown_since(uid, revision)

    async def tap(self, uid: int, message: MessageRecord, text_or_data: str) -> MessageRecord:
        """Press a button; the bot message it changed (usually the pressed one, edited in place) or sent."""
        revision = self.fake.revision
        await self.press(uid, message, text_or_data)
        return self.shown_since(uid, revision)

    async def answer_to(self, uid: int, message: MessageRecord, data: str) -> str | None:
        """Press the button carrying `data`; the text the bot answered the press with (a toast or an alert)."""
        query = await self.fake.press_button(uid, message.message_id, data)
        await self.pump()
        answered = self.fake.callback_query(query.id)
        assert answered.answered, f"callback {data!r} was not answered"
        return answered.answer_text

    def now(self, uid: int, message: MessageRecord) -> MessageRecord:
        """The message as it is now (after edits)."""
        return self.fake.message(uid, message.message_id)

    def check_clean(self) -> None:
        """No Bot API call failed (invalid HTML, too long, bad buttons...) and no handler failed."""
        failed = [f"{c.method}: {c.description}" for c in self.fake.calls if not c.ok]
        unexpected = [f for f in failed if not any(e in f for e in self.expected_failures)]
        assert not unexpected, unexpected
        for uid in self.fake.users:
            for message in self.sent(uid):
                assert message.source is None or message.parse_mode != "HTML" or parse_html(message.source)
                if not self.expect_generic_error:
                    assert not any(e in (message.body or "") for e in GENERIC_ERRORS), self.fake.transcript(uid)


def is_keyboard_note(message: MessageRecord) -> bool:
    """A bot message whose markup takes the reply keyboard away (ReplyKeyboardRemove): a note, not a step."""
    return "remove_keyboard" in (message.reply_markup or {})


def event_yaml(**overrides: Any) -> list[Any]:
    """One extra event (organised by OTHER_ORGANISER_ID unless overridden), as specs."""
    event = {
        "id": "malam-puisi", "title": "Malam Puisi", "description": "Poetry night.", "venue": "Kafe Sastra, Yogyakarta",
        "starts_at": "2026-12-20T19:00:00+07:00", "ends_at": "2026-12-20T22:00:00+07:00",
        "organisers": [OTHER_ORGANISER_ID],
        "tiers": [{"code": "GA", "name": "General admission", "price": 50000, "capacity": 40, "max_per_order": 4}],
    }
    event.update(overrides)
    return parse_events(yaml.safe_load(yaml.safe_dump({"events": [event]})))


async def build_app(fake: FakeTelegram, services: Services) -> Application:
    app = (ApplicationBuilder().token(fake.token).base_url(fake.api_url).base_file_url(fake.file_url)
           .updater(None).build())
    handlers.telegram.register(app, services)
    await app.initialize()
    return app


@contextlib.asynccontextmanager
async def open_kit(store: Store, settings: Settings, clock: FakeClock) -> AsyncIterator[Bot]:
    """The fake Bot API and the Midtrans simulator on free ports, the services over `store` with the example
    events, the test users, and the application with the handlers registered and initialised."""
    async with FakeTelegram() as fake, MidtransSimulator(SERVER_KEY, public_base_url=PAY_HOST, clock=clock) as sim:
        services = services_paying_through(sim, SERVER_KEY, settings, store, clock)
        await services.catalog.import_events(load_events_file(Path(EXAMPLES)))
        add_telegram_people(fake, KIT_PEOPLE)
        for staff in (ORGANISER_ID, ADMIN_ID, OTHER_ORGANISER_ID):  # staff who have used the bot: the bot knows
            await services.profiles.remember(acct(staff), language="en", name=None)  # their language (English)
        bot = Bot(fake, await build_app(fake, services), services, sim, clock)
        try:
            yield bot
            bot.check_clean()
        finally:
            await bot.app.shutdown()
