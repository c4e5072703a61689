"""What the fake Telegram keeps: users, messages, button presses, files, API calls, chat events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.telegram.html import render_html

# --------------------------------------------------------------------------------------------------- records


@dataclass
class FakeUser:
    """A Telegram user who can talk to the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    blocked_bot: bool = False
    started: bool = False
    phone_number: str | None = None  # what a request_contact button shares (reply_keyboards.py)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
            "blocked_bot": self.blocked_bot,
            "started": self.started,
            "phone_number": self.phone_number,
        }


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"UploadedFile(filename={self.filename!r}, content_type={self.content_type!r}, {len(self.data)} bytes)"


@dataclass
class StoredFile:
    """A file the fake server holds: downloadable at ``/file/bot<token>/<file_path>``."""

    file_id: str
    file_unique_id: str
    kind: Literal["photo", "document"]
    data: bytes = field(repr=False)
    file_path: str
    mime_type: str
    width: int | None = None
    height: int | None = None
    file_name: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.file_size,
        }

    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
        }
        if self.file_name:
            data["file_name"] = self.file_name
        return data


@dataclass
class MessageRecord:
    """One message in a private chat, sent by the bot (``from_bot``) or by the user.

    ``text``/``caption`` are what the reader sees (entities parsed, whitespace trimmed); ``source`` is what the
    bot sent, ``parse_mode`` how it asked for it to be read. ``history`` holds earlier versions, oldest first.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    sender: dict[str, Any]
    chat: dict[str, Any]
    date: int
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None
    photo: list[dict[str, Any]] | None = None
    photo_bytes: bytes | None = field(default=None, repr=False)
    document: dict[str, Any] | None = None
    document_bytes: bytes | None = field(default=None, repr=False)
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    revision: int = 0
    contact: dict[str, Any] | None = None  # Message.contact: "Message is a shared contact, information about it"

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def body(self) -> str | None:
        """The text, or the caption of a photo or document."""
        return self.text if self.text is not None else self.caption

    @property
    def photo_file_id(self) -> str | None:
        return self.photo[-1]["file_id"] if self.photo else None

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.inline_markup
        return markup["inline_keyboard"] if markup else []

    def buttons(self) -> list[dict[str, Any]]:
        """The inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons() if b.get("callback_data")]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button labelled ``text``."""
        for button in self.buttons():
            if button.get("text") == text:
                return button
        labels = [b.get("text") for b in self.buttons()]
        raise LookupError(f"message {self.message_id} has no button {text!r}; it has {labels}")

    def snapshot(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "caption": self.caption,
            "entities": self.entities,
            "source": self.source,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
        }

    def to_api(self, reply_to: MessageRecord | None = None) -> dict[str, Any]:
        """The Bot API ``Message`` object."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if reply_to is not None:
            data["reply_to_message"] = reply_to.to_api()
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo
        if self.document is not None:
            data["document"] = self.document
        if self.caption is not None:
            data["caption"] = self.caption
            if self.entities:
                data["caption_entities"] = self.entities
        if self.contact is not None:
            data["contact"] = self.contact
        if self.inline_markup is not None:
            data["reply_markup"] = self.inline_markup
        return data

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the sandbox chat; ``html`` is the body rendered safe for a web page."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "date": self.date,
            "text": self.text,
            "caption": self.caption,
            "html": render_html(self.body or "", self.entities),
            "entities": self.entities,
            "source": self.source,
            "parse_mode": self.parse_mode,
            "photo": self.photo[-1] if self.photo else None,
            "document": self.document,
            "contact": self.contact,
            "reply_markup": self.reply_markup,
            "reply_to_message_id": self.reply_to_message_id,
            "edited": self.edited,
            "edit_date": self.edit_date,
            "deleted": self.deleted,
            "revision": self.revision,
        }


@dataclass
class CallbackQueryRecord:
    """A button press by a fake user, and the bot's answer once it comes."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "answer_text": self.answer_text,
            "show_alert": self.show_alert,
            "url": self.url,
        }


@dataclass(frozen=True)
class ApiCall:
    """One Bot API call as the fake saw it: params decoded to Python values, files as `UploadedFile`."""

    method: str
    params: dict[str, Any]
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    at: float = 0.0


@dataclass(frozen=True)
class ChatEvent:
    """Something a live chat view should show: a new, edited or deleted message, or a chat action (typing...)."""

    kind: Literal["message", "edited", "deleted", "chat_action"]
    chat_id: int
    message: dict[str, Any] | None = None
    action: str | None = None
    revision: int = 0


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Flood:
    retry_after: int
    remaining: int
    methods: frozenset[str] | None


Predicate = Callable[[MessageRecord], bool]
