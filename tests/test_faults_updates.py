"""kill -9 of a real `python -m bot run` (polling, over the wire store) after Telegram considers a burst of
updates delivered but before they were all handled: after a restart every one of them is answered, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram_api import FakeTelegram
from storage.store import close_store, open_store
from tests.test_runtime import KARCIS_ENV, ROOT, SERVER_KEY, free_port

BUYERS = 300
START_TIMEOUT = 30.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def midtrans() -> AsyncIterator[MidtransSimulator]:
    async with MidtransSimulator(SERVER_KEY) as sim:
        yield sim


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
