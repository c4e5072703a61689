"""Karcis configuration, read from the environment (and an optional `.env`) with pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigError(Exception):
    """Raised when the configuration is invalid; the message lists every bad value."""


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
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    reservation_minutes: int = Field(default=30, ge=1, le=24 * 60)
    expiry_sweep_seconds: int = Field(default=60, ge=1, le=3600)
    events_file: Path | None = None
    sale_digest_seconds: int = Field(default=15, ge=1, le=3600, description="a sale digest per chat this often")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        """Accept `ADMIN_IDS=1,2,3` (commas, spaces allowed)."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            bad = [p for p in parts if not _is_int(p)]
            if bad:
                raise ValueError(f"must be comma-separated Telegram user ids; not a number: {', '.join(bad)}")
            return frozenset(int(p) for p in parts)
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

    @property
    def uses_embedded_store(self) -> bool:
        return self.mongodb_uri is None


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def load_settings(**overrides: object) -> Settings:
    """Read the settings; on any invalid value raise ConfigError naming every bad variable (never its secret value)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "CONFIG"
            lines.append(f"  {name}: {err['msg']}")
        raise ConfigError("Invalid configuration:\n" + "\n".join(lines)) from None
