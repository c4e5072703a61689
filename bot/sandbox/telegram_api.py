"""A fake Telegram Bot API server, for tests and for the browser sandbox chat.

One `TelegramSimulator` holds the whole world: users, their private chats with the bot, files, the update queue,
the webhook, command lists, and a log of every Bot API call. `create_telegram_app` puts it behind aiohttp at the
same paths as api.telegram.org, so python-telegram-bot talks to it over HTTP unchanged; `FakeTelegram` is the
simulator plus a server on 127.0.0.1 and a free port.

    async with FakeTelegram() as fake:
        fake.add_user(42, "Ayu")
        app = (ApplicationBuilder().token(fake.token)
               .base_url(fake.api_url).base_file_url(fake.file_url).build())
        ...
        await fake.send_text(42, "/start")
        reply = await fake.wait_for_message(42)

What it enforces, and answers the way Telegram does (HTTP status = ``error_code``):

* token: a well-formed but wrong token is 401 ``Unauthorized``; a malformed one, or an unknown method, 404
  ``Not Found``. Method names are case-insensitive, as on Telegram.
* chats: only private chats with users the test added. Unknown chat → ``chat not found``; a user who blocked the
  bot → 403 ``Forbidden: bot was blocked by the user``; a user who never wrote to the bot (``started=False``) →
  403 ``Forbidden: bot can't initiate conversation with a user``.
* text: 1-4096 characters after entity parsing and trimming (``message text is empty`` / ``message is too long``),
  captions ≤ 1024 (``message caption is too long``).
* ``parse_mode=HTML`` is parsed like TDLib's ``parse_html`` (same tags, same error texts, entity offsets in UTF-16).
  One deliberate difference: with ``strict_html=True`` (default) a ``&`` that does not start ``&lt;``, ``&gt;``,
  ``&amp;``, ``&quot;`` or ``&#NN;`` is refused. Telegram itself keeps such a ``&`` literally, but its docs say
  it must be escaped, and text that forgot to escape ``&`` also forgot ``<``, which Telegram does refuse.
  ``Markdown``/``MarkdownV2`` are accepted without checking.
* inline keyboards: exactly one action field per button (``Text buttons are unallowed in the inline keyboard``),
  ``callback_data`` 1-64 bytes (``BUTTON_DATA_INVALID``), URL buttons: ``http``/``https``/``tg`` only
  (``... is invalid: Unsupported URL protocol``), a host without a dot such as ``localhost`` (``... is invalid:
  Wrong HTTP URL``, the text Telegram gives for ``http://localhost:5678``), a loopback/private IP or a
  ``*.localhost``/``*.local``/``*.internal`` host (``BUTTON_URL_INVALID``). Sandbox only: URLs starting with one
  of ``allowed_local_urls`` skip the host rule, so the sandbox's Midtrans payment page on 127.0.0.1 can be a button.
* edits: ``message is not modified: ...`` when text/entities and inline keyboard are unchanged. As on Telegram,
  an edit without ``reply_markup`` removes the inline keyboard.
* 429: `inject_retry_after` makes the next K matching calls answer ``Too Many Requests: retry after N`` with
  ``parameters.retry_after``.

Error texts not confirmed against the live API (the fake's best guess): the one-action-per-button complaint,
``inline keyboard expected``, ``BOT_COMMAND_INVALID``/``BOT_COMMAND_DESCRIPTION_INVALID``, the language-code and
scope complaints, ``MESSAGE_TOO_LONG`` for long callback answers, ``can't parse JSON``.

Updates flow to the bot either through ``getUpdates`` (long polling, ``offset`` confirmation, negative offsets,
``allowed_updates`` remembered between calls, a newer ``getUpdates`` ends an older one with 409) or, after
``setWebhook``, by POSTs to the webhook URL with ``X-Telegram-Bot-Api-Secret-Token``, one at a time and in order,
retried until the endpoint answers 2xx. A webhook may answer with a method call in its body, as Telegram allows.
Plain-HTTP and local webhook URLs are accepted unless ``strict_webhooks=True``.

The ``/sandbox/...`` JSON endpoints are for a local browser chat; they have no authentication. Never expose them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import io
import ipaddress
import itertools
import json
import mimetypes
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, MultipartReader, hdrs, web
from PIL import Image, UnidentifiedImageError

__all__ = [
    "DEFAULT_TOKEN",
    "SIMULATOR_KEY",
    "WEBHOOK_SESSION_KEY",
    "ApiCall",
    "CallbackQueryRecord",
    "ChatEvent",
    "FakeTelegram",
    "FakeUser",
    "HtmlParseError",
    "MessageRecord",
    "SandboxError",
    "StoredFile",
    "TelegramApiError",
    "TelegramSimulator",
    "UploadedFile",
    "create_telegram_app",
    "parse_html",
    "render_html",
]

DEFAULT_TOKEN = "123456789:AAFakeKarcisTokenForTests_0123456789"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_COMMANDS = 100
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_REQUEST_BYTES = 50 * 1024 * 1024
THUMBNAIL_SIDE = 90

ALL_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages", "message_reaction",
        "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_member",
        "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)
DEFAULT_ALLOWED_UPDATES = ALL_UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)
ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
        "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
        "text_link", "text_mention", "custom_emoji",
    }
)
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay",
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query id is invalid"

# Form-encoded and multipart requests carry every value as a string; these say how to read them back.
_INT_FIELDS = frozenset(
    {
        "chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time", "max_connections",
        "from_chat_id", "message_thread_id", "reply_to_message_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates", "has_spoiler",
        "disable_web_page_preview", "allow_sending_without_reply", "show_caption_above_media",
        "allow_paid_broadcast", "disable_content_type_detection",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "scope", "commands", "allowed_updates",
        "link_preview_options", "reply_parameters", "menu_button", "media",
    }
)
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BOT_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")
_URL_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


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


@dataclass(frozen=True)
class _ImageInfo:
    width: int
    height: int
    mime_type: str
    extension: str
    thumbnail: bytes | None
    thumbnail_size: tuple[int, int] | None


# --------------------------------------------------------------------------------------------------- helpers


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace as Telegram does, shifting and clipping entities."""
    left = text.lstrip()
    lead = _u16(text) - _u16(left)
    result = left.rstrip()
    total = _u16(result)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


