"""`python -m bot run`: configuration errors, polling and webhook mode against the fake Bot API, the jobs, and a
clean stop (the stop event in-process, SIGTERM for a real `python -m bot run`)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Update
from telegram.ext import TypeHandler

from bot.config import ConfigError, Settings
from bot.runtime import Mode, serve
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram
from storage.documents import OrderStatus, tier_key
from tests.conftest import SERVICE_SERVER_KEY
from tests.helpers import acct, buyer
from tests.service_runner import running
from webhooks.telegram import SECRET_HEADER, webhook_path, webhook_secret_token

ROOT = Path(__file__).resolve().parent.parent
SERVER_KEY = SERVICE_SERVER_KEY  # the `midtrans` fixture's (tests/conftest.py)
KARCIS_ENV = ("MONGODB_", "TELEGRAM_", "MIDTRANS_", "PUBLIC_URL", "PORT", "ADMIN_IDS", "RESERVATION_MINUTES",
              "EXPIRY_SWEEP_SECONDS", "EVENTS_FILE")
START_TIMEOUT = 10.0
# A fresh interpreter importing PTB, motor and aiohttp takes seconds on a loaded CI machine; this only bounds a hang.
PROCESS_START_TIMEOUT = 45.0
STOP_TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings must come from the test only, not from the shell that runs pytest."""
    for name in list(os.environ):
        if name.startswith(KARCIS_ENV):
            monkeypatch.delenv(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_settings(fake: FakeTelegram, midtrans: MidtransSimulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": fake.token,
        "telegram_api_base_url": fake.base_url,
        "midtrans_server_key": SERVER_KEY,
        "midtrans_snap_base_url": midtrans.snap_base_url,
        "midtrans_api_base_url": midtrans.api_base_url,
        "port": free_port(),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def http_get(url: str) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session, session.get(url) as response:
        return response.status


def start_update(update_id: int, user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Budi", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": int(time.time()), "from": user, "text": "/start",
            "chat": {"id": user_id, "type": "private", "first_name": "Budi"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def _value(result: bool | Awaitable[bool]) -> bool:
    return result if isinstance(result, bool) else await result


def record_updates(application: Any) -> list[Update]:
    """Every update the Application processes (a group of its own, before the real handlers, which it leaves be:
    PTB runs only the first matching handler of each group)."""
    seen: list[Update] = []

    async def record(update: Update, context: Any) -> None:
        seen.append(update)

    application.add_handler(TypeHandler(Update, record), group=-1000)
    return seen


async def eventually(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await _value(condition()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------------------ configuration


async def test_missing_credentials_name_the_variables_and_the_sandbox() -> None:
    with pytest.raises(ConfigError) as caught:
        await serve(Settings(_env_file=None))  # type: ignore[call-arg]
    message = str(caught.value)
    assert "TELEGRAM_BOT_TOKEN" in message and "MIDTRANS_SERVER_KEY" in message
    assert "python -m bot sandbox" in message


async def test_a_missing_midtrans_key_alone_is_named() -> None:
    token = "123456789:AAsecretSecretSecretSecretSecret0123"
    with pytest.raises(ConfigError) as caught:
        await serve(Settings(_env_file=None, telegram_bot_token=token))  # type: ignore[call-arg]
    message = str(caught.value)
    assert "MIDTRANS_SERVER_KEY" in message and "TELEGRAM_BOT_TOKEN" not in message
    assert "python -m bot sandbox" in message and token not in message


def _run_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(KARCIS_ENV)}
    return subprocess.run([sys.executable, "-m", "bot", "run"], capture_output=True, text=True, timeout=30,
                           env={**clean, **env}, cwd=ROOT)


def test_run_without_credentials_exits_2_with_the_message() -> None:
    result = _run_cli({})
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "MIDTRANS_SERVER_KEY" in result.stderr
    assert "python -m bot sandbox" in result.stderr


def test_run_never_prints_the_secrets_it_has() -> None:
    token = "123456789:AAsecretSecretSecretSecretSecret0123"
    result = _run_cli({"TELEGRAM_BOT_TOKEN": token, "MIDTRANS_CLIENT_KEY": "SB-Mid-client-abc"})
    assert result.returncode == 2
    assert "MIDTRANS_SERVER_KEY" in result.stderr and "python -m bot sandbox" in result.stderr
    assert token not in result.stderr + result.stdout


def test_help_lists_run() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, timeout=30,
                            cwd=ROOT)
    assert result.returncode == 0 and "run" in result.stdout


async def test_a_token_the_bot_api_refuses_is_a_config_error(
    fake: FakeTelegram, midtrans: MidtransSimulator
) -> None:
    wrong = "987654321:AAnotTheFakesTokenAtAll_0123456789"
    settings = service_settings(fake, midtrans, telegram_bot_token=wrong)
    with pytest.raises(ConfigError) as caught:
        await asyncio.wait_for(serve(settings, host="127.0.0.1"), START_TIMEOUT)
    assert "TELEGRAM_BOT_TOKEN was refused by the Bot API" in str(caught.value) and "401" in str(caught.value)
    assert wrong not in str(caught.value) and wrong.split(":")[1] not in str(caught.value)


async def test_a_port_in_use_is_a_config_error(fake: FakeTelegram, midtrans: MidtransSimulator) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = service_settings(fake, midtrans, port=taken.getsockname()[1])
        with pytest.raises(ConfigError, match="PORT"):
            await asyncio.wait_for(serve(settings, host="127.0.0.1"), START_TIMEOUT)


def test_webhook_secrets_are_derived_from_the_token_and_fit_telegrams_rules() -> None:
    a, b = "123:AAone", "123:AAtwo"
    assert webhook_secret_token(a) == webhook_secret_token(a) != webhook_secret_token(b)
    assert len(webhook_secret_token(a)) == 64 and webhook_secret_token(a).isalnum()
    assert webhook_path(a).startswith("/telegram/webhook/") and webhook_path(a) != webhook_path(b)
    assert a not in webhook_path(a) and webhook_secret_token(a) not in webhook_path(a)


def _run_cli_against(base_url: str) -> subprocess.CompletedProcess[str]:
    return _run_cli({"TELEGRAM_BOT_TOKEN": GOOD_FORM_TOKEN, "MIDTRANS_SERVER_KEY": SERVER_KEY,
                     "TELEGRAM_API_BASE_URL": base_url, "PORT": str(free_port())})


GOOD_FORM_TOKEN = "123456789:AAsecretSecretSecretSecretSecret0123"


def _assert_one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    """No traceback, no token; the failure is the last line of stderr, and the only one that is not a log line."""
    text = result.stderr + result.stdout
    assert "Traceback" not in text, text
    assert GOOD_FORM_TOKEN not in text and GOOD_FORM_TOKEN.split(":", 1)[1] not in text
    own = [line for line in result.stderr.splitlines() if not line[:4].isdigit()]  # log lines start with the date
    assert len(own) == 1, result.stderr
    return own[0]


async def test_run_when_telegram_is_unreachable_says_so_in_one_line() -> None:
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = await asyncio.to_thread(_run_cli_against, base_url)
    assert result.returncode == 1
    line = _assert_one_clear_line(result)
    assert line.startswith(f"Cannot start: Telegram's Bot API at {base_url} (TELEGRAM_API_BASE_URL) could not be "
                           "reached for getMe")
    assert "Check TELEGRAM_API_BASE_URL" in line and "python -m bot sandbox" in line


async def test_run_against_a_server_that_is_not_a_bot_api_blames_the_base_url_not_the_token() -> None:
    """A server answering 404 to every path (a wrong TELEGRAM_API_BASE_URL) is not a refused token."""
    app = web.Application()  # no routes: aiohttp answers 404 (plain text) to everything
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        result = await asyncio.to_thread(_run_cli_against, f"http://127.0.0.1:{port}/telegram")
    finally:
        await runner.cleanup()
    assert result.returncode == 2
    line = _assert_one_clear_line(result)
    assert line.startswith(f"TELEGRAM_API_BASE_URL: the server at http://127.0.0.1:{port}/telegram "
                           "(TELEGRAM_API_BASE_URL) answered 404 Not Found to getMe")
    assert "refused" not in line and "TELEGRAM_BOT_TOKEN" not in line


async def test_a_404_in_json_like_the_bot_apis_is_also_the_base_url(
    fake: FakeTelegram, midtrans: MidtransSimulator
) -> None:
    settings = service_settings(fake, midtrans, telegram_api_base_url=fake.base_url + "/elsewhere")
    with pytest.raises(ConfigError, match="^TELEGRAM_API_BASE_URL: the server at .* answered 404 Not Found"):
        await asyncio.wait_for(serve(settings, host="127.0.0.1"), START_TIMEOUT)


def test_a_malformed_token_is_refused_before_anything_starts() -> None:
    result = _run_cli({"TELEGRAM_BOT_TOKEN": "abc", "MIDTRANS_SERVER_KEY": SERVER_KEY, "PUBLIC_URL": "http://x.example"})
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN: does not look like a bot token" in result.stderr
    assert "PUBLIC_URL: must be the service's public https:// address" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------------------ polling


async def test_polling_serves_health_answers_start_and_stops_cleanly(
    fake: FakeTelegram, midtrans: MidtransSimulator
) -> None:
    settings = service_settings(fake, midtrans)
    async with running(settings) as service:
        assert service.mode is Mode.POLLING
        assert await http_get(f"http://127.0.0.1:{settings.port}/healthz") == 200
        assert await http_get(f"http://127.0.0.1:{settings.port}/readyz") == 200
        assert fake.calls_to("deleteWebhook") and fake.webhook_url == ""  # polling: no webhook left in the way
        seen = record_updates(service.application)
        fake.add_user(42, "Ayu")
        await fake.send_text(42, "/start")
        await eventually(lambda: bool(seen))
        assert seen[0].effective_message.text == "/start"
        reply = await fake.wait_for_message(42)  # the real handlers answered
        assert reply.body
    assert not fake.pending_updates


async def test_the_command_menus_are_set_at_start(fake: FakeTelegram, midtrans: MidtransSimulator) -> None:
    async with running(service_settings(fake, midtrans)):
        assert fake.calls_to("setMyCommands")


# ------------------------------------------------------------------------------------------ webhook


async def test_webhook_mode_checks_the_secret_and_processes_updates(
    fake: FakeTelegram, midtrans: MidtransSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = service_settings(fake, midtrans, public_url="https://karcis.example")
    path, secret = webhook_path(fake.token), webhook_secret_token(fake.token)
    async with running(settings) as service:
        assert service.mode is Mode.WEBHOOK and service.application.updater is None
        [call] = fake.calls_to("setWebhook")
        assert call.params["url"] == "https://karcis.example" + path
        assert call.params["secret_token"] == secret
        assert set(call.params["allowed_updates"]) == {str(t) for t in Update.ALL_TYPES}
        assert not fake.calls_to("getUpdates")
        seen = record_updates(service.application)
        fake.add_user(43, "Budi", started=True)

        url = f"http://127.0.0.1:{settings.port}{path}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            async def post(headers: dict[str, str], **body: Any) -> int:
                async with session.post(url, headers=headers, **body) as response:
                    return response.status

            update = start_update(7001, 43)
            assert await post({}, json=update) == 403
            assert await post({SECRET_HEADER: "wrong"}, json=update) == 403
            assert await post({SECRET_HEADER: secret[:-1] + "0"}, json=update) == 403
            assert await post({SECRET_HEADER: secret}, data=b"{not json") == 400
            assert await post({SECRET_HEADER: secret}, json={"no": "update_id"}) == 400
            assert not seen
            assert await post({SECRET_HEADER: secret}, json=update) == 200
            await eventually(lambda: bool(seen))
            assert seen[0].update_id == 7001 and seen[0].effective_user.id == 43
            reply = await fake.wait_for_message(43)
            assert reply.body
            async with session.post(f"http://127.0.0.1:{settings.port}/telegram/webhook/guess",
                                    headers={SECRET_HEADER: secret}, json=update) as response:
                assert response.status == 404
    assert f"Karcis is running: webhook, http://127.0.0.1:{settings.port}" in caplog.text
    assert "/telegram/webhook/***" in caplog.text  # the access log, with the path secret hidden
    for secret_value in (fake.token, path, secret, SERVER_KEY):
        assert secret_value not in caplog.text


async def test_polling_mode_has_no_webhook_route(fake: FakeTelegram, midtrans: MidtransSimulator) -> None:
    settings = service_settings(fake, midtrans)
    url = f"http://127.0.0.1:{settings.port}{webhook_path(fake.token)}"
    headers = {SECRET_HEADER: webhook_secret_token(fake.token)}
    async with (
        running(settings),
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.post(url, headers=headers, json=start_update(1, 1)) as response,
    ):
        assert response.status == 404


# ------------------------------------------------------------------------------------------ jobs


def _events_file(tmp_path: Path) -> Path:
    starts = datetime.now(UTC) + timedelta(days=30)
    path = tmp_path / "events.yaml"
    path.write_text(f"""
events:
  - id: runtime-gig
    title: "Runtime Gig"
    description: "A test event."
    venue: "Jakarta"
    starts_at: {starts.isoformat()}
    ends_at: {(starts + timedelta(hours=3)).isoformat()}
    organisers: [900000002]
    tiers:
      - code: REG
        name: Reguler
        price: 100000
        capacity: 10
        max_per_order: 4
""")
    return path


async def test_the_expiry_job_releases_a_hold_that_ran_out(
    fake: FakeTelegram, midtrans: MidtransSimulator, tmp_path: Path
) -> None:
    settings = service_settings(fake, midtrans, expiry_sweep_seconds=1, events_file=_events_file(tmp_path))
    async with running(settings) as service:
        services = service.services
        order = await services.orders.reserve(acct(900000001), "runtime-gig", {"REG": 2}, buyer())
        assert order.status == OrderStatus.PENDING
        ended = datetime.now(UTC) - timedelta(minutes=1)
        await services.store.db["orders"].update_one({"_id": order.id}, {"$set": {"expires_at": ended}})

        async def expired() -> bool:
            current = await services.orders.get(order.id)
            return current is not None and current.status == OrderStatus.EXPIRED

        await eventually(expired, timeout=4.0)
        tier = await services.store.inventory.get(tier_key("runtime-gig", "REG"))
        assert tier is not None and (tier.available, tier.pending) == (10, 0)
        job = service.jobs.get("expiry-sweep")
        assert job is not None and job.trigger.interval == timedelta(seconds=1)


async def test_a_failing_job_does_not_stop_the_service(
    fake: FakeTelegram, midtrans: MidtransSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_settings(fake, midtrans, expiry_sweep_seconds=1)
    async with running(settings) as service:
        calls = 0

        async def broken(*args: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("database on fire")

        monkeypatch.setattr(service.services.orders, "expire_due", broken)
        await eventually(lambda: calls >= 2, timeout=4.0)
        assert await http_get(f"http://127.0.0.1:{settings.port}/healthz") == 200


# ------------------------------------------------------------------------------------------ a real process


async def test_sigterm_stops_python_m_bot_run_promptly(fake: FakeTelegram, midtrans: MidtransSimulator) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(KARCIS_ENV)}
    env.update({
        "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
        "MIDTRANS_SERVER_KEY": SERVER_KEY, "MIDTRANS_SNAP_BASE_URL": midtrans.snap_base_url,
        "MIDTRANS_API_BASE_URL": midtrans.api_base_url, "PORT": str(port), "PYTHONUNBUFFERED": "1",
    })
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    log: list[str] = []
    try:
        async with asyncio.timeout(PROCESS_START_TIMEOUT):
            while not any("Karcis is running: polling" in line for line in log):
                line = await process.stderr.readline()  # type: ignore[union-attr]
                assert line, "".join(log)
                log.append(line.decode())
        assert await http_get(f"http://127.0.0.1:{port}/healthz") == 200
        fake.add_user(44, "Citra")
        await fake.send_text(44, "/start")
        await fake.wait_for_message(44)

        process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        out, err = await asyncio.wait_for(process.communicate(), STOP_TIMEOUT)
        assert process.returncode == 0, "".join(log) + err.decode()
        assert time.monotonic() - began < STOP_TIMEOUT
        text = "".join(log) + err.decode() + out.decode()
        assert "Karcis stopped" in text
        assert fake.token not in text and SERVER_KEY not in text
        assert fake.token.split(":", 1)[1] not in text
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_ticket_page_is_served_and_offers_this_bot_for_check_in(
    fake: FakeTelegram, midtrans: MidtransSimulator, tmp_path: Path
) -> None:
    settings = service_settings(fake, midtrans, public_url="https://karcis.example",
                                events_file=_events_file(tmp_path),
                                whatsapp_display_number="+6281234567890")
    async with running(settings) as service:
        order = await service.services.orders.reserve(900000001, "runtime-gig", {"REG": 1}, buyer())
        [ticket] = (await service.services.orders.pay(order.id)).tickets
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session, \
                session.get(f"http://127.0.0.1:{settings.port}/t/{ticket.id}") as response:
            body = await response.text()
        assert response.status == 200 and "Valid ticket" in body
        assert f"https://t.me/{fake.bot_username}?start=t_{ticket.id}" in body  # the username getMe gave
        assert f"https://wa.me/6281234567890?text=checkin%20{ticket.id}" in body


def test_a_start_failure_at_telegrams_own_address_names_it_and_never_the_token() -> None:
    from telegram.error import NetworkError, TimedOut

    from bot.runtime import CONNECT_TIMEOUT, CannotStart, telegram_start_failure

    settings = Settings(_env_file=None, telegram_bot_token=GOOD_FORM_TOKEN)  # type: ignore[call-arg]
    leaky = NetworkError(f"httpx.ConnectError: cannot reach https://api.telegram.org/bot{GOOD_FORM_TOKEN}/getMe")
    failure = telegram_start_failure(leaky, settings, GOOD_FORM_TOKEN)
    assert isinstance(failure, CannotStart)
    line = str(failure)
    assert line.startswith("Cannot start: Telegram's Bot API at https://api.telegram.org (the default; "
                           "TELEGRAM_API_BASE_URL is not set) could not be reached for getMe")
    assert "internet access" in line and "\n" not in line
    assert GOOD_FORM_TOKEN.split(":", 1)[1] not in line
    timed_out = str(telegram_start_failure(TimedOut(), settings, GOOD_FORM_TOKEN))
    assert f"(no answer within {CONNECT_TIMEOUT:g} s)" in timed_out  # 3 s since the timeouts fit a chat
    assert telegram_start_failure(RuntimeError("not Telegram's"), settings, GOOD_FORM_TOKEN) is None
