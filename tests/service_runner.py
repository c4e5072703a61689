"""Running the real service (`bot.runtime.serve`) inside a test, and stopping it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from bot.config import Settings
from bot.runtime import Running, serve

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    """serve() in a task until the block ends; then it must return cleanly within STOP_TIMEOUT."""
    stop = asyncio.Event()
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, stop=stop, ready=started.set_result, host="127.0.0.1"))
    done, _ = await asyncio.wait({task, started}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    assert started in done, "serve() did not become ready"
    try:
        yield started.result()
    finally:
        stop.set()
        began = time.monotonic()
        await asyncio.wait_for(task, STOP_TIMEOUT)
        assert time.monotonic() - began < STOP_TIMEOUT