def _sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _bot_command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities, as Telegram adds them to ``/start payload``."""
    return [
        {"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group())}
        for m in _BOT_COMMAND_RE.finditer(text)
    ]


def _parse_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _normalize_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode form-style string values into the types a JSON request would have carried."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if name in _JSON_FIELDS:
                if value == "":
                    continue
                try:
                    value = json.loads(value)
                except ValueError:
                    if name == "reply_markup":
                        raise _bad("can't parse reply keyboard markup JSON object") from None
                    raise _bad(f"can't parse {name} JSON object") from None
            elif name in _INT_FIELDS:
                number = _parse_int(value)
                value = number if number is not None else value
            elif name in _BOOL_FIELDS:
                lowered = value.strip().lower()
                if lowered in ("true", "1"):
                    value = True
                elif lowered in ("false", "0", ""):
                    value = False
        params[name] = value
    return params


class _Params:
    """Typed, Telegram-worded access to one call's parameters."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def get_int(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        number = _parse_int(value)
        if number is None:
            raise _bad(f"invalid {name} specified")
        return number

    def get_str(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return json.dumps(value)

    def get_bool(self, name: str) -> bool:
        value = self.data.get(name)
        return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _check_url_host(url: str, *, what: str) -> None:
    """Refuse URLs Telegram refuses in buttons; ``what`` names the field in the error text."""
    if not isinstance(url, str):
        raise _bad(f'can\'t parse inline keyboard button: Field "{what}" must be of type String')
    candidate = url.strip()
    match = _URL_SCHEME_RE.match(candidate)
    scheme = match.group(1).lower() if match else "http"
    prefix = "inline keyboard button URL" if what == "url" else f"inline keyboard button {what} URL"
    if scheme == "tg":
        if len(candidate) <= len("tg://"):
            raise _bad(f"{prefix} '{url}' is invalid: Wrong URL")
        return
    if scheme not in ("http", "https"):
        raise _bad(f"{prefix} '{url}' is invalid: Unsupported URL protocol")
    try:
        parts = urlsplit(candidate if match else f"http://{candidate}")
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise _bad(f"{prefix} '{url}' is invalid: Wrong HTTP URL") from None
    if not host:
        raise _bad(f"{prefix} '{url}' is invalid: URL host is empty")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not address.is_global:
            raise _bad("BUTTON_URL_INVALID")
        return
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(labels) or labels[-1].isdigit():
        raise _bad(f"{prefix} '{url}' is invalid: Wrong HTTP URL")
    if host.endswith(_LOCAL_SUFFIXES):
        raise _bad("BUTTON_URL_INVALID")


def _inspect_image(data: bytes) -> _ImageInfo:
    """Decode an image with Pillow (run in a thread): its size, type and a ≤ 90 px JPEG thumbnail."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        width, height = image.size
        image_format = (image.format or "JPEG").upper()
        thumbnail = None
        thumbnail_size = None
        if max(width, height) > THUMBNAIL_SIDE:
            small = image.convert("RGB")
            small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            small.save(buffer, format="JPEG", quality=80)
            thumbnail = buffer.getvalue()
            thumbnail_size = small.size
    extension = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}.get(image_format, "jpg")
    mime_type = Image.MIME.get(image_format, "image/jpeg")
    return _ImageInfo(width, height, mime_type, extension, thumbnail, thumbnail_size)


# --------------------------------------------------------------------------------------------------- HTML


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the parsed text
    byte_offset: int


_SPACES = " \t\n\r\f\v"
_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "pre", "code", "span", "tg-spoiler",
        "tg-emoji", "blockquote",
    }
)
_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(x[0-9a-fA-F]+|[0-9]+)|([A-Za-z]+))(;?)")


def _decode_entity(source: str, pos: int, *, strict: bool) -> tuple[str, int] | None:
    """Decode the HTML entity at ``pos`` like TDLib (``;`` optional unless strict); None if there is none."""
    match = _ENTITY_RE.match(source, pos)
    if match is None or (strict and not match.group(3)):
        return None
    numeric, name = match.group(1), match.group(2)
    if numeric is not None:
        code = int(numeric[1:], 16) if numeric[0] in "xX" else int(numeric)
        if code == 0 or code >= 0x10FFFF or len(match.group(0).rstrip(";")) >= 10:
            return None
        return chr(code), match.end()
    if name not in _NAMED_ENTITIES:
        return None
    return _NAMED_ENTITIES[name], match.end()


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into plain text and entities (offsets in UTF-16), or raise `HtmlParseError`.

    Follows TDLib's ``parse_html``: the supported tags only, properly nested, attributes quoted or name tokens.
    ``strict`` also refuses a bare ``&`` (see the module docstring).
    """
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)

    def byte_offset(k: int) -> int:
        return len(source[:k].encode("utf-8"))

    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i, strict=strict)
            if decoded is not None:
                out.append(decoded[0])
                offset += _u16(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise HtmlParseError(
                    f'Character "&" at byte offset {byte_offset(i)} must be escaped as "&amp;" '
                    "(a real server keeps it; the fake refuses it so unescaped text is caught)"
                )
        if char != "<":
            out.append(char)
            offset += 2 if ord(char) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        if i + 1 < n and source[i + 1] == "/":
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 2
            while j < n and source[j] not in _SPACES and source[j] != ">":
                j += 1
            end_name = source[i + 2 : j]
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n or source[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            top = stack.pop()
            if end_name and end_name.lower() != top.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_tag(top, offset, entities)
            i = j + 1
            continue

        j = i + 1
        while j < n and source[j] not in _SPACES and source[j] != ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] == ">":
                break
            attr_begin = j
            while j < n and source[j] not in _SPACES and source[j] not in "=>":
                j += 1
            attr = source[attr_begin:j].lower()
            if not attr:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {byte_offset(begin)}"
                )
            j += 1
            while j < n and source[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[j] in "'\"":
                quote = source[j]
                j += 1
                value: list[str] = []
                while j < n and source[j] != quote:
                    if source[j] == "&":
                        decoded = _decode_entity(source, j, strict=False)
                        if decoded is not None:
                            value.append(decoded[0])
                            j = decoded[1]
                            continue
                    value.append(source[j])
                    j += 1
                if j < n:
                    j += 1
                attrs[attr] = "".join(value)
            else:
                token_begin = j
                while j < n and ((source[j].isascii() and source[j].isalnum()) or source[j] in ".-"):
                    j += 1
                if j < n and source[j] not in _SPACES and source[j] != ">":
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {byte_offset(token_begin)}")
                attrs[attr] = source[token_begin:j].lower()
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name, attrs, offset, byte_offset(begin)))
        i = j + 1

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), _sort_entities(entities)


def _close_tag(tag: _OpenTag, offset: int, entities: list[dict[str, Any]]) -> None:
    """Turn a closed tag into an entity, merging ``<pre><code class="language-x">`` into one ``pre`` like TDLib."""
    length = offset - tag.start
    if length <= 0:
        return
    base = {"offset": tag.start, "length": length}
    previous = entities[-1] if entities else None
    same_span = previous is not None and previous["offset"] == tag.start and previous["length"] == length
    if tag.name in _SIMPLE_TAGS:
        entities.append({"type": _SIMPLE_TAGS[tag.name], **base})
    elif tag.name == "a":
        href = tag.attrs.get("href", "")
        if _URL_SCHEME_RE.match(href) or "." in href:
            entities.append({"type": "text_link", **base, "url": href})
    elif tag.name == "code":
        css_class = tag.attrs.get("class", "")
        language = css_class[len("language-") :] if css_class.startswith("language-") else ""
        if language and same_span and previous is not None and previous["type"] == "pre":
            previous["language"] = language
        else:
            entities.append({"type": "code", **base, **({"_language": language} if language else {})})
    elif tag.name == "pre":
        if same_span and previous is not None and previous["type"] == "code" and previous.get("_language"):
            entities.pop()
            entities.append({"type": "pre", **base, "language": previous["_language"]})
        else:
            entities.append({"type": "pre", **base})
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
        entities.append({"type": kind, **base})
    elif tag.name == "tg-emoji":
        entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.attrs["emoji-id"]})


def _check_entities(text: str, entities: Any, *, what: str) -> list[dict[str, Any]]:
    """Validate explicit ``entities``/``caption_entities`` against the text, with Telegram's wording."""
    if not isinstance(entities, list):
        raise _bad(f"can't parse {what} JSON object")
    total = _u16(text)
    checked = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise _bad("can't parse MessageEntity: MessageEntity must be an Object")
        if entity.get("type") not in ENTITY_TYPES:
            raise _bad("can't parse MessageEntity: Unsupported type specified")
        offset, length = _parse_int(entity.get("offset")), _parse_int(entity.get("length"))
        if offset is None or length is None:
            raise _bad('can\'t parse MessageEntity: Field "offset" must be of type Integer')
        if offset < 0:
            raise _bad(f"receive an entity with incorrect offset {offset}")
        if offset > total:
            raise _bad(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > total:
            raise _bad(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at UTF-16 offset "
                f"{offset + length}"
            )
        if length > 0:
            checked.append({**entity, "offset": offset, "length": length})
    return _sort_entities(checked)


_RENDER_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
    "bot_command": ('<span class="tg-command">', "</span>"),
}


