"""Unverified and forged input: bounded in what it makes Karcis store and log, answered with a clear refusal, and
never a crash: a flood of forged notifications, deeply nested JSON, forged callback data, duplicate keys in the
events file."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import bson
import pytest

from bot.config import Settings
from bot.errors import EventsFileError
from bot.event_file import load_events_file
from bot.unverified import KEEP_PER_WINDOW
from storage.store import Store
from tests.conftest import FakeClock
from tests.payment_stack import PaymentStack, payment_stack

FLOOD = 300
ORDER_ID_BYTES = 60_000


@pytest.fixture
async def stack(memory_store: Store, settings: Settings, clock: FakeClock) -> AsyncIterator[PaymentStack]:
    async with payment_stack(memory_store, settings, clock) as built:
        yield built


def forged(order_id: str) -> bytes:
    return json.dumps({"order_id": order_id, "status_code": "200", "gross_amount": "150000.00",
                       "transaction_status": "settlement", "signature_key": "0" * 128}).encode()


async def stored_log(stack: PaymentStack) -> tuple[int, int]:
    rows = [raw async for raw in stack.services.store.db["payment_log"].find({})]
    return len(rows), sum(len(bson.encode(row)) for row in rows)


async def test_a_flood_of_forged_notifications_keeps_little_and_logs_little(
    stack: PaymentStack, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    payments = stack.services.payments
    for n in range(FLOOD):
        body = forged(f"KRC-{n}-" + "A" * ORDER_ID_BYTES)
        assert (await payments.handle_notification(body)).http_status == 401
    rows, stored = await stored_log(stack)
    logged = sum(len(r.getMessage()) for r in caplog.records)
    # the first KEEP_PER_WINDOW kept (bounded), the rest counted in one summary per window
    assert rows == KEEP_PER_WINDOW + 1
    [summary] = await stack.services.store.payment_log.unverified_summaries()
    assert summary["count"] == FLOOD and summary["outcomes"] == {"forged": FLOOD}
    assert summary["bytes"] >= FLOOD * ORDER_ID_BYTES
    assert stored < KEEP_PER_WINDOW * 4_000  # not FLOOD × 60 KB
    assert logged < FLOOD * 400  # not FLOOD × 60 KB per line
    stack.clock.advance(minutes=11)  # a new window keeps new rows again
    await payments.handle_notification(forged("KRC-next"))
    assert (await stored_log(stack))[0] == KEEP_PER_WINDOW + 3


async def test_a_newline_in_an_order_id_cannot_forge_a_log_line(
    stack: PaymentStack, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await stack.services.payments.handle_notification(forged("KRC-1\nERROR karcis: admin password is hunter2"))
    for record in caplog.records:
        assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    assert any("KRC-1\\nERROR" in r.getMessage() for r in caplog.records)


async def test_deeply_nested_json_is_400_and_recorded(stack: PaymentStack) -> None:
    import aiohttp

    body = b'{"order_id": "KRC-x", "a": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"
    assert len(body) < 64 * 1024
    async with aiohttp.ClientSession() as session, session.post(
        stack.notification_url, data=body, headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=10),
    ) as response:
        assert response.status == 400
    [entry] = [raw async for raw in stack.services.store.db["payment_log"].find({"outcome": "bad_request"})]
    assert entry["http_status"] == 400 and entry["raw_bytes"] == len(body) and len(entry["raw"]) <= 2048


@pytest.mark.parametrize("data", ["l|²", "mt|³", "l|" + "9" * 40, "op|\u202e", "c|jazz-senja-2026|EARLY:²"])
async def test_forged_callback_data_gets_a_harmless_answer(
    kit, data: str, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001 - fixture
) -> None:
    from bot.sandbox.telegram import MessageRecord
    from tests.conftest import BUYER_ID

    [welcome, *_] = await kit.say(BUYER_ID, "/start")
    # a modified client sends callback data that no button carried
    monkeypatch.setattr(MessageRecord, "callback_data", lambda self: [data])
    await kit.answer_to(BUYER_ID, welcome, data)  # answered (it asserts so), and not with the generic error
    kit.check_clean()


def test_duplicate_keys_in_the_events_file_are_refused_naming_key_and_line(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(
        "events:\n"
        "  - id: malam-puisi\n"
        "    title: Malam Puisi\n"
        "    venue: Kafe Sastra\n"
        "    starts_at: 2026-12-20T19:00:00+07:00\n"
        "    ends_at: 2026-12-20T22:00:00+07:00\n"
        "    tiers:\n"
        "      - {code: GA, name: General, price: 50000, capacity: 40}\n"
        "      - code: VIP\n"
        "        name: VIP\n"
        "        price: 90000\n"
        "        capacity: 10\n"
        "        capacity: 1000\n",
        encoding="utf-8",
    )
    with pytest.raises(EventsFileError, match=r"'capacity' appears twice .* line 13, and first at line 12"):
        load_events_file(path)
    path.write_text("events: []\nevents: []\n", encoding="utf-8")
    with pytest.raises(EventsFileError, match=r"'events' appears twice"):
        load_events_file(path)
