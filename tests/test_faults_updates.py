"""kill -9 of a real `python -m bot run` (polling, over the wire store) after Telegram considers a burst of
updates delivered but before they were all handled: after a restart every one of them is answered, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram
from storage.store import close_store, open_store
from tests.test_runtime import KARCIS_ENV, ROOT, SERVER_KEY, free_port

BUYERS = 300
START_TIMEOUT = 30.0


async def start(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    log: list[str] = []
    async with asyncio.timeout(START_TIMEOUT):
        while not any("Karcis is running: polling" in line for line in log):
            line = await process.stderr.readline()  # type: ignore[union-attr]
            assert line, "".join(log)
            log.append(line.decode())

    async def drain() -> None:  # keep reading, so a full pipe never blocks the service
        while await process.stderr.readline():  # type: ignore[union-attr]
            pass

    asyncio.ensure_future(drain())
    return process, log


def answered(fake: FakeTelegram, users: range) -> set[int]:
    return {uid for uid in users if any(m.from_bot for m in fake.messages(uid))}


async def test_kill_9_after_updates_were_acknowledged_loses_none(
    fake: FakeTelegram, midtrans: MidtransSimulator, wire_uri: str, tmp_path: Path,
) -> None:
    database = f"karcis_kill_{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(KARCIS_ENV)}
    env.update({
        "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url, "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "MIDTRANS_SNAP_BASE_URL": midtrans.snap_base_url, "MIDTRANS_API_BASE_URL": midtrans.api_base_url,
        "PORT": str(free_port()), "PYTHONUNBUFFERED": "1", "MONGODB_URI": wire_uri, "MONGODB_DB": database,
    })
    users = range(920_000, 920_000 + BUYERS)
    process, _ = await start(env)
    try:
        for uid in users:
            fake.add_user(uid, f"Buyer {uid}")
        for uid in users:  # a burst: one getUpdates takes up to 100 of them at once
            await fake.send_text(uid, "/start")
        # Telegram considers an update delivered once a later getUpdates offset acknowledged it
        await fake.wait_until(lambda: not fake.pending_updates, timeout=30.0)
        os.killpg(process.pid, signal.SIGKILL)  # the service and its QR worker, as a container kill does
        await process.wait()
        lost = set(users) - answered(fake, users)
        assert lost, "every update was handled before the kill: nothing to prove (make BUYERS larger)"
        assert not fake.pending_updates  # Telegram will not send these again

        process, _ = await start(env)  # the same database, a new process
        await fake.wait_until(lambda: answered(fake, users) == set(users), timeout=60.0)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 15.0)
        replies = {uid: sum(1 for m in fake.messages(uid) if m.from_bot) for uid in users}
        assert max(replies.values()) <= 2, replies  # at least once; at most once more if killed mid-handling
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        store = open_store(wire_uri, database)
        await store.db.client.drop_database(database)
        close_store(store)


# ---- the same guarantee, in-process: kept before queued, a re-sent duplicate dropped, replayed until handled ----


def _message_update(update_id: int, user_id: int = 44) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Budi"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_780_000_000, "from": user, "text": "/start",
        "chat": {"id": user_id, "type": "private", "first_name": "Budi"}}}


async def test_an_update_is_kept_before_it_is_queued_and_replayed_until_handled(memory_store) -> None:  # noqa: ANN001
    from telegram import Update
    from telegram.ext import ApplicationBuilder

    from bot.inbox import UpdateInbox
    from handlers.telegram.durable_updates import make_durable

    application = ApplicationBuilder().token("123456:TEST-token").updater(None).build()
    handled: list[int] = []

    async def process(update: object) -> None:
        handled.append(update.update_id)  # type: ignore[attr-defined]

    application.process_update = process  # type: ignore[method-assign]
    make_durable(application, UpdateInbox(memory_store), wait_for_store=False)
    queue = application.update_queue
    first, second = (Update.de_json(_message_update(n), application.bot) for n in (1, 2))
    await queue.put(first)
    await queue.put(Update.de_json(_message_update(1), application.bot))  # Telegram sent it again
    await queue.put(second)
    assert queue.qsize() == 2 and len(await memory_store.updates.unhandled()) == 2
    await application.process_update(await queue.get())  # the first is handled; then the process dies
    assert handled == [1] and [u["update_id"] for u in await memory_store.updates.unhandled()] == [2]

    restarted = ApplicationBuilder().token("123456:TEST-token").updater(None).build()
    restarted.process_update = process  # type: ignore[method-assign]
    assert await make_durable(restarted, UpdateInbox(memory_store), wait_for_store=False)() == 1
    await restarted.process_update(await restarted.update_queue.get())
    assert handled == [1, 2] and await memory_store.updates.unhandled() == []


async def test_webhook_mode_does_not_answer_200_when_the_update_cannot_be_kept(
    memory_store, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    from pymongo.errors import AutoReconnect
    from telegram import Update
    from telegram.ext import ApplicationBuilder

    from bot.inbox import UpdateInbox
    from handlers.telegram.durable_updates import make_durable
    from storage.updates import UpdateStore

    async def down(self: UpdateStore, *args: object) -> bool:
        raise AutoReconnect("MongoDB is failing over")

    application = ApplicationBuilder().token("123456:TEST-token").updater(None).build()
    make_durable(application, UpdateInbox(memory_store), wait_for_store=False)
    monkeypatch.setattr(UpdateStore, "keep", down)
    with pytest.raises(AutoReconnect):  # the webhook route answers 500: Telegram sends it again
        await application.update_queue.put(Update.de_json(_message_update(7), application.bot))
    assert application.update_queue.qsize() == 0
