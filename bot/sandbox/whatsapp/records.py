"""What the WhatsApp simulator remembers: users, their chats (messages both ways), media, templates, windows.

The customer service window (Service messages page,
https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages): "When a
WhatsApp user messages you or calls you, a 24-hour timer called a customer service window starts. If the user
messages or calls you again before the timer expires, the timer resets to 24 hours. ... When the window closes,
you can only send pre-approved template messages." The business's own messages (templates included) do not open
or refresh it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

WINDOW = timedelta(hours=24)

Direction = Literal["in", "out"]
Status = Literal["accepted", "sent", "delivered", "read", "failed"]
TemplateStatus = Literal["APPROVED", "PAUSED", "DISABLED"]


@dataclass
class WaUser:
    """A WhatsApp user: ``wa_id`` is the number's digits (E.164 without '+')."""

    wa_id: str
    name: str
    # Business-scoped user id: Meta adds it to webhooks since April 2026 (``contacts[].user_id``, "a two-letter
    # country code, then a period, then an alphanumeric string"; Business-scoped user IDs page,
    # https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids).
    bsuid: str = ""
    last_user_message_at: datetime | None = None
    blocked_business: bool = False
    # Meta's 131026 reasons: not on WhatsApp, old client, terms not accepted. Set to make every message fail so.
    undeliverable: bool = False

    @property
    def number(self) -> str:
        return "+" + self.wa_id

    def window_open(self, now: datetime) -> bool:
        return self.last_user_message_at is not None and now < self.last_user_message_at + WINDOW

    def window_closes_at(self) -> datetime | None:
        return None if self.last_user_message_at is None else self.last_user_message_at + WINDOW

    def to_dict(self, now: datetime) -> dict[str, Any]:
        closes = self.window_closes_at()
        return {
            "wa_id": self.wa_id, "number": self.number, "name": self.name, "bsuid": self.bsuid,
            "window_open": self.window_open(now), "window_closes_at": closes.isoformat() if closes else None,
            "blocked_business": self.blocked_business, "undeliverable": self.undeliverable,
        }


@dataclass
class WaMessage:
    """One message in a chat. ``out`` = the business (bot) sent it; ``in`` = the user did."""

    id: str
    seq: int
    wa_id: str
    direction: Direction
    type: str
    content: dict[str, Any]
    timestamp: datetime
    status: Status = "accepted"
    status_history: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    context_id: str | None = None
    read_by_business: bool = False
    answered: bool = False  # an interactive message whose button/row the user already used

    @property
    def from_bot(self) -> bool:
        return self.direction == "out"

    @property
    def visible(self) -> bool:
        """Did it reach the user's phone (a bot message that failed never shows)?"""
        return self.direction == "in" or self.status in ("sent", "delivered", "read")

    @property
    def text(self) -> str | None:
        """The words a person sees: text body, interactive body, caption, or the filled-in template."""
        if self.type == "text":
            return self.content.get("body")
        if self.type == "interactive":
            return (self.content.get("body") or {}).get("text")
        if self.type == "image":
            return self.content.get("caption")
        if self.type == "template":
            return self.content.get("rendered")
        if self.type == "button_reply" or self.type == "list_reply":
            return self.content.get("title")
        return None

    @property
    def interactive_type(self) -> str | None:
        return self.content.get("type") if self.type == "interactive" else None

    def template_buttons(self) -> list[dict[str, str]]:
        """A template's quick-reply buttons as ``{index, text, payload}`` (the payload the send gave it, else the
        label)."""
        if self.type != "template":
            return []
        return [dict(b) for b in self.content.get("buttons", [])]

    def buttons(self) -> list[dict[str, str]]:
        """Reply buttons as ``{id, title}``."""
        if self.interactive_type != "button":
            return []
        return [dict(b["reply"]) for b in self.content["action"]["buttons"]]

    def rows(self) -> list[dict[str, str]]:
        """List rows as ``{id, title, description?}`` across sections."""
        if self.interactive_type != "list":
            return []
        return [dict(row) for section in self.content["action"]["sections"] for row in section["rows"]]

    def cta(self) -> dict[str, str] | None:
        if self.interactive_type != "cta_url":
            return None
        return dict(self.content["action"]["parameters"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "seq": self.seq, "wa_id": self.wa_id, "from_bot": self.from_bot, "type": self.type,
            "interactive_type": self.interactive_type, "text": self.text, "content": self.content,
            "timestamp": self.timestamp.isoformat(), "status": self.status, "error": self.error,
            "context_id": self.context_id, "buttons": self.buttons(), "rows": self.rows(), "cta": self.cta(),
            "answered": self.answered,
        }


@dataclass
class Media:
    """An uploaded (by the bot) or received (from a user) file."""

    id: str
    data: bytes
    mime_type: str
    created_at: datetime
    # Media IDs "returned by the API expire after 30 days. Media IDs in webhooks expire after 7 days." (Media page,
    # https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media/)
    expires_at: datetime
    phone_number_id: str | None = None

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass
class Template:
    """A message template registered (approved) for the number. ``body`` has ``{{1}}``... placeholders."""

    name: str
    language: str
    body: str
    header: str | None = None
    category: str = "UTILITY"
    status: TemplateStatus = "APPROVED"
    buttons: tuple[str, ...] = ()  # its quick-reply buttons' labels, in the approved order (index 0, 1, ...)

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.language)


class SandboxError(Exception):
    """A test or the sandbox UI asked a fake user to do something impossible (unknown user, missing button...)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class WebhookVerificationError(Exception):
    """The bot's endpoint did not answer Meta's GET verification request with the challenge."""


@dataclass
class Delivery:
    """One webhook POST: the body is serialised once, so a redelivery is byte-identical (same signature)."""

    id: int
    payload: dict[str, Any]
    body: bytes
    attempts: int = 0
    delivered: bool = False
    last_error: str | None = None
    not_before: float = 0.0
