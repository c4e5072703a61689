"""What Meta's webhook tells the WhatsApp door, as typed values parsed defensively (every field checked, every
string bounded; what does not fit is skipped, never guessed).

Meta's payload (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/…):

    {"object": "whatsapp_business_account",
     "entry": [{"id": "<WABA id>", "changes": [{"field": "messages", "value": {
         "messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "…", "phone_number_id": "<BUSINESS_PHONE_NUMBER_ID>"},
         "contacts": [{"profile": {"name": "<WHATSAPP_USER_PROFILE_NAME>"}, "wa_id": "<WHATSAPP_USER_ID>"}],
         "messages": [{"from": "<WHATSAPP_USER_PHONE_NUMBER>", "id": "<WHATSAPP_MESSAGE_ID>",
                       "timestamp": "<WEBHOOK_TRIGGER_TIMESTAMP>",   # Unix seconds, as a string
                       "type": "text", "text": {"body": "…"}}],
         "statuses": [{"id": "<WHATSAPP_MESSAGE_ID>", "status": "sent|delivered|read|failed",
                       "timestamp": "…", "recipient_id": "…",
                       "errors": [{"code": 131047, "title": "…", "message": "…", "error_data": {"details": "…"}}]}]
     }}]}]}

- text: `"text": {"body"}` (messages/text);
- interactive replies (messages/interactive): `"interactive": {"type": "button_reply", "button_reply": {"id",
  "title"}}` or `{"type": "list_reply", "list_reply": {"id", "title", "description"}}`; a `context` names the
  message whose button was tapped;
- a template's quick-reply button comes as `"type": "button", "button": {"payload", "text"}` (messages/button):
  treated as a button reply with the payload as its id;
- image (messages/image): `"image": {"id", "mime_type", "sha256", "caption"}`;
- anything else (audio, sticker, location, reaction, system, unsupported…) is `kind="other"` so the door can say
  what it understands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

TEXT_MAX = 4096
TITLE_MAX = 100
REPLY_ID_MAX = 256
NAME_MAX = 256
USER_ID_MAX = 64
ID_MAX = 512
ERRORS_KEPT = 3
ERROR_TEXT_MAX = 300
ITEMS_MAX = 1000  # messages or statuses read from one webhook POST

WA_ID = re.compile(r"^[0-9]{5,20}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:=+/-]{1,512}$")
MEDIA_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

Kind = Literal["text", "button_reply", "list_reply", "image", "other"]
Status = Literal["sent", "delivered", "read", "failed"]
STATUSES: frozenset[str] = frozenset({"sent", "delivered", "read", "failed"})


@dataclass(frozen=True)
class InboundMessage:
    """One message a person sent to our number."""

    id: str  # wamid: what mark-as-read and de-duplication use
    wa_id: str  # the sender: their phone number without "+"
    profile_name: str | None
    timestamp: datetime  # aware UTC
    kind: Kind
    user_id: str | None = None  # the business-scoped user id Meta sends beside wa_id since 2026 (contacts[].user_id)
    text: str | None = None  # kind text: the body; image: the caption
    reply_id: str | None = None  # button_reply / list_reply: the id we gave the button or row
    reply_title: str | None = None
    reply_description: str | None = None
    media_id: str | None = None  # kind image
    mime_type: str | None = None
    context_id: str | None = None  # the message of ours this answers (a tapped button's message)
    original_type: str | None = None  # kind other: what Meta called it


@dataclass(frozen=True)
class StatusError:
    code: int | None
    title: str


@dataclass(frozen=True)
class StatusUpdate:
    """What happened to a message we sent."""

    message_id: str
    status: Status
    recipient: str | None
    timestamp: datetime
    errors: tuple[StatusError, ...] = field(default_factory=tuple)


def _str(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value[:ITEMS_MAX] if isinstance(value, list) else []


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        seconds = value
    else:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def values(payload: Any, phone_number_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Each `value` of a `messages` change in the payload, for our phone number when one is given."""
    data = _dict(payload)
    if data.get("object") != "whatsapp_business_account":
        return
    for entry in _list(data.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            if change.get("field") != "messages":
                continue
            value = _dict(change.get("value"))
            if phone_number_id is not None and _dict(value.get("metadata")).get("phone_number_id") != phone_number_id:
                continue
            yield value


def raw_messages(value: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each message of a `value`, with its sender's profile name and user id beside it (`_profile_name`,
    `_user_id`, from `contacts`), as stored."""
    known: dict[str, dict[str, str]] = {}
    for contact in _list(value.get("contacts")):
        contact = _dict(contact)
        wa_id = contact.get("wa_id")
        if not isinstance(wa_id, str):
            continue
        extra = {"_profile_name": _str(_dict(contact.get("profile")).get("name"), NAME_MAX),
                 "_user_id": _str(contact.get("user_id"), USER_ID_MAX)}
        known[wa_id] = {k: v for k, v in extra.items() if v is not None}
    for message in _list(value.get("messages")):
        message = _dict(message)
        if isinstance(message.get("id"), str) and MESSAGE_ID.match(message["id"]):
            sender = message.get("from")
            yield message | (known.get(sender, {}) if isinstance(sender, str) else {})


def parse_message(message: dict[str, Any]) -> InboundMessage | None:
    """One stored message as the door's typed value; None if it lacks what every message has."""
    message_id, sender = message.get("id"), message.get("from")
    when = _timestamp(message.get("timestamp"))
    if not (isinstance(message_id, str) and MESSAGE_ID.match(message_id)):
        return None
    if not (isinstance(sender, str) and WA_ID.match(sender)) or when is None:
        return None
    base: dict[str, Any] = {
        "id": message_id, "wa_id": sender, "profile_name": _str(message.get("_profile_name"), NAME_MAX),
        "user_id": _str(message.get("_user_id"), USER_ID_MAX),
        "timestamp": when, "context_id": _str(_dict(message.get("context")).get("id"), ID_MAX),
    }
    kind = message.get("type")
    if kind == "text":
        body = _str(_dict(message.get("text")).get("body"), TEXT_MAX)
        if body is not None:
            return InboundMessage(kind="text", text=body, **base)
    elif kind == "interactive":
        interactive = _dict(message.get("interactive"))
        sub = interactive.get("type")
        if sub in ("button_reply", "list_reply"):
            reply = _dict(interactive.get(sub))
            reply_id = _str(reply.get("id"), REPLY_ID_MAX)
            if reply_id is not None:
                return InboundMessage(kind=sub, reply_id=reply_id, reply_title=_str(reply.get("title"), TITLE_MAX),
                                      reply_description=_str(reply.get("description"), TITLE_MAX), **base)
    elif kind == "button":  # a template's quick-reply button
        button = _dict(message.get("button"))
        payload = _str(button.get("payload"), REPLY_ID_MAX)
        if payload is not None:
            return InboundMessage(kind="button_reply", reply_id=payload, reply_title=_str(button.get("text"),
                                                                                         TITLE_MAX), **base)
    elif kind == "image":
        image = _dict(message.get("image"))
        media_id = image.get("id")
        if isinstance(media_id, str) and MEDIA_ID.match(media_id):
            return InboundMessage(kind="image", media_id=media_id, mime_type=_str(image.get("mime_type"), 100),
                                  text=_str(image.get("caption"), TEXT_MAX), **base)
    return InboundMessage(kind="other", original_type=_str(kind, 40), **base)


def parse_status(status: Any) -> StatusUpdate | None:
    status = _dict(status)
    message_id, state = status.get("id"), status.get("status")
    when = _timestamp(status.get("timestamp"))
    if not (isinstance(message_id, str) and MESSAGE_ID.match(message_id)) or state not in STATUSES or when is None:
        return None
    errors = []
    for error in _list(status.get("errors"))[:ERRORS_KEPT]:
        error = _dict(error)
        code = error.get("code")
        errors.append(StatusError(code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                                  title=_str(error.get("title") or error.get("message"), ERROR_TEXT_MAX) or ""))
    recipient = status.get("recipient_id")
    return StatusUpdate(message_id=message_id, status=state, timestamp=when, errors=tuple(errors),
                        recipient=recipient if isinstance(recipient, str) and WA_ID.match(recipient) else None)


def statuses(value: dict[str, Any]) -> Iterator[StatusUpdate]:
    for raw in _list(value.get("statuses")):
        parsed = parse_status(raw)
        if parsed is not None:
            yield parsed
