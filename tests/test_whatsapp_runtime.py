"""`python -m bot run` with the WhatsApp door: WhatsApp only needs no Telegram token, says which doors are open,
serves the webhook handshake and answers a person; a half-configured WhatsApp door is refused clearly."""

from __future__ import annotations

import logging
import os
import socket

import pytest

from bot.config import ConfigError, Settings
from bot.runtime import require_credentials
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.whatsapp import FakeWhatsApp
from tests.conftest import FakeClock
from tests.service_runner import running
from webhooks.whatsapp import PATH

SERVER_KEY = "SB-Mid-server-RuntimeTestKey0123456789"
AYU = "+6281234567890"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("MONGODB_", "TELEGRAM_", "MIDTRANS_", "PUBLIC_URL", "PORT", "ADMIN_", "WHATSAPP_",
                            "EVENTS_FILE")):
            monkeypatch.delenv(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def whatsapp_settings(wa: FakeWhatsApp, port: int, **extra: object) -> Settings:
    values: dict[str, object] = dict(
        midtrans_server_key=SERVER_KEY, port=port, public_url="https://karcis.example",
        whatsapp_access_token=wa.access_token, whatsapp_phone_number_id=wa.phone_number_id,
        whatsapp_app_secret=wa.app_secret, whatsapp_verify_token="verify-me", whatsapp_api_base_url=wa.graph_url)
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_a_whatsapp_only_run_needs_no_telegram_token_and_answers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with FakeWhatsApp(clock=FakeClock(), webhook_retry_delay=0.01) as wa, \
            MidtransSimulator(SERVER_KEY):
        wa.add_user(AYU, "Ayu")
        port = free_port()
        async with running(whatsapp_settings(wa, port)) as run:
            assert run.application is None and run.doors == ("whatsapp",)
            assert "doors open: WhatsApp (webhook https://karcis.example/whatsapp/webhook)" in caplog.text
            await wa.configure_webhook(f"http://127.0.0.1:{port}{PATH}", "verify-me")  # Meta's handshake
            await wa.send_text(AYU, "halo")
            menu = await wa.wait_for_message(AYU)
            assert menu.buttons()[0]["title"] == "Acara"  # an Indonesian number reads Indonesian
        assert wa.access_token not in caplog.text and wa.app_secret not in caplog.text


async def test_a_half_configured_whatsapp_door_names_what_is_missing() -> None:
    settings = Settings(_env_file=None, midtrans_server_key=SERVER_KEY, whatsapp_access_token="t0ken",
                        whatsapp_phone_number_id="123456")  # type: ignore[call-arg]
    with pytest.raises(ConfigError) as refused:
        require_credentials(settings)
    assert "WHATSAPP_APP_SECRET" in str(refused.value) and "PUBLIC_URL" in str(refused.value)
    assert "TELEGRAM_BOT_TOKEN" not in str(refused.value)
    neither = Settings(_env_file=None, midtrans_server_key=SERVER_KEY)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        require_credentials(neither)
