"""The WhatsApp webhook: the verification handshake, signed updates only, bounded bodies, each message handled
once (durably, across restarts), nothing lost between the 200 and the handling, statuses recorded and failed
ones handed on, and the parsing of Meta's payload."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pymongo.errors import ServerSelectionTimeoutError

import webhooks.whatsapp as wa_webhook
from handlers.whatsapp.updates import InboundMessage, StatusUpdate, parse_message, raw_messages, values
from storage.store import Store
from storage.whatsapp_inbox import WhatsAppInbox
from tests.conftest import FakeClock
from webhooks.whatsapp import PATH, WhatsAppWebhook, signature

APP_SECRET = "app-secret-5b1f0c9e"
VERIFY_TOKEN = "verify-token-7c2d"
PHONE_ID = "106540352242922"
BUYER = "6281234567890"


def message(msg_id: str, kind: str = "text", sender: str = BUYER, **content: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"from": sender, "id": msg_id, "timestamp": "1764558000", "type": kind}
    body.update(content or {"text": {"body": "halo"}})
    return body


def update(messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
           phone_number_id: str = PHONE_ID, name: str = "Sinta") -> dict[str, Any]:
    """A webhook POST body as Meta's webhooks reference shows it."""
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id}}
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": m["from"]} for m in messages]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def status(msg_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"id": msg_id, "status": state, "timestamp": "1764558001", "recipient_id": BUYER} | extra


class Recorder:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.failed: list[StatusUpdate] = []
        self.fail_next = 0
        self.block: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def handle(self, message: InboundMessage) -> None:
        self.entered.set()
        if self.block is not None:
            await self.block.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("door bug")
        self.messages.append(message)

    async def on_failed(self, status: StatusUpdate) -> None:
        self.failed.append(status)


Open = Callable[..., Awaitable[tuple[TestClient, WhatsAppWebhook]]]


@pytest.fixture
async def open_webhook(memory_store: Store, clock: FakeClock) -> AsyncIterator[Open]:
    """Start a webhook (over `store=`, the in-memory store by default) behind a real aiohttp server."""
    clients: list[TestClient] = []

    async def start(recorder: Recorder, *, store: Store | None = None, **options: Any) -> tuple[TestClient,
                                                                                                  WhatsAppWebhook]:
        inbox = WhatsAppInbox((store or memory_store).db)
        await inbox.ensure_indexes()
        hook = WhatsAppWebhook(inbox, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, handle=recorder.handle,
                               on_failed=recorder.on_failed, phone_number_id=PHONE_ID, clock=clock,
                               sweep_seconds=None, **options)
        app = web.Application()
        hook.add_routes(app)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client, hook

    yield start
    for client in clients:
        await client.close()


async def post(client: TestClient, payload: Any, *, secret: str = APP_SECRET, sign: bool = True,
               raw: bytes | None = None) -> int:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["X-Hub-Signature-256"] = signature(secret, body)
    response = await client.post(PATH, data=body, headers=headers)
    return response.status


# ---------------------------------------------------------------- the handshake


async def test_handshake_with_the_right_token_echoes_the_challenge(open_webhook: Open) -> None:
    client, _ = await open_webhook(Recorder())
    response = await client.get(PATH, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                              "hub.challenge": "1158201444"})
    assert response.status == 200 and await response.text() == "1158201444"
    assert response.content_type == "text/plain"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
])
async def test_handshake_with_a_wrong_token_or_mode_is_forbidden(open_webhook: Open, params: dict[str, str]) -> None:
    client, hook = await open_webhook(Recorder())
    response = await client.get(PATH, params=params)
    assert response.status == 403 and "1" not in await response.text()
    assert hook.refusals == {"handshake": 1}


# ---------------------------------------------------------------- signatures and bounds


async def test_a_signed_message_is_answered_200_and_handled(open_webhook: Open) -> None:
    recorder = Recorder()
    client, hook = await open_webhook(recorder)
    assert await post(client, update([message("wamid.A1")])) == 200
    await hook.drain()
    assert [(m.id, m.wa_id, m.profile_name, m.kind, m.text) for m in recorder.messages] == \
        [("wamid.A1", BUYER, "Sinta", "text", "halo")]


