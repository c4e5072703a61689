"""The WhatsApp Cloud API client against a small local stub of the Graph API (no internet): limits refused before
sending, retries on 429/5xx/130429 bounded in count and time, Meta's error codes as typed errors, timeouts, media
upload and download, and the access token kept out of logs and errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.config import Settings
from bot.notifications import Undeliverable as DomainUndeliverable
from handlers.whatsapp.client import (
    LimitExceeded,
    ListRow,
    ListSection,
    MediaTooLarge,
    OutsideWindow,
    ReplyButton,
    TemplateRef,
    Undeliverable,
    WhatsAppClient,
    WhatsAppRefused,
    WhatsAppUnavailable,
    buttons_payload,
    client_from_settings,
    list_payload,
    templates_from_settings,
)

TOKEN = "EAAG-test-token-9f8e7d6c5b4a"
PHONE_ID = "106540352242922"
BUYER = "6281234567890"


def meta_error(code: int, message: str, details: str = "") -> dict[str, Any]:
    """Meta's error body (support/error-codes; Graph API error handling)."""
    return {"error": {"message": f"(#{code}) {message}", "type": "OAuthException", "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": details},
                      "fbtrace_id": "AbCdEf"}}


@dataclass
class GraphStub:
    """The part of the Graph API the client uses. `script` holds answers to give, in order, before succeeding."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    stall: asyncio.Event | None = None  # set: requests hang until the event is set
    media_bytes: bytes = b"\x89PNG-photo-of-a-qr"
    media_url: str | None = None
    base: str = ""

    async def messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"), "json": body})
        if self.stall is not None:
            await self.stall.wait()
        if self.script:
            status, answer = self.script.pop(0)
            return web.json_response(answer, status=status)
        if body.get("status") == "read":
            return web.json_response({"success": True})
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                  "messages": [{"id": f"wamid.{len(self.requests)}"}]})

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        file = form["file"]
        self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"),
                              "form": {"messaging_product": form["messaging_product"], "type": form["type"],
                                       "bytes": file.file.read(), "content_type": file.content_type}})  # type: ignore[union-attr]
        return web.json_response({"id": "4490709327384033"})

    async def media(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "auth": request.headers.get("Authorization")})
        url = self.media_url or f"{self.base}/lookaside/{request.match_info['media_id']}?hash=x"
        return web.json_response({"messaging_product": "whatsapp", "url": url, "mime_type": "image/jpeg",
                                  "sha256": "00", "file_size": len(self.media_bytes),
                                  "id": request.match_info["media_id"]})

    async def lookaside(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "auth": request.headers.get("Authorization")})
        return web.Response(body=self.media_bytes, content_type="image/jpeg")


@pytest.fixture
async def graph() -> AsyncIterator[GraphStub]:
    stub = GraphStub()
    app = web.Application()
    app.router.add_post("/v26.0/{phone}/messages", stub.messages)
    app.router.add_post("/v26.0/{phone}/media", stub.upload)
    app.router.add_get("/v26.0/{media_id}", stub.media)
    app.router.add_get("/lookaside/{media_id}", stub.lookaside)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stub.base = f"http://127.0.0.1:{port}"
    try:
        yield stub
    finally:
        if stub.stall is not None:
            stub.stall.set()
        await runner.cleanup()


@dataclass
class Sleeps:
    """Backoff waits recorded instead of slept, with a clock that moves by them (no test waits)."""

    waits: list[float] = field(default_factory=list)
    now: float = 0.0

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def make_client(graph: GraphStub, sleeps: Sleeps | None = None, **options: Any) -> WhatsAppClient:
    sleeps = sleeps or Sleeps()
    return WhatsAppClient(access_token=TOKEN, phone_number_id=PHONE_ID, base_url=f"{graph.base}/v26.0",
                          sleep=sleeps, monotonic=sleeps.monotonic, **options)


# ---------------------------------------------------------------- limits, before anything is sent


def _buttons(n: int, size: int = 5) -> list[ReplyButton]:
    return [ReplyButton(id=f"b{i}", title=f"{i}".ljust(size, "x")) for i in range(n)]


def _rows(n: int, title: int = 5, description: int | None = None) -> list[ListRow]:
    return [ListRow(id=f"r{i}", title=f"{i}".ljust(title, "x"),
                    description=None if description is None else "d" * description) for i in range(n)]


REFUSED: list[tuple[str, Any]] = [
    ("text body", lambda c: c.send_text(BUYER, "x" * 4097)),
    ("text body", lambda c: c.send_text(BUYER, "   ")),
    ("recipient", lambda c: c.send_text("08123", "hi")),
    ("reply buttons", lambda c: c.send_buttons(BUYER, "pick", _buttons(4))),
    ("reply buttons", lambda c: c.send_buttons(BUYER, "pick", [])),
    ("button title", lambda c: c.send_buttons(BUYER, "pick", _buttons(1, size=21))),
    ("button title", lambda c: c.send_buttons(BUYER, "pick", [ReplyButton("a", "Same"), ReplyButton("b", "Same")])),
    ("button id", lambda c: c.send_buttons(BUYER, "pick", [ReplyButton("x" * 257, "ok")])),
    ("button message body", lambda c: c.send_buttons(BUYER, "x" * 1025, _buttons(1))),
    ("footer text", lambda c: c.send_buttons(BUYER, "pick", _buttons(1), footer="f" * 61)),
    ("list rows", lambda c: c.send_list(BUYER, "pick", "Tiers", [ListSection(_rows(6)), ListSection(_rows(5))])),
    ("row title", lambda c: c.send_list(BUYER, "pick", "Tiers", [ListSection(_rows(1, title=25))])),
    ("row description", lambda c: c.send_list(BUYER, "pick", "Tiers", [ListSection(_rows(1, description=73))])),
    ("list button", lambda c: c.send_list(BUYER, "pick", "b" * 21, [ListSection(_rows(1))])),
    ("section title", lambda c: c.send_list(BUYER, "pick", "Tiers", [ListSection(_rows(1)), ListSection(
        [ListRow("z", "z")])])),
    ("row id", lambda c: c.send_list(BUYER, "pick", "Tiers", [ListSection([ListRow("a", "1"), ListRow("a", "2")])])),
    ("link button text", lambda c: c.send_cta_url(BUYER, "Pay", "p" * 21, "https://pay.example/x")),
    ("link url", lambda c: c.send_cta_url(BUYER, "Pay", "Pay now", "javascript:alert(1)")),
    ("image caption", lambda c: c.send_image(BUYER, "4490709327384033", caption="c" * 1025)),
    ("template parameter", lambda c: c.send_template(BUYER, TemplateRef("karcis_notice", "id"), ["two\nlines"])),
    ("template name", lambda c: c.send_template(BUYER, TemplateRef("Karcis Notice", "id"))),
    ("image type", lambda c: c.upload_image(b"GIF89a", mime_type="image/gif")),
    ("image size", lambda c: c.upload_image(b"x" * (5 * 1024 * 1024 + 1))),
]


@pytest.mark.parametrize(("limit", "call"), REFUSED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(REFUSED)])
async def test_limits_are_refused_before_anything_is_sent(graph: GraphStub, limit: str, call: Any) -> None:
    async with make_client(graph) as client:
        with pytest.raises(LimitExceeded) as refused:
            await call(client)
    assert refused.value.limit == limit
    assert graph.requests == []


async def test_messages_at_the_limits_are_sent_in_metas_shape(graph: GraphStub) -> None:
    async with make_client(graph) as client:
        await client.send_buttons(BUYER, "b" * 1024, _buttons(3, size=20), header="h" * 60, footer="f" * 60)
        await client.send_list(BUYER, "l" * 4096, "b" * 20, [
            ListSection(_rows(5, title=24, description=72), title="s" * 24),
            ListSection([ListRow(f"q{i}", "t" * 24) for i in range(5)], title="Second")])
        sent = await client.send_cta_url("+" + BUYER, "Pay for order K-1", "Bayar", "https://app.midtrans.com/x")
    buttons, listing, cta = (r["json"] for r in graph.requests)
    assert buttons["to"] == BUYER and buttons["type"] == "interactive"
    assert [b["reply"]["title"] for b in buttons["interactive"]["action"]["buttons"]] == \
        [b.title for b in _buttons(3, size=20)]
    assert buttons["interactive"]["header"] == {"type": "text", "text": "h" * 60}
    assert sum(len(s["rows"]) for s in listing["interactive"]["action"]["sections"]) == 10
    assert listing["interactive"]["action"]["sections"][0]["rows"][0]["description"] == "d" * 72
    assert cta["interactive"]["action"] == {"name": "cta_url", "parameters": {
        "display_text": "Bayar", "url": "https://app.midtrans.com/x"}}
    assert sent.message_id == "wamid.3" and sent.wa_id == BUYER
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in graph.requests)


def test_a_single_section_needs_no_title_but_several_do() -> None:
    assert "title" not in list_payload(BUYER, "x", "Pick", [ListSection(_rows(2))])["interactive"]["action"][
        "sections"][0]
    with pytest.raises(LimitExceeded):
        buttons_payload(BUYER, "x", [ReplyButton("", "ok")])


async def test_template_and_mark_read_payloads(graph: GraphStub) -> None:
    async with make_client(graph) as client:
        await client.send_template(BUYER, TemplateRef("karcis_tickets", "id"), ["Jazz Night", "K-2026-001"])
        await client.mark_read("wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABIYFDNB")
    template, read = (r["json"] for r in graph.requests)
    assert template["template"] == {"name": "karcis_tickets", "language": {"code": "id"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Jazz Night"},
                                        {"type": "text", "text": "K-2026-001"}]}]}
    assert read == {"messaging_product": "whatsapp", "status": "read",
                    "message_id": "wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABIYFDNB"}


# ---------------------------------------------------------------- retries and typed errors


async def test_rate_limit_130429_is_retried_with_backoff_then_succeeds(graph: GraphStub) -> None:
    graph.script = [(429, meta_error(130429, "Rate limit hit")), (400, meta_error(130429, "Rate limit hit")),
                    (503, {"error": {"message": "Service unavailable", "code": 2}})]
    sleeps = Sleeps()
    async with make_client(graph, sleeps) as client:
        sent = await client.send_text(BUYER, "Tiketmu siap")
    assert sent.message_id == "wamid.4"
    assert len(graph.requests) == 4
    assert len(sleeps.waits) == 3 and sleeps.waits[0] < sleeps.waits[2]  # backoff grows


async def test_retries_are_bounded_in_count(graph: GraphStub) -> None:
    graph.script = [(429, meta_error(130429, "Rate limit hit"))] * 10
    async with make_client(graph, max_attempts=3) as client:
        with pytest.raises(WhatsAppUnavailable) as gave_up:
            await client.send_text(BUYER, "hello")
    assert len(graph.requests) == 3
    assert "130429" in str(gave_up.value)


async def test_retries_are_bounded_in_time(graph: GraphStub) -> None:
    graph.script = [(500, {})] * 10
    sleeps = Sleeps()
    async with make_client(graph, sleeps, max_attempts=50, deadline=3.0, backoff=1.0) as client:
        with pytest.raises(WhatsAppUnavailable):
            await client.send_text(BUYER, "hello")
    assert sum(sleeps.waits) < 3.0
    assert len(graph.requests) < 10


async def test_outside_the_24_hour_window_is_outside_window_without_retry(graph: GraphStub) -> None:
    graph.script = [(400, meta_error(131047, "Re-engagement message", "More than 24 hours have passed"))]
    async with make_client(graph) as client:
        with pytest.raises(OutsideWindow) as refused:
            await client.send_text(BUYER, "late news")
    assert refused.value.code == 131047 and "24 hours" in refused.value.details
    assert len(graph.requests) == 1


async def test_undeliverable_is_the_delivery_services_undeliverable(graph: GraphStub) -> None:
    graph.script = [(400, meta_error(131026, "Message undeliverable"))]
    async with make_client(graph) as client:
        with pytest.raises(DomainUndeliverable) as refused:
            await client.send_image(BUYER, "4490709327384033")
    assert isinstance(refused.value, Undeliverable) and refused.value.code == 131026
    assert len(graph.requests) == 1


async def test_other_refusals_carry_metas_code_and_message(graph: GraphStub) -> None:
    graph.script = [(400, meta_error(132001, "Template name does not exist in the translation"))]
    async with make_client(graph) as client:
        with pytest.raises(WhatsAppRefused) as refused:
            await client.send_template(BUYER, TemplateRef("karcis_notice", "id"), ["Refund sent"])
    assert type(refused.value) is WhatsAppRefused
    assert refused.value.code == 132001 and refused.value.status == 400
    assert "Template name does not exist" in refused.value.meta_message


async def test_a_send_that_times_out_is_not_repeated(graph: GraphStub) -> None:
    graph.stall = asyncio.Event()
    async with make_client(graph, request_timeout=0.2) as client:
        with pytest.raises(WhatsAppUnavailable) as timed_out:
            await client.send_text(BUYER, "hello")
    assert timed_out.value.maybe_sent is True
    assert len(graph.requests) == 1  # Meta may have taken it: a second send could be a duplicate message


async def test_mark_read_that_times_out_is_retried_then_unavailable(graph: GraphStub) -> None:
    graph.stall = asyncio.Event()
    async with make_client(graph, request_timeout=0.2, max_attempts=2) as client:
        with pytest.raises(WhatsAppUnavailable):
            await client.mark_read("wamid.A")
    assert len(graph.requests) == 2


async def test_nobody_listening_is_unavailable() -> None:
    server = web.AppRunner(web.Application())
    await server.setup()
    site = web.TCPSite(server, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await server.cleanup()  # nobody listens there now
    sleeps = Sleeps()
    client = WhatsAppClient(access_token=TOKEN, phone_number_id=PHONE_ID, base_url=f"http://127.0.0.1:{port}/v26.0",
                            sleep=sleeps, monotonic=sleeps.monotonic, max_attempts=2)
    async with client:
        with pytest.raises(WhatsAppUnavailable) as down:
            await client.send_text(BUYER, "hello")
    assert down.value.maybe_sent is False  # the connection never opened: nothing was sent


# ---------------------------------------------------------------- media


async def test_upload_png_then_send_it_as_an_image(graph: GraphStub) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"qr" * 100
    async with make_client(graph) as client:
        media_id = await client.upload_image(png)
        await client.send_image(BUYER, media_id, caption="Jazz Night · Regular 1/2")
    upload, image = graph.requests
    assert upload["path"] == f"/v26.0/{PHONE_ID}/media"
    assert upload["form"] == {"messaging_product": "whatsapp", "type": "image/png", "bytes": png,
                              "content_type": "image/png"}
    assert image["json"]["image"] == {"id": "4490709327384033", "caption": "Jazz Night · Regular 1/2"}


async def test_download_media_follows_the_url_with_the_token(graph: GraphStub) -> None:
    async with make_client(graph) as client:
        media = await client.download_media("1013859600285441")
    assert media.content == graph.media_bytes and media.mime_type == "image/jpeg"
    assert [r["path"] for r in graph.requests] == ["/v26.0/1013859600285441", "/lookaside/1013859600285441"]
    assert graph.requests[1]["auth"] == f"Bearer {TOKEN}"


async def test_download_media_bounds_the_size(graph: GraphStub) -> None:
    graph.media_bytes = b"x" * 2000
    async with make_client(graph) as client:
        with pytest.raises(MediaTooLarge):
            await client.download_media("1013859600285441", max_bytes=1000)


async def test_the_token_goes_to_no_foreign_plain_http_host(graph: GraphStub) -> None:
    graph.media_url = "http://attacker.example/steal"
    async with make_client(graph) as client:
        with pytest.raises(WhatsAppRefused):
            await client.download_media("1013859600285441")
    assert [r["path"] for r in graph.requests] == ["/v26.0/1013859600285441"]


# ---------------------------------------------------------------- secrets, configuration


async def test_the_token_never_appears_in_logs_or_errors(graph: GraphStub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    graph.script = [(429, meta_error(130429, "Rate limit hit")),
                    (401, meta_error(190, f"Invalid OAuth access token - Cannot parse access token {TOKEN}"))]
    client = make_client(graph)
    async with client:
        with pytest.raises(WhatsAppRefused) as refused:
            await client.send_text(BUYER, "hello")
    assert TOKEN not in str(refused.value) and TOKEN not in repr(client)
    assert caplog.records, "the retry was logged"
    assert TOKEN not in caplog.text


def test_settings_build_the_client_and_templates() -> None:
    settings = Settings(_env_file=None, whatsapp_access_token=TOKEN, whatsapp_phone_number_id=PHONE_ID,
                        whatsapp_template_tickets="karcis_tickets")  # type: ignore[call-arg]
    assert settings.whatsapp_api_base_url == "https://graph.facebook.com/v26.0"
    assert TOKEN not in repr(settings)
    assert "graph.facebook.com/v26.0" in repr(client_from_settings(settings))
    templates = templates_from_settings(settings)
    assert templates.tickets == TemplateRef("karcis_tickets", "id") and templates.notice is None
    with pytest.raises(ValueError, match="WHATSAPP_ACCESS_TOKEN"):
        client_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
