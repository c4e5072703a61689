"""`python -m bot sandbox`: the web chat page and its guards, the fake Bot API's sandbox-only additions, and the
whole sandbox (real bot included) started and stopped in-process."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.clock import utcnow
from bot.config import ConfigError
from bot.sandbox.runner import (
    ADMIN,
    BUYER,
    MIDTRANS,
    ORGANISER,
    TELEGRAM,
    WA_BUYER,
    WA_ORGANISER,
    WHATSAPP,
    WHATSAPP_PHONE_NUMBER_ID,
    WhatsAppSecrets,
    _listen,
    create_sandbox_app,
    run_sandbox,
    sandbox_settings,
    with_whatsapp_organiser,
)
from bot.sandbox.telegram import FakeTelegram, TelegramApiError, TelegramSimulator
from tests.sandbox_stack import BANNER, NO_HANDLERS, handlers_ready, running_sandbox

# ------------------------------------------------------------------------------- the fake's sandbox additions


def pay_button(url: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "Pay", "url": url}]]}


async def test_fake_accepts_local_url_buttons_only_under_the_allowed_prefixes() -> None:
    strict = TelegramSimulator()
    relaxed = TelegramSimulator(allowed_local_urls=["http://127.0.0.1:8000/midtrans/"])
    for sim in (strict, relaxed):
        sim.add_user(1, "Sinta", started=True)

    page = "http://127.0.0.1:8000/midtrans/snap/v4/redirection/token"
    with pytest.raises(TelegramApiError, match="BUTTON_URL_INVALID"):
        await strict.call("sendMessage", {"chat_id": 1, "text": "pay", "reply_markup": pay_button(page)})
    sent = await relaxed.call("sendMessage", {"chat_id": 1, "text": "pay", "reply_markup": pay_button(page)})
    assert sent["reply_markup"]["inline_keyboard"][0][0]["url"] == page

    for elsewhere in ("http://127.0.0.1:8000/telegram/x", "http://127.0.0.1:8001/midtrans/x", "http://localhost/x"):
        with pytest.raises(TelegramApiError):
            await relaxed.call("sendMessage", {"chat_id": 1, "text": "pay", "reply_markup": pay_button(elsewhere)})


async def test_sandbox_endpoint_changes_a_users_language() -> None:
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        fake.add_user(7, "Budi", language_code="en", started=True)
        url = f"{fake.base_url}/sandbox/users/7"
        async with http.patch(url, json={"language_code": "id"}) as response:
            assert response.status == 200
            assert (await response.json())["language_code"] == "id"
        assert fake.user(7).language_code == "id"
        assert fake.user(7).started  # still allowed to receive messages
        async with http.patch(url, json={"language_code": "<b>"}) as response:
            assert response.status == 400
        async with http.patch(f"{fake.base_url}/sandbox/users/8", json={"language_code": "en"}) as response:
            assert response.status == 404


async def test_sandbox_endpoint_long_polls_every_chat_at_once() -> None:
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        fake.add_user(1, "Sinta", started=True)
        fake.add_user(2, "Budi", started=True)

        async def changes(since: int, wait: float = 0) -> dict[str, Any]:
            params = {"since": since, "wait": wait}
            async with http.get(f"{fake.base_url}/sandbox/messages", params=params) as response:
                assert response.status == 200
                return await response.json()

        waiting = asyncio.create_task(changes(0, wait=5))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await fake.call("sendMessage", {"chat_id": 2, "text": "for Budi"})
        first = await asyncio.wait_for(waiting, 5)
        assert [(m["chat_id"], m["text"]) for m in first["messages"]] == [(2, "for Budi")]

        await fake.send_text(1, "hi")
        second = await changes(first["revision"])
        assert [(m["chat_id"], m["text"]) for m in second["messages"]] == [(1, "hi")]
        assert (await changes(second["revision"]))["messages"] == []


# ------------------------------------------------------------------------------- the web chat alone


@pytest.fixture
async def sandbox_app() -> AsyncIterator[tuple[str, web.Application]]:
    """The web chat with the fake Bot API and the Midtrans simulator mounted, without the bot."""
    sock = _listen(0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_sandbox_app(base, token="123456:AAsandboxTest", server_key="SB-Mid-server-test",
                             notification_url="http://127.0.0.1:9/api/payment/notification")
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield base, app
    finally:
        await runner.cleanup()
        sock.close()


async def test_page_is_served_with_the_banner_and_a_strict_policy(sandbox_app: tuple[str, web.Application]) -> None:
    base, _ = sandbox_app
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/") as response:
            assert response.status == 200
            assert BANNER in await response.text()
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        for name, kind in (("chat.js", "text/javascript"), ("chat.css", "text/css")):
            async with http.get(f"{base}/static/{name}") as response:
                assert response.status == 200 and response.content_type == kind
        for missing in ("/static/chat.html.bak", "/static/..%2Frunner.py", "/static/midtrans_pay.html"):
            async with http.get(f"{base}{missing}") as response:
                assert response.status == 404, missing
        async with http.get(f"{base}/config.json") as response:
            config = await response.json()
    assert config["api"] == "/telegram/sandbox"
    assert [p["id"] for p in config["people"]] == [BUYER.id, ORGANISER.id, ADMIN.id]
    assert [p["role"] for p in config["people"]] == ["buyer", "organiser", "admin"]


async def test_people_are_ready_to_chat(sandbox_app: tuple[str, web.Application]) -> None:
    base, app = sandbox_app
    async with aiohttp.ClientSession() as http, http.get(f"{base}/telegram/sandbox/users") as response:
        users = {u["id"]: u for u in (await response.json())["users"]}
    assert users[BUYER.id]["first_name"] == "Sinta" and users[BUYER.id]["language_code"] == "en"
    assert users[ORGANISER.id]["first_name"] == "Budi"
    assert all(u["started"] for u in users.values())
    assert app[TELEGRAM].allowed_local_urls == (f"{base}/midtrans/",)
    assert app[MIDTRANS].public_base_url == base


async def test_other_sites_cannot_drive_the_sandbox(sandbox_app: tuple[str, web.Application]) -> None:
    base, app = sandbox_app
    send = f"{base}/telegram/sandbox/users/{BUYER.id}/messages"
    async with aiohttp.ClientSession() as http:
        async with http.post(send, json={"text": "hi"}, headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
        async with http.get(f"{base}/", headers={"Host": "attacker.example:80"}) as response:
            assert response.status == 403  # DNS rebinding
        async with http.post(send, json={"text": "hi"}, headers={"Origin": base}) as response:
            assert response.status == 200
    assert [m.text for m in app[TELEGRAM].messages(BUYER.id, include_user=True)] == ["hi"]


async def test_payment_page_of_the_mounted_simulator_is_reachable(sandbox_app: tuple[str, web.Application]) -> None:
    """Snap answers with a redirect_url under /midtrans/, and that page (and its form) work there."""
    base, _ = sandbox_app
    order = {"transaction_details": {"order_id": "KRC-1", "gross_amount": 300000}}
    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": "Basic " + base64.b64encode(b"SB-Mid-server-test:").decode()}
        async with http.post(f"{base}/midtrans/snap/v1/transactions", json=order, headers=auth) as response:
            assert response.status == 201
            redirect_url = (await response.json())["redirect_url"]
        assert redirect_url.startswith(f"{base}/midtrans/snap/v4/redirection/")
        async with http.get(redirect_url) as response:
            page = await response.text()
        assert response.status == 200 and BANNER in page
        assert 'action="/midtrans/snap/v4/redirection/' in page


# ------------------------------------------------------------------------------- the whole sandbox


def button_labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def wait_for_buttons(http: aiohttp.ClientSession, api: str, chat_id: int, label: str) -> dict[str, Any]:
    """The first bot message in the chat with a button whose label contains `label` (long-polling for it)."""
    revision = 0
    async with asyncio.timeout(15):
        while True:
            async with http.get(f"{api}/chats/{chat_id}/messages", params={"since": revision, "wait": 5}) as r:
                data = await r.json()
            for message in data["messages"]:
                if message["from_bot"] and any(label in text for text in button_labels(message)):
                    return message
            revision = data["revision"]


@pytest.mark.skipif(not handlers_ready(), reason=NO_HANDLERS)
async def test_sandbox_runs_the_real_bot_and_stops_cleanly() -> None:
    async with running_sandbox() as url, aiohttp.ClientSession() as http:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        async with http.get(url) as response:
            assert response.status == 200 and BANNER in await response.text()
        api = f"{url}telegram/sandbox"
        async with http.post(f"{api}/users/{BUYER.id}/messages", json={"text": "/start"}) as response:
            assert response.status == 200
        welcome = await wait_for_buttons(http, api, BUYER.id, "Jazz Senja")
        assert any("Workshop Desain UI" in label for label in button_labels(welcome))
        async with http.get(f"{api}/chats/{ADMIN.id}/commands") as response:
            admin_commands = {c["command"] for c in (await response.json())["commands"]}
        assert {"stats", "expire"} <= admin_commands
    # stopped: the port is free again and nothing answers
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http, http.get(url):
            pass


async def test_sandbox_refuses_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--port {port}"):
            await run_sandbox(port=port, stop=asyncio.Event())


def test_cli_sandbox_reports_a_missing_events_file(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["sandbox", "--port", "0", "--events", str(tmp_path / "none.yaml")]) == 2
    assert "events file not found" in capsys.readouterr().err


def test_cli_sandbox_takes_events_file_from_the_environment(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """EVENTS_FILE loads a file at every start of the sandbox too (what `events import` on the embedded store
    points to); --events wins over it."""
    from bot.cli import main

    monkeypatch.setenv("EVENTS_FILE", str(tmp_path / "gone.yaml"))
    assert main(["sandbox", "--port", "0"]) == 2
    assert f"EVENTS_FILE: file not found: {tmp_path / 'gone.yaml'}" in capsys.readouterr().err
    assert main(["sandbox", "--port", "0", "--events", str(tmp_path / "none.yaml")]) == 2
    assert "events file not found" in capsys.readouterr().err


def test_the_payment_pages_way_back_leads_to_the_sandbox_chat() -> None:
    from bot.sandbox.runner import bot_link_to_webchat

    back = "https://t.me/KarcisBot?start=o_KRC-2611-ABC&order_id=KRC-2611-ABC&transaction_status=settlement"
    assert bot_link_to_webchat("http://127.0.0.1:8000", back) == "http://127.0.0.1:8000/?start=o_KRC-2611-ABC"
    assert bot_link_to_webchat("http://127.0.0.1:8000", "https://example.com/x") == "https://example.com/x"


# ------------------------------------------------------------------------------- what `python -m bot sandbox` prints


async def test_cli_sandbox_prints_one_url_the_web_chat_and_how_long_holds_last() -> None:
    """The whole start-up output has one URL in it, the web chat's (the service's own answers 404 at `/`), and
    RESERVATION_MINUTES from the environment is honoured and said."""
    import os
    import re
    import signal
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "RESERVATION_", "EXPIRY_"))}
    env.update({"RESERVATION_MINUTES": "7", "PYTHONUNBUFFERED": "1"})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sandbox", "--port", "0", env=env, cwd=Path(__file__).resolve().parent.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not (any("Press Ctrl-C to stop" in line for line in lines) and lines[-1].strip() == ""):
                line = await process.stdout.readline()  # type: ignore[union-attr]
                assert line, "".join(lines)
                lines.append(line.decode())
        text = "".join(lines)
        urls = re.findall(r"https?://\S+", text)
        assert len(urls) == 1, text
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", urls[0])
        assert "Seats are held for 7 minutes (RESERVATION_MINUTES)" in text
        assert "RESERVATION_MINUTES=5 python -m bot sandbox" in text
        async with aiohttp.ClientSession() as http, http.get(urls[0]) as response:
            assert response.status == 200  # the URL shown is the one that answers
        # Ctrl-C as a terminal sends it: SIGINT to the whole process group (the QR worker process too)
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = await asyncio.wait_for(process.communicate(), 15)
        assert process.returncode == 0
        assert "Traceback" not in rest.decode() and "Karcis sandbox stopped." in rest.decode()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


def test_sandbox_settings_take_the_hold_length_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from bot.sandbox.runner import EXAMPLE_EVENTS, sandbox_settings

    monkeypatch.setenv("RESERVATION_MINUTES", "6")
    monkeypatch.setenv("EXPIRY_SWEEP_SECONDS", "5")
    settings = sandbox_settings(token="123456789:AA" + "x" * 33, server_key="SB-Mid-server-x",
                                base_url="http://127.0.0.1:1", service_port=2, events_file=Path(EXAMPLE_EVENTS))
    assert (settings.reservation_minutes, settings.expiry_sweep_seconds) == (6, 5)


# ------------------------------------------------------------------------------- the WhatsApp people


async def test_whatsapp_people_are_listed_and_their_page_parts_served(
        sandbox_app: tuple[str, web.Application]) -> None:
    base, app = sandbox_app
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/config.json") as response:
            config = await response.json()
        for name, kind in (("whatsapp.js", "text/javascript"), ("whatsapp.css", "text/css")):
            async with http.get(f"{base}/static/{name}") as response:
                assert response.status == 200 and response.content_type == kind
        async with http.get(f"{base}/whatsapp/sandbox/users") as response:
            users = {u["number"]: u for u in (await response.json())["users"]}
    assert config["whatsapp"]["api"] == "/whatsapp/sandbox"
    assert [(p["number"], p["first_name"], p["role"]) for p in config["whatsapp"]["people"]] == [
        (WA_BUYER.number, "Dewi", "buyer"), (WA_ORGANISER.number, "Budi", "organiser")]
    assert users[WA_BUYER.number]["name"] == "Dewi" and WA_ORGANISER.number in users
    assert app[WHATSAPP].base_url == f"{base}/whatsapp"


async def test_other_sites_cannot_act_as_a_whatsapp_person(sandbox_app: tuple[str, web.Application]) -> None:
    base, app = sandbox_app
    send = f"{base}/whatsapp/sandbox/users/{WA_BUYER.number}/messages"
    async with aiohttp.ClientSession() as http:
        async with http.post(send, json={"text": "halo"}, headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
        async with http.get(f"{base}/whatsapp/sandbox/users", headers={"Host": "attacker.example"}) as response:
            assert response.status == 403
        hook = {"url": "http://127.0.0.1:9/", "verify_token": "x"}
        async with http.post(f"{base}/whatsapp/sandbox/webhook", json=hook,
                             headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
    assert app[WHATSAPP].chat(WA_BUYER.number) == []


class FakeDoor:
    """Stands where the service's WhatsApp webhook is: answers Meta's handshake, keeps every signed update."""

    def __init__(self, app_secret: str, verify_token: str) -> None:
        self.app_secret, self.verify_token = app_secret, verify_token
        self.messages: list[dict[str, Any]] = []

    async def verify(self, request: web.Request) -> web.Response:
        if request.query.get("hub.verify_token") != self.verify_token:
            return web.Response(status=403)
        return web.Response(text=request.query["hub.challenge"])

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            return web.Response(status=401)
        for entry in json.loads(body)["entry"]:
            for change in entry["changes"]:
                self.messages.extend(change["value"].get("messages", []))
        return web.Response()


async def test_a_button_press_and_a_list_choice_in_the_web_chat_reach_the_bot(
        sandbox_app: tuple[str, web.Application], unused_tcp_port: int) -> None:
    """The bot's interactive messages are served to the web chat; what the person taps there arrives at the bot's
    webhook as Meta's signed button_reply / list_reply with the ids the bot gave."""
    base, app = sandbox_app
    wa = app[WHATSAPP]
    door = FakeDoor(wa.app_secret, "sandbox-verify")
    door_app = web.Application()
    door_app.router.add_get("/whatsapp/webhook", door.verify)
    door_app.router.add_post("/whatsapp/webhook", door.receive)
    door_runner = web.AppRunner(door_app)
    await door_runner.setup()
    await web.TCPSite(door_runner, "127.0.0.1", unused_tcp_port).start()
    api, graph = f"{base}/whatsapp/sandbox", f"{base}/whatsapp/v23.0/{WHATSAPP_PHONE_NUMBER_ID}/messages"
    number = WA_BUYER.number
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{api}/webhook", json={"url": f"http://127.0.0.1:{unused_tcp_port}/whatsapp/webhook",
                                                         "verify_token": "sandbox-verify"}) as response:
                assert response.status == 200
            async with http.post(f"{api}/users/{number}/messages", json={"text": "acara"}) as response:
                assert response.status == 200
            auth = {"Authorization": f"Bearer {wa.access_token}"}
            buttons = {"messaging_product": "whatsapp", "to": number[1:], "type": "interactive", "interactive": {
                "type": "button", "body": {"text": "*Jazz Senja* — how many?"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "qty:1", "title": "1 ticket"}},
                                       {"type": "reply", "reply": {"id": "qty:2", "title": "2 tickets"}}]}}}
            rows = {"messaging_product": "whatsapp", "to": number[1:], "type": "interactive", "interactive": {
                "type": "list", "body": {"text": "Choose a tier"}, "action": {"button": "Tiers", "sections": [
                    {"title": "Jazz Senja", "rows": [{"id": "tier:reg", "title": "Regular",
                                                      "description": "Rp150.000 · 40 left"}]}]}}}
            for payload in (buttons, rows):
                async with http.post(graph, json=payload, headers=auth) as response:
                    assert response.status == 200, await response.text()
            async with http.get(f"{api}/users/{number}/messages", params={"after": 0}) as response:
                served = (await response.json())["messages"]
            assert [m["from_bot"] for m in served] == [False, True, True]
            button_message, list_message = served[1], served[2]
            assert [b["title"] for b in button_message["buttons"]] == ["1 ticket", "2 tickets"]
            assert list_message["rows"] == [{"id": "tier:reg", "title": "Regular",
                                             "description": "Rp150.000 · 40 left"}]
            for body in ({"message_id": button_message["id"], "button_id": "qty:2"},
                         {"message_id": list_message["id"], "row_id": "tier:reg"}):
                async with http.post(f"{api}/users/{number}/replies", json=body, headers={"Origin": base}) as r:
                    assert r.status == 200, await r.text()
            await wa.wait_until(lambda: len(door.messages) == 3)
    finally:
        await door_runner.cleanup()
    replies = [m["interactive"] for m in door.messages if m["type"] == "interactive"]
    assert replies[0]["button_reply"] == {"id": "qty:2", "title": "2 tickets"}
    assert replies[1]["list_reply"]["id"] == "tier:reg"
    assert all(m["from"] == number[1:] for m in door.messages)


