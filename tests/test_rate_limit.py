"""handlers/telegram/rate_limit.py in virtual time (bench/virtual_time.py): every figure below is the loop's clock,
exact, whatever the machine's load."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from telegram.error import RetryAfter

from bench.virtual_time import run_virtual
from handlers.telegram.rate_limit import KarcisRateLimiter, Priority, retry_seconds, sending_as

A, B, C, D = 101, 102, 103, 104


class Telegram:
    """A callback recording when each call went out; `flood[chat]` answers that chat's next calls with 429s."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, Any, str]] = []
        self.flood: dict[Any, list[int]] = {}

    def call(self, chat: Any, tag: str) -> Callable[[], Coroutine[Any, Any, dict[str, Any]]]:
        async def callback() -> dict[str, Any]:
            waits = self.flood.get(chat)
            if waits:
                raise RetryAfter(dt.timedelta(seconds=waits.pop(0)))
            self.sent.append((asyncio.get_running_loop().time(), chat, tag))
            return {"ok": True}
        return callback

    def times(self, tag: str | None = None, chat: Any = None) -> list[float]:
        return [round(t, 4) for t, c, g in self.sent if (tag is None or g == tag) and (chat is None or c == chat)]

    def order(self) -> list[str]:
        return [g for _, _, g in self.sent]


async def send(limiter: KarcisRateLimiter, telegram: Telegram, chat: Any, tag: str = "",
               endpoint: str = "sendMessage") -> Any:
    data = {"chat_id": chat} if chat is not None else {}
    return await limiter.process_request(telegram.call(chat, tag), (), {}, endpoint, data, None)


def test_one_chat_gets_a_short_burst_then_one_message_a_second() -> None:
    async def main() -> list[float]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        await asyncio.gather(*(send(limiter, telegram, A, f"m{i}") for i in range(5)))
        return telegram.times()

    assert run_virtual(main()) == [0.0, round(1 / 28, 4), 1.0, 2.0, 3.0]  # the bot's own spacing: 1/28 s


def test_the_bot_sends_at_most_28_a_second_over_many_chats() -> None:
    async def main() -> list[float]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        await asyncio.gather(*(send(limiter, telegram, 1000 + i) for i in range(57)))
        return telegram.times()

    times = run_virtual(main())
    assert len(times) == 57
    assert times[-1] == pytest.approx(56 / 28, abs=1e-3)
    assert max(sum(1 for t in times if s <= t < s + 1) for s in times) <= 29  # no second holds 30


def test_a_busy_chat_does_not_hold_up_another_chat() -> None:
    async def main() -> tuple[list[float], list[float]]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        busy = [asyncio.create_task(send(limiter, telegram, A, "a")) for _ in range(10)]
        await asyncio.sleep(0.5)
        await send(limiter, telegram, B, "b")
        await asyncio.gather(*busy)
        return telegram.times("a"), telegram.times("b")

    a, b = run_virtual(main())
    assert b == [0.5]
    assert a[-1] == 8.0


def test_replies_go_before_tickets_and_tickets_before_staff_notices() -> None:
    async def main() -> list[str]:
        limiter, telegram = KarcisRateLimiter(bot_rate=1.0, max_wait=100), Telegram()  # 1/s: to see the order
        tasks = []
        for priority, tag, base in ((Priority.STAFF, "staff", 300), (Priority.BUYER, "ticket", 400),
                                    (Priority.REPLY, "reply", 500)):
            with sending_as(priority):
                tasks += [asyncio.create_task(send(limiter, telegram, base + i, tag)) for i in range(20)]
        await asyncio.gather(*tasks)
        return telegram.order()

    order = run_virtual(main())
    assert order[0] == "staff"  # it found the bot idle; everything else was queued behind it
    assert order[1] == "reply"  # a reply goes first ...
    turns = order[1:21]         # ... and while all three wait they take 6, 3 and 1 of every 10 turns
    assert (turns.count("reply"), turns.count("ticket"), turns.count("staff")) == (12, 6, 2)
    assert order.index("ticket") < order.index("staff", 1)


def test_tickets_are_not_starved_by_a_queue_of_replies() -> None:
    async def main() -> list[str]:
        limiter, telegram = KarcisRateLimiter(bot_rate=1.0), Telegram()
        with sending_as(Priority.REPLY):
            replies = [asyncio.create_task(send(limiter, telegram, 600 + i, "reply")) for i in range(30)]
        await asyncio.sleep(0)
        with sending_as(Priority.BUYER):
            await send(limiter, telegram, 700, "ticket")
        await asyncio.gather(*replies)
        return telegram.order()

    order = run_virtual(main())
    assert order.index("ticket") <= 4  # after a few replies, not after all thirty


def test_a_flood_wait_delays_only_its_chat() -> None:
    async def main() -> tuple[list[float], list[float], KarcisRateLimiter]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        telegram.flood[A] = [5]
        first = asyncio.create_task(send(limiter, telegram, A, "a"))
        await asyncio.sleep(0.1)
        others = [send(limiter, telegram, B, "b"), send(limiter, telegram, C, "c")]
        await asyncio.gather(first, *others)
        return telegram.times("a"), telegram.times("b") + telegram.times("c"), limiter

    a, others, limiter = run_virtual(main())
    assert a == [5.0]              # retried when Telegram said, not before
    assert others == [0.1, round(0.1 + 1 / 28, 4)]  # the other chats did not wait for A's flood
    assert (limiter.flood_waits, limiter.bot_pauses) == (1, 0)