@pytest.mark.parametrize("how", ["wrong secret", "missing", "tampered"])
async def test_a_bad_or_missing_signature_is_401_and_nothing_is_stored(
    open_webhook: Open, memory_store: Store, how: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    client, hook = await open_webhook(recorder)
    body = json.dumps(update([message("wamid.F1")])).encode()
    headers = {"Content-Type": "application/json"}
    if how == "wrong secret":
        headers["X-Hub-Signature-256"] = signature("not-the-secret", body)
    elif how == "tampered":
        headers["X-Hub-Signature-256"] = signature(APP_SECRET, body)
        body = body.replace(b"halo", b"HALO")
    response = await client.post(PATH, data=body, headers=headers)
    assert response.status == 401
    await hook.drain()
    assert recorder.messages == []
    assert await memory_store.db["whatsapp_inbox"].count_documents({}) == 0
    assert hook.refusals == {"signature": 1}
    assert APP_SECRET not in caplog.text and VERIFY_TOKEN not in caplog.text


async def test_an_oversized_body_is_413(open_webhook: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wa_webhook, "MAX_BODY_BYTES", 2048)
    client, hook = await open_webhook(Recorder())
    big = update([message("wamid.B1", text={"body": "x" * 4000})])
    assert await post(client, big) == 413
    assert hook.refusals == {"too large": 1}


async def test_an_oversized_chunked_body_is_413_too(open_webhook: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wa_webhook, "MAX_BODY_BYTES", 2048)
    client, hook = await open_webhook(Recorder())

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size shows only while reading
        for _ in range(10):
            yield b" " * 1000

    response = await client.post(PATH, data=chunks(), headers={"X-Hub-Signature-256": "sha256=00"})
    assert response.status == 413
    assert hook.refusals == {"too large": 1}


async def test_signed_garbage_is_400(open_webhook: Open) -> None:
    client, hook = await open_webhook(Recorder())
    assert await post(client, None, raw=b"{not json") == 400
    assert await post(client, {"object": "page", "entry": []}) == 400
    assert hook.refusals == {"malformed": 2}


async def test_updates_for_another_phone_number_are_ignored(open_webhook: Open) -> None:
    recorder = Recorder()
    client, hook = await open_webhook(recorder)
    assert await post(client, update([message("wamid.O1")], phone_number_id="999")) == 200
    await hook.drain()
    assert recorder.messages == []


async def test_database_down_is_503_so_meta_delivers_again(open_webhook: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    client, hook = await open_webhook(Recorder())

    async def down(*args: Any, **kwargs: Any) -> bool:
        raise ServerSelectionTimeoutError("no server")

    monkeypatch.setattr(WhatsAppInbox, "receive", down)
    assert await post(client, update([message("wamid.D1")])) == 503


# ---------------------------------------------------------------- once, and nothing lost


async def test_a_redelivered_message_is_handled_once_even_after_a_restart(
    open_webhook: Open, store: Store,
) -> None:
    recorder = Recorder()
    client, hook = await open_webhook(recorder, store=store)
    body = update([message("wamid.R1")])
    assert await post(client, body) == 200
    assert await post(client, body) == 200  # Meta redelivers the same message id
    await hook.drain()
    assert [m.id for m in recorder.messages] == ["wamid.R1"]
    assert hook.counts["duplicates"] == 1
    await hook.stop()

    restarted = Recorder()
    client2, hook2 = await open_webhook(restarted, store=store)  # a new process over the same database
    assert await post(client2, body) == 200
    await hook2.drain()
    assert restarted.messages == []


async def test_a_crash_between_the_200_and_the_handling_is_replayed_at_start(
    open_webhook: Open, store: Store, clock: FakeClock,
) -> None:
    crashing = Recorder()
    crashing.block = asyncio.Event()  # the handler never finishes: the process dies while handling
    client, hook = await open_webhook(crashing, store=store)
    assert await post(client, update([message("wamid.C1"), message("wamid.C2", sender="6285700000001")])) == 200
    await asyncio.wait_for(crashing.entered.wait(), 10)
    await hook.stop()  # the crash: workers gone, nothing marked handled
    assert crashing.messages == []

    clock.now += wa_webhook.LEASE + timedelta(seconds=1)  # the dead process's lease runs out
    replayed = Recorder()
    _, hook2 = await open_webhook(replayed, store=store)
    await hook2.drain()
    assert sorted(m.id for m in replayed.messages) == ["wamid.C1", "wamid.C2"]
    inbox = WhatsAppInbox(store.db)
    assert await inbox.state("wamid.C1") == "handled"
    doc = await store.db["whatsapp_inbox"].find_one({"_id": "wamid.C1"})
    assert "raw" not in doc and doc["expire_at"] is not None  # the raw update is gone once handled


async def test_a_failing_handler_is_retried_later_then_given_up(
    open_webhook: Open, memory_store: Store, clock: FakeClock,
) -> None:
    recorder = Recorder()
    recorder.fail_next = 1
    client, hook = await open_webhook(recorder, max_attempts=2)
    assert await post(client, update([message("wamid.H1")])) == 200
    await hook.drain()
    assert recorder.messages == []
    assert await hook.sweep() == 0  # not before its retry time
    clock.now += timedelta(minutes=5)
    assert await hook.sweep() == 1
    await hook.drain()
    assert [m.id for m in recorder.messages] == ["wamid.H1"]

    recorder.fail_next = 5
    assert await post(client, update([message("wamid.H2")])) == 200
    await hook.drain()
    clock.now += timedelta(minutes=5)
    await hook.sweep()
    await hook.drain()
    assert hook.counts["gave_up"] == 1
    assert await WhatsAppInbox(memory_store.db).state("wamid.H2") == "failed"


async def test_one_persons_messages_are_handled_in_order(open_webhook: Open) -> None:
    recorder = Recorder()
    client, hook = await open_webhook(recorder)
    ids = [f"wamid.O{i}" for i in range(6)]
    assert await post(client, update([message(i) for i in ids])) == 200
    await hook.drain()
    assert [m.id for m in recorder.messages] == ids


# ---------------------------------------------------------------- statuses


async def test_statuses_are_recorded_and_a_failed_one_is_handed_on_once(open_webhook: Open, store: Store) -> None:
    recorder = Recorder()
    client, hook = await open_webhook(recorder, store=store)
    failed = status("wamid.OUT1", "failed", errors=[{"code": 131047, "title": "Re-engagement message"}])
    for body in (update(statuses=[status("wamid.OUT1", "sent")]),
                 update(statuses=[status("wamid.OUT1", "delivered"), failed]),
                 update(statuses=[failed])):  # redelivered
        assert await post(client, body) == 200
    await hook.drain()
    recorded = await WhatsAppInbox(store.db).status_of("wamid.OUT1")
    assert recorded is not None and recorded["status"] == "failed"
    assert [h["status"] for h in recorded["history"]] == ["sent", "delivered", "failed", "failed"]
    assert recorded["errors"] == [{"code": 131047, "title": "Re-engagement message"}]
    assert [(f.message_id, f.recipient, [e.code for e in f.errors]) for f in recorder.failed] == \
        [("wamid.OUT1", BUYER, [131047])]


async def test_status_history_is_bounded(open_webhook: Open, memory_store: Store) -> None:
    client, hook = await open_webhook(Recorder())
    for _ in range(20):
        assert await post(client, update(statuses=[status("wamid.OUT2", "read")])) == 200
    recorded = await WhatsAppInbox(memory_store.db).status_of("wamid.OUT2")
    assert recorded is not None and len(recorded["history"]) == 8


# ---------------------------------------------------------------- parsing Meta's payload


def parsed(*messages: dict[str, Any]) -> list[InboundMessage | None]:
    return [parse_message(m) for v in values(update(list(messages)), PHONE_ID) for m in raw_messages(v)]


def test_each_kind_of_message_is_parsed() -> None:
    text, button, row, image, template_button, sticker = parsed(
        message("wamid.1"),
        message("wamid.2", "interactive", context={"from": "15550783881", "id": "wamid.OURS"},
                interactive={"type": "button_reply", "button_reply": {"id": "tier:VIP", "title": "VIP"}}),
        message("wamid.3", "interactive", interactive={"type": "list_reply", "list_reply": {
            "id": "event:jazz", "title": "Jazz Night", "description": "Sat 20:00"}}),
        message("wamid.4", "image", image={"id": "1013859600285441", "mime_type": "image/jpeg", "sha256": "x",
                                           "caption": "scan this"}),
        message("wamid.5", "button", button={"payload": "tickets:K-1", "text": "Lihat tiket"}),
        message("wamid.6", "sticker", sticker={"id": "55"}),
    )
    assert text is not None and text.kind == "text" and text.timestamp.year == 2025
    assert button is not None and (button.kind, button.reply_id, button.reply_title, button.context_id) == \
        ("button_reply", "tier:VIP", "VIP", "wamid.OURS")
    assert row is not None and (row.kind, row.reply_id, row.reply_description) == \
        ("list_reply", "event:jazz", "Sat 20:00")
    assert image is not None and (image.kind, image.media_id, image.text) == ("image", "1013859600285441",
                                                                              "scan this")
    assert template_button is not None and (template_button.kind, template_button.reply_id) == \
        ("button_reply", "tickets:K-1")
    assert sticker is not None and (sticker.kind, sticker.original_type) == ("other", "sticker")


def test_parsing_is_defensive_and_bounded() -> None:
    long_text, no_sender, bad_time, not_a_dict_body = parsed(
        message("wamid.L", text={"body": "x" * 10_000}),
        message("wamid.N", sender="not-a-number"),
        {"from": BUYER, "id": "wamid.T", "timestamp": "yesterday", "type": "text", "text": {"body": "hi"}},
        message("wamid.X", text=["not", "a", "dict"]),
    )
    assert long_text is not None and len(long_text.text or "") == 4096
    assert no_sender is None and bad_time is None
    assert not_a_dict_body is not None and not_a_dict_body.kind == "other"
    assert list(values({"object": "whatsapp_business_account", "entry": "nope"})) == []
    assert list(values([1, 2, 3])) == []


async def test_an_unusable_message_is_counted_not_stored(open_webhook: Open, memory_store: Store) -> None:
    client, hook = await open_webhook(Recorder())
    assert await post(client, update([message("wamid.U", sender="not-a-number")])) == 200
    assert await memory_store.db["whatsapp_inbox"].count_documents({}) == 0
    assert hook.refusals == {"unusable message": 1}
