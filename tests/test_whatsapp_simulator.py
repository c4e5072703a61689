"""The WhatsApp Cloud API simulator, over HTTP as the WhatsApp door will call it, with a real webhook receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from bot.sandbox.whatsapp import (
    DEFAULT_APP_SECRET,
    FakeWhatsApp,
    SandboxError,
    WebhookVerificationError,
)
from tests.conftest import FakeClock

AYU = "+6281234567890"
AYU_ID = "6281234567890"
BUDI = "+6281298765432"
VERIFY_TOKEN = "karcis-verify"


class BotEndpoint:
    """Stands in for the door's webhook: answers the handshake, records every POST (raw body and headers)."""

    def __init__(self) -> None:
        self.gets: list[dict[str, str]] = []
        self.posts: list[tuple[bytes, dict[str, str]]] = []
        self.answers: deque[int] = deque()  # statuses to answer the next POSTs with (default 200)
        self.echo_challenge = True

    async def get(self, request: web.Request) -> web.Response:
        self.gets.append(dict(request.query))
        if request.query.get("hub.verify_token") == VERIFY_TOKEN and self.echo_challenge:
            return web.Response(text=request.query["hub.challenge"])
        return web.Response(status=403)

    async def post(self, request: web.Request) -> web.Response:
        self.posts.append((await request.read(), dict(request.headers)))
        return web.Response(status=self.answers.popleft() if self.answers else 200)

    def values(self) -> list[dict[str, Any]]:
        return [json.loads(body)["entry"][0]["changes"][0]["value"] for body, _ in self.posts]

    def messages(self) -> list[dict[str, Any]]:
        return [m for v in self.values() for m in v.get("messages", [])]

    def statuses(self, wamid: str) -> list[dict[str, Any]]:
        return [s for v in self.values() for s in v.get("statuses", []) if s["id"] == wamid]


@pytest.fixture
async def bot() -> AsyncIterator[tuple[BotEndpoint, str]]:
    endpoint = BotEndpoint()
    app = web.Application()
    app.router.add_get("/webhook", endpoint.get)
    app.router.add_post("/webhook", endpoint.post)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield endpoint, str(server.make_url("/webhook"))
    finally:
        await server.close()


@pytest.fixture
async def wa(clock: FakeClock, bot: tuple[BotEndpoint, str]) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(clock=clock, webhook_retry_delay=0.01) as fake:
        await fake.configure_webhook(bot[1], VERIFY_TOKEN)
        fake.add_user(AYU, "Ayu")
        fake.add_user(BUDI, "Budi")
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Graph:
    """What the door does: JSON to the Graph API with the Bearer token."""

    def __init__(self, wa: FakeWhatsApp, http: aiohttp.ClientSession) -> None:
        self.wa, self.http = wa, http

    async def send(self, payload: dict[str, Any], *, token: str | None = None,
                   phone_number_id: str | None = None) -> tuple[int, dict[str, Any]]:
        url = f"{self.wa.graph_url}/{phone_number_id or self.wa.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {token or self.wa.access_token}"}
        async with self.http.post(url, json={"messaging_product": "whatsapp", **payload}, headers=headers) as r:
            return r.status, await r.json()

    async def text(self, to: str, body: str) -> tuple[int, dict[str, Any]]:
        return await self.send({"to": to, "type": "text", "text": {"body": body}})

    async def interactive(self, to: str, interactive: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return await self.send({"recipient_type": "individual", "to": to, "type": "interactive",
                                "interactive": interactive})

    async def upload(self, data: bytes, mime_type: str, *, token: str | None = None) -> tuple[int, dict[str, Any]]:
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename="file", content_type=mime_type)
        url = f"{self.wa.graph_url}/{self.wa.phone_number_id}/media"
        headers = {"Authorization": f"Bearer {token or self.wa.access_token}"}
        async with self.http.post(url, data=form, headers=headers) as r:
            return r.status, await r.json()

    async def get(self, path: str, *, token: str | None = None) -> tuple[int, Any]:
        headers = {} if token == "" else {"Authorization": f"Bearer {token or self.wa.access_token}"}
        async with self.http.get(path if path.startswith("http") else f"{self.wa.graph_url}/{path}",
                                 headers=headers) as r:
            return r.status, (await r.read() if r.content_type not in ("application/json",) else await r.json())


