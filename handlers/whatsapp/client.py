"""A thin client for the WhatsApp Cloud API (Graph API): send messages, upload and download media.

Why not pywa. pywa 4.5.0 (PyPI; async client in `pywa_async`) was tried here against a local aiohttp stub of the
Graph API (the experiment is described in docs/whatsapp.md). It can be used without Flask/FastAPI (`server=None`)
and takes an `httpx.AsyncClient`, so timeouts are controllable, and it maps error codes to classes well. But:

- its base URL cannot be set: `GraphAPI.__init__` overwrites the session's `base_url` with
  `https://graph.facebook.com/v{version}`; pointing it at the simulator means poking the private
  `wa.api._session.base_url`;
- it checks none of the documented limits before sending: four reply buttons of 30 characters went to the server;
- it does not retry: a 429 with error 130429 raised `RateLimitHit` after one request;
- it speaks httpx, not aiohttp (the rest of Karcis's web side is aiohttp), and importing it takes about 1 s.

What Karcis would keep from it (payload shapes and an error-code table) is a few dozen lines, while the parts it
needs most (limits, retries, a simulator URL) would be written around it anyway. The Cloud API is plain HTTPS
JSON, so this module talks to it directly with aiohttp.

Every rule below is quoted from Meta's pages (developers.facebook.com/docs/whatsapp/cloud-api/…):
- messages/text-messages: text `body` maximum 4096 characters.
- messages/interactive-reply-buttons-messages: "Supports up to 3 buttons"; button id "Maximum 256 characters";
  button label "Maximum 20 characters", "Must be unique if using multiple buttons"; body "Maximum 1024 characters";
  footer "Maximum 60 characters"; a text header 60.
- messages/interactive-list-messages: "up to 10 sections, with up to 10 rows for all sections combined"; button
  "Maximum 20 characters"; body "Maximum 4096 characters"; header (text only) and footer 60; row id "Maximum 200
  characters"; row title "Maximum 24 characters"; row description "Maximum 72 characters"; section title 24.
- messages/interactive-cta-url-messages: body 1024; button label 20; header 60; footer 60; `url` opened in the
  device's browser.
- reference/media: upload `POST /PHONE_NUMBER_ID/media` (multipart: `file`, `type`, `messaging_product`), answer
  `{"id"}`; `GET /MEDIA_ID` gives a short-lived `url`, fetched "with your access token"; images image/jpeg or
  image/png, at most 5 MB (supported media types).
- guides/mark-message-as-read: `{"messaging_product": "whatsapp", "status": "read", "message_id"}`.
- support/error-codes: 130429 "Rate limit hit" (Cloud API throughput), 131056 pair rate limit ("Wait and retry"),
  80007 and 4 rate limits, 131047 re-engagement (more than 24 hours since the customer last replied: only a
  template now), 131026 message undeliverable (not on WhatsApp, blocked us, …), 132018 template parameter format
  ("cannot have new-line/tab characters or more than 4 consecutive spaces").
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.notifications import Undeliverable as DomainUndeliverable

log = logging.getLogger(__name__)

# A person is waiting in a chat: one request gets REQUEST_TIMEOUT seconds, a whole send with its retries
# SEND_DEADLINE; then the caller hears WhatsAppUnavailable and the delivery service retries later.
REQUEST_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
SEND_DEADLINE = 20.0
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0

TEXT_MAX = 4096
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
INTERACTIVE_BODY_MAX = 1024
LIST_BODY_MAX = 4096
HEADER_MAX = 60
FOOTER_MAX = 60
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_BUTTON_MAX = 20
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
SECTION_TITLE_MAX = 24
CTA_TEXT_MAX = 20
URL_MAX = 2000  # not a documented Meta limit: a bound on what we build
CAPTION_MAX = 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
TEMPLATE_BUTTONS_MAX = 10  # "up to 10 buttons using index values of 0 to 9"
TEMPLATE_PAYLOAD_MAX = 256  # a bound on what we build (our reply ids are a few characters)
TEMPLATE_PARAMS_MAX = 20  # a bound on what we build; Meta's templates have as many as were approved
RECIPIENT = re.compile(r"^\+?[1-9][0-9]{6,14}$")  # E.164 digits; a wa_id is the number without "+"
MESSAGE_ID_MAX = 512
MEDIA_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ERROR_TEXT_MAX = 300

RETRY_CODES = frozenset({130429, 131056, 80007, 4, 2, 131016})
OUTSIDE_WINDOW_CODES = frozenset({131047})
UNDELIVERABLE_CODES = frozenset({131026})


class WhatsAppError(Exception):
    """Anything this client raises."""


class LimitExceeded(WhatsAppError, ValueError):
    """A message that breaks one of Meta's documented limits: a bug in the door, refused before sending."""

    def __init__(self, limit: str, detail: str) -> None:
        super().__init__(f"{limit}: {detail}")
        self.limit = limit
        self.detail = detail


