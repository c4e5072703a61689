"""Telegram's limits and parameter rules the fake enforces: sizes, update types, how parameters arrive, URLs, images."""

from __future__ import annotations

import io
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from bot.sandbox.telegram.errors import _bad

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


@dataclass(frozen=True)
class _ImageInfo:
    width: int
    height: int
    mime_type: str
    extension: str
    thumbnail: bytes | None
    thumbnail_size: tuple[int, int] | None


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
