"""Chat updates kept from the moment they are received until they are handled (docs/faults.md): the front door
stores each update before Telegram may consider it delivered and marks it handled afterwards; at start-up the
ones a dead process left unhandled are handed back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pymongo.errors import PyMongoError

from bot.clock import Clock, utcnow
from storage.store import Store

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


class UpdateInbox:
    def __init__(self, store: Store, *, clock: Clock = utcnow) -> None:
        self._updates = store.updates
        self._clock = clock

    async def receive(self, update_id: int, data: dict[str, Any], *, wait: bool) -> bool:
        """Keep an update; False if it was received before (a re-sent duplicate: do not handle it again).

        `wait`: while MongoDB is unreachable, keep trying (polling: nothing further is acknowledged meanwhile)
        instead of raising (webhook: the error answer makes Telegram send it again)."""
        attempt = 0
        while True:
            try:
                return await self._updates.keep(update_id, data, self._clock())
            except PyMongoError as exc:
                if not wait:
                    raise
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.warning("cannot keep update %s (%s); retrying in %.1fs", update_id, type(exc).__name__, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def handled(self, update_id: int) -> None:
        try:
            await self._updates.handled(update_id, self._clock())
        except PyMongoError as exc:  # it will be handled once more after a restart: at least once
            log.warning("cannot mark update %s handled (%s)", update_id, type(exc).__name__)

    async def left_unhandled(self) -> list[dict[str, Any]]:
        return await self._updates.unhandled()