class WhatsAppUnavailable(WhatsAppError):
    """Meta did not answer in time, or kept answering 429/5xx/rate-limit codes: try again later. `maybe_sent` is
    True when a send timed out after the request went out (Meta may have taken it; there is no idempotency key)."""

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class WhatsAppRefused(WhatsAppError):
    """Meta refused the request (a 4xx that retrying will not change). Carries Meta's code and message."""

    def __init__(self, status: int, code: int | None, message: str, details: str = "") -> None:
        super().__init__(f"HTTP {status}, code {code}: {message}" + (f" ({details})" if details else ""))
        self.status = status
        self.code = code
        self.meta_message = message
        self.details = details


class OutsideWindow(WhatsAppRefused):
    """131047: more than 24 hours since the person last wrote; only an approved template can reach them now."""


class Undeliverable(WhatsAppRefused, DomainUndeliverable):
    """131026 and the like: this person cannot receive our messages (not on WhatsApp, blocked us). The delivery
    service treats it like Telegram's Forbidden: it stops retrying."""


class MediaTooLarge(WhatsAppError):
    """A media download bigger than the bound we accept."""


@dataclass(frozen=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class ListSection:
    rows: Sequence[ListRow]
    title: str | None = None


@dataclass(frozen=True)
class TemplateRef:
    """An approved message template: its name and the language it was approved in, and the payload each of its
    quick-reply buttons sends back when tapped, in the buttons' approved order (none: no buttons, or buttons
    whose tap comes back with their label only)."""

    name: str
    language: str
    buttons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sent:
    """Meta accepted the message: its id (`wamid.…`, what status webhooks name) and the recipient's wa_id."""

    message_id: str
    wa_id: str | None


@dataclass(frozen=True)
class Media:
    content: bytes
    mime_type: str


# ---------------------------------------------------------------- payloads, checked before anything is sent


def _text(limit: str, value: str | None, maximum: int, *, required: bool = True) -> None:
    if value is None:
        if required:
            raise LimitExceeded(limit, "required")
        return
    if not isinstance(value, str):
        raise LimitExceeded(limit, f"must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise LimitExceeded(limit, "must not be empty")
    if len(value) > maximum:
        raise LimitExceeded(limit, f"{len(value)} characters, at most {maximum}")


def _recipient(to: str) -> str:
    if not isinstance(to, str) or not RECIPIENT.match(to):
        raise LimitExceeded("recipient", "a phone number in E.164 digits (wa_id), e.g. 6281234567890")
    return to.removeprefix("+")


def _envelope(to: str, kind: str, content: dict[str, Any], reply_to: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": _recipient(to), "type": kind, kind: content}
    if reply_to is not None:
        _text("reply_to message id", reply_to, MESSAGE_ID_MAX)
        payload["context"] = {"message_id": reply_to}
    return payload


def _frame(interactive: dict[str, Any], header: str | None, footer: str | None) -> dict[str, Any]:
    _text("header text", header, HEADER_MAX, required=False)
    _text("footer text", footer, FOOTER_MAX, required=False)
    if header:
        interactive["header"] = {"type": "text", "text": header}
    if footer:
        interactive["footer"] = {"text": footer}
    return interactive


def text_payload(to: str, body: str, *, preview_url: bool = False, reply_to: str | None = None) -> dict[str, Any]:
    _text("text body", body, TEXT_MAX)
    return _envelope(to, "text", {"body": body, "preview_url": preview_url}, reply_to)


def buttons_payload(to: str, body: str, buttons: Sequence[ReplyButton], *, header: str | None = None,
                    footer: str | None = None, reply_to: str | None = None) -> dict[str, Any]:
    _text("button message body", body, INTERACTIVE_BODY_MAX)
    if not 1 <= len(buttons) <= BUTTONS_MAX:
        raise LimitExceeded("reply buttons", f"{len(buttons)} buttons, 1 to {BUTTONS_MAX}")
    for button in buttons:
        _text("button id", button.id, BUTTON_ID_MAX)
        _text("button title", button.title, BUTTON_TITLE_MAX)
    if len({b.title for b in buttons}) != len(buttons):
        raise LimitExceeded("button title", "titles must be unique")
    if len({b.id for b in buttons}) != len(buttons):
        raise LimitExceeded("button id", "ids must be unique")
    interactive = {"type": "button", "body": {"text": body},
                   "action": {"buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}}
                                          for b in buttons]}}
    return _envelope(to, "interactive", _frame(interactive, header, footer), reply_to)


def list_payload(to: str, body: str, button: str, sections: Sequence[ListSection], *, header: str | None = None,
                 footer: str | None = None, reply_to: str | None = None) -> dict[str, Any]:
    _text("list body", body, LIST_BODY_MAX)
    _text("list button", button, LIST_BUTTON_MAX)
    if not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        raise LimitExceeded("list sections", f"{len(sections)} sections, 1 to {LIST_SECTIONS_MAX}")
    rows = [row for section in sections for row in section.rows]
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        raise LimitExceeded("list rows", f"{len(rows)} rows in all sections, 1 to {LIST_ROWS_MAX}")
    for section in sections:
        if not section.rows:
            raise LimitExceeded("list rows", "every section needs at least one row")
        _text("section title", section.title, SECTION_TITLE_MAX, required=len(sections) > 1)
    for row in rows:
        _text("row id", row.id, ROW_ID_MAX)
        _text("row title", row.title, ROW_TITLE_MAX)
        _text("row description", row.description, ROW_DESCRIPTION_MAX, required=False)
    if len({row.id for row in rows}) != len(rows):
        raise LimitExceeded("row id", "ids must be unique across sections")
    built = []
    for section in sections:
        entry: dict[str, Any] = {"rows": [{"id": r.id, "title": r.title}
                                          | ({"description": r.description} if r.description else {})
                                          for r in section.rows]}
        if section.title:
            entry["title"] = section.title
        built.append(entry)
    interactive = {"type": "list", "body": {"text": body}, "action": {"button": button, "sections": built}}
    return _envelope(to, "interactive", _frame(interactive, header, footer), reply_to)


def cta_url_payload(to: str, body: str, display_text: str, url: str, *, header: str | None = None,
                    footer: str | None = None, reply_to: str | None = None) -> dict[str, Any]:
    _text("link message body", body, INTERACTIVE_BODY_MAX)
    _text("link button text", display_text, CTA_TEXT_MAX)
    _text("link url", url, URL_MAX)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise LimitExceeded("link url", "must be an http(s) URL")
    interactive = {"type": "cta_url", "body": {"text": body},
                   "action": {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}}}
    return _envelope(to, "interactive", _frame(interactive, header, footer), reply_to)


def image_payload(to: str, media_id: str, *, caption: str | None = None,
                  reply_to: str | None = None) -> dict[str, Any]:
    if not isinstance(media_id, str) or not MEDIA_ID.match(media_id):
        raise LimitExceeded("media id", "an id returned by the media upload")
    _text("image caption", caption, CAPTION_MAX, required=False)
    content: dict[str, Any] = {"id": media_id}
    if caption:
        content["caption"] = caption
    return _envelope(to, "image", content, reply_to)


def template_payload(to: str, template: TemplateRef, parameters: Sequence[str] = ()) -> dict[str, Any]:
    if not TEMPLATE_NAME.match(template.name):
        raise LimitExceeded("template name", "lowercase letters, digits and _ (as approved)")
    if not LANGUAGE_CODE.match(template.language):
        raise LimitExceeded("template language", "a code like id, en or en_US")
    if len(parameters) > TEMPLATE_PARAMS_MAX:
        raise LimitExceeded("template parameters", f"{len(parameters)}, at most {TEMPLATE_PARAMS_MAX}")
    for value in parameters:
        _text("template parameter", value, INTERACTIVE_BODY_MAX)
        if "\n" in value or "\t" in value or "     " in value:  # error 132018
            raise LimitExceeded("template parameter", "no new-line/tab characters or more than 4 spaces in a row")
    if len(template.buttons) > TEMPLATE_BUTTONS_MAX:
        raise LimitExceeded("template buttons", f"{len(template.buttons)}, at most {TEMPLATE_BUTTONS_MAX}")
    for payload in template.buttons:
        _text("template button payload", payload, TEMPLATE_PAYLOAD_MAX)
    content: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components: list[dict[str, Any]] = []
    if parameters:
        components.append({"type": "body", "parameters": [{"type": "text", "text": v} for v in parameters]})
    # A quick-reply button's payload (Cloud API messages reference, template object
    # https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages: a `button` component has
    # `sub_type` "quick_reply", `index` "the position index of the button ... 0 to 9", and `parameters`; Meta's
    # WhatsApp Node.js SDK, https://whatsapp.github.io/WhatsApp-Nodejs-SDK/api-reference/types/button_parameter_object:
    # `{"type": "payload", "payload": ...}`, a "developer-defined payload that is returned when the button is
    # clicked in addition to the display text on the button"). The tap comes back as a `button` message whose
    # `payload` is this (handlers/whatsapp/updates.py), so a button means the same as our reply buttons.
    components += [{"type": "button", "sub_type": "quick_reply", "index": str(i),
                    "parameters": [{"type": "payload", "payload": payload}]}
                   for i, payload in enumerate(template.buttons)]
    if components:
        content["components"] = components
    return _envelope(to, "template", content)


def read_payload(message_id: str) -> dict[str, Any]:
    _text("message id", message_id, MESSAGE_ID_MAX)
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}