@pytest.fixture
def graph(wa: FakeWhatsApp, http: aiohttp.ClientSession) -> Graph:
    return Graph(wa, http)


def png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, "PNG")
    return out.getvalue()


def buttons(n: int, *, title: str = "Pilih {i}", id_: str = "b{i}") -> dict[str, Any]:
    return {"type": "button", "body": {"text": "Mau yang mana?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": id_.format(i=i), "title": title.format(i=i)}} for i in range(n)]}}


def a_list(rows_per_section: list[int], **over: Any) -> dict[str, Any]:
    sections = [{"title": f"Bagian {s}", "rows": [{"id": f"r{s}-{r}", "title": f"Tiket {r}", "description": "VIP"}
                                                   for r in range(n)]} for s, n in enumerate(rows_per_section)]
    interactive = {"type": "list", "body": {"text": "Pilih tiket"}, "action": {"button": "Lihat", "sections": sections}}
    interactive.update(over)
    return interactive


def assert_refused(status: int, body: dict[str, Any], code: int, http_status: int = 400) -> None:
    assert status == http_status, body
    assert body["error"]["code"] == code, body
    assert body["error"]["type"] == "OAuthException"
    assert body["error"]["fbtrace_id"]


# --------------------------------------------------------------------------------------------------- auth


async def test_wrong_or_missing_token_is_oauth_error_190(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    status, body = await graph.send({"to": AYU, "type": "text", "text": {"body": "hi"}}, token="EAAwrong")
    assert_refused(status, body, 190, 401)
    async with graph.http.post(f"{wa.graph_url}/{wa.phone_number_id}/messages", json={}) as r:
        assert r.status == 401 and (await r.json())["error"]["code"] == 190
    assert wa.messages_for(AYU) == []


async def test_unknown_phone_number_id_is_refused(graph: Graph) -> None:
    status, body = await graph.send({"to": AYU, "type": "text", "text": {"body": "hi"}}, phone_number_id="999")
    assert_refused(status, body, 100)
    assert body["error"]["error_subcode"] == 33


# --------------------------------------------------------------------------------------------------- text


async def test_text_success_body_and_sent_delivered_statuses(
        graph: Graph, wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    await wa.send_text(AYU, "halo")
    status, body = await graph.text("+62 812-3456-7890", "Selamat datang")
    assert status == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+62 812-3456-7890", "wa_id": AYU_ID}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert [m.text for m in wa.messages_for(AYU)] == ["Selamat datang"]
    await wa.wait_for_deliveries()
    assert [s["status"] for s in bot[0].statuses(wamid)] == ["sent", "delivered"]
    assert bot[0].statuses(wamid)[0]["recipient_id"] == AYU_ID


async def test_text_body_at_most_4096(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    assert (await graph.text(AYU, "x" * 4096))[0] == 200
    assert_refused(*await graph.text(AYU, "x" * 4097), 100)
    status, body = await graph.text(AYU, "")
    assert status == 400 and body["error"]["code"] in (100, 131009)
    assert len(wa.messages_for(AYU)) == 1


# --------------------------------------------------------------------------------------------------- interactive


async def test_reply_buttons_at_the_limits_are_accepted(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    interactive = buttons(3, title="{i}" + "t" * 19, id_="{i}" + "i" * 255)
    interactive["body"]["text"] = "b" * 1024
    interactive["header"] = {"type": "text", "text": "h" * 60}
    interactive["footer"] = {"text": "f" * 60}
    status, body = await graph.interactive(AYU, interactive)
    assert status == 200, body
    assert len(wa.messages_for(AYU)[0].buttons()) == 3


def _with(interactive: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target = interactive
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return interactive


@pytest.mark.parametrize("interactive", [
    pytest.param(buttons(4), id="four-buttons"),
    pytest.param(buttons(0), id="no-buttons"),
    pytest.param(buttons(1, title="t" * 21), id="title-21"),
    pytest.param(buttons(1, title=""), id="empty-title"),
    pytest.param(buttons(2, title="Sama"), id="duplicate-titles"),
    pytest.param(buttons(2, id_="same"), id="duplicate-ids"),
    pytest.param(buttons(1, id_="i" * 257), id="id-257"),
    pytest.param(_with(buttons(1), ("body", "text"), "b" * 1025), id="body-1025"),
    pytest.param(_with(buttons(1), ("footer",), {"text": "f" * 61}), id="footer-61"),
    pytest.param(_with(buttons(1), ("header",), {"type": "text", "text": "h" * 61}), id="header-61"),
    pytest.param(_with(buttons(1), ("body",), None), id="no-body"),
])
async def test_reply_button_limits_refused(graph: Graph, wa: FakeWhatsApp, interactive: dict[str, Any]) -> None:
    await wa.send_text(AYU, "halo")
    status, body = await graph.interactive(AYU, interactive)
    assert status == 400, body
    assert body["error"]["code"] in (100, 131008, 131009)
    assert body["error"]["error_data"]["messaging_product"] == "whatsapp"
    assert wa.all_messages_to(AYU) == []


async def test_list_at_the_limits_is_accepted(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    interactive = a_list([5, 5], header={"type": "text", "text": "h" * 60}, footer={"text": "f" * 60})
    row = interactive["action"]["sections"][0]["rows"][0]
    row.update(id="i" * 200, title="t" * 24, description="d" * 72)
    interactive["action"]["button"] = "b" * 20
    interactive["action"]["sections"][0]["title"] = "s" * 24
    status, body = await graph.interactive(AYU, interactive)
    assert status == 200, body
    assert len(wa.messages_for(AYU)[0].rows()) == 10


def _row(interactive: dict[str, Any], **fields: Any) -> dict[str, Any]:
    interactive["action"]["sections"][0]["rows"][0].update(fields)
    return interactive


@pytest.mark.parametrize("interactive", [
    pytest.param(a_list([11]), id="eleven-rows"),
    pytest.param(a_list([6, 5]), id="eleven-rows-in-two-sections"),
    pytest.param(a_list([1] * 11), id="eleven-sections"),
    pytest.param(_with(a_list([1]), ("action", "button"), "b" * 21), id="button-21"),
    pytest.param(_row(a_list([1]), title="t" * 25), id="row-title-25"),
    pytest.param(_row(a_list([1]), description="d" * 73), id="row-description-73"),
    pytest.param(_row(a_list([1]), id="i" * 201), id="row-id-201"),
    pytest.param(_row(a_list([2]), id="r0-1"), id="duplicate-row-ids"),
    pytest.param(_with(a_list([1, 1]), ("action", "sections", 1, "title"), None), id="untitled-second-section"),
    pytest.param(_with(a_list([1]), ("action", "sections", 0, "title"), "s" * 25), id="section-title-25"),
    pytest.param(_with(a_list([1]), ("action", "sections", 0, "rows"), []), id="empty-section"),
    pytest.param(a_list([1], header={"type": "image", "image": {"link": "https://x.id/a.png"}}), id="image-header"),
])
async def test_list_limits_refused(graph: Graph, wa: FakeWhatsApp, interactive: dict[str, Any]) -> None:
    await wa.send_text(AYU, "halo")
    status, body = await graph.interactive(AYU, interactive)
    assert status == 400, body
    assert body["error"]["code"] in (100, 131008, 131009)
    assert wa.all_messages_to(AYU) == []


def cta(display_text: str = "Bayar", url: str = "https://pay.example.id/x") -> dict[str, Any]:
    return {"type": "cta_url", "body": {"text": "Bayar tiketmu"},
            "action": {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}}}


async def test_cta_url(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    assert (await graph.interactive(AYU, cta("d" * 20)))[0] == 200
    assert wa.messages_for(AYU)[0].cta() == {"display_text": "d" * 20, "url": "https://pay.example.id/x"}
    for bad in (cta("d" * 21), cta(url="javascript:alert(1)"), cta(url="")):
        status, body = await graph.interactive(AYU, bad)
        assert status == 400 and body["error"]["code"] in (100, 131008, 131009), body
    assert len(wa.all_messages_to(AYU)) == 1


# --------------------------------------------------------------------------------------------------- media


async def test_upload_then_send_image_by_id_and_download(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    data = png()
    status, body = await graph.upload(data, "image/png")
    assert status == 200 and set(body) == {"id"}
    media_id = body["id"]
    status, sent = await graph.send({"to": AYU, "type": "image", "image": {"id": media_id, "caption": "c" * 1024}})
    assert status == 200, sent
    assert wa.messages_for(AYU)[0].content["id"] == media_id
    status, info = await graph.get(media_id)
    assert status == 200
    assert info["mime_type"] == "image/png" and info["id"] == media_id and info["file_size"] == str(len(data))
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    status, raw = await graph.get(info["url"])
    assert status == 200 and raw == data
    status, refused = await graph.get(info["url"], token="")
    assert status == 401 and refused["error"]["code"] == 190


async def test_image_refusals(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    _, body = await graph.upload(png(), "image/png")
    for image in ({"id": "123456"}, {"id": body["id"], "link": "https://x.id/a.png"},
                  {"id": body["id"], "caption": "c" * 1025}, {"link": "ftp://x.id/a.png"}, {}):
        status, refused = await graph.send({"to": AYU, "type": "image", "image": image})
        assert status == 400 and refused["error"]["code"] in (100, 131008, 131009), (image, refused)
    assert wa.all_messages_to(AYU) == []
    assert (await graph.send({"to": AYU, "type": "image", "image": {"link": "https://x.id/a.png"}}))[0] == 200


async def test_upload_type_and_size_limits(graph: Graph) -> None:
    assert_refused(*await graph.upload(b"GIF89a....", "image/gif"), 100)
    assert_refused(*await graph.upload(b"not a png at all", "image/png"), 131053)
    too_big = png() + b"\0" * (5 * 1024 * 1024)
    assert_refused(*await graph.upload(too_big, "image/png"), 131053)
    five_mb = png() + b"\0" * (5 * 1024 * 1024 - len(png()))
    assert (await graph.upload(five_mb, "image/png"))[0] == 200
    assert_refused(*await graph.upload(png(), "image/png", token="EAAwrong"), 190, 401)


async def test_media_url_expires_after_five_minutes_and_checks_phone_number(
        graph: Graph, wa: FakeWhatsApp, clock: FakeClock) -> None:
    _, body = await graph.upload(png(), "image/png")
    _, info = await graph.get(body["id"])
    clock.advance(minutes=5, seconds=1)
    status, refused = await graph.get(info["url"])
    assert status == 400 and refused["error"]["code"] == 100
    status, refused = await graph.get(f"{body['id']}?phone_number_id=999")
    assert status == 400 and refused["error"]["code"] == 100
    assert (await graph.get(f"{body['id']}?phone_number_id={wa.phone_number_id}"))[0] == 200


async def test_user_photo_reaches_bot_and_can_be_downloaded(
        graph: Graph, wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    data = png("blue")
    sent = await wa.send_image(AYU, data, mime_type="image/png", caption="scan")
    await wa.wait_for_deliveries()
    [message] = bot[0].messages()
    assert message["type"] == "image" and message["id"] == sent.id and message["from"] == AYU_ID
    image = message["image"]
    assert image["mime_type"] == "image/png" and image["caption"] == "scan"
    assert image["sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    _, info = await graph.get(image["id"])
    assert (await graph.get(info["url"]))[1] == data


# --------------------------------------------------------------------------------------------------- templates


async def test_templates_only_registered_ones_with_the_right_parameters(graph: Graph, wa: FakeWhatsApp) -> None:
    wa.add_template("ticket_ready", "id", "Halo {{1}}, tiket {{2}} siap.")
    wa.add_template("paused_one", "id", "x", status="PAUSED")

    def template(name: str, lang: str, *values: str) -> dict[str, Any]:
        params = [{"type": "text", "text": v} for v in values]
        return {"to": AYU, "type": "template", "template": {
            "name": name, "language": {"code": lang}, "components": [{"type": "body", "parameters": params}]}}

    assert_refused(*await graph.send(template("nope", "id", "a", "b")), 132001, 404)
    assert_refused(*await graph.send(template("ticket_ready", "en", "a", "b")), 132001, 404)
    assert_refused(*await graph.send(template("ticket_ready", "id", "a")), 132000)
    assert_refused(*await graph.send(template("paused_one", "id")), 132015)
    assert wa.all_messages_to(AYU) == []
    # Outside any window (Ayu never wrote): a template is allowed.
    status, body = await graph.send(template("ticket_ready", "id", "Ayu", "K-1"))
    assert status == 200 and body["messages"][0]["message_status"] == "accepted"
    assert [m.text for m in wa.messages_for(AYU)] == ["Halo Ayu, tiket K-1 siap."]


# --------------------------------------------------------------------------------------------------- the window


async def test_free_form_outside_the_window_fails_with_131047(
        graph: Graph, wa: FakeWhatsApp, clock: FakeClock, bot: tuple[BotEndpoint, str]) -> None:
    # Never wrote: accepted, then a `failed` status with 131047; the phone shows nothing.
    status, body = await graph.text(AYU, "promo")
    assert status == 200
    first = body["messages"][0]["id"]
    await wa.send_text(AYU, "halo")
    clock.advance(hours=23, minutes=59)
    assert (await graph.text(AYU, "still inside"))[0] == 200
    clock.advance(minutes=1)
    _, body = await graph.interactive(AYU, buttons(1))
    late = body["messages"][0]["id"]
    await wa.wait_for_deliveries()
    for wamid in (first, late):
        [failed] = bot[0].statuses(wamid)
        assert failed["status"] == "failed"
        assert failed["errors"][0]["code"] == 131047 and failed["errors"][0]["title"] == "Re-engagement message"
    assert [m.text for m in wa.messages_for(AYU)] == ["still inside"]


async def test_each_user_message_refreshes_the_window_and_templates_do_not(
        graph: Graph, wa: FakeWhatsApp, clock: FakeClock) -> None:
    wa.add_template("hello", "id", "Halo")
    await wa.send_text(AYU, "satu")
    clock.advance(hours=20)
    await wa.send_text(AYU, "dua")
    clock.advance(hours=20)
    assert (await graph.text(AYU, "ok"))[0] == 200
    assert wa.messages_for(AYU)[-1].text == "ok"
    clock.advance(hours=5)
    template = {"to": AYU, "type": "template", "template": {"name": "hello", "language": {"code": "id"}}}
    assert (await graph.send(template))[0] == 200
    await graph.text(AYU, "after template")
    assert wa.all_messages_to(AYU)[-1].status == "failed"
    assert [m.text for m in wa.messages_for(AYU)] == ["ok", "Halo"]


async def test_sync_delivery_errors_answers_131047_in_the_response(
        clock: FakeClock, http: aiohttp.ClientSession) -> None:
    async with FakeWhatsApp(clock=clock, sync_delivery_errors=True) as fake:
        fake.add_user(AYU, "Ayu")
        assert_refused(*await Graph(fake, http).text(AYU, "promo"), 131047)
        assert_refused(*await Graph(fake, http).text(BUDI, "who?"), 131026)


async def test_undeliverable_unknown_and_blocked_numbers_fail_with_131026(
        graph: Graph, wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    await wa.send_text(AYU, "halo")
    wa.block(AYU)
    _, blocked = await graph.text(AYU, "hi")
    _, stranger = await graph.text("+6289999999999", "hi")
    await wa.wait_for_deliveries()
    for body in (blocked, stranger):
        [failed] = bot[0].statuses(body["messages"][0]["id"])
        assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131026
    assert wa.messages_for(AYU) == []
    with pytest.raises(SandboxError):
        await wa.send_text(AYU, "I blocked you")


# --------------------------------------------------------------------------------------------------- rate limits


async def test_throughput_80_per_second_then_130429(graph: Graph, wa: FakeWhatsApp, clock: FakeClock) -> None:
    numbers = [f"+62812000{i:05d}" for i in range(81)]
    for number in numbers:
        wa.add_user(number, "x", window_open=True)
    clock.advance(seconds=1)  # the users' own 81 messages of "just now" no longer count
    for number in numbers[:80]:
        assert (await graph.text(number, "hi"))[0] == 200
    assert_refused(*await graph.text(numbers[80], "hi"), 130429, 429)
    clock.advance(seconds=1)
    assert (await graph.text(numbers[80], "hi"))[0] == 200


async def test_pair_rate_limit_131056(graph: Graph, wa: FakeWhatsApp, clock: FakeClock) -> None:
    await wa.send_text(AYU, "halo")
    for i in range(45):
        clock.advance(seconds=0.05)  # stay under the 80/s throughput
        assert (await graph.text(AYU, f"{i}"))[0] == 200
    assert_refused(*await graph.text(AYU, "one too many"), 131056)
    assert (await graph.text(BUDI, "someone else"))[0] == 200  # other pairs unaffected
    clock.advance(seconds=6)
    assert (await graph.text(AYU, "after 6 s"))[0] == 200


async def test_injected_rate_limit(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    wa.inject_error(130429, count=2)
    assert_refused(*await graph.text(AYU, "a"), 130429, 429)
    assert_refused(*await graph.text(AYU, "b"), 130429, 429)
    assert (await graph.text(AYU, "c"))[0] == 200
    assert [m.text for m in wa.messages_for(AYU)] == ["c"]


# --------------------------------------------------------------------------------------------------- mark as read


async def test_mark_as_read(graph: Graph, wa: FakeWhatsApp) -> None:
    first = await wa.send_text(AYU, "satu")
    second = await wa.send_text(AYU, "dua")
    status, body = await graph.send({"status": "read", "message_id": second.id})
    assert (status, body) == (200, {"success": True})
    assert first.read_by_business and second.read_by_business
    _, sent = await graph.text(AYU, "balasan")
    assert_refused(*await graph.send({"status": "read", "message_id": sent["messages"][0]["id"]}), 131009)
    assert_refused(*await graph.send({"status": "read", "message_id": "wamid.nope"}), 131009)


# --------------------------------------------------------------------------------------------------- webhooks


async def test_webhooks_are_signed_and_shaped_like_meta(wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    sent = await wa.send_text(AYU, "halo")
    await wa.wait_for_deliveries()
    [(body, headers)] = bot[0].posts
    expected = "sha256=" + hmac.new(DEFAULT_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    assert hmac.new(b"another secret", body, hashlib.sha256).hexdigest() not in headers["X-Hub-Signature-256"]
    payload = json.loads(body)
    assert payload["object"] == "whatsapp_business_account"
    change = payload["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": wa.display_phone_number,
                                 "phone_number_id": wa.phone_number_id}
    assert value["contacts"] == [{"profile": {"name": "Ayu"}, "wa_id": AYU_ID, "user_id": wa.user(AYU).bsuid}]
    assert wa.user(AYU).bsuid.startswith("ID.")
    [message] = value["messages"]
    assert message["from"] == AYU_ID and message["id"] == sent.id and message["type"] == "text"
    assert message["text"] == {"body": "halo"} and message["timestamp"].isdigit()


async def test_handshake_before_any_delivery(clock: FakeClock, bot: tuple[BotEndpoint, str]) -> None:
    endpoint, url = bot
    async with FakeWhatsApp(clock=clock) as fake:
        fake.add_user(AYU, "Ayu")
        with pytest.raises(WebhookVerificationError):
            await fake.configure_webhook(url, "wrong-token")
        endpoint.echo_challenge = False
        with pytest.raises(WebhookVerificationError):
            await fake.configure_webhook(url, VERIFY_TOKEN)
        await fake.send_text(AYU, "queued")
        assert fake.webhook_url is None and endpoint.posts == []
        endpoint.echo_challenge = True
        await fake.configure_webhook(url, VERIFY_TOKEN)
        await fake.wait_for_deliveries()
    assert endpoint.gets[-1]["hub.mode"] == "subscribe"
    assert endpoint.gets[-1]["hub.verify_token"] == VERIFY_TOKEN and endpoint.gets[-1]["hub.challenge"].isdigit()
    assert [m["text"]["body"] for m in endpoint.messages()] == ["queued"]


async def test_redelivery_is_byte_identical(wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    await wa.send_text(AYU, "sekali")
    await wa.wait_for_deliveries()
    await wa.redeliver()
    await wa.wait_for_deliveries()
    (first, h1), (second, h2) = bot[0].posts
    assert first == second and h1["X-Hub-Signature-256"] == h2["X-Hub-Signature-256"]


async def test_out_of_order_delivery_and_retries(wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    wa.pause_deliveries()
    await wa.send_text(AYU, "satu")
    await wa.send_text(AYU, "dua")
    await wa.resume_deliveries(reverse=True)
    await wa.wait_for_deliveries()
    assert [m["text"]["body"] for m in bot[0].messages()] == ["dua", "satu"]
    bot[0].answers.extend([500, 204])  # only 200 counts as received
    await wa.send_text(AYU, "tiga")
    await wa.wait_for_deliveries()
    assert [m["text"]["body"] for m in bot[0].messages()][-3:] == ["tiga", "tiga", "tiga"]


async def test_read_status_when_the_user_reads(graph: Graph, wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    await wa.send_text(AYU, "halo")
    _, body = await graph.text(AYU, "balasan")
    wamid = body["messages"][0]["id"]
    await wa.read(AYU)
    await wa.wait_for_deliveries()
    assert [s["status"] for s in bot[0].statuses(wamid)] == ["sent", "delivered", "read"]
    assert wa.message(wamid).status == "read"


# --------------------------------------------------------------------------------------------------- users


async def test_press_button_and_choose_row(graph: Graph, wa: FakeWhatsApp, bot: tuple[BotEndpoint, str]) -> None:
    await wa.send_text(AYU, "halo")
    _, sent = await graph.interactive(AYU, buttons(2))
    button_msg = sent["messages"][0]["id"]
    _, sent = await graph.interactive(AYU, a_list([2]))
    list_msg = sent["messages"][0]["id"]
    await wa.press_button(AYU, button_msg, "b1")
    await wa.choose_row(AYU, list_msg, "r0-1")
    with pytest.raises(SandboxError):
        await wa.press_button(AYU, button_msg, "nope")
    with pytest.raises(SandboxError):
        await wa.choose_row(AYU, button_msg, "r0-1")
    await wa.wait_for_deliveries()
    pressed, chosen = bot[0].messages()[1:]
    assert pressed["type"] == "interactive" and pressed["context"] == {"from": wa.display_phone_number,
                                                                       "id": button_msg}
    assert pressed["interactive"] == {"type": "button_reply", "button_reply": {"id": "b1", "title": "Pilih 1"}}
    assert chosen["interactive"] == {"type": "list_reply",
                                     "list_reply": {"id": "r0-1", "title": "Tiket 1", "description": "VIP"}}
    assert chosen["context"]["id"] == list_msg


async def test_wait_for_message_sees_the_reply(graph: Graph, wa: FakeWhatsApp) -> None:
    await wa.send_text(AYU, "halo")
    await graph.text(AYU, "hai Ayu")
    reply = await wa.wait_for_message(AYU)
    assert reply.text == "hai Ayu" and reply.from_bot
    with pytest.raises(TimeoutError):
        await wa.wait_for_message(AYU, after=reply.seq, timeout=0.2)


async def test_sandbox_routes(wa: FakeWhatsApp, http: aiohttp.ClientSession, graph: Graph) -> None:
    base = wa.base_url
    async with http.post(f"{base}/sandbox/users", json={"number": "+6281111111111", "name": "Citra"}) as r:
        assert r.status == 200 and (await r.json())["wa_id"] == "6281111111111"
    async with http.post(f"{base}/sandbox/users/+6281111111111/messages", json={"text": "halo"}) as r:
        assert r.status == 200
    _, sent = await graph.interactive("+6281111111111", buttons(2))
    async with http.post(f"{base}/sandbox/users/+6281111111111/replies",
                         json={"message_id": sent["messages"][0]["id"], "button_id": "b0"}) as r:
        assert r.status == 200 and (await r.json())["type"] == "button_reply"
    async with http.get(f"{base}/sandbox/users/+6281111111111/messages") as r:
        chat = (await r.json())["messages"]
    assert [m["from_bot"] for m in chat] == [False, True, False]
    assert chat[1]["buttons"] == [{"id": "b0", "title": "Pilih 0"}, {"id": "b1", "title": "Pilih 1"}]
    async with http.post(f"{base}/sandbox/users/+6289999/messages", json={"text": "x"}) as r:
        assert r.status == 404
    async with http.get(f"{base}/sandbox/users/+6281111111111/messages",
                        params={"after": str(chat[-1]["seq"]), "wait": "0.1"}) as r:
        assert (await r.json())["messages"] == []


async def test_sandbox_webhook_route_runs_the_handshake(
        wa: FakeWhatsApp, http: aiohttp.ClientSession, bot: tuple[BotEndpoint, str]) -> None:
    async with http.post(f"{wa.base_url}/sandbox/webhook", json={"url": bot[1], "verify_token": "wrong"}) as r:
        assert r.status == 502
    async with http.post(f"{wa.base_url}/sandbox/webhook", json={"url": bot[1], "verify_token": VERIFY_TOKEN}) as r:
        assert r.status == 200
    assert [g["hub.verify_token"] for g in bot[0].gets] == [VERIFY_TOKEN, "wrong", VERIFY_TOKEN]


async def test_media_delete_and_tampered_url(graph: Graph, wa: FakeWhatsApp, http: aiohttp.ClientSession) -> None:
    _, body = await graph.upload(png(), "image/png")
    _, info = await graph.get(body["id"])
    status, refused = await graph.get(info["url"].replace("hash=", "hash=0"))
    assert status == 400 and refused["error"]["code"] == 100
    async with http.delete(f"{wa.graph_url}/{body['id']}",
                           headers={"Authorization": f"Bearer {wa.access_token}"}) as r:
        assert (r.status, await r.json()) == (200, {"success": True})
    assert (await graph.get(body["id"]))[0] == 400
    assert (await graph.get(info["url"]))[0] == 400


async def test_template_filled_text_too_long_and_disabled(graph: Graph, wa: FakeWhatsApp) -> None:
    wa.add_template("long", "id", "x" * 1000 + "{{1}}")
    wa.add_template("gone", "id", "x", status="DISABLED")
    params = [{"type": "body", "parameters": [{"type": "text", "text": "y" * 25}]}]
    long = {"to": AYU, "type": "template",
            "template": {"name": "long", "language": {"code": "id"}, "components": params}}
    assert_refused(*await graph.send(long), 132005)
    gone = {"to": AYU, "type": "template", "template": {"name": "gone", "language": {"code": "id"}}}
    assert_refused(*await graph.send(gone), 132016)
    params[0]["parameters"][0]["text"] = "y" * 24
    assert (await graph.send(long))[0] == 200
