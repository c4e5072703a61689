"""handlers/telegram/updates.py: chats run concurrently, each chat's updates in order; one buyer's hung call does
not keep another buyer waiting. Every wait here is on an event; the timeouts only bound how long a broken build
hangs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, ContextTypes, TypeHandler

import handlers.telegram
from bench.telegram_inproc import BASE_URL, FILE_URL, InProcessRequest
from bot.sandbox.telegram import TelegramSimulator
from handlers.telegram.rate_limit import Priority, current_priority
from handlers.telegram.updates import ChatOrderedUpdateProcessor, chat_key
from tests.conftest import BUYER_ID
from tests.handlers_kit import JAZZ, PAY_HOST, STRANGER_ID, Bot
from tests.test_handlers_buyer import checkout_to_summary

HANG_LIMIT = 20.0  # only a broken build waits this long


def text_update(update_id: int, chat: int, text: str = "hi") -> Update:
    user = User(chat, f"user{chat}", is_bot=False)
    message = Message(update_id, datetime.now(UTC), Chat(chat, Chat.PRIVATE), from_user=user, text=text)
    return Update(update_id, message=message)


class Recorder:
    """A handler that logs start and end of each update; update 1 waits at a gate until it is opened."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self.gate = asyncio.Event()
        self.seen: dict[int, asyncio.Event] = {}
        self.priorities: list[Priority] = []

    def done(self, update_id: int) -> asyncio.Event:
        return self.seen.setdefault(update_id, asyncio.Event())

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.log.append(("start", update.update_id))
        self.priorities.append(current_priority())
        if update.update_id == 1:
            await self.gate.wait()
        await asyncio.sleep(0)
        self.log.append(("end", update.update_id))
        self.done(update.update_id).set()


async def started_app(processor: BaseUpdateProcessor | bool, handler: Callable[..., Any]) -> Application:
    telegram = TelegramSimulator()
    app = (ApplicationBuilder().token(telegram.token).base_url(BASE_URL).base_file_url(FILE_URL)
           .request(InProcessRequest(telegram)).get_updates_request(InProcessRequest(telegram))
           .updater(None).job_queue(None).concurrent_updates(processor).build())
    app.add_handler(TypeHandler(Update, handler))
    await app.initialize()
    await app.start()
    return app


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    yield Recorder()


async def feed(app: Application, *updates: Update) -> None:
    for update in updates:
        await app.update_queue.put(update)


async def test_other_chats_run_while_one_update_waits_and_each_chat_keeps_its_order(recorder: Recorder) -> None:
    app = await started_app(ChatOrderedUpdateProcessor(max_running=4), recorder)
    try:
        await feed(app, text_update(1, 10), text_update(2, 10), text_update(3, 20), text_update(4, 10))
        await asyncio.wait_for(recorder.done(3).wait(), HANG_LIMIT)

        assert ("end", 3) in recorder.log          # chat 20 was answered while chat 10's first update hangs
        assert ("start", 2) not in recorder.log    # chat 10's next update waits for its first
        recorder.gate.set()
        await asyncio.wait_for(app.update_queue.join(), HANG_LIMIT)
    finally:
        await app.stop()
        await app.shutdown()

    chat_10 = [entry for entry in recorder.log if entry[1] in (1, 2, 4)]
    assert chat_10 == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    assert set(recorder.priorities) == {Priority.REPLY}  # what a handler sends goes out as a reply


async def test_ptbs_plain_concurrent_updates_would_reorder_a_chat(recorder: Recorder) -> None:
    """Why the processor exists: with `concurrent_updates(True)` a chat's second update starts before its first
    has finished (a buyer's phone number could be handled before their name)."""
    app = await started_app(True, recorder)
    try:
        await feed(app, text_update(1, 10), text_update(2, 10))
        await asyncio.wait_for(recorder.done(2).wait(), HANG_LIMIT)
        assert ("end", 1) not in recorder.log
        recorder.gate.set()
        await asyncio.wait_for(app.update_queue.join(), HANG_LIMIT)
    finally:
        await app.stop()
        await app.shutdown()