def _render_open(entity: dict[str, Any]) -> tuple[str, str]:
    kind = entity.get("type")
    if kind == "text_link":
        url = str(entity.get("url", ""))
        if re.match(r"(?i)^(https?|tg)://", url):
            return f'<a href="{html.escape(url)}" rel="noopener noreferrer" target="_blank">', "</a>"
        return "<span>", "</span>"
    if kind == "pre" and entity.get("language"):
        return f'<pre data-language="{html.escape(str(entity["language"]))}">', "</pre>"
    return _RENDER_TAGS.get(str(kind), (f'<span class="tg-{html.escape(str(kind))}">', "</span>"))


def render_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Render text + entities as safe, well-formed HTML for a web page (overlaps are closed and reopened)."""
    starts: dict[int, list[dict[str, Any]]] = {}
    for entity in entities:
        if entity.get("length", 0) > 0:
            starts.setdefault(entity["offset"], []).append(entity)
    out: list[str] = []
    stack: list[tuple[dict[str, Any], str]] = []

    def end(entity: dict[str, Any]) -> int:
        return int(entity["offset"]) + int(entity["length"])

    def at(position: int) -> None:
        if any(end(e) <= position for e, _ in stack):
            reopen = []
            while any(end(e) <= position for e, _ in stack):
                entity, closing = stack.pop()
                out.append(closing)
                if end(entity) > position:
                    reopen.append(entity)
            for entity in reversed(reopen):
                opening, closing = _render_open(entity)
                out.append(opening)
                stack.append((entity, closing))
        for entity in sorted(starts.get(position, []), key=lambda e: -e["length"]):
            opening, closing = _render_open(entity)
            out.append(opening)
            stack.append((entity, closing))

    position = 0
    for char in text:
        at(position)
        out.append(html.escape(char))
        position += 2 if ord(char) > 0xFFFF else 1
    at(position)
    while stack:
        out.append(stack.pop()[1])
    return "".join(out)


# --------------------------------------------------------------------------------------------------- simulator


Predicate = Callable[[MessageRecord], bool]
_Handler = Callable[[_Params], Awaitable[Any]]


class TelegramSimulator:
    """The fake Telegram world behind the HTTP server. Every method runs on the event loop; none blocks it."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "KarcisBot",
        bot_name: str = "Karcis",
        strict_html: bool = True,
        strict_webhooks: bool = False,
        webhook_retry_delay: float = 0.2,
        allowed_local_urls: Collection[str] = (),
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"not a bot token: {token!r} (expected '<digits>:<letters, digits, _ or ->')")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.strict_html = strict_html
        self.strict_webhooks = strict_webhooks
        self.webhook_retry_delay = webhook_retry_delay
        # Sandbox only: URL buttons starting with one of these are accepted although their host is local (the
        # sandbox's own Midtrans payment page on 127.0.0.1). Telegram itself refuses such buttons.
        self.allowed_local_urls = tuple(allowed_local_urls)

        self.users: dict[int, FakeUser] = {}
        self._chats: dict[int, list[MessageRecord]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[StoredFile]] = {}
        self._file_counter = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._webhook: _Webhook | None = None
        self._commands: dict[tuple[tuple[Any, ...], str], list[dict[str, str]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._callback_queries: dict[str, CallbackQueryRecord] = {}
        self._chat_actions: dict[int, str] = {}
        self._floods: list[_Flood] = []
        self._calls: deque[ApiCall] = deque(maxlen=10_000)
        self._subscribers: list[asyncio.Queue[ChatEvent]] = []
        self._revision = 0
        self._closing = False
        # One condition guards every wait: long polls, webhook delivery, wait_for_message, sandbox long polls.
        # State changes happen between awaits (so they are atomic on the loop); each ends with notify_all.
        self._changed = asyncio.Condition()
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._api_get_me,
                "logOut": self._api_true,
                "close": self._api_true,
                "getUpdates": self._api_get_updates,
                "setWebhook": self._api_set_webhook,
                "deleteWebhook": self._api_delete_webhook,
                "getWebhookInfo": self._api_get_webhook_info,
                "sendMessage": self._api_send_message,
                "sendPhoto": self._api_send_photo,
                "sendDocument": self._api_send_document,
                "editMessageText": self._api_edit_message_text,
                "editMessageCaption": self._api_edit_message_caption,
                "editMessageReplyMarkup": self._api_edit_message_reply_markup,
                "deleteMessage": self._api_delete_message,
                "answerCallbackQuery": self._api_answer_callback_query,
                "setMyCommands": self._api_set_my_commands,
                "getMyCommands": self._api_get_my_commands,
                "deleteMyCommands": self._api_delete_my_commands,
                "getFile": self._api_get_file,
                "sendChatAction": self._api_send_chat_action,
                "setChatMenuButton": self._api_set_chat_menu_button,
                "getChatMenuButton": self._api_get_chat_menu_button,
                "getChat": self._api_get_chat,
            }.items()
        }

    # ----------------------------------------------------------------------------------- the bot's identity

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    # ----------------------------------------------------------------------------------- acting as users

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        started: bool = False,
    ) -> FakeUser:
        """Create (or replace) a user. ``started`` = has already written to the bot, so the bot may message them."""
        user = FakeUser(user_id, first_name, last_name, username, language_code, started=started)
        self.users[user_id] = user
        self._chats.setdefault(user_id, [])
        return user

    def user(self, user_id: int) -> FakeUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise SandboxError(f"no user {user_id}; add_user() first", status=404) from None

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them answer 403 until `unblock`."""
        self.user(user_id).blocked_bot = True

    def unblock(self, user_id: int) -> None:
        self.user(user_id).blocked_bot = False

    async def send_text(self, user_id: int, text: str, *, reply_to_message_id: int | None = None) -> MessageRecord:
        """The user sends ``text``; a leading ``/command`` gets a ``bot_command`` entity. Returns the user's message."""
        user = self._acting_user(user_id)
        if not text.strip():
            raise SandboxError("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise SandboxError("message is too long")
        reply_to = self._user_reply_target(user.id, reply_to_message_id)
        user.started = True
        record = self._new_message(
            user.id, from_bot=False, sender=user.to_api(), text=text, entities=_bot_command_entities(text),
            source=text, reply_to_message_id=reply_to,
        )
        await self._publish("message", record)
        await self._enqueue_update("message", self._message_json(record))
        return record

    async def send_photo(
        self, user_id: int, image: bytes, caption: str | None = None, *, reply_to_message_id: int | None = None
    ) -> MessageRecord:
        """The user sends a photo (any image Pillow reads); the bot can fetch it with getFile."""
        user = self._acting_user(user_id)
        if caption is not None and len(caption) > MAX_CAPTION_LENGTH:
            raise SandboxError("message caption is too long")
        reply_to = self._user_reply_target(user.id, reply_to_message_id)
        try:
            sizes = await self._store_photo(image)
        except TelegramApiError as exc:
            raise SandboxError(f"not a usable image: {exc.description}") from None
        user.started = True
        record = self._new_message(
            user.id, from_bot=False, sender=user.to_api(), caption=caption or None, source=caption,
            photo=[f.photo_size() for f in sizes], photo_bytes=sizes[-1].data, reply_to_message_id=reply_to,
        )
        await self._publish("message", record)
        await self._enqueue_update("message", self._message_json(record))
        return record

    async def press_button(self, user_id: int, message_id: int, callback_data: str) -> CallbackQueryRecord:
        """The user presses the inline button carrying ``callback_data`` on one of the bot's messages."""
        user = self._acting_user(user_id)
        record = self._find_message(user.id, message_id)
        if record is None or record.deleted:
            raise SandboxError(f"no message {message_id} in chat {user.id}", status=404)
        if callback_data not in record.callback_data():
            raise SandboxError(
                f"message {message_id} has no button with callback_data {callback_data!r}; "
                f"it has {record.callback_data()}"
            )
        query = CallbackQueryRecord(
            id=str(secrets.randbits(62)), user_id=user.id, chat_id=user.id, message_id=message_id, data=callback_data
        )
        self._callback_queries[query.id] = query
        chat_instance = str(int.from_bytes(hashlib.sha256(f"{self.bot_id}:{user.id}".encode()).digest()[:7]))
        payload = {
            "id": query.id,
            "from": user.to_api(),
            "message": self._message_json(record),
            "chat_instance": chat_instance,
            "data": callback_data,
        }
        await self._enqueue_update("callback_query", payload)
        return query

    # ----------------------------------------------------------------------------------- reading the world

    def messages(
        self, chat_id: int, *, include_user: bool = False, include_deleted: bool = False
    ) -> list[MessageRecord]:
        """The bot's messages in a chat (with ``include_user``, the whole conversation), oldest first."""
        return [
            m
            for m in self._chats.get(chat_id, [])
            if (include_user or m.from_bot) and (include_deleted or not m.deleted)
        ]

    def message(self, chat_id: int, message_id: int) -> MessageRecord:
        record = self._find_message(chat_id, message_id)
        if record is None:
            raise SandboxError(f"no message {message_id} in chat {chat_id}", status=404)
        return record

    def last_message(self, chat_id: int) -> MessageRecord | None:
        """The bot's latest message in the chat that is not deleted."""
        sent = self.messages(chat_id)
        return sent[-1] if sent else None

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds. Raises TimeoutError.

        It is re-checked after every change in the fake and every 50 ms, so it may also watch state the bot's
        handlers keep elsewhere.
        """
        async with self._changed:
            async with asyncio.timeout(timeout):
                while not condition():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.05):
                            await self._changed.wait()

    async def wait_for_message(
        self, chat_id: int, predicate: Predicate | None = None, *, timeout: float = 5.0, after: int | None = None
    ) -> MessageRecord:
        """The first bot message in the chat newer than ``after`` that matches ``predicate``.

        ``after`` defaults to the user's latest message in the chat, so ``send_text`` then ``wait_for_message``
        finds the reply however fast the bot was. Pass ``after=previous.message_id`` to wait for the next one.
        """
        if after is None:
            own = [m.message_id for m in self._chats.get(chat_id, []) if not m.from_bot]
            after = own[-1] if own else 0
        found: list[MessageRecord] = []

        def check() -> bool:
            for record in self._chats.get(chat_id, []):
                fresh = record.from_bot and not record.deleted and record.message_id > after
                if fresh and (predicate is None or predicate(record)):
                    found.append(record)
                    return True
            return False

        try:
            await self.wait_until(check, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no bot message in chat {chat_id} after #{after} matched within {timeout}s\n{self.transcript(chat_id)}"
            ) from None
        return found[0]

    async def wait_for_callback_answer(
        self, query: CallbackQueryRecord | str, *, timeout: float = 5.0
    ) -> CallbackQueryRecord:
        """Wait until the bot answered the button press (answerCallbackQuery)."""
        record = self._callback_queries[query if isinstance(query, str) else query.id]
        try:
            await self.wait_until(lambda: record.answered, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"callback query {record.id} ({record.data!r}) was not answered within {timeout}s\n"
                f"{self.transcript(record.chat_id)}"
            ) from None
        return record

    def callback_query(self, query_id: str) -> CallbackQueryRecord:
        try:
            return self._callback_queries[query_id]
        except KeyError:
            raise SandboxError(f"no callback query {query_id}", status=404) from None

    def transcript(self, chat_id: int, *, last: int = 12) -> str:
        """A readable tail of the chat and of failed API calls, for assertion messages."""
        lines = [f"chat {chat_id}:"]
        for record in self.messages(chat_id, include_user=True, include_deleted=True)[-last:]:
            who = "bot " if record.from_bot else "user"
            flags = "".join([" (edited)" if record.edited else "", " (deleted)" if record.deleted else ""])
            photo = " [photo]" if record.photo else ""
            lines.append(f"  {who} #{record.message_id}{photo}{flags}: {record.body!r} {record.callback_data() or ''}")
        failures = [c for c in self._calls if not c.ok][-5:]
        if failures:
            lines.append("recent failed API calls:")
            lines += [f"  {c.method} → {c.error_code} {c.description}" for c in failures]
        return "\n".join(lines)

    def file(self, file_id: str) -> StoredFile:
        try:
            return self._files[file_id]
        except KeyError:
            raise SandboxError(f"no file {file_id}", status=404) from None

    def file_bytes(self, file_id: str) -> bytes:
        return self.file(file_id).data

    @property
    def calls(self) -> list[ApiCall]:
        """Every Bot API call (last 10 000), oldest first."""
        return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        wanted = method.lower()
        return [c for c in self._calls if c.method.lower() == wanted]

    def inject_retry_after(
        self, retry_after: int = 1, *, count: int = 1, methods: Collection[str] | None = None
    ) -> None:
        """Make the next ``count`` calls answer 429 ``retry after N``.

        ``methods`` limits it to those methods; by default every method except getUpdates (so a polling bot
        does not swallow the injected error).
        """
        names = frozenset(m.lower() for m in methods) if methods is not None else None
        self._floods.append(_Flood(retry_after, count, names))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates or delivered to the webhook."""
        return [dict(u) for u in self._updates]

    def take_updates(self) -> list[dict[str, Any]]:
        """Remove and return pending updates, for tests that feed ``application.process_update`` themselves."""
        taken, self._updates = self._updates, []
        return taken

    @property
    def webhook_url(self) -> str:
        return self._webhook.url if self._webhook else ""

    @property
    def allowed_updates(self) -> frozenset[str]:
        return self._allowed_updates

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The command list set for exactly this scope and language (what getMyCommands answers)."""
        key = self._scope_key(scope)
        return [dict(c) for c in self._commands.get((key, language_code), [])]

    def commands_for(self, user_id: int) -> list[dict[str, str]]:
        """The menu a user sees in their private chat: the first list set in Telegram's lookup order."""
        user = self.user(user_id)
        language = user.language_code or ""
        for scope in (("chat", user_id), ("all_private_chats",), ("default",)):
            for lang in ([language, ""] if language else [""]):
                if (scope, lang) in self._commands:
                    return [dict(c) for c in self._commands[(scope, lang)]]
        return []

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any]:
        return dict(self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "commands"})

    def chat_action(self, chat_id: int) -> str | None:
        """The last chat action (``typing``...) the bot sent to the chat."""
        return self._chat_actions.get(chat_id)

    def subscribe(self, *, maxsize: int = 1000) -> asyncio.Queue[ChatEvent]:
        """A queue of `ChatEvent`s for a live chat view; when full, the oldest event is dropped."""
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue(maxsize=maxsize)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ChatEvent]) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(queue)

    def changes_since(self, chat_id: int, revision: int) -> list[MessageRecord]:
        """Messages of the chat (both sides, deleted included) created or changed after ``revision``."""
        return [m for m in self._chats.get(chat_id, []) if m.revision > revision]

    def all_changes_since(self, revision: int) -> list[MessageRecord]:
        """`changes_since` over every chat: what one browser view of several chats needs."""
        return [m for chat_id in self._chats for m in self.changes_since(chat_id, revision)]

    @property
    def revision(self) -> int:
        """Bumped by every message created, edited or deleted, in any chat."""
        return self._revision

    # ----------------------------------------------------------------------------------- Bot API entry point

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Run one Bot API method in-process; returns its ``result`` or raises `TelegramApiError`."""
        raw = dict(params or {})
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        try:
            if entry is None:
                raise TelegramApiError(404, "Not Found")
            raw = _normalize_params(raw)
            self._check_flood(name)
            result = await entry[1](_Params(raw))
        except TelegramApiError as exc:
            self._calls.append(
                ApiCall(name, raw, ok=False, error_code=exc.error_code, description=exc.description, at=time.time())
            )
            raise
        self._calls.append(ApiCall(name, raw, ok=True, result=result, at=time.time()))
        return result

    def _check_flood(self, method: str) -> None:
        lowered = method.lower()
        for flood in self._floods:
            applies = lowered != "getupdates" if flood.methods is None else lowered in flood.methods
            if applies and flood.remaining > 0:
                flood.remaining -= 1
                if flood.remaining == 0:
                    self._floods.remove(flood)
                raise TelegramApiError(
                    429, f"Too Many Requests: retry after {flood.retry_after}", retry_after=flood.retry_after
                )

    # ----------------------------------------------------------------------------------- internals

    def _acting_user(self, user_id: int) -> FakeUser:
        user = self.user(user_id)
        if user.blocked_bot:
            raise SandboxError(f"user {user_id} has blocked the bot; unblock() first", status=409)
        return user

    def _user_reply_target(self, chat_id: int, message_id: int | None) -> int | None:
        if message_id is None:
            return None
        record = self._find_message(chat_id, message_id)
        if record is None or record.deleted:
            raise SandboxError(f"no message {message_id} to reply to in chat {chat_id}", status=404)
        return message_id

    def _find_message(self, chat_id: int, message_id: int) -> MessageRecord | None:
        for record in self._chats.get(chat_id, []):
            if record.message_id == message_id:
                return record
        return None

    def _message_json(self, record: MessageRecord) -> dict[str, Any]:
        reply_to = None
        if record.reply_to_message_id is not None:
            reply_to = self._find_message(record.chat_id, record.reply_to_message_id)
        return record.to_api(reply_to)

    def _new_message(self, chat_id: int, *, from_bot: bool, sender: dict[str, Any], **fields: Any) -> MessageRecord:
        chat = self._chats.setdefault(chat_id, [])
        message_id = (chat[-1].message_id + 1) if chat else 1
        record = MessageRecord(
            chat_id=chat_id,
            message_id=message_id,
            from_bot=from_bot,
            sender=sender,
            chat=self.users[chat_id].chat(),
            date=int(time.time()),
            **fields,
        )
        chat.append(record)
        return record

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _publish(self, kind: Literal["message", "edited", "deleted"], record: MessageRecord) -> None:
        self._revision += 1
        record.revision = self._revision
        if self._subscribers:  # rendering for a web chat that is not there costs a fifth of a chat step
            self._broadcast(ChatEvent(kind, record.chat_id, record.to_dict(), revision=self._revision))
        await self._notify()

    def _broadcast(self, event: ChatEvent) -> None:
        for queue in self._subscribers:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def _enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update for getUpdates or the webhook; types outside allowed_updates are never created."""
        if kind not in self._allowed_updates:
            return None
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        await self._notify()
        return update

    async def _begin_shutdown(self) -> None:
        """Release long polls and waiters so the server can stop at once."""
        self._closing = True
        await self._notify()

    def _target_user(self, params: _Params, *, sending: bool) -> FakeUser:
        """Resolve ``chat_id``; when ``sending``, refuse users who blocked the bot or never started it."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        user = self.users.get(chat_id) if type(chat_id) is int else None
        if user is None:
            raise _bad("chat not found")
        if sending:
            if user.blocked_bot:
                raise _forbidden("bot was blocked by the user")
            if not user.started:
                raise _forbidden("bot can't initiate conversation with a user")
        return user

    def _formatted(
        self, params: _Params, text_key: str, entities_key: str, *, limit: int, required: bool
    ) -> tuple[str, list[dict[str, Any]], str | None]:
        """Parse text or caption per ``parse_mode``/explicit entities; trim; enforce the length limits."""
        raw = params.get_str(text_key) or ""
        mode_value = params.get_str("parse_mode")
        mode = mode_value.lower() if mode_value else None
        if mode not in (None, "html", "markdown", "markdownv2"):
            raise _bad("unsupported parse_mode")
        explicit = params.get(entities_key)
        if explicit is not None:
            text, entities = raw, _check_entities(raw, explicit, what=entities_key)
        elif mode == "html":
            try:
                text, entities = parse_html(raw, strict=self.strict_html)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        else:
            text, entities = raw, []
        text, entities = _trim(text, entities)
        if required and not text:
            raise _bad("message text is empty")
        if len(text) > limit:
            raise _bad("message is too long" if text_key == "text" else "message caption is too long")
        canonical = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}.get(mode or "")
        return text, entities, canonical

    def _reply_markup(self, params: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
            return markup
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
            for row in rows:
                for button in row:
                    text = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(text, str) or not text:
                        raise _bad("can't parse keyboard button: Text must be non-empty")
            return markup
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    def _check_inline_keyboard(self, rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
        if sum(len(r) for r in rows) > MAX_INLINE_BUTTONS:
            raise _bad("reply markup is too long")
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                if not isinstance(button.get("text"), str):
                    raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
                actions = [a for a in BUTTON_ACTIONS if self._button_has(button, a)]
                if not actions:
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if len(actions) > 1:
                    raise _bad(
                        "can't parse inline keyboard button: exactly one of the optional fields must be used, "
                        f"got {', '.join(actions)}"
                    )
                action = actions[0]
                if action == "callback_data":
                    data = button["callback_data"]
                    if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                elif action == "url":
                    url = button["url"]
                    if not (isinstance(url, str) and url.startswith(self.allowed_local_urls)):
                        _check_url_host(url, what="url")
                elif action in ("web_app", "login_url"):
                    target = button[action]
                    url = target.get("url") if isinstance(target, dict) else None
                    label = "Web App" if action == "web_app" else "login"
                    if not isinstance(url, str) or not url.lower().startswith("https://"):
                        raise _bad(
                            f"inline keyboard button {label} URL '{url}' is invalid: Only HTTPS links are allowed"
                        )
                    _check_url_host(url, what=label)

    @staticmethod
    def _button_has(button: dict[str, Any], action: str) -> bool:
        value = button.get(action)
        if action in ("url", "callback_data"):
            return value not in (None, "")
        if action in ("callback_game", "pay"):
            return value not in (None, False)
        return value is not None

    def _reply_target(self, chat_id: int, params: _Params) -> int | None:
        reply = params.get("reply_parameters")
        message_id: int | None
        allow_missing = params.get_bool("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = _parse_int(reply.get("message_id"))
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        else:
            message_id = params.get_int("reply_to_message_id")
        if message_id is None:
            return None
        record = self._find_message(chat_id, message_id)
        if record is None or record.deleted:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return message_id

    def _editable(self, params: _Params) -> MessageRecord:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        user = self._target_user(params, sending=False)
        message_id = params.get_int("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        record = self._find_message(user.id, message_id)
        if record is None or record.deleted:
            raise _bad("message to edit not found")
        if not record.from_bot:
            raise _bad("message can't be edited")
        return record

    async def _store_photo(self, data: bytes) -> list[StoredFile]:
        """Keep an uploaded image; returns its sizes, smallest first, the original bytes last."""
        try:
            info = await asyncio.to_thread(_inspect_image, data)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise _bad("IMAGE_PROCESS_FAILED") from None
        if info.width + info.height > 10_000 or max(info.width, info.height) > 20 * min(info.width, info.height):
            raise _bad("PHOTO_INVALID_DIMENSIONS")
        sizes = []
        if info.thumbnail is not None and info.thumbnail_size is not None:
            width, height = info.thumbnail_size
            sizes.append(self._add_file("photo", info.thumbnail, "image/jpeg", "jpg", width=width, height=height))
        sizes.append(
            self._add_file("photo", data, info.mime_type, info.extension, width=info.width, height=info.height)
        )
        for stored in sizes:
            self._photo_sets[stored.file_id] = sizes
        return sizes

    def _add_file(
        self,
        kind: Literal["photo", "document"],
        data: bytes,
        mime_type: str,
        extension: str,
        *,
        width: int | None = None,
        height: int | None = None,
        file_name: str | None = None,
    ) -> StoredFile:
        number = next(self._file_counter)
        prefix = "AgACAgIAAxkBAAI" if kind == "photo" else "BQACAgIAAxkBAAI"
        stored = StoredFile(
            file_id=f"{prefix}{number:05d}{secrets.token_urlsafe(24)}",
            file_unique_id="AQAD" + hashlib.sha256(data).hexdigest()[:12],
            kind=kind,
            data=data,
            file_path=f"{'photos' if kind == 'photo' else 'documents'}/file_{number}.{extension}",
            mime_type=mime_type,
            width=width,
            height=height,
            file_name=file_name,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _scope_key(self, scope: Any) -> tuple[Any, ...]:
        if scope is None:
            return ("default",)
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return (kind,)
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = _parse_int(scope.get("chat_id"))
            if chat_id is None or chat_id not in self.users:
                raise _bad("chat not found")
            if kind == "chat_member":
                user_id = _parse_int(scope.get("user_id"))
                if user_id is None or user_id not in self.users:
                    raise _bad("user not found")
                return (kind, chat_id, user_id)
            return (kind, chat_id)
        raise _bad("unsupported bot command scope type")

    @staticmethod
    def _language(params: _Params) -> str:
        language = params.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return language

    async def _post_update(self, session: ClientSession, hook: _Webhook, update: dict[str, Any]) -> str | None:
        """POST one update to the webhook; None on 2xx, else Telegram-style error text."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        try:
            async with session.post(hook.url, json=update, headers=headers) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                reply: Any = None
                if response.content_type == "application/json":
                    with contextlib.suppress(ValueError):
                        reply = await response.json()
        except (ClientError, TimeoutError, OSError) as exc:
            return f"Connection failed: {exc.__class__.__name__}: {exc}"
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            params = {k: v for k, v in reply.items() if k != "method"}
            with contextlib.suppress(TelegramApiError):
                await self.call(reply["method"], params)
        return None

    async def _deliver_webhooks(self, session: ClientSession) -> None:
        """Background task: push queued updates to the webhook in order, retrying failures."""
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: self._closing or (self._webhook is not None and bool(self._updates))
                )
                if self._closing:
                    return
                hook = self._webhook
                update = self._updates[0]
            assert hook is not None
            error = await self._post_update(session, hook, update)
            if error is None:
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                await self._notify()
                continue
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            await asyncio.sleep(self.webhook_retry_delay)

    # ----------------------------------------------------------------------------------- Bot API methods

    async def _api_true(self, params: _Params) -> bool:
        return True

    async def _api_get_me(self, params: _Params) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise TelegramApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first"
            )
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_int("timeout") or 0, 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(a) for a in allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._changed:
            self._changed.notify_all()  # an older long poll sees it was superseded
            if offset:
                if offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                else:
                    self._updates = self._updates[offset:]
            if timeout and not self._updates:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(
                            lambda: bool(self._updates)
                            or self._closing
                            or self._webhook is not None
                            or generation != self._poll_generation
                        )
            if generation != self._poll_generation:
                raise TelegramApiError(
                    409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
                    "running"
                )
            if self._webhook is not None:
                return []
            return [dict(u) for u in self._updates[:limit]]

    async def _api_set_webhook(self, params: _Params) -> bool:
        url = (params.get_str("url") or "").strip()
        if not url:
            return await self._api_delete_webhook(params)
        parts = urlsplit(url)
        allowed_schemes = ("https",) if self.strict_webhooks else ("http", "https")
        if parts.scheme.lower() not in allowed_schemes or not parts.hostname:
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if self.strict_webhooks:
            if parts.port not in (None, 80, 88, 443, 8443):
                raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
            with contextlib.suppress(ValueError):
                if not ipaddress.ip_address(parts.hostname).is_global:
                    raise _bad(f"bad webhook: IP address {parts.hostname} is reserved")
            if "." not in parts.hostname or parts.hostname.endswith(_LOCAL_SUFFIXES):
                raise _bad("bad webhook: Failed to resolve host: Name or service not known")
        secret = params.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad("secret token contains unallowed characters")
        max_connections = params.get_int("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(a) for a in allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if params.get_bool("drop_pending_updates"):
            self._updates = []
        self._webhook = _Webhook(url, secret, max_connections, params.get_str("ip_address"))
        await self._notify()
        return True

    async def _api_delete_webhook(self, params: _Params) -> bool:
        self._webhook = None
        if params.get_bool("drop_pending_updates"):
            self._updates = []
        await self._notify()
        return True

    async def _api_get_webhook_info(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        hook = self._webhook
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            if self._allowed_updates != DEFAULT_ALLOWED_UPDATES:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _api_send_message(self, params: _Params) -> dict[str, Any]:
        user = self._target_user(params, sending=True)
        text, entities, parse_mode = self._formatted(params, "text", "entities", limit=MAX_TEXT_LENGTH, required=True)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(user.id, params)
        record = self._new_message(
            user.id, from_bot=True, sender=self.bot_user(), text=text, entities=entities, source=params.get_str("text"),
            parse_mode=parse_mode, reply_markup=markup, reply_to_message_id=reply_to,
        )
        await self._publish("message", record)
        return self._message_json(record)

    async def _api_send_photo(self, params: _Params) -> dict[str, Any]:
        user = self._target_user(params, sending=True)
        caption, entities, parse_mode = self._formatted(
            params, "caption", "caption_entities", limit=MAX_CAPTION_LENGTH, required=False
        )
        markup = self._reply_markup(params)
        reply_to = self._reply_target(user.id, params)
        sizes = await self._input_file(params, "photo")
        record = self._new_message(
            user.id, from_bot=True, sender=self.bot_user(), caption=caption or None,
            entities=entities if caption else [], source=params.get_str("caption"), parse_mode=parse_mode,
            photo=[f.photo_size() for f in sizes], photo_bytes=sizes[-1].data, reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        await self._publish("message", record)
        return self._message_json(record)

    async def _api_send_document(self, params: _Params) -> dict[str, Any]:
        user = self._target_user(params, sending=True)
        caption, entities, parse_mode = self._formatted(
            params, "caption", "caption_entities", limit=MAX_CAPTION_LENGTH, required=False
        )
        markup = self._reply_markup(params)
        reply_to = self._reply_target(user.id, params)
        (stored,) = await self._input_file(params, "document")
        record = self._new_message(
            user.id, from_bot=True, sender=self.bot_user(), caption=caption or None,
            entities=entities if caption else [], source=params.get_str("caption"), parse_mode=parse_mode,
            document=stored.document(), document_bytes=stored.data, reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        await self._publish("message", record)
        return self._message_json(record)

    async def _input_file(self, params: _Params, field_name: Literal["photo", "document"]) -> list[StoredFile]:
        """Resolve an uploaded file, an ``attach://`` reference or a file_id into stored files."""
        value = params.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if field_name == "photo":
                return await self._store_photo(value.data)
            name = value.filename or "document"
            mime = value.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
            extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
            return [self._add_file("document", value.data, mime, extension, file_name=name)]
        if not isinstance(value, str) or not value:
            raise _bad(f"there is no {field_name} in the request")
        if re.match(r"(?i)^https?://", value):
            raise _bad("failed to get HTTP URL content")
        stored = self._files.get(value)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != field_name:
            raise _bad(f"can't use file of type {stored.kind.capitalize()} as {field_name.capitalize()}")
        return self._photo_sets[stored.file_id] if field_name == "photo" else [stored]

    async def _api_edit_message_text(self, params: _Params) -> dict[str, Any]:
        record = self._editable(params)
        if record.text is None:
            raise _bad("there is no text in the message to edit")
        text, entities, parse_mode = self._formatted(params, "text", "entities", limit=MAX_TEXT_LENGTH, required=True)
        markup = self._reply_markup(params, inline_only=True)
        if text == record.text and entities == record.entities and markup == record.inline_markup:
            raise _bad(NOT_MODIFIED)
        record.history.append(record.snapshot())
        record.text, record.entities, record.parse_mode = text, entities, parse_mode
        record.source = params.get_str("text")
        record.reply_markup = markup
        record.edit_date = int(time.time())
        await self._publish("edited", record)
        return self._message_json(record)

    async def _api_edit_message_caption(self, params: _Params) -> dict[str, Any]:
        record = self._editable(params)
        if record.photo is None and record.document is None:
            raise _bad("there is no caption in the message to edit")
        caption, entities, parse_mode = self._formatted(
            params, "caption", "caption_entities", limit=MAX_CAPTION_LENGTH, required=False
        )
        markup = self._reply_markup(params, inline_only=True)
        if (caption or None) == record.caption and entities == record.entities and markup == record.inline_markup:
            raise _bad(NOT_MODIFIED)
        record.history.append(record.snapshot())
        record.caption, record.entities = caption or None, entities if caption else []
        record.source, record.parse_mode = params.get_str("caption"), parse_mode
        record.reply_markup = markup
        record.edit_date = int(time.time())
        await self._publish("edited", record)
        return self._message_json(record)

    async def _api_edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        record = self._editable(params)
        markup = self._reply_markup(params, inline_only=True)
        if markup == record.inline_markup:
            raise _bad(NOT_MODIFIED)
        record.history.append(record.snapshot())
        record.reply_markup = markup
        record.edit_date = int(time.time())
        await self._publish("edited", record)
        return self._message_json(record)

    async def _api_delete_message(self, params: _Params) -> bool:
        user = self._target_user(params, sending=False)
        message_id = params.get_int("message_id")
        record = self._find_message(user.id, message_id) if message_id is not None else None
        if record is None or record.deleted:
            raise _bad("message to delete not found")
        record.deleted = True
        await self._publish("deleted", record)
        return True

    async def _api_answer_callback_query(self, params: _Params) -> bool:
        query = self._callback_queries.get(params.get_str("callback_query_id") or "")
        if query is None or query.answered:
            raise _bad(QUERY_INVALID)
        text = params.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer_text = text
        query.show_alert = params.get_bool("show_alert")
        query.url = params.get_str("url")
        await self._notify()
        return True

    async def _api_set_my_commands(self, params: _Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad("too many commands")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand: BotCommand must be an Object")
            name = str(command.get("command", "")).lstrip("/")
            description = str(command.get("description", "")).strip()
            if not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = (self._scope_key(params.get("scope")), self._language(params))
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _api_get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        key = (self._scope_key(params.get("scope")), self._language(params))
        return [dict(c) for c in self._commands.get(key, [])]

    async def _api_delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop((self._scope_key(params.get("scope")), self._language(params)), None)
        return True

    async def _api_get_file(self, params: _Params) -> dict[str, Any]:
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    async def _api_send_chat_action(self, params: _Params) -> bool:
        user = self._target_user(params, sending=True)
        action = params.get_str("action")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._chat_actions[user.id] = action
        self._broadcast(ChatEvent("chat_action", user.id, action=action, revision=self._revision))
        return True

    async def _api_set_chat_menu_button(self, params: _Params) -> bool:
        chat_id = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._target_user(params, sending=False).id
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise _bad("can't parse menu button JSON object")
        if button["type"] == "web_app":
            url = (button.get("web_app") or {}).get("url")
            if not button.get("text") or not isinstance(url, str) or not url.lower().startswith("https://"):
                raise _bad("menu button Web App URL is invalid: Only HTTPS links are allowed")
        if button["type"] == "default":
            self._menu_buttons.pop(chat_id, None)
        else:
            self._menu_buttons[chat_id] = button
        return True

    async def _api_get_chat_menu_button(self, params: _Params) -> dict[str, Any]:
        chat_id = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._target_user(params, sending=False).id
        return self.menu_button(chat_id)

    async def _api_get_chat(self, params: _Params) -> dict[str, Any]:
        user = self._target_user(params, sending=False)
        return {**user.chat(), "accent_color_id": 0, "max_reaction_count": 11}


# --------------------------------------------------------------------------------------------------- HTTP

SIMULATOR_KEY: web.AppKey[TelegramSimulator] = web.AppKey("karcis_fake_telegram", TelegramSimulator)
WEBHOOK_SESSION_KEY: web.AppKey[ClientSession] = web.AppKey("karcis_fake_telegram_webhook_session", ClientSession)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, form-urlencoded or multipart body, as Telegram accepts them."""
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON") from None
        if not isinstance(body, dict):
            raise _bad("can't parse JSON")
        params.update(body)
    elif content_type.startswith("multipart/"):
        reader = await request.multipart()
        total = 0
        while (part := await reader.next()) is not None:
            if isinstance(part, MultipartReader) or not part.name:
                continue
            data = await part.read(decode=True)
            total += len(data)
            if total > MAX_REQUEST_BYTES:
                raise TelegramApiError(413, "Request Entity Too Large")
            if part.filename is not None:
                params[part.name] = UploadedFile(part.filename, part.headers.get(hdrs.CONTENT_TYPE), bytes(data))
            else:
                params[part.name] = bytes(data).decode(part.get_charset("utf-8"))
    else:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _token_error(token: str) -> TelegramApiError:
    return TelegramApiError(401, "Unauthorized") if _TOKEN_RE.fullmatch(token) else TelegramApiError(404, "Not Found")


async def _handle_api(request: web.Request) -> web.Response:
    simulator = request.app[SIMULATOR_KEY]
    try:
        if request.match_info["token"] != simulator.token:
            raise _token_error(request.match_info["token"])
        params = await _read_params(request)
        result = await simulator.call(request.match_info["method"], params)
    except TelegramApiError as exc:
        return web.json_response(exc.to_json(), status=exc.error_code)
    return web.json_response({"ok": True, "result": result})


async def _handle_file(request: web.Request) -> web.Response:
    simulator = request.app[SIMULATOR_KEY]
    if request.match_info["token"] != simulator.token:
        exc = _token_error(request.match_info["token"])
        return web.json_response(exc.to_json(), status=exc.error_code)
    stored = simulator._files_by_path.get(request.match_info["file_path"])
    if stored is None:
        return web.json_response(TelegramApiError(404, "Not Found").to_json(), status=404)
    return web.Response(body=stored.data, content_type=stored.mime_type)


# ---- sandbox endpoints: thin JSON wrappers over the simulator's user-facing methods


def _sandbox_error(exc: SandboxError) -> web.Response:
    return web.json_response({"error": str(exc)}, status=exc.status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise SandboxError("expected a JSON object body") from None
    if not isinstance(body, dict):
        raise SandboxError("expected a JSON object body")
    return body


def _int_arg(value: Any, name: str) -> int:
    number = _parse_int(value)
    if number is None:
        raise SandboxError(f"{name} must be an integer")
    return number


async def _sandbox(request: web.Request, action: Callable[[TelegramSimulator], Awaitable[Any]]) -> web.Response:
    try:
        return web.json_response(await action(request.app[SIMULATOR_KEY]))
    except SandboxError as exc:
        return _sandbox_error(exc)
    except TelegramApiError as exc:
        return web.json_response({"error": exc.description}, status=exc.error_code)


async def _sandbox_list_users(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        return {"users": [u.to_dict() for u in sim.users.values()]}

    return await _sandbox(request, act)


async def _sandbox_add_user(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        body = await _json_body(request)
        user_id = _int_arg(body.get("id"), "id") if body.get("id") is not None else max(sim.users, default=10_000) + 1
        first_name = str(body.get("first_name") or f"User {user_id}")
        user = sim.add_user(
            user_id, first_name, last_name=body.get("last_name"), username=body.get("username"),
            language_code=body.get("language_code", "en"),
        )
        return user.to_dict()

    return await _sandbox(request, act)


async def _sandbox_update_user(request: web.Request) -> web.Response:
    """Change a user's ``language_code`` (None or "" clears it), as if they switched their Telegram language."""

    async def act(sim: TelegramSimulator) -> Any:
        body = await _json_body(request)
        user = sim.user(_int_arg(request.match_info["user_id"], "user_id"))
        if "language_code" in body:
            language = body["language_code"] or None
            if language is not None and not (isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}", language)):
                raise SandboxError("language_code must be a lowercase IETF language code such as 'en' or 'id'")
            user.language_code = language
        return user.to_dict()

    return await _sandbox(request, act)


async def _sandbox_send_text(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise SandboxError("text must be a string")
        reply_to = body.get("reply_to_message_id")
        user_id = _int_arg(request.match_info["user_id"], "user_id")
        record = await sim.send_text(
            user_id, text, reply_to_message_id=_int_arg(reply_to, "reply_to_message_id") if reply_to else None
        )
        return record.to_dict()

    return await _sandbox(request, act)


async def _sandbox_send_photo(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        if not request.content_type.startswith("multipart/"):
            raise SandboxError("send the photo as multipart/form-data (fields: photo, caption)")
        params = await _read_params(request)
        photo = params.get("photo")
        if not isinstance(photo, UploadedFile):
            raise SandboxError("missing file field 'photo'")
        caption = params.get("caption") or None
        record = await sim.send_photo(_int_arg(request.match_info["user_id"], "user_id"), photo.data, caption)
        return record.to_dict()

    return await _sandbox(request, act)


async def _sandbox_press_button(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        body = await _json_body(request)
        data = body.get("callback_data")
        if not isinstance(data, str):
            raise SandboxError("callback_data must be a string")
        query = await sim.press_button(
            _int_arg(request.match_info["user_id"], "user_id"), _int_arg(body.get("message_id"), "message_id"), data
        )
        wait = min(float(body.get("wait") or 0), 30.0)
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await sim.wait_until(lambda: query.answered or sim._closing, timeout=wait)
        return query.to_dict()

    return await _sandbox(request, act)


async def _sandbox_block(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        user_id = _int_arg(request.match_info["user_id"], "user_id")
        if request.match_info["action"] == "block":
            sim.block(user_id)
        else:
            sim.unblock(user_id)
        return sim.user(user_id).to_dict()

    return await _sandbox(request, act)


async def _sandbox_messages(request: web.Request) -> web.Response:
    """One chat's changes (``/sandbox/chats/{chat_id}/messages``), or every chat's (``/sandbox/messages``)."""

    async def act(sim: TelegramSimulator) -> Any:
        raw_chat_id = request.match_info.get("chat_id")
        chat_id = _int_arg(raw_chat_id, "chat_id") if raw_chat_id is not None else None
        since = _int_arg(request.query.get("since", "0"), "since")
        try:
            wait = min(float(request.query.get("wait", "0")), 30.0)
        except ValueError:
            raise SandboxError("wait must be a number of seconds") from None

        def changes() -> list[MessageRecord]:
            return sim.changes_since(chat_id, since) if chat_id is not None else sim.all_changes_since(since)

        if wait > 0 and not changes():
            with contextlib.suppress(TimeoutError):
                await sim.wait_until(lambda: sim._closing or bool(changes()), timeout=wait)
        return {
            "revision": sim.revision,
            "messages": [m.to_dict() for m in changes()],
            "chat_action": sim.chat_action(chat_id) if chat_id is not None else None,
        }

    return await _sandbox(request, act)


async def _sandbox_commands(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        user_id = _int_arg(request.match_info["chat_id"], "chat_id")
        return {"commands": sim.commands_for(user_id), "menu_button": sim.menu_button(user_id)}

    return await _sandbox(request, act)


async def _sandbox_callback(request: web.Request) -> web.Response:
    async def act(sim: TelegramSimulator) -> Any:
        return sim.callback_query(request.match_info["query_id"]).to_dict()

    return await _sandbox(request, act)


async def _sandbox_file(request: web.Request) -> web.Response:
    try:
        stored = request.app[SIMULATOR_KEY].file(request.match_info["file_id"])
    except SandboxError as exc:
        return _sandbox_error(exc)
    return web.Response(body=stored.data, content_type=stored.mime_type)


async def _webhook_delivery(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the HTTP session and background task that push updates to a webhook."""
    simulator = app[SIMULATOR_KEY]
    simulator._closing = False
    async with ClientSession(timeout=ClientTimeout(total=10)) as session:
        app[WEBHOOK_SESSION_KEY] = session
        task = asyncio.create_task(simulator._deliver_webhooks(session), name="fake-telegram-webhook-delivery")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _release_waiters(app: web.Application) -> None:
    await app[SIMULATOR_KEY]._begin_shutdown()


def create_telegram_app(
    token: str, *, bot_username: str = "KarcisBot", simulator: TelegramSimulator | None = None
) -> web.Application:
    """The fake Bot API as an aiohttp app: ``/bot<token>/<method>``, ``/file/bot<token>/<path>``, ``/sandbox/...``.

    Pass ``simulator`` to serve an existing one (its token must match); otherwise a new one is created and can
    be reached as ``app[SIMULATOR_KEY]``.
    """
    if simulator is None:
        simulator = TelegramSimulator(token, bot_username=bot_username)
    elif simulator.token != token:
        raise ValueError("the simulator was created for another token")
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SIMULATOR_KEY] = simulator
    app.cleanup_ctx.append(_webhook_delivery)
    app.on_shutdown.append(_release_waiters)
    app.router.add_route("*", "/bot{token}/{method}", _handle_api)
    app.router.add_get("/file/bot{token}/{file_path:.+}", _handle_file)
    app.router.add_get("/sandbox/users", _sandbox_list_users)
    app.router.add_post("/sandbox/users", _sandbox_add_user)
    app.router.add_patch("/sandbox/users/{user_id}", _sandbox_update_user)
    app.router.add_post("/sandbox/users/{user_id}/messages", _sandbox_send_text)
    app.router.add_post("/sandbox/users/{user_id}/photos", _sandbox_send_photo)
    app.router.add_post("/sandbox/users/{user_id}/callbacks", _sandbox_press_button)
    app.router.add_post("/sandbox/users/{user_id}/{action:block|unblock}", _sandbox_block)
    app.router.add_get("/sandbox/chats/{chat_id}/messages", _sandbox_messages)
    app.router.add_get("/sandbox/messages", _sandbox_messages)
    app.router.add_get("/sandbox/chats/{chat_id}/commands", _sandbox_commands)
    app.router.add_get("/sandbox/callbacks/{query_id}", _sandbox_callback)
    app.router.add_get("/sandbox/files/{file_id}", _sandbox_file)
    return app


class FakeTelegram(TelegramSimulator):
    """The simulator served on ``host`` at a free port (or ``port``), for tests and the sandbox."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "KarcisBot",
        bot_name: str = "Karcis",
        host: str = "127.0.0.1",
        port: int = 0,
        strict_html: bool = True,
        strict_webhooks: bool = False,
        webhook_retry_delay: float = 0.2,
        allowed_local_urls: Collection[str] = (),
    ) -> None:
        super().__init__(
            token, bot_username=bot_username, bot_name=bot_name, strict_html=strict_html,
            strict_webhooks=strict_webhooks, webhook_retry_delay=webhook_retry_delay,
            allowed_local_urls=allowed_local_urls,
        )
        self.host = host
        self.port = port
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port``. PTB wants ``f"{base_url}/bot"`` and ``f"{base_url}/file/bot"`` (adds the token)."""
        if self._runner is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.base_url}/file/bot"

    async def start(self) -> FakeTelegram:
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already started")
        self.app = create_telegram_app(self.token, bot_username=self.bot_username, simulator=self)
        runner = web.AppRunner(self.app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        self._runner = runner
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await self._begin_shutdown()
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
