"""The whole sandbox (`python -m bot sandbox`) started in-process for a test, and when it can be."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
from collections.abc import AsyncIterator

from bot.sandbox.runner import run_sandbox

BANNER = "Sandbox — no real money moves"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
NO_HANDLERS = ("the Telegram handlers (handlers.telegram.register, handlers.telegram.notifier, "
               "handlers.telegram.commands) are not written yet")


def handlers_ready() -> bool:
    """The Telegram handlers (written alongside) follow the contract `bot.runtime.serve` codes against."""
    try:
        import handlers.telegram
    except ImportError:
        return False
    return (callable(getattr(handlers.telegram, "register", None))
            and importlib.util.find_spec("handlers.telegram.notifier") is not None
            and importlib.util.find_spec("handlers.telegram.commands") is not None)



@contextlib.asynccontextmanager
async def running_sandbox() -> AsyncIterator[str]:
    """Run the sandbox on a free port, on the embedded store; yield the web chat's URL; stop it and wait."""
    saved_uri = os.environ.pop("MONGODB_URI", None)  # the sandbox would use it; tests use the embedded store
    stop = asyncio.Event()
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_sandbox(port=0, stop=stop, ready=started.set_result))
    try:
        done, _ = await asyncio.wait({task, started}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what stopped it
        assert started in done, "the sandbox did not start in time"
        yield started.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, STOP_TIMEOUT)
        if saved_uri is not None:
            os.environ["MONGODB_URI"] = saved_uri
