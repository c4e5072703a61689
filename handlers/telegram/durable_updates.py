"""Telegram updates that survive the process (docs/faults.md): every update is kept in MongoDB before Telegram
may consider it delivered, marked handled after PTB has processed it, and replayed at start if a process died
in between.

- Polling: PTB's Updater puts each fetched batch on `update_queue` and only then advances the getUpdates offset
  (which acknowledges the batch), so storing inside `put` means nothing is acknowledged before it is stored.
- Webhook: the webhook route puts the update on the same queue before answering 200.

An update already kept (Telegram re-sent it because its acknowledgement was lost) is not handled twice. What is
guaranteed is at-least-once: a process that dies after handling an update but before marking it handled makes
the next one handle it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.inbox import UpdateInbox

log = logging.getLogger(__name__)


def make_durable(application: Application, inbox: UpdateInbox, *, wait_for_store: bool) -> Callable[[], Awaitable[int]]:
    """Wrap the application's update queue and `process_update`; returns `replay()`, which queues the updates a
    dead process left unhandled (call it once the application has started, before taking new updates)."""
    queue = application.update_queue
    put: Callable[[Any], Awaitable[None]] = queue.put
    process: Callable[[object], Awaitable[None]] = application.process_update

    async def durable_put(item: Any) -> None:
        if isinstance(item, Update):
            data = item.to_dict()
            if not await inbox.receive(item.update_id, data, wait=wait_for_store):
                log.info("update %s was received before: not handled again", item.update_id)
                return
        await put(item)

    async def process_and_mark(update: object) -> None:
        try:
            await process(update)
        finally:
            if isinstance(update, Update):
                await inbox.handled(update.update_id)

    async def replay() -> int:
        left = await inbox.left_unhandled()
        for data in left:
            await put(Update.de_json(data, application.bot))
        if left:
            log.warning("replaying %d update(s) received but not handled before the last stop", len(left))
        return len(left)

    queue.put = durable_put  # type: ignore[method-assign]
    application.process_update = process_and_mark  # type: ignore[method-assign]
    return replay
