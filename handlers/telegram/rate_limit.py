"""Pacing the Bot API calls to Telegram's limits: each chat, the whole bot, a flood wait, and what comes first.

Telegram's Bot FAQ (core.telegram.org/bots/faq, "My bot is hitting limits, how do I avoid this?"):

    "When sending messages inside a particular chat, avoid sending more than one message per second. We may allow
    short bursts that go over this limit, but eventually you'll begin receiving 429 errors.
    If you're sending bulk notifications to multiple users, the API will not allow more than 30 messages per
    second or so. [...] Also note that your bot will not be able to send more than 20 messages per minute to the
    same group."

Why not PTB's `AIORateLimiter` (read in PTB 22's source, `telegram/ext/_aioratelimiter.py`): it has one 30/s bucket for
every request with a `chat_id` and a per-group bucket, but no pacing of a private chat, so a confirm that edits a
message and sends one in the same chat 50 ms later gets a 429; and after any 429 it pauses *every* request for
`retry_after`, so one buyer's flood wait freezes the whole bot. Nor does it know what is urgent.

`KarcisRateLimiter`, a PTB `BaseRateLimiter`:

- **Buckets.** Every call that carries a `chat_id` (sending, editing) takes a token from its chat's bucket (a
  private chat: 1/s, a burst of 2; a group: 20/min, a burst of 3) and then one from the bot's (28/s, no burst:
  below "30 or so" so that no second ever holds 30). Calls without a chat (answering a button press, getMe,
  getUpdates) are not paced: they are not messages.
- **Priorities.** `REPLY` (what a person who just pressed a button or typed is waiting for: set by
  handlers/telegram/updates.py while an update runs) goes before `BUYER` (tickets and other news to buyers: set by the
  notifier), which goes before `STAFF` (notices to organisers and admins, and anything that says nothing): when
  all three wait, they take 6, 3 and 1 of every 10 turns (`SHARES`), and a priority with nothing waiting leaves its
  turns to the others; so a reply waits for at most a few tickets, and tickets are not starved for the length of
  an on-sale. Within a priority, calls go by rank, then arrival. A reply's rank is when its chat's conversation
  began (handlers/telegram/updates.py), so in an on-sale the buyer who came first is served first through their whole
  purchase, instead of every buyer waiting for everyone at every step; other calls rank by arrival. A chat whose
  bucket is empty does not hold up other chats.
- **429.** A flood wait delays only the chat it was answered for (its retry is queued again in its old place);
  only when several chats are told to wait within a second (a flood of the whole bot) does everything wait.
- **The sleep cap.** A delivered message (`BUYER`, `STAFF`) waits at most `MAX_WAIT_SECONDS` in all (queueing
  and flood waits). When it would wait longer, `WaitCapped` (a `RetryAfter`) is raised at once instead: the
  delivery records the failure, the message stays owed in the outbox, and the delivery job sends it later
  (bot/notifications.py). handlers/telegram/notifier.py uses the same figure and raises `WaitCapped` on
without sleeping,   so it never sleeps through what the limiter refused to wait for.
  A reply has no outbox to wait in (raising would only lose the buyer's step), so it waits its turn for up to
  `REPLY_MAX_WAIT_SECONDS`; past that, or for a flood wait longer than that, the handler fails into the error
  handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import itertools
import math
import warnings
from collections import deque
from collections.abc import Callable, Coroutine, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

MAX_WAIT_SECONDS = 30.0   # the most a delivered message waits here (queue + flood waits); past it: RetryAfter
REPLY_MAX_WAIT_SECONDS = 900.0  # the most a reply waits: an on-sale's whole queue at 28/s (docs/onsale.md)

CHAT_RATE = 1.0           # messages per second in one private chat ("avoid more than one message per second")
CHAT_BURST = 2            # "short bursts": an edit and a send of the same step go out together
GROUP_RATE = 20 / 60      # "not more than 20 messages per minute to the same group"
GROUP_BURST = 3
BOT_RATE = 28.0           # "not more than 30 messages per second or so", with a margin
BOT_BURST = 1
FLOOD_CHATS = 3           # this many chats told to wait within FLOOD_WINDOW: the whole bot waits
FLOOD_WINDOW = 1.0
RETRIES = 3               # 429s waited out for one call before it is raised
# When calls of several priorities wait, they take turns in these proportions (of the bot's 28/s); a priority with
# nothing waiting leaves its turns to the others. Strict priority starved tickets behind an on-sale's replies for
# ten minutes, then the delivery job's backoff made it twenty (docs/performance.md), so tickets keep a share.
SHARE_REPLY, SHARE_BUYER, SHARE_STAFF = 6, 3, 1


class Priority(IntEnum):
    REPLY = 0   # a person just pressed a button or typed and is waiting
    BUYER = 1   # tickets, payment news, expiry notices
    STAFF = 2   # organisers' sale notices, admins' alerts; the default


SHARES = {Priority.REPLY: SHARE_REPLY, Priority.BUYER: SHARE_BUYER, Priority.STAFF: SHARE_STAFF}

_PRIORITY: ContextVar[Priority] = ContextVar("karcis_send_priority", default=Priority.STAFF)
_RANK: ContextVar[int | None] = ContextVar("karcis_send_rank", default=None)


@contextlib.contextmanager
def sending_as(priority: Priority, rank: int | None = None) -> Iterator[None]:
    """Bot API calls made inside (and in tasks started inside) go out with `priority`; among calls of one
    priority a lower `rank` goes first (unset: the call's arrival)."""
    token, rank_token = _PRIORITY.set(priority), _RANK.set(rank)
    try:
        yield
    finally:
        _PRIORITY.reset(token)
        _RANK.reset(rank_token)


def current_priority() -> Priority:
    return _PRIORITY.get()


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, dt.timedelta) else float(delay)