def test_the_service_is_configured_for_the_whatsapp_simulator_with_fresh_secrets(tmp_path: Any) -> None:
    events = tmp_path / "events.yaml"
    events.write_text("events: []\n")
    one, two = WhatsAppSecrets.fresh(), WhatsAppSecrets.fresh()
    assert len({one.access_token, two.access_token}) == 2 and len({one.app_secret, two.app_secret}) == 2
    settings = sandbox_settings(token="1234567890:AAsandboxTestTokenTestTokenTestToken12", server_key="SB-Mid-server-x",
                                base_url="http://127.0.0.1:8000", service_port=8001, events_file=events, whatsapp=one)
    assert settings.whatsapp_enabled
    assert settings.whatsapp_api_base_url == "http://127.0.0.1:8000/whatsapp/v23.0"
    assert settings.whatsapp_access_token is not None
    assert settings.whatsapp_access_token.get_secret_value() == one.access_token
    assert one.access_token not in repr(settings) and one.app_secret not in repr(settings)


def test_the_sandbox_events_name_budi_by_his_telegram_id_and_his_whatsapp_number(tmp_path: Any) -> None:
    from bot.event_file import load_events_file
    from bot.sandbox.runner import EXAMPLE_EVENTS
    from bot.sandbox.sample_events import on_sale_copy

    copy, _ = on_sale_copy(EXAMPLE_EVENTS, tmp_path, utcnow())
    with_whatsapp_organiser(copy)
    specs = load_events_file(copy)
    assert specs and all(
        (f"telegram:{ORGANISER.id}", f"whatsapp:{WA_ORGANISER.number}") in spec.organisers for spec in specs)


