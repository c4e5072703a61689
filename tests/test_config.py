"""Configuration: fixed names, defaults, one message listing every bad value, secrets never shown."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("MONGODB_URI", "MONGODB_DB", "TELEGRAM_BOT_TOKEN", "MIDTRANS_SERVER_KEY", "PORT", "ADMIN_IDS",
                 "RESERVATION_MINUTES", "EXPIRY_SWEEP_SECONDS", "EVENTS_FILE", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_use_the_embedded_store() -> None:
    settings = load_settings()
    assert settings.uses_embedded_store
    assert (settings.mongodb_db, settings.port, settings.reservation_minutes, settings.expiry_sweep_seconds) == (
        "karcis", 8080, 30, 60)
    assert settings.admin_ids == () and settings.admin_whatsapp == ()


def test_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017")
    monkeypatch.setenv("ADMIN_IDS", "12, 34,56")
    monkeypatch.setenv("RESERVATION_MINUTES", "15")
    monkeypatch.setenv("MIDTRANS_IS_PRODUCTION", "true")
    settings = load_settings()
    assert not settings.uses_embedded_store
    assert settings.admin_ids == (("telegram:12",), ("telegram:34",), ("telegram:56",))
    assert settings.reservation_minutes == 15
    assert settings.midtrans_is_production is True


def test_dotenv_file_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("PORT=9090\nADMIN_IDS=7\n")
    settings = load_settings()
    assert settings.port == 9090 and settings.admin_ids == (("telegram:7",),)


def test_every_bad_value_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "99999")
    monkeypatch.setenv("ADMIN_IDS", "12,abc")
    monkeypatch.setenv("RESERVATION_MINUTES", "0")
    monkeypatch.setenv("EVENTS_FILE", "/nonexistent/events.yaml")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    for name in ("PORT", "ADMIN_IDS", "RESERVATION_MINUTES", "EVENTS_FILE"):
        assert name in message
    assert "abc" in message


def test_admins_are_named_by_telegram_ids_addresses_and_whatsapp_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "12, telegram:34 , whatsapp:+62 812-3456-7890, 56/whatsapp:+6281111111111")
    monkeypatch.setenv("ADMIN_WHATSAPP", "+6281222333444, +6281222333444")
    settings = load_settings()
    assert settings.admin_ids == (("telegram:12",), ("telegram:34",), ("whatsapp:+6281234567890",),
                                  ("telegram:56", "whatsapp:+6281111111111"))
    assert settings.admin_whatsapp == ("whatsapp:+6281222333444",)
    assert settings.admin_groups[-1] == ("whatsapp:+6281222333444",)


@pytest.mark.parametrize(("name", "value", "named"), [
    ("ADMIN_IDS", "12,signal:5", "signal:5"),
    ("ADMIN_IDS", "telegram:-3", "telegram:-3"),
    ("ADMIN_IDS", "whatsapp:081234567890", "whatsapp:081234567890"),
    ("ADMIN_IDS", "12/whatsapp:+620", "12/whatsapp:+620"),
    ("ADMIN_WHATSAPP", "+6281234567890,081234567890", "081234567890"),
    ("ADMIN_WHATSAPP", "+1234", "+1234"),
])
def test_bad_admin_entries_are_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert name in str(caught.value) and named in str(caught.value)


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAvery-secret-token_0123456789abcdefg")
    monkeypatch.setenv("MIDTRANS_SERVER_KEY", "SB-Mid-server-topsecret")
    monkeypatch.setenv("MONGODB_URI", "mongodb://user:hunter2@db:27017")
    settings = load_settings()
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in ("very-secret-token", "topsecret", "hunter2"):
        assert secret not in shown
    assert settings.telegram_bot_token.get_secret_value() == "123456789:AAvery-secret-token_0123456789abcdefg"
    monkeypatch.setenv("PORT", "nope")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "topsecret" not in str(caught.value) and "very-secret-token" not in str(caught.value)


@pytest.mark.parametrize("token", ["abc", "123456789", "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                                   '"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"', "123456789:AAHdqTcv",
                                   "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALD saw",
                                   "hunter2:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"])
def test_a_token_not_of_botfathers_form_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("PORT", "nope")  # listed together with the other bad values
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "TELEGRAM_BOT_TOKEN: does not look like a bot token" in message and "PORT" in message
    for part in {token, *token.replace(":", " ").replace('"', " ").split()}:  # not a piece of it is shown
        assert part not in message.replace("TELEGRAM_BOT_TOKEN", "").replace("123456789:AAH...", "")


def test_a_token_of_botfathers_form_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    assert load_settings().telegram_bot_token.get_secret_value().startswith("110201543:")


@pytest.mark.parametrize("url", ["http://karcis.example", "karcis.example", "ftp://karcis.example"])
def test_a_public_url_that_is_not_https_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("PUBLIC_URL", url)
    monkeypatch.setenv("ADMIN_IDS", "x")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "PUBLIC_URL: must be the service's public https:// address" in message and "ADMIN_IDS" in message
    assert "pattern" not in message


def test_an_https_public_url_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://karcis.example")
    assert load_settings().public_url == "https://karcis.example"