async def test_running_updates_are_bounded(recorder: Recorder) -> None:
    running = 0
    most = 0
    release = asyncio.Event()

    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    app = await started_app(ChatOrderedUpdateProcessor(max_running=3), slow)
    try:
        await feed(app, *(text_update(i, 100 + i) for i in range(1, 11)))
        for _ in range(50):
            await asyncio.sleep(0)
        assert most == 3
        release.set()
        await asyncio.wait_for(app.update_queue.join(), HANG_LIMIT)
    finally:
        await app.stop()
        await app.shutdown()
    assert most == 3


def test_an_update_waits_in_its_chats_line_else_its_senders() -> None:
    assert chat_key(text_update(1, 10)) == 10
    assert chat_key(Update(5)) is None
    assert chat_key("not an update") is None


async def test_a_buyers_hung_midtrans_call_does_not_keep_another_buyer_waiting(
    kit: Bot, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Buyer A confirms and Midtrans hangs making the link; buyer B's /start is answered meanwhile."""
    summary = await checkout_to_summary(kit)  # A, through the kit's own application
    entered, release = asyncio.Event(), asyncio.Event()
    gateway = kit.services.payments._gateway
    make_link = gateway.create_transaction

    async def hung(payload: dict[str, Any], **options: Any) -> dict[str, Any]:
        entered.set()
        await release.wait()
        return await make_link(payload, **options)

    monkeypatch.setattr(gateway, "create_transaction", hung)
    app = (ApplicationBuilder().token(kit.fake.token).base_url(kit.fake.api_url).base_file_url(kit.fake.file_url)
           .updater(None).job_queue(None).concurrent_updates(ChatOrderedUpdateProcessor()).build())
    handlers.telegram.register(app, kit.services)
    await app.initialize()
    await app.start()
    try:
        confirm = next(d for d in summary.callback_data() if d.startswith("y|"))
        await kit.fake.press_button(BUYER_ID, summary.message_id, confirm)
        await feed(app, *(Update.de_json(raw, app.bot) for raw in kit.fake.take_updates()))
        await asyncio.wait_for(entered.wait(), HANG_LIMIT)

        before = len(kit.sent(STRANGER_ID))
        await kit.fake.send_text(STRANGER_ID, f"/start ev_{JAZZ}")
        await feed(app, *(Update.de_json(raw, app.bot) for raw in kit.fake.take_updates()))
        await asyncio.wait_for(_until(lambda: len(kit.sent(STRANGER_ID)) > before), HANG_LIMIT)

        assert not release.is_set() and "Jazz Senja" in kit.sent(STRANGER_ID)[-1].text  # B has the event card
        assert not _has_link(kit, BUYER_ID)                                                # A is still waiting
        release.set()
        await asyncio.wait_for(app.update_queue.join(), HANG_LIMIT)
        assert _has_link(kit, BUYER_ID)
    finally:
        release.set()  # a failed run must not leave A's update hanging in app.stop()
        await app.stop()
        await app.shutdown()


def _has_link(kit: Bot, uid: int) -> bool:
    return any(b.get("url", "").startswith(PAY_HOST) for m in kit.sent(uid) for b in kit.now(uid, m).buttons())


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def test_the_service_runs_chats_concurrently_paced_and_with_short_timeouts() -> None:
    from bot.config import Settings
    from bot.runtime import build_application
    from handlers.telegram.rate_limit import KarcisRateLimiter

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    app = build_application(settings, "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi", webhook=True)
    assert isinstance(app.update_processor, ChatOrderedUpdateProcessor)
    assert isinstance(app.bot.rate_limiter, KarcisRateLimiter)
    request = app.bot.request
    assert request.read_timeout is not None and request.read_timeout <= 5  # a person is waiting
    assert request._client.timeout.write <= 5 and request._media_write_timeout <= 15  # type: ignore[attr-defined]


def test_a_conversation_keeps_its_rank_until_the_chat_falls_silent() -> None:
    from bench.virtual_time import run_virtual
    from handlers.telegram.updates import SESSION_GAP_SECONDS

    async def main() -> list[int]:
        processor = ChatOrderedUpdateProcessor()
        ranks = [processor._rank(10), processor._rank(20), processor._rank(10)]
        await asyncio.sleep(SESSION_GAP_SECONDS - 1)
        ranks.append(processor._rank(20))  # still within the gap: the same conversation
        await asyncio.sleep(SESSION_GAP_SECONDS + 1)
        ranks.append(processor._rank(10))  # silent for longer than the gap: a new conversation, at the back
        return ranks

    assert run_virtual(main()) == [0, 1, 0, 1, 2]
