"""How Telegram updates are run: different chats at the same time, each chat's updates one after the other.

PTB runs updates one at a time by default, so one slow call (Midtrans making a link, a Bot API call that hangs,
a flood wait) stalls every chat. PTB's `concurrent_updates(True)` runs them all at once, which reorders one chat's
updates: a buyer who types name, email and phone quickly could have the phone handled before the name. The
`ChatOrderedUpdateProcessor` here sits between the two:

    update ─→ its chat's line (FIFO, one at a time per chat) ─→ a running slot (at most `max_running`) ─→ handlers

- An update's chat is its chat id (a button press: the chat of the pressed message), else its sender; an update
  with neither (a poll's state, say) has no line and only waits for a slot.
- Waiting for its chat's turn holds no running slot, so a chat with a queue of updates never crowds others out;
  free slots go to the waiting update whose conversation began first (its rank, below), so that late arrivals
  whose replies wait in the rate limiter's queue cannot hold every slot while earlier buyers' next steps wait.
- While an update runs, what it sends goes out as a reply to a person who is waiting (`Priority.REPLY`, see
  handlers/telegram/rate_limit.py), ahead of ticket photos and organisers' notices, ranked by when the chat's
  conversation   began (its first update after `SESSION_GAP_SECONDS` of silence since its last update arrived or was
  answered): first come, first served, through a whole purchase.

PTB creates one task per update in the order the updates were taken from its queue, and the chat's line is joined
before the task's first await, so a chat's updates start in the order Telegram sent them.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers.telegram.rate_limit import Priority, sending_as

MAX_RUNNING_UPDATES = 256  # handlers running at once (each mostly waits on MongoDB, Midtrans or the Bot API)
MAX_WAITING_UPDATES = 1_000_000  # PTB's own bound, taken before an update joins its chat's line: no bound here
SESSION_GAP_SECONDS = 600.0  # a chat silent this long starts a new conversation (and a new rank) when it speaks


def chat_key(update: object) -> Hashable | None:
    """Which line an update waits in: its chat, else its sender, else none."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Runs updates of different chats concurrently, each chat's in order, at most `max_running` at once."""

    def __init__(self, max_running: int = MAX_RUNNING_UPDATES) -> None:
        super().__init__(MAX_WAITING_UPDATES)
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.max_running = max_running
        self._running = RankedSlots(max_running)
        self._tails: dict[Hashable, asyncio.Future[None]] = {}  # per chat: done when its last update is
        self._sessions: dict[Hashable, tuple[int, float]] = {}  # per chat: (rank, last update's arrival)
        self._ranks = itertools.count()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def waiting_chats(self) -> int:
        """Chats with an update running or waiting (for tests and the benchmark)."""
        return len(self._tails)

    def _rank(self, key: Hashable) -> int:
        now = asyncio.get_running_loop().time()
        session = self._sessions.get(key)
        if session is None or now - session[1] > SESSION_GAP_SECONDS:
            session = (next(self._ranks), now)
            if len(self._sessions) > 4 * self.max_running and session[0] % 1024 == 0:
                self._sessions = {k: v for k, v in self._sessions.items() if now - v[1] <= SESSION_GAP_SECONDS}
        self._sessions[key] = (session[0], now)
        return session[0]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await self._run(coroutine, None)
            return
        rank = self._rank(key)
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done  # joined before the first await: the chat's order is the order of arrival
        finished = False
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await self._run(coroutine, rank)
            finished = True
            self._sessions[key] = (rank, asyncio.get_running_loop().time())  # silence counts from the answer
        finally:
            if finished or previous is None or previous.done():
                done.set_result(None)
            else:  # cancelled while waiting: the next one still waits for the one before this
                def release(_: object) -> None:
                    if not done.done():
                        done.set_result(None)

                previous.add_done_callback(release)
            if done.done() and self._tails.get(key) is done:
                del self._tails[key]
            if inspect.iscoroutine(coroutine) and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()  # cancelled before it started: no "never awaited" warning

    async def _run(self, coroutine: Awaitable[Any], rank: int | None) -> None:
        await self._running.acquire(-1 if rank is None else rank)
        try:
            with sending_as(Priority.REPLY, rank):
                await coroutine
        finally:
            self._running.release()


class RankedSlots:
    """A semaphore whose waiters get a free slot lowest rank first (then by arrival)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    async def acquire(self, rank: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._seq), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # it was handed a slot just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # the slot passes straight to the best waiter
                return
        self._free += 1


__all__ = ["MAX_RUNNING_UPDATES", "ChatOrderedUpdateProcessor", "chat_key"]