class WaitCapped(RetryAfter):
    """The limiter gave up on a call rather than wait past its cap (or after `RETRIES` flood waits in a row):
    "retry after N" seconds, as Telegram would say it. Nothing was sent; whoever made the call must not sleep and
    retry it (the notifier raises it on, so the message stays owed and the delivery job sends it later)."""


def too_long(seconds: float) -> WaitCapped:
    return WaitCapped(dt.timedelta(seconds=max(1, math.ceil(seconds))))


class Bucket:
    """A token bucket on the event loop's clock."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def ready_at(self, now: float) -> float:
        self._refill(now)
        return now if self.tokens >= 1 - 1e-9 else now + (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def empty(self, now: float) -> None:
        self._refill(now)
        self.tokens = min(self.tokens, 0.0)

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst - 1e-9


@dataclass(order=True)
class _Waiter:
    priority: int
    rank: int
    seq: int
    future: asyncio.Future[None] = field(compare=False)


@dataclass
class _Chat:
    bucket: Bucket
    waiting: list[_Waiter] = field(default_factory=list)  # a heap
    blocked_until: float = 0.0
    version: int = 0  # entries of this chat in the scheduler's heaps with an older version are stale

    def best(self) -> _Waiter | None:
        while self.waiting and self.waiting[0].future.done():
            heapq.heappop(self.waiting)
        return self.waiting[0] if self.waiting else None


def chat_of(data: JSONDict | None) -> Hashable | None:
    chat = (data or {}).get("chat_id")
    if chat is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(chat)
    return str(chat)


def is_group(chat: Hashable) -> bool:
    return isinstance(chat, str) or (isinstance(chat, int) and chat < 0)


class KarcisRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """See the module's docstring. `rate_limit_args` may carry {"priority": Priority} for one call."""

    def __init__(
        self, *, bot_rate: float = BOT_RATE, bot_burst: int = BOT_BURST, chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST, group_rate: float = GROUP_RATE, group_burst: int = GROUP_BURST,
        max_wait: float = MAX_WAIT_SECONDS, reply_max_wait: float = REPLY_MAX_WAIT_SECONDS,
        retries: int = RETRIES, flood_chats: int = FLOOD_CHATS,
        flood_window: float = FLOOD_WINDOW,
    ) -> None:
        self.bot_rate, self.bot_burst = bot_rate, bot_burst
        self.chat_rate, self.chat_burst = chat_rate, chat_burst
        self.group_rate, self.group_burst = group_rate, group_burst
        self.max_wait, self.reply_max_wait, self.retries = max_wait, reply_max_wait, retries
        self.flood_chats, self.flood_window = flood_chats, flood_window
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: Bucket | None = None
        self._bot_blocked_until = 0.0
        self._chats: dict[Hashable, _Chat] = {}
        # per priority, the chats that may send now, by (rank, seq) of their best call; and each priority's
        # "pass" in the weighted turn-taking (stride scheduling: the lowest pass goes next, then adds 1/share)
        self._ready: dict[int, list[tuple[int, int, int, Hashable]]] = {int(p): [] for p in Priority}
        self._pass: dict[int, float] = {int(p): 0.0 for p in Priority}
        self._was_live: set[int] = set()
        self._timed: list[tuple[float, int, Hashable]] = []      # (when, version, chat): its bucket refills
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._recent_429: deque[tuple[float, Hashable | None]] = deque()
        self._grants = 0
        # what happened, for tests, logs and the benchmark
        self.flood_waits = 0          # 429s answered by Telegram
        self.bot_pauses = 0           # of them, the ones that paused the whole bot
        self.refused = 0              # calls raised at the cap instead of waiting longer

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---- the clock ---------------------------------------------------------------------------------------

    def _now(self) -> float:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._bot = Bucket(self.bot_rate, self.bot_burst, self._loop.time())
        return self._loop.time()

    # ---- the call ----------------------------------------------------------------------------------------

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat = chat_of(data)
        priority = Priority((rate_limit_args or {}).get("priority", current_priority()))
        began = self._now()
        deadline = began + (self.reply_max_wait if priority == Priority.REPLY else self.max_wait)
        seq = next(self._seq)  # a retry after a flood wait keeps its place
        rank = _RANK.get()
        rank = seq if rank is None else rank
        attempt = 0
        while True:
            if chat is not None:
                await self._turn(chat, priority, rank, seq, deadline)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                now = self._now()
                self._flood_wait(chat, now, wait)
                attempt += 1
                if now + wait > deadline or attempt > self.retries:
                    self.refused += 1
                    raise too_long(wait) from exc
                if chat is None:
                    await asyncio.sleep(wait)

    async def _turn(self, key: Hashable, priority: Priority, rank: int, seq: int, deadline: float) -> None:
        """Wait until this call may go in its chat and for the bot; RetryAfter if that is past `deadline`."""
        now = self._now()
        chat = self._chat(key, now)
        blocked = max(chat.blocked_until, self._bot_blocked_until)
        if blocked > deadline:
            self.refused += 1
            raise too_long(blocked - now)
        assert self._loop is not None  # bound by self._now() above
        waiter = _Waiter(int(priority), rank, seq, self._loop.create_future())
        heapq.heappush(chat.waiting, waiter)
        self._schedule(key, chat, now)
        self._pump()
        if waiter.future.done():
            return
        try:
            await asyncio.wait_for(waiter.future, deadline - now)
        except TimeoutError:
            self.refused += 1
            self._pump()
            raise too_long(deadline - now) from None

    # ---- the scheduler -----------------------------------------------------------------------------------

    def _chat(self, key: Hashable, now: float) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            rate, burst = ((self.group_rate, self.group_burst) if is_group(key)
                           else (self.chat_rate, self.chat_burst))
            chat = self._chats[key] = _Chat(Bucket(rate, burst, now))
        return chat

    def _schedule(self, key: Hashable, chat: _Chat, now: float) -> None:
        """(Re)file the chat under "may go now" or "at time t", by its best waiting call."""
        chat.version += 1
        best = chat.best()
        if best is None:
            return
        at = max(chat.bucket.ready_at(now), chat.blocked_until)
        if at <= now:
            heapq.heappush(self._ready[best.priority], (best.rank, best.seq, chat.version, key))
        else:
            heapq.heappush(self._timed, (at, chat.version, key))

    def _pump(self) -> None:
        """Let go every call that may go now, best first, then set a timer for the next one."""
        assert self._bot is not None
        now = self._now()
        while self._timed and self._timed[0][0] <= now:
            _, version, key = heapq.heappop(self._timed)
            chat = self._chats.get(key)
            if chat is not None and chat.version == version:
                self._schedule(key, chat, now)
        while max(self._bot.ready_at(now), self._bot_blocked_until) <= now:
            priority = self._next_priority()
            if priority is None:
                break
            *_, key = heapq.heappop(self._ready[priority])
            self._pass[priority] += 1.0 / SHARES[Priority(priority)]
            chat = self._chats[key]
            waiter = heapq.heappop(chat.waiting)
            waiter.future.set_result(None)
            chat.bucket.take(now)
            self._bot.take(now)
            self._schedule(key, chat, now)
            self._grants += 1
            if self._grants % 1024 == 0:
                self._forget_idle(now)
        wake = math.inf
        if any(self._ready.values()):
            wake = max(self._bot.ready_at(now), self._bot_blocked_until)
        if self._timed:
            wake = min(wake, self._timed[0][0])
        self._arm(wake)

    def _live(self, priority: int) -> bool:
        """Whether a chat is ready to send at this priority (dropping stale entries on the way)."""
        heap = self._ready[priority]
        while heap:
            *_, version, key = heap[0]
            chat = self._chats.get(key)
            if chat is not None and chat.version == version and chat.best() is not None:
                return True
            heapq.heappop(heap)
        return False

    def _next_priority(self) -> int | None:
        """Whose turn it is: the priority with the lowest pass among those with a call ready. One that was idle
        comes back at the others' pass, so it neither hoards turns nor waits for old ones."""
        live = [p for p in self._ready if self._live(p)]
        if not live:
            self._was_live = set()
            return None
        returning = [p for p in live if p not in self._was_live]
        staying = [self._pass[p] for p in live if p in self._was_live]
        if staying:
            for p in returning:
                self._pass[p] = max(self._pass[p], min(staying))
        self._was_live = set(live)
        return min(live, key=lambda p: (self._pass[p], p))

    def _arm(self, when: float) -> None:
        if when == math.inf or (self._timer is not None and self._timer_at <= when):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        assert self._loop is not None  # bound by the self._now() that computed `when`
        self._timer = self._loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, math.inf
        self._pump()

    def _forget_idle(self, now: float) -> None:
        """Chats with nothing waiting, a full bucket and no flood wait are forgotten (memory stays bounded)."""
        idle = [key for key, chat in self._chats.items()
                if not chat.waiting and chat.blocked_until <= now and chat.bucket.full(now)]
        for key in idle:
            del self._chats[key]

    # ---- flood waits -------------------------------------------------------------------------------------

    def _flood_wait(self, key: Hashable | None, now: float, wait: float) -> None:
        """Telegram said "retry after `wait`" for `key`: that chat waits; if several chats were told so within
        a second, the whole bot does."""
        self.flood_waits += 1
        until = now + wait
        self._recent_429.append((now, key))
        while self._recent_429 and self._recent_429[0][0] < now - self.flood_window:
            self._recent_429.popleft()
        chats = {k for _, k in self._recent_429 if k is not None}
        if len(chats) >= self.flood_chats and until > self._bot_blocked_until:
            self._bot_blocked_until = until
            self.bot_pauses += 1
        if key is not None:
            chat = self._chat(key, now)
            chat.blocked_until = max(chat.blocked_until, until)
            chat.bucket.empty(now)
            self._schedule(key, chat, now)
        self._pump()


__all__ = ["MAX_WAIT_SECONDS", "REPLY_MAX_WAIT_SECONDS", "KarcisRateLimiter", "Priority", "WaitCapped",
           "current_priority", "retry_seconds", "sending_as"]
