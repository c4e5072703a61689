"""The fake Bot API's errors: Telegram's refusals (`TelegramApiError`) and the sandbox's own (`SandboxError`)."""

from __future__ import annotations

from typing import Any

# --------------------------------------------------------------------------------------------------- errors


class TelegramApiError(Exception):
    """A Bot API refusal, with Telegram's error code and description."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class SandboxError(Exception):
    """A test or the sandbox UI asked a fake user to do something impossible (unknown user, missing button...)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class HtmlParseError(ValueError):
    """Text is not valid Telegram HTML; the message is TDLib's, without the "can't parse entities" prefix."""


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


def _forbidden(description: str) -> TelegramApiError:
    return TelegramApiError(403, f"Forbidden: {description}")