# ---------------------------------------------------------------- the client


def _bounded(text: object, secret: str) -> str:
    """Meta's error text as we may log it: the token never in it, escaped, cut short."""
    value = str(text).replace(secret, "***") if secret else str(text)
    return ascii(value)[1:-1][:ERROR_TEXT_MAX]


class WhatsAppClient:
    """One business phone number's client. `base_url` includes the version (`https://graph.facebook.com/v26.0`,
    or a simulator's). `sleep` and `monotonic` are injectable so tests do not wait for backoffs."""

    def __init__(
        self, *, access_token: str, phone_number_id: str, base_url: str,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = REQUEST_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT,
        deadline: float = SEND_DEADLINE, max_attempts: int = MAX_ATTEMPTS, backoff: float = BACKOFF_BASE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access_token:
            raise ValueError("WHATSAPP_ACCESS_TOKEN is required")
        if not re.fullmatch(r"[0-9]{1,32}", phone_number_id or ""):
            raise ValueError("WHATSAPP_PHONE_NUMBER_ID must be the numeric phone number id")
        self._token = access_token
        self._phone = phone_number_id
        self._base = base_url.rstrip("/")
        self._own_session = session is None
        self._session = session
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._deadline = deadline
        self._attempts = max(1, max_attempts)
        self._backoff = backoff
        self._sleep = sleep
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"WhatsAppClient(phone_number_id={self._phone!r}, base_url={self._base!r})"

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WhatsAppClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    # -- sending

    async def send_text(self, to: str, body: str, *, preview_url: bool = False,
                        reply_to: str | None = None) -> Sent:
        return await self.send(text_payload(to, body, preview_url=preview_url, reply_to=reply_to))

    async def send_buttons(self, to: str, body: str, buttons: Sequence[ReplyButton], *, header: str | None = None,
                           footer: str | None = None, reply_to: str | None = None) -> Sent:
        return await self.send(buttons_payload(to, body, buttons, header=header, footer=footer, reply_to=reply_to))

    async def send_list(self, to: str, body: str, button: str, sections: Sequence[ListSection], *,
                        header: str | None = None, footer: str | None = None, reply_to: str | None = None) -> Sent:
        return await self.send(list_payload(to, body, button, sections, header=header, footer=footer,
                                            reply_to=reply_to))

    async def send_cta_url(self, to: str, body: str, display_text: str, url: str, *, header: str | None = None,
                           footer: str | None = None, reply_to: str | None = None) -> Sent:
        return await self.send(cta_url_payload(to, body, display_text, url, header=header, footer=footer,
                                               reply_to=reply_to))

    async def send_image(self, to: str, media_id: str, *, caption: str | None = None,
                         reply_to: str | None = None) -> Sent:
        return await self.send(image_payload(to, media_id, caption=caption, reply_to=reply_to))

    async def send_template(self, to: str, template: TemplateRef, parameters: Sequence[str] = ()) -> Sent:
        return await self.send(template_payload(to, template, parameters))

    async def send(self, payload: dict[str, Any]) -> Sent:
        """Send a payload built (and checked) by one of the `*_payload` functions."""
        answer = await self._request("POST", f"/{self._phone}/messages", json_body=payload, idempotent=False)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict) \
                or not isinstance(messages[0].get("id"), str):
            raise WhatsAppUnavailable("the send answer had no message id", maybe_sent=True)
        contacts = answer.get("contacts")
        wa_id = None
        if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict):
            found = contacts[0].get("wa_id")
            wa_id = found if isinstance(found, str) else None
        return Sent(message_id=messages[0]["id"][:MESSAGE_ID_MAX], wa_id=wa_id)

    async def mark_read(self, message_id: str) -> None:
        """Blue ticks on a message the person sent (and the earlier ones). Repeating it is harmless."""
        await self._request("POST", f"/{self._phone}/messages", json_body=read_payload(message_id), idempotent=True)

    # -- media

    async def upload_image(self, content: bytes, *, mime_type: str = "image/png", filename: str = "ticket.png") -> str:
        """Upload an image (a ticket's QR) and return its media id, usable for 30 days."""
        if mime_type not in IMAGE_TYPES:
            raise LimitExceeded("image type", f"{mime_type!r}; Meta takes {', '.join(sorted(IMAGE_TYPES))}")
        if not content or len(content) > IMAGE_MAX_BYTES:
            raise LimitExceeded("image size", f"{len(content)} bytes, 1 to {IMAGE_MAX_BYTES}")

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("messaging_product", "whatsapp")
            data.add_field("type", mime_type)
            data.add_field("file", content, filename=filename, content_type=mime_type)
            return data

        # an upload repeated after a timeout only leaves an unused media object behind: safe to retry
        answer = await self._request("POST", f"/{self._phone}/media", form=form, idempotent=True)
        media_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(media_id, str) or not MEDIA_ID.match(media_id):
            raise WhatsAppUnavailable("the upload answer had no media id")
        return media_id

    async def download_media(self, media_id: str, *, max_bytes: int = IMAGE_MAX_BYTES) -> Media:
        """The bytes of a media a person sent (a photo of a QR): `GET /{media id}` gives a short-lived URL,
        fetched with the token. The token goes only to https URLs or to the API's own host (a simulator)."""
        if not isinstance(media_id, str) or not MEDIA_ID.match(media_id):
            raise LimitExceeded("media id", "the id from the webhook")
        meta = await self._request("GET", f"/{media_id}", idempotent=True)
        url = meta.get("url") if isinstance(meta, dict) else None
        if not isinstance(url, str):
            raise WhatsAppUnavailable("the media answer had no url")
        mime = meta.get("mime_type")
        size = meta.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise MediaTooLarge(f"{size} bytes, at most {max_bytes}")
        parts, base = urlsplit(url), urlsplit(self._base)
        if parts.scheme != "https" and parts.netloc != base.netloc:
            raise WhatsAppRefused(0, None, "media url is neither https nor the API's host; not sending the token")
        # redirects are followed; aiohttp drops the Authorization header when one changes origin
        content = await self._request("GET", url, absolute=True, idempotent=True, raw_limit=max_bytes)
        assert isinstance(content, bytes)
        return Media(content=content, mime_type=mime if isinstance(mime, str) else "application/octet-stream")

    # -- one request, with retries

    async def _request(
        self, method: str, path: str, *, json_body: Mapping[str, Any] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None, idempotent: bool, absolute: bool = False,
        raw_limit: int | None = None,
    ) -> Any:
        url = path if absolute else self._base + path
        shown = "media url" if absolute else path  # a media URL carries a signature: not logged
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            # no attempt runs past the deadline of the whole call
            remaining = self._deadline - (self._monotonic() - started)
            total = max(0.1, min(self._request_timeout, remaining))
            timeout = aiohttp.ClientTimeout(total=total, connect=min(self._connect_timeout, total))
            try:
                async with self._http().request(
                    method, url, json=json_body, data=form() if form is not None else None,
                    headers={"Authorization": f"Bearer {self._token}"}, timeout=timeout,
                    allow_redirects=raw_limit is not None,
                ) as response:
                    if response.status < 400:
                        if raw_limit is not None:
                            return await self._read_bounded(response, raw_limit)
                        return await self._json(response)
                    status = response.status
                    error = await self._error(response)
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            except TimeoutError as exc:
                # a connect timeout sent nothing; a timeout later may have left Meta holding the message
                if not idempotent and not isinstance(exc, aiohttp.ConnectionTimeoutError):
                    log.warning("whatsapp: %s %s timed out; not repeated (Meta may have taken it)", method, shown)
                    raise WhatsAppUnavailable(f"{method} {shown} timed out", maybe_sent=True) from exc
                status, error = 0, {"message": "timed out"}
            except aiohttp.ClientConnectionError as exc:
                # a connection that failed before the request went out cannot have sent anything
                sent_maybe = not isinstance(exc, aiohttp.ClientConnectorError)
                if sent_maybe and not idempotent:
                    raise WhatsAppUnavailable(f"{method} {shown}: connection lost", maybe_sent=True) from exc
                status, error = 0, {"message": type(exc).__name__}
            except aiohttp.ClientError as exc:  # e.g. a response cut short: the request went out
                if not idempotent:
                    raise WhatsAppUnavailable(f"{method} {shown}: {type(exc).__name__}", maybe_sent=True) from exc
                status, error = 0, {"message": type(exc).__name__}
            code = error.get("code") if isinstance(error.get("code"), int) else None
            message = _bounded(error.get("message", ""), self._token)
            details = _bounded(error.get("details", ""), self._token)
            retryable = status == 0 or status == 429 or status >= 500 or code in RETRY_CODES
            if not retryable:
                if code in OUTSIDE_WINDOW_CODES:
                    raise OutsideWindow(status, code, message, details)
                if code in UNDELIVERABLE_CODES:
                    raise Undeliverable(status, code, message, details)
                raise WhatsAppRefused(status, code, message, details)
            elapsed = self._monotonic() - started
            delay = min(BACKOFF_CAP, self._backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            if retry_after is not None:
                delay = max(delay, retry_after)
            if attempt >= self._attempts or elapsed + delay >= self._deadline:
                log.warning("whatsapp: %s %s gave up after %d attempt(s): HTTP %s code %s", method, shown,
                            attempt, status or "-", code)
                raise WhatsAppUnavailable(f"{method} {shown}: HTTP {status or '-'} code {code} after {attempt} "
                                          f"attempt(s): {message}")
            log.info("whatsapp: %s %s got HTTP %s code %s; retry %d in %.2fs", method, shown, status or "-", code,
                     attempt, delay)
            await self._sleep(delay)

    @staticmethod
    async def _json(response: aiohttp.ClientResponse) -> Any:
        try:
            return json.loads(await response.read())
        except (ValueError, UnicodeDecodeError):
            return {}

    @staticmethod
    async def _error(response: aiohttp.ClientResponse) -> dict[str, Any]:
        """Meta's `{"error": {"message", "type", "code", "error_data": {"details"}}}`, read defensively."""
        body = await response.content.read(16 * 1024)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return {"message": f"HTTP {response.status}"}
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            return {"message": f"HTTP {response.status}"}
        details = error.get("error_data", {}).get("details", "") if isinstance(error.get("error_data"), dict) else ""
        return {"code": error.get("code"), "message": error.get("message", ""), "details": details}

    @staticmethod
    async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
        if response.content_length is not None and response.content_length > limit:
            raise MediaTooLarge(f"{response.content_length} bytes, at most {limit}")
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise MediaTooLarge(f"more than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 60 else None


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Templates:
    """The approved templates for messages that may fall outside the 24-hour window (docs/whatsapp.md):

    - `tickets` (WHATSAPP_TEMPLATE_TICKETS): "your tickets for {{1}} are ready (order {{2}})", with a quick-reply
      button; the person's tap opens the window and the door then sends the QR images;
    - `notice` (WHATSAPP_TEMPLATE_NOTICE): one line about an order, "{{1}}" (a refund, an expired hold, a
      reminder), for the notices the domain owes when the window may be closed.
    None: not configured; such a message cannot be sent outside the window and the door logs it."""

    tickets: TemplateRef | None
    notice: TemplateRef | None


# What a template's quick-reply button named in configuration (WHATSAPP_TEMPLATE_*_BUTTONS) sends back: the
# door's reply ids (handlers/whatsapp/views.py), so a tap is handled as the same reply button would be.
TEMPLATE_BUTTON_PAYLOADS = {"tickets": "tickets", "orders": "orders", "events": "events:0", "menu": "menu"}


def templates_from_settings(settings: Any) -> Templates:
    def ref(name: str | None, language: str, buttons: str) -> TemplateRef | None:
        payloads = tuple(TEMPLATE_BUTTON_PAYLOADS[b] for b in buttons.split(",") if b)
        return TemplateRef(name, language, payloads) if name else None

    return Templates(
        tickets=ref(settings.whatsapp_template_tickets, settings.whatsapp_template_tickets_language,
                    settings.whatsapp_template_tickets_buttons),
        notice=ref(settings.whatsapp_template_notice, settings.whatsapp_template_notice_language,
                   settings.whatsapp_template_notice_buttons),
    )


def client_from_settings(settings: Any, **options: Any) -> WhatsAppClient:
    """The client for `settings` (bot/config.py); ValueError if the WhatsApp door is not configured."""
    if settings.whatsapp_access_token is None or settings.whatsapp_phone_number_id is None:
        raise ValueError("WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID are required for the WhatsApp door")
    return WhatsAppClient(access_token=settings.whatsapp_access_token.get_secret_value(),
                          phone_number_id=settings.whatsapp_phone_number_id,
                          base_url=settings.whatsapp_api_base_url, **options)
