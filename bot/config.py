"""Karcis configuration, read from the environment (and an optional `.env`) with pydantic-settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.accounts import ADDRESS_MAX, InvalidAddress, parse_address, whatsapp_address

# Midtrans Snap's shortest expiry (its docs say 5 minutes on one page and 20 seconds on another: take 5).
SNAP_MIN_EXPIRY_MINUTES = 5


DOOR_OPENS_HOURS_DEFAULT = 3.0
DOOR_OPENS_HOURS_MAX = 7 * 24.0  # a week: a wider window would let a mistaken link check in unasked


class ConfigError(Exception):
    """Raised when the configuration is invalid; the message lists every bad value."""


# BotFather's tokens: the bot's numeric id, a colon, and a secret of about 35 URL-safe characters
# (https://core.telegram.org/bots/api#authorizing-your-bot: "something like 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11").
BOT_TOKEN_FORM = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,64}")
BOT_TOKEN_PROBLEM = (
    "does not look like a bot token: BotFather's tokens are the bot's id (digits), a colon and about 35 letters, "
    "digits, _ or - (like 123456789:AAH...); check for quotes, spaces or a part left out"
)
PUBLIC_URL_PROBLEM = (
    "must be the service's public https:// address (Telegram sends webhooks only to https); "
    "leave it unset to use long polling"
)


class Settings(BaseSettings):
    """Every setting Karcis reads. Names are fixed: the README and deployments rely on them."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    mongodb_uri: SecretStr | None = Field(default=None, description="unset: embedded in-memory store")
    mongodb_db: str = Field(default="karcis", min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = Field(default=None, pattern=r"^https?://")
    midtrans_server_key: SecretStr | None = None
    midtrans_client_key: str | None = None
    midtrans_is_production: bool = False
    midtrans_snap_base_url: str | None = Field(default=None, pattern=r"^https?://")
    midtrans_api_base_url: str | None = Field(default=None, pattern=r"^https?://")
    public_url: str | None = Field(default=None, pattern=r"^https?://")
    port: int = Field(default=8080, ge=1, le=65535)
    admin_ids: Annotated[tuple[tuple[str, ...], ...], NoDecode] = Field(
        default=(), description="admins: Telegram ids or addresses, one person's addresses joined by '/'")
    admin_whatsapp: Annotated[tuple[str, ...], NoDecode] = Field(default=(), description="admins' WhatsApp numbers")
    reservation_minutes: int = Field(default=30, le=24 * 60)
    expiry_sweep_seconds: int = Field(default=60, ge=1, le=3600)
    payment_poll_grace_minutes: int = Field(
        default=60, ge=0, le=24 * 60,
        description="how long after a hold ended an order waits for Midtrans to answer before it is expired "
                    "unconfirmed (admins are told)")
    events_file: Path | None = None
    sale_digest_seconds: int = Field(default=15, ge=1, le=3600, description="a sale digest per chat this often")
    # the door window (bot/checkin.py): a ticket link, a QR photo, /checkin or a typed code checks in at once
    # from this many hours before the event starts until it ends; outside it, one confirming tap is asked for
    door_opens_hours_before: float = Field(
        default=DOOR_OPENS_HOURS_DEFAULT, ge=0, le=DOOR_OPENS_HOURS_MAX,
        description="hours before an event's start from which check-in needs no confirmation")
    # the WhatsApp number people chat with, in international format (+6281234567890): the ticket page's
    # "Check in with WhatsApp" and a WhatsApp order's payment finish link are wa.me links to it (bot/links.py)
    whatsapp_display_number: str | None = Field(default=None, pattern=r"^\+?[1-9][0-9]{6,14}$")

    @field_validator("whatsapp_display_number", mode="before")
    @classmethod
    def _display_number(cls, value: object) -> object:
        """Blank is unset; spaces and dashes (`+62 812-3456-7890`) are allowed and dropped."""
        if isinstance(value, str):
            value = value.replace(" ", "").replace("-", "")
            return value or None
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        """Accept `ADMIN_IDS=1,2,3` (Telegram user ids, as always), addresses (`telegram:1`, `whatsapp:+62…`), and
        one person named by several addresses joined by `/` (`1/whatsapp:+6281234567890`): commas between
        people, spaces allowed. Also a collection of ints or addresses (tests, overrides)."""
        return _admin_groups(value)

    @field_validator("admin_whatsapp", mode="before")
    @classmethod
    def _split_admin_whatsapp(cls, value: object) -> object:
        """Accept `ADMIN_WHATSAPP=+6281234567890,+6281111111111`: WhatsApp numbers in international form."""
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        if isinstance(value, list | tuple | set | frozenset):
            numbers, bad = [], []
            for part in value:
                try:
                    numbers.append(whatsapp_address(str(part).removeprefix("whatsapp:")))
                except InvalidAddress:
                    bad.append(str(part)[:ADDRESS_MAX])
            if bad:
                raise ValueError("must be comma-separated WhatsApp numbers in international form (e.g. "
                                 f"+6281234567890); not a valid number: {', '.join(bad)}")
            return tuple(dict.fromkeys(numbers))
        return value

    @field_validator("reservation_minutes")
    @classmethod
    def _reservation_fits_snap(cls, value: int) -> int:
        """The hold is also the Snap payment page's expiry, which Midtrans documents as at least 5 minutes."""
        if value < SNAP_MIN_EXPIRY_MINUTES:
            raise ValueError(f"must be at least {SNAP_MIN_EXPIRY_MINUTES} minutes: the payment page's expiry "
                             f"cannot be shorter than Midtrans's minimum of {SNAP_MIN_EXPIRY_MINUTES} minutes")
        return value

    @field_validator("mongodb_uri", "telegram_bot_token", "midtrans_server_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("events_file")
    @classmethod
    def _events_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    # -- the bot token and the public URL: their form is checked here, so that a mistake is listed with the others
    # before anything starts (never quoting the token).

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_has_botfathers_form(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not BOT_TOKEN_FORM.fullmatch(value.get_secret_value()):
            raise ValueError(BOT_TOKEN_PROBLEM)
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url_is_https(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().lower().startswith("https://"):
            raise ValueError(PUBLIC_URL_PROBLEM)
        return value.strip() if isinstance(value, str) else value

    @property
    def admin_groups(self) -> tuple[tuple[str, ...], ...]:
        """Every admin, as the addresses naming them (ADMIN_IDS, then ADMIN_WHATSAPP)."""
        return (*self.admin_ids, *((number,) for number in self.admin_whatsapp))

    @property
    def uses_embedded_store(self) -> bool:
        return self.mongodb_uri is None

    # WhatsApp Cloud API (docs/whatsapp.md): the door opens when the token and the phone number id are set.
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = Field(default=None, pattern=r"^[0-9]{1,32}$")
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_base_url: str = Field(default="https://graph.facebook.com/v26.0", pattern=r"^https?://")
    # approved templates for what may fall outside the 24-hour window (unset: such a message is not sent, logged)
    whatsapp_template_tickets: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    whatsapp_template_tickets_language: str = Field(default="id", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    whatsapp_template_notice: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    whatsapp_template_notice_language: str = Field(default="id", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    # the templates' quick-reply buttons, in the order they were approved, by what each does (docs/whatsapp.md)
    whatsapp_template_tickets_buttons: str = Field(default="", max_length=200)
    whatsapp_template_notice_buttons: str = Field(default="", max_length=200)

    @field_validator("whatsapp_template_tickets_buttons", "whatsapp_template_notice_buttons")
    @classmethod
    def _template_buttons(cls, value: str) -> str:
        """Comma-separated, each one of TEMPLATE_BUTTONS, at most 10 (a template has at most 10 buttons)."""
        names = [n.strip().lower() for n in value.split(",") if n.strip()]
        wrong = [n[:20] for n in names if n not in TEMPLATE_BUTTONS]
        if wrong:
            raise ValueError(f"unknown template button {', '.join(wrong)}: each is one of "
                             f"{', '.join(TEMPLATE_BUTTONS)}")
        if len(names) > 10:
            raise ValueError(f"{len(names)} template buttons, at most 10")
        return ",".join(names)

    @field_validator("whatsapp_access_token", "whatsapp_phone_number_id", "whatsapp_app_secret",
                     "whatsapp_verify_token", "whatsapp_template_tickets", "whatsapp_template_notice", mode="before")
    @classmethod
    def _blank_whatsapp_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_access_token is not None and self.whatsapp_phone_number_id is not None


TEMPLATE_BUTTONS = ("tickets", "orders", "events", "menu")  # what a template's quick-reply button may do


def _admin_groups(value: object) -> object:
    """ADMIN_IDS as admins, each a tuple of normalised addresses; ValueError naming every entry that is not one."""
    if isinstance(value, str):
        entries: list[object] = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, set | frozenset):
        entries = sorted(value, key=str)
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        return value
    groups, bad = [], []
    for entry in entries:
        parts = [p.strip() for p in entry.split("/")] if isinstance(entry, str) else (
            list(entry) if isinstance(entry, list | tuple) else [entry])
        try:
            groups.append(tuple(dict.fromkeys(parse_address(p) for p in parts)))  # type: ignore[arg-type]
        except InvalidAddress:
            bad.append(str(entry)[:ADDRESS_MAX])
    if bad:
        raise ValueError("must be comma-separated Telegram user ids or addresses (telegram:<id>, "
                         f"whatsapp:<+number>); not one: {', '.join(bad)}")
    return tuple(groups)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; on any invalid value raise ConfigError naming every bad variable (never its secret value)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "CONFIG"
            lines.append(f"  {name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("Invalid configuration:\n" + "\n".join(lines)) from None