@pytest.mark.skipif(not handlers_ready(), reason=NO_HANDLERS)
async def test_the_sandbox_hands_the_service_its_whatsapp_secrets_and_never_logs_them(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from bot.sandbox import runner

    secrets = WhatsAppSecrets("EAAKsandboxKnownAccessToken0123456789", "known-app-secret-0123456789abcdef",
                              "known-verify-token-0123456789")
    monkeypatch.setattr(runner.WhatsAppSecrets, "fresh", classmethod(lambda cls: secrets))
    caplog.set_level("DEBUG")
    async with running_sandbox() as url, aiohttp.ClientSession() as http:
        async with http.get(f"{url}whatsapp/sandbox/webhook") as response:
            hooked = (await response.json())["url"]
        async with http.get(f"{url}whatsapp/sandbox/users") as response:
            numbers = [u["number"] for u in (await response.json())["users"]]
    assert numbers == [WA_BUYER.number, WA_ORGANISER.number]
    assert hooked is not None and hooked.startswith("http://127.0.0.1:") and hooked.endswith("/whatsapp/webhook")
    assert "the WhatsApp simulator delivers to the service's webhook" in caplog.text
    for secret in (secrets.access_token, secrets.app_secret, secrets.verify_token):
        assert secret not in caplog.text


def test_the_sandbox_s_whatsapp_door_needs_no_public_url_but_a_real_one_does(tmp_path: Any) -> None:
    """Meta must reach PUBLIC_URL; the sandbox's simulator posts to the service over loopback instead."""
    from bot.runtime import require_credentials

    events = tmp_path / "events.yaml"
    events.write_text("events: []\n")
    settings = sandbox_settings(token="1234567890:AAsandboxTestTokenTestTokenTestToken12", server_key="SB-Mid-server-x",
                                base_url="http://127.0.0.1:8000", service_port=8001, events_file=events,
                                whatsapp=WhatsAppSecrets.fresh())
    assert settings.public_url is None
    require_credentials(settings)  # no ConfigError
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        require_credentials(settings.model_copy(update={"whatsapp_api_base_url": "https://graph.facebook.com/v23.0"}))


def test_the_ticket_page_s_staff_links_lead_into_the_sandbox_chat_as_the_organiser() -> None:
    from bot.sandbox.runner import staff_link_to_webchat

    base = "http://127.0.0.1:8000"
    assert (staff_link_to_webchat(base, "https://t.me/KarcisBot?start=t_K7Q2M9X4ZP3A")
            == f"{base}/?start=t_K7Q2M9X4ZP3A#{ORGANISER.id}")
    assert staff_link_to_webchat(base, "https://wa.me/6281234500002?text=checkin%20K7Q2M9X4ZP3A") is None
    assert staff_link_to_webchat(base, "https://t.me/SomeOtherBot?start=t_X") is None


async def test_new_tickets_in_the_sandbox_carry_its_own_ticket_page_which_opens(tmp_path: Any) -> None:
    """The sandbox has no PUBLIC_URL (it would switch Telegram to a webhook), yet a new ticket's QR carries the
    service's own http://127.0.0.1:<port>/t/<code>, and that page answers in a browser; its staff button leads
    into the sandbox's web chat (Budi's chat, `/start t_<code>`), never to t.me, which the sandbox does not serve."""
    from bot.runtime import Running
    from storage.documents import Buyer

    saved_uri = os.environ.pop("MONGODB_URI", None)
    stop = asyncio.Event()
    up: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_sandbox(port=0, stop=stop, ready=ready.set_result, running=up.set_result))
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        assert ready in done, task.result() if task in done else "the sandbox did not start in time"
        running = up.result()
        services = running.services
        assert running.mode.value == "polling" and services.settings.public_url is None
        order = await services.orders.reserve(f"telegram:{BUYER.id}", "jazz-senja-2026", {"VIP": 1},
                                              Buyer(name="Sinta", email="s@example.com", phone="+6281234567891"))
        [ticket] = (await services.orders.pay(order.id)).tickets
        link = services.links.ticket(ticket.id)
        assert link.startswith("http://127.0.0.1:") and link.endswith(f"/t/{ticket.id}")
        assert link.split("/t/")[0] == running.url.rstrip("/")  # the service itself
        async with aiohttp.ClientSession() as http, http.get(link) as response:
            page = await response.text()
            assert response.status == 200 and "Jazz Senja" in page
        assert f'href="{ready.result()}?start=t_{ticket.id}#{ORGANISER.id}"' in page
        assert "t.me" not in page and "wa.me" not in page
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        if saved_uri is not None:
            os.environ["MONGODB_URI"] = saved_uri
