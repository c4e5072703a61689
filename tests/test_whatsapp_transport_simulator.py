"""The WhatsApp transport (client + webhook) against the Cloud API simulator (bot/sandbox/whatsapp/), both over
real HTTP: what the simulator accepts, refuses, delivers, signs and redelivers, as the door will meet it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from bot.sandbox.whatsapp import FakeWhatsApp
from handlers.whatsapp.client import (
    ListRow,
    ListSection,
    OutsideWindow,
    ReplyButton,
    TemplateRef,
    Undeliverable,
    WhatsAppClient,
)
from handlers.whatsapp.updates import InboundMessage, StatusUpdate
from storage.store import Store
from storage.whatsapp_inbox import WhatsAppInbox
from tests.conftest import FakeClock
from webhooks.whatsapp import PATH, WhatsAppWebhook

AYU = "+6281234567890"
AYU_ID = "6281234567890"
VERIFY = "karcis-verify"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(out, format="PNG")
    return out.getvalue()


@dataclass
class Transport:
    wa: FakeWhatsApp
    client: WhatsAppClient
    hook: WhatsAppWebhook
    received: list[InboundMessage]
    failed: list[StatusUpdate]

    async def settle(self) -> None:
        await self.wa.wait_for_deliveries()
        await self.hook.drain()


async def open_transport(memory_store: Store, clock: FakeClock, **sim: Any) -> AsyncIterator[Transport]:
    received: list[InboundMessage] = []
    failed: list[StatusUpdate] = []

    async def handle(message: InboundMessage) -> None:
        received.append(message)

    async def on_failed(status: StatusUpdate) -> None:
        failed.append(status)

    async with FakeWhatsApp(clock=clock, webhook_retry_delay=0.01, **sim) as wa:
        inbox = WhatsAppInbox(memory_store.db)
        await inbox.ensure_indexes()
        hook = WhatsAppWebhook(inbox, app_secret=wa.app_secret, verify_token=VERIFY, handle=handle,
                               on_failed=on_failed, phone_number_id=wa.phone_number_id, clock=clock,
                               sweep_seconds=None)
        app = web.Application()
        hook.add_routes(app)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            await wa.configure_webhook(str(server.make_url(PATH)), VERIFY)  # the handshake, through our route
            async with WhatsAppClient(access_token=wa.access_token, phone_number_id=wa.phone_number_id,
                                      base_url=wa.graph_url) as client:
                yield Transport(wa, client, hook, received, failed)
        finally:
            await server.close()


@pytest.fixture
async def t(memory_store: Store, clock: FakeClock) -> AsyncIterator[Transport]:
    async for transport in open_transport(memory_store, clock):
        yield transport


async def test_a_conversation_round_trip(t: Transport) -> None:
    t.wa.add_user(AYU, "Ayu")
    await t.wa.send_text(AYU, "halo")
    await t.settle()
    [hello] = t.received
    assert (hello.kind, hello.wa_id, hello.profile_name, hello.text) == ("text", AYU_ID, "Ayu", "halo")
    assert hello.user_id  # the business-scoped id the simulator sends beside wa_id
    await t.client.mark_read(hello.id)

    sent = await t.client.send_buttons(hello.wa_id, "Pilih tiket", [ReplyButton("tier:REG", "Regular"),
                                                                     ReplyButton("tier:VIP", "VIP")])
    await t.wa.press_button(AYU, sent.message_id, "tier:VIP")
    listing = await t.client.send_list(hello.wa_id, "Acara", "Lihat acara", [ListSection(
        [ListRow(f"event:{i}", f"Acara {i}", "Sabtu 20:00 WIB") for i in range(10)])])
    await t.wa.choose_row(AYU, listing.message_id, "event:7")
    await t.client.send_cta_url(hello.wa_id, "Bayar pesanan K-1", "Bayar", "https://app.sandbox.midtrans.com/x")
    media_id = await t.client.upload_image(png())
    await t.client.send_image(hello.wa_id, media_id, caption="Tiket 1/1")
    await t.settle()
    button, row = t.received[1:]
    assert (button.kind, button.reply_id, button.context_id) == ("button_reply", "tier:VIP", sent.message_id)
    assert (row.kind, row.reply_id, row.reply_description) == ("list_reply", "event:7", "Sabtu 20:00 WIB")
    assert [m.type for m in t.wa.messages_for(AYU) if m.from_bot] == ["interactive", "interactive", "interactive",
                                                                       "image"]


async def test_a_photo_the_person_sent_is_downloaded(t: Transport) -> None:
    t.wa.add_user(AYU, "Ayu")
    picture = png()
    await t.wa.send_image(AYU, picture, mime_type="image/png", caption="scan")
    await t.settle()
    [photo] = t.received
    assert photo.kind == "image" and photo.media_id
    media = await t.client.download_media(photo.media_id)
    assert media.content == picture and media.mime_type == "image/png"


async def test_a_redelivery_is_handled_once(t: Transport) -> None:
    t.wa.add_user(AYU, "Ayu")
    await t.wa.send_text(AYU, "sekali")
    await t.settle()
    await t.wa.redeliver()  # byte-identical, same signature
    await t.settle()
    assert [m.text for m in t.received] == ["sekali"]
    assert t.hook.counts["duplicates"] == 1


async def test_outside_the_window_fails_by_status_and_reaches_on_failed(t: Transport) -> None:
    t.wa.add_user(AYU, "Ayu", window_open=False)
    sent = await t.client.send_text(AYU_ID, "pembayaran diterima")  # accepted, then a failed status (131047)
    await t.settle()
    assert [(f.message_id, [e.code for e in f.errors]) for f in t.failed] == [(sent.message_id, [131047])]
    t.wa.add_template("karcis_notice", "id", "Karcis: {{1}}")
    await t.client.send_template(AYU_ID, TemplateRef("karcis_notice", "id"), ["Pembayaran K-1 diterima"])
    await t.settle()
    assert t.wa.messages_for(AYU)[-1].text == "Karcis: Pembayaran K-1 diterima"


async def test_a_rate_limit_hit_is_retried(t: Transport) -> None:
    t.wa.add_user(AYU, "Ayu", window_open=True)
    t.wa.inject_error(130429, count=2)
    sent = await t.client.send_text(AYU_ID, "tetap sampai")
    assert sent.message_id.startswith("wamid.")
    assert t.wa.messages_for(AYU)[-1].text == "tetap sampai"


async def test_synchronous_delivery_errors_are_typed(memory_store: Store, clock: FakeClock) -> None:
    async for t in open_transport(memory_store, clock, sync_delivery_errors=True):
        t.wa.add_user(AYU, "Ayu", window_open=False)
        with pytest.raises(OutsideWindow):
            await t.client.send_text(AYU_ID, "late")
        t.wa.add_user("+6281298765432", "Budi", window_open=True)
        t.wa.block("+6281298765432")
        with pytest.raises(Undeliverable):
            await t.client.send_text("6281298765432", "blocked")