def test_several_chats_told_to_wait_at_once_pause_the_whole_bot() -> None:
    async def main() -> tuple[list[float], KarcisRateLimiter]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        for chat in (A, B, C):
            telegram.flood[chat] = [4]
        flooded = [asyncio.create_task(send(limiter, telegram, chat, "x")) for chat in (A, B, C)]
        await asyncio.sleep(0.2)
        await send(limiter, telegram, D, "d")
        await asyncio.gather(*flooded)
        return telegram.times("d"), limiter

    d, limiter = run_virtual(main())
    assert d[0] >= 4.0                     # D was never told to wait, but the bot as a whole was
    assert limiter.bot_pauses == 1


def test_a_wait_past_the_cap_raises_at_once_instead_of_sleeping() -> None:
    async def main() -> tuple[float, float, KarcisRateLimiter]:
        limiter, telegram = KarcisRateLimiter(max_wait=30), Telegram()
        telegram.flood[A] = [90]
        loop = asyncio.get_running_loop()
        with pytest.raises(RetryAfter) as raised:
            await send(limiter, telegram, A, "photo", endpoint="sendPhoto")
        told = retry_seconds(raised.value)
        # the next call to A is refused straight away too (A's flood wait is still on), without sleeping
        with pytest.raises(RetryAfter):
            await send(limiter, telegram, A, "again")
        return loop.time(), told, limiter

    elapsed, told, limiter = run_virtual(main())
    assert elapsed == 0.0
    assert told == 90
    assert limiter.refused == 2


def test_a_call_that_would_queue_past_the_cap_raises_after_the_cap() -> None:
    async def main() -> tuple[list[float], float, list[str]]:
        limiter, telegram = KarcisRateLimiter(bot_rate=1.0, max_wait=5.5), Telegram()
        loop = asyncio.get_running_loop()
        with sending_as(Priority.STAFF):
            earlier = [asyncio.create_task(send(limiter, telegram, 600 + i, "earlier")) for i in range(7)]
            await asyncio.sleep(0)
            with pytest.raises(RetryAfter):
                await send(limiter, telegram, 700, "late")  # its turn would come at t = 7
        refused_at = loop.time()
        await asyncio.gather(*earlier, return_exceptions=True)
        return telegram.times("late"), refused_at, telegram.order()

    late, refused_at, order = run_virtual(main())
    assert late == []                  # never sent: it stays owed, and the delivery job retries it
    assert refused_at == 5.5
    assert order.count("earlier") == 6  # at t = 0 … 5; the seventh's turn (t = 6) was past the cap too


def test_calls_without_a_chat_are_not_paced() -> None:
    async def main() -> list[float]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        await asyncio.gather(*(send(limiter, telegram, None, "answer", endpoint="answerCallbackQuery")
                               for _ in range(50)))
        return telegram.times()

    assert run_virtual(main()) == [0.0] * 50


def test_groups_get_twenty_a_minute() -> None:
    async def main() -> list[float]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        await asyncio.gather(*(send(limiter, telegram, -100123, "g") for _ in range(5)))
        return telegram.times()

    assert run_virtual(main()) == [0.0, round(1 / 28, 4), round(2 / 28, 4), 3.0, 6.0]


def test_among_replies_the_conversation_that_began_first_goes_first() -> None:
    async def main() -> list[str]:
        limiter, telegram = KarcisRateLimiter(bot_rate=1.0), Telegram()
        tasks = []
        for rank, tag in ((7, "late buyer"), (3, "early buyer"), (5, "middle buyer")):
            with sending_as(Priority.REPLY, rank):
                tasks.append(asyncio.create_task(send(limiter, telegram, 800 + rank, tag)))
        await asyncio.gather(*tasks)
        return telegram.order()

    # the first call found the bot idle and went at once; the rest by the rank of their conversation
    assert run_virtual(main()) == ["late buyer", "early buyer", "middle buyer"]


def test_a_reply_waits_its_turn_longer_than_a_delivery_may() -> None:
    async def main() -> tuple[list[float], list[float]]:
        limiter, telegram = KarcisRateLimiter(bot_rate=1.0, max_wait=5, reply_max_wait=100), Telegram()
        with sending_as(Priority.REPLY):
            replies = [asyncio.create_task(send(limiter, telegram, 900 + i, "reply")) for i in range(20)]
        await asyncio.gather(*replies)
        return telegram.times("reply"), []

    times, _ = run_virtual(main())
    assert times[-1] == 19.0  # every reply went, in turn, past the 5 s a delivered message may wait


def test_the_notifier_does_not_sleep_through_what_the_limiter_refused() -> None:
    from handlers.telegram.notifier import MAX_WAIT_SECONDS as NOTIFIER_MAX_WAIT
    from handlers.telegram.notifier import TelegramNotifier
    from handlers.telegram.rate_limit import MAX_WAIT_SECONDS

    async def main() -> tuple[float, int]:
        limiter, telegram = KarcisRateLimiter(), Telegram()
        telegram.flood[A] = [20, 20]
        notifier = TelegramNotifier(None, None)  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        with sending_as(Priority.BUYER), pytest.raises(RetryAfter):
            # a flood wait of 20 s after one of 20 s: 40 s is past the 30 s cap, so the limiter gives up at t = 20
            await notifier._call(lambda: send(limiter, telegram, A, "ticket", endpoint="sendPhoto"))
        return loop.time(), len(telegram.sent)

    assert NOTIFIER_MAX_WAIT == MAX_WAIT_SECONDS
    assert run_virtual(main()) == (20.0, 0)  # not 20 + 20 more in the notifier: the message stays owed
