"""The simulated WhatsApp world behind the Graph API: what a business message does once `rules` accepts it.

* Auth: ``Authorization: Bearer <access token>``; anything else is 401, code 190.
* Sending (``POST /{version}/{phone-number-id}/messages``): validated by `rules`; then throughput (80 messages per
  second per number, inbound included) and the per-user pair rate; then accepted with a ``wamid``. What happens
  next is reported the way Meta reports it, by ``statuses`` webhooks: ``sent`` + ``delivered`` for a reachable
  user, ``failed`` with 131047 for a free-form message outside the 24-hour window, ``failed`` with 131026 for a
  number that is not a user, blocked the business, or is marked undeliverable. ``sync_delivery_errors=True``
  answers those two in the HTTP response instead (400), for doors that want to see them at once.
* Webhooks: Meta-shaped payloads POSTed to the configured URL, signed with ``X-Hub-Signature-256``; a delivery is
  retried until the endpoint answers 200; later ones are not held behind a failing one, so order is not
  guaranteed ("Webhooks" below). Tests can pause, reorder and redeliver.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout

from bot.sandbox.whatsapp import rules
from bot.sandbox.whatsapp.records import (
    Delivery,
    Media,
    SandboxError,
    Status,
    Template,
    TemplateStatus,
    WaMessage,
    WaUser,
    WebhookVerificationError,
)
from bot.sandbox.whatsapp.users import UserActions

DEFAULT_ACCESS_TOKEN = "EAAKarcisFakeWhatsAppAccessToken0123456789"
DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_DISPLAY_NUMBER = "15550783881"
DEFAULT_WABA_ID = "102290129340398"
DEFAULT_APP_SECRET = "karcis-fake-app-secret"

# Throughput page (https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput): "For each
# registered business phone number, Cloud API supports up to 80 messages per second (mps) by default ... Throughput
# is inclusive of inbound and outbound messages and all message types."
DEFAULT_THROUGHPUT_MPS = 80
# Pair rate limit (same page: "If you attempt to send too many messages to the same WhatsApp user number, you may
# encounter a pair rate limit error", code 131056): one message every 6 seconds to one user, with a burst allowance
# that is then paid back (45 messages, Meta's figure; not in the stored excerpt of the page).
PAIR_INTERVAL_SECONDS = 6.0
PAIR_BURST = 45
# Media page: the URL from GET /{media-id} "is only valid for 5 minutes".
MEDIA_URL_TTL = timedelta(minutes=5)
UPLOADED_MEDIA_TTL = timedelta(days=30)
WEBHOOK_MEDIA_TTL = timedelta(days=7)


_COUNTRIES = (("62", "ID"), ("60", "MY"), ("65", "SG"), ("63", "PH"), ("66", "TH"), ("91", "IN"), ("44", "GB"),
              ("61", "AU"), ("1", "US"))


def _unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


class WhatsAppSimulator(UserActions):
    """The fake WhatsApp Cloud API world. Every method runs on the event loop; none blocks it."""

    def __init__(
        self,
        *,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        display_phone_number: str = DEFAULT_DISPLAY_NUMBER,
        waba_id: str = DEFAULT_WABA_ID,
        app_secret: str = DEFAULT_APP_SECRET,
        clock: Callable[[], datetime] | None = None,
        throughput_mps: int = DEFAULT_THROUGHPUT_MPS,
        pair_interval: float = PAIR_INTERVAL_SECONDS,
        pair_burst: int = PAIR_BURST,
        enforce_rate_limits: bool = True,
        sync_delivery_errors: bool = False,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.app_secret = app_secret
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.throughput_mps = throughput_mps
        self.pair_interval = pair_interval
        self.pair_burst = pair_burst
        self.enforce_rate_limits = enforce_rate_limits
        self.sync_delivery_errors = sync_delivery_errors
        self.webhook_retry_delay = webhook_retry_delay
        self.base_url = ""  # set by FakeWhatsApp once it listens; used in media URLs

        self.users: dict[str, WaUser] = {}
        self._chats: dict[str, list[WaMessage]] = {}
        self._messages: dict[str, WaMessage] = {}
        self._media: dict[str, Media] = {}
        self._templates: dict[tuple[str, str], Template] = {}
        self._seq = itertools.count(1)
        self._media_ids = itertools.count(1_000_000_000_001)
        self._traffic: deque[datetime] = deque()
        self._pair_tokens: dict[str, tuple[float, datetime]] = {}
        self._injected: list[list[Any]] = []  # [error code, remaining count, wa_id or None]
        self.api_calls: list[tuple[str, str, dict[str, Any] | None]] = []

        self.webhook_url: str | None = None
        self.verify_token: str | None = None
        self._deliveries: list[Delivery] = []
        self._delivery_ids = itertools.count(1)
        self._paused = False
        self._closing = False
        self._changed = asyncio.Condition()

    # ----------------------------------------------------------------------------------- setup

    def now(self) -> datetime:
        return self.clock()

    def add_template(
        self, name: str, language: str, body: str, *, header: str | None = None, category: str = "UTILITY",
        status: TemplateStatus = "APPROVED", buttons: tuple[str, ...] = (),
    ) -> Template:
        """Register an approved template (Meta: only approved templates of the WABA can be sent), with its
        quick-reply buttons' labels (at most 10)."""
        if len(buttons) > rules.MAX_TEMPLATE_BUTTONS:
            raise ValueError(f"{len(buttons)} buttons, a template has at most {rules.MAX_TEMPLATE_BUTTONS}")
        template = Template(name, language, body, header, category, status, tuple(buttons))
        self._templates[template.key] = template
        return template

    def check_token(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), self.access_token):
            raise rules.invalid_token()

    def check_phone_number_id(self, phone_number_id: str, method: str = "post") -> None:
        if phone_number_id != self.phone_number_id:
            raise rules.unknown_object(phone_number_id, method)

    def inject_error(self, code: int, *, count: int = 1, to: str | None = None) -> None:
        """The next ``count`` sends (to ``to`` only, if given) answer Meta's error ``code`` (130429, 131056, ...).

        131026 and 131047 arrive as a ``failed`` status (or in the response with ``sync_delivery_errors``).
        """
        self._injected.append([code, count, rules.wa_id_of(to) if to else None])

    # ----------------------------------------------------------------------------------- the Messages API

    async def api_send(self, payload: Any) -> dict[str, Any]:
        """``POST /{phone-number-id}/messages``: the success body, or raises `rules.GraphApiError`."""
        if not isinstance(payload, dict):
            raise rules.invalid_parameter("The request body must be a JSON object")
        self.api_calls.append(("POST", "messages", payload))
        if payload.get("messaging_product") != "whatsapp":
            raise rules.invalid_parameter("The parameter messaging_product is required.")
        if payload.get("status") == "read":
            return await self._mark_read(payload)
        wa_id = rules.wa_id_of(payload.get("to"))
        kind = payload.get("type", "text")
        if payload.get("recipient_type", "individual") != "individual":
            raise rules.invalid_parameter("Param recipient_type must be individual")
        content = self._validate(kind, payload)
        context = payload.get("context")
        context_id = context.get("message_id") if isinstance(context, dict) else None

        now = self.now()
        injected = self._take_injected(wa_id)
        if injected is not None and (injected.code not in rules.ASYNC_CODES or self.sync_delivery_errors):
            raise injected
        self._check_rate_limits(wa_id, now)

        message = WaMessage(
            id=self._new_wamid(wa_id), seq=next(self._seq), wa_id=wa_id, direction="out", type=kind,
            content=content, timestamp=now, context_id=context_id,
        )
        failure = injected or self._delivery_failure(wa_id, kind, now)
        if failure is not None and self.sync_delivery_errors:
            raise failure
        self._messages[message.id] = message
        self._chats.setdefault(wa_id, []).append(message)
        if failure is not None:
            self._set_status(message, "failed", failure)
        else:
            self._set_status(message, "sent")
            self._set_status(message, "delivered")
        await self._notify()
        result: dict[str, Any] = {"id": message.id}
        if kind == "template":
            result["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [{"input": payload["to"], "wa_id": wa_id}],
                "messages": [result]}

    def _validate(self, kind: Any, payload: dict[str, Any]) -> dict[str, Any]:
        if kind == "text":
            return rules.check_text(payload)
        if kind == "interactive":
            return rules.check_interactive(payload)
        if kind == "image":
            image = dict(rules.check_image(payload))
            if "id" in image:
                media = self._media.get(image["id"])
                if media is None or media.expires_at <= self.now():
                    raise rules.parameter_not_valid(f"Invalid media id {image['id']!r}: not uploaded or expired")
                if not media.mime_type.startswith("image/") or media.mime_type == "image/webp":
                    raise rules.parameter_not_valid(f"Media {image['id']} is {media.mime_type}, not an image")
            return image
        if kind == "template":
            return self._check_template(payload)
        raise rules.invalid_parameter(
            f"Param type must be one of text, interactive, image, template (in this simulator), got {kind!r}")

    def _check_template(self, payload: dict[str, Any]) -> dict[str, Any]:
        spec = payload.get("template")
        if not isinstance(spec, dict):
            raise rules.missing_parameter("Param template is required for type template")
        name = spec.get("name")
        language = spec.get("language")
        if not isinstance(name, str) or not name:
            raise rules.missing_parameter("Param template['name'] is required")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(code, str) or not code:
            raise rules.missing_parameter("Param template['language']['code'] is required")
        template = self._templates.get((name, code))
        if template is None:
            raise rules.template_does_not_exist(name, code)
        if template.status == "PAUSED":
            raise rules.template_paused(name)
        if template.status == "DISABLED":
            raise rules.template_disabled(name)
        body_values = rules.template_parameters(spec.get("components"), "body")
        header_values = rules.template_parameters(spec.get("components"), "header")
        expected_body = rules.placeholders(template.body)
        expected_header = rules.placeholders(template.header or "")
        if len(body_values) != expected_body or len(header_values) != expected_header:
            raise rules.template_param_count_mismatch(
                f"body: number of localizable_params ({len(body_values)}) does not match the expected number of "
                f"params ({expected_body}); header: {len(header_values)} of {expected_header}")
        rendered = rules.fill(template.body, body_values)
        if len(rendered) > rules.MAX_TEMPLATE_BODY:
            raise rules.template_text_too_long(f"body is {len(rendered)} characters, max {rules.MAX_TEMPLATE_BODY}")
        header = rules.fill(template.header, header_values) if template.header else None
        if header is not None and len(header) > rules.MAX_HEADER_TEXT:
            raise rules.template_text_too_long(f"header is {len(header)} characters, max {rules.MAX_HEADER_TEXT}")
        payloads = rules.template_button_payloads(spec.get("components"), len(template.buttons))
        buttons = [{"index": str(i), "text": text, "payload": payloads.get(i, text)}
                   for i, text in enumerate(template.buttons)]
        return {"name": name, "language": code, "components": spec.get("components") or [],
                "rendered": rendered if header is None else f"{header}\n{rendered}", "buttons": buttons}

    def _delivery_failure(self, wa_id: str, kind: str, now: datetime) -> rules.GraphApiError | None:
        user = self.users.get(wa_id)
        if user is None or user.blocked_business or user.undeliverable:
            return rules.undeliverable()
        if kind != "template" and not user.window_open(now):
            return rules.re_engagement()
        return None

    def _take_injected(self, wa_id: str) -> rules.GraphApiError | None:
        for entry in self._injected:
            code, remaining, target = entry
            if remaining > 0 and (target is None or target == wa_id):
                entry[1] -= 1
                self._injected = [e for e in self._injected if e[1] > 0]
                return rules.by_code(code)
        return None

    def _count_traffic(self, now: datetime) -> int:
        while self._traffic and self._traffic[0] <= now - timedelta(seconds=1):
            self._traffic.popleft()
        return len(self._traffic)

    def _check_rate_limits(self, wa_id: str, now: datetime) -> None:
        if not self.enforce_rate_limits:
            return
        if self._count_traffic(now) >= self.throughput_mps:
            raise rules.rate_limit_hit()
        tokens, since = self._pair_tokens.get(wa_id, (float(self.pair_burst), now))
        tokens = min(float(self.pair_burst), tokens + (now - since).total_seconds() / self.pair_interval)
        if tokens < 1.0:
            self._pair_tokens[wa_id] = (tokens, now)
            raise rules.pair_rate_limit_hit()
        self._pair_tokens[wa_id] = (tokens - 1.0, now)
        self._traffic.append(now)

    async def _mark_read(self, payload: dict[str, Any]) -> dict[str, Any]:
        # Mark messages as read (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read):
        # "Mark incoming messages as read within 30 days of receipt. When you mark a message as read, the API also
        # marks earlier messages in the conversation as read." An invalid message id → 131009.
        message_id = payload.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise rules.missing_parameter("Param message_id is required")
        message = self._messages.get(message_id)
        if message is None or message.direction != "in" or message.timestamp < self.now() - timedelta(days=30):
            raise rules.parameter_not_valid(f"Invalid message_id {message_id!r}: not a message received by this "
                                            "number in the last 30 days")
        for earlier in self._chats.get(message.wa_id, []):
            if earlier.direction == "in" and earlier.seq <= message.seq:
                earlier.read_by_business = True
        await self._notify()
        return {"success": True}

    def _bsuid(self, wa_id: str) -> str:
        country = next((cc for prefix, cc in _COUNTRIES if wa_id.startswith(prefix)), "US")
        digest = hashlib.sha256(f"{self.waba_id}:{wa_id}".encode()).digest()
        return f"{country}.{int.from_bytes(digest[:8], 'big') % 10**19}"

    def _new_wamid(self, wa_id: str) -> str:
        raw = f"{wa_id}\x15\x02\x00\x11\x18\x12{secrets.token_hex(9).upper()}".encode()
        return "wamid." + base64.b64encode(raw).decode()

    def _set_status(self, message: WaMessage, status: Status, error: rules.GraphApiError | None = None) -> None:
        message.status = status
        message.status_history.append(status)
        entry: dict[str, Any] = {
            "id": message.id, "status": status, "timestamp": _unix(self.now()), "recipient_id": message.wa_id,
        }
        if error is not None:
            message.error = error.webhook_error()
            entry["errors"] = [message.error]
        # Since BSUIDs, status webhooks name the recipient in ``contacts`` too (no user_id for a non-user).
        user = self.users.get(message.wa_id)
        contact = {"wa_id": message.wa_id} if user is None else {"wa_id": message.wa_id, "user_id": user.bsuid}
        self._enqueue({"contacts": [contact], "statuses": [entry]})

    async def fail_message(self, message_id: str, code: int = 131026) -> WaMessage:
        """Report a message the business sent, and Meta accepted, as failed after all: a ``failed`` status with
        ``errors[{code, title, message, error_data.details, href}]``.

        Status messages webhook reference
        (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status/):
        the webhook is triggered when "Your message is unable to be sent to a WhatsApp user" and when "Your
        message is unable to be delivered to a WhatsApp user's device", in the same ``statuses`` array as sent,
        delivered and read, naming the message ``id`` and ``recipient_id``; its errors have the shape of the
        errors webhooks reference (…/webhooks/reference/messages/errors: ``code``, ``title``, ``message``,
        ``error_data.details``, ``href``). A message can fail after ``sent`` and even after ``delivered`` was
        reported (several devices); this is the way to make that happen. A message that already failed, or one
        the business did not send, is refused (Meta reports a message's failure once)."""
        message = self._messages.get(message_id)
        if message is None or message.direction != "out":
            raise SandboxError(f"no message {message_id!r} sent by the business", status=404)
        if message.status == "failed":
            raise SandboxError(f"message {message_id!r} already failed", status=409)
        self._set_status(message, "failed", rules.by_code(code))
        await self._notify()
        return message

    # ----------------------------------------------------------------------------------- media

    def store_media(self, data: bytes, mime_type: str, *, uploaded: bool) -> Media:
        now = self.now()
        media = Media(
            id=str(next(self._media_ids)), data=data, mime_type=mime_type, created_at=now,
            expires_at=now + (UPLOADED_MEDIA_TTL if uploaded else WEBHOOK_MEDIA_TTL),
            phone_number_id=self.phone_number_id,
        )
        self._media[media.id] = media
        return media

    def api_upload(self, fields: dict[str, Any], file: tuple[bytes, str | None] | None) -> dict[str, Any]:
        """``POST /{phone-number-id}/media`` (multipart ``file``, ``type``, ``messaging_product``) → ``{id}``."""
        self.api_calls.append(("POST", "media", {k: v for k, v in fields.items()}))
        if fields.get("messaging_product") != "whatsapp":
            raise rules.invalid_parameter("The parameter messaging_product is required.")
        if file is None:
            raise rules.missing_parameter("Param file is required")
        data, part_type = file
        mime_type = fields.get("type") or part_type
        rules.check_upload(mime_type, data)
        assert mime_type is not None
        return {"id": self.store_media(data, mime_type, uploaded=True).id}

    def media(self, media_id: str, *, phone_number_id: str | None = None, method: str = "get") -> Media:
        media = self._media.get(media_id)
        # "phone_number_id: Optional ... the operation will only be processed if the ID matches the ID of the
        # business phone number that the media was uploaded on." (Media page)
        if media is None or media.expires_at <= self.now() or (
                phone_number_id is not None and phone_number_id != media.phone_number_id):
            raise rules.unknown_object(media_id, method)
        return media

    def api_media_info(self, media_id: str, phone_number_id: str | None = None) -> dict[str, Any]:
        media = self.media(media_id, phone_number_id=phone_number_id)
        expires = int((self.now() + MEDIA_URL_TTL).timestamp())
        signature = self._media_hash(media.id, expires)
        url = f"{self.base_url}/whatsapp_business/attachments/?mid={media.id}&ext={expires}&hash={signature}"
        return {"messaging_product": "whatsapp", "url": url, "mime_type": media.mime_type,
                "sha256": media.sha256_hex, "file_size": str(len(media.data)), "id": media.id}

    def api_media_delete(self, media_id: str, phone_number_id: str | None = None) -> dict[str, Any]:
        media = self.media(media_id, phone_number_id=phone_number_id, method="delete")
        del self._media[media.id]
        return {"success": True}

    def _media_hash(self, media_id: str, expires: int) -> str:
        return hmac.new(self.app_secret.encode(), f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:24]

    def download(self, mid: str, ext: str, signature: str) -> Media:
        """The bytes behind a media URL: the URL must be unexpired and signed; the caller checked the token."""
        try:
            expires = int(ext)
        except ValueError:
            raise rules.unknown_object(mid, "get") from None
        if not hmac.compare_digest(signature, self._media_hash(mid, expires)) or expires < self.now().timestamp():
            raise rules.unknown_object(mid, "get")
        return self.media(mid)

    # ----------------------------------------------------------------------------------- webhooks

    def sign(self, body: bytes) -> str:
        """``X-Hub-Signature-256`` value: "sha256=" + hex HMAC-SHA256 of the raw body keyed with the app secret."""
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    async def configure_webhook(self, url: str, verify_token: str, *, timeout: float = 5.0) -> None:
        """Subscribe ``url``: Meta first sends the verification GET and keeps the URL only if it echoes the challenge.

        Graph API webhooks, "Verification Requests": ``hub.mode=subscribe``, ``hub.challenge`` (an int) and
        ``hub.verify_token``; the endpoint must answer 200 with the challenge as the body.
        """
        challenge = str(secrets.randbelow(2**31 - 1) + 1)
        params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
        try:
            async with ClientSession(timeout=ClientTimeout(total=timeout)) as session, \
                    session.get(url, params=params) as response:
                text = await response.text()
                status = response.status
        except (ClientError, TimeoutError, OSError) as exc:
            raise WebhookVerificationError(f"callback URL unreachable: {exc.__class__.__name__}: {exc}") from exc
        if status != 200 or text.strip() != challenge:
            raise WebhookVerificationError(
                f"The URL couldn't be validated. Callback verification failed with the following errors: "
                f"HTTP Status Code = {status}; HTTP Message = {text[:200]!r}")
        self.webhook_url = url
        self.verify_token = verify_token
        await self._notify()

    def remove_webhook(self) -> None:
        self.webhook_url = None

    def _enqueue(self, value: dict[str, Any]) -> Delivery:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{
                "id": self.waba_id,
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": self.display_phone_number,
                                     "phone_number_id": self.phone_number_id},
                        **value,
                    },
                    "field": "messages",
                }],
            }],
        }
        delivery = Delivery(next(self._delivery_ids), payload, json.dumps(payload).encode())
        self._deliveries.append(delivery)
        return delivery

    def deliveries(self, *, delivered: bool | None = None) -> list[Delivery]:
        return [d for d in self._deliveries if delivered is None or d.delivered == delivered]

    def pause_deliveries(self) -> None:
        """Hold webhooks back (they queue) until `resume_deliveries`."""
        self._paused = True

    async def resume_deliveries(self, *, reverse: bool = False) -> None:
        """Release held webhooks; ``reverse=True`` delivers the queue newest first (out of order)."""
        if reverse:
            pending = [d for d in self._deliveries if not d.delivered]
            done = [d for d in self._deliveries if d.delivered]
            self._deliveries = done + pending[::-1]
        self._paused = False
        await self._notify()

    async def redeliver(self, delivery: Delivery | int | None = None) -> Delivery:
        """Send an already delivered webhook again, byte for byte (Meta may deliver a notification twice)."""
        if delivery is None:
            done = self.deliveries(delivered=True)
            if not done:
                raise SandboxError("nothing delivered yet to redeliver")
            original = done[-1]
        elif isinstance(delivery, int):
            found = next((d for d in self._deliveries if d.id == delivery), None)
            if found is None:
                raise SandboxError(f"no delivery {delivery}", status=404)
            original = found
        else:
            original = delivery
        copy = Delivery(next(self._delivery_ids), original.payload, original.body)
        self._deliveries.append(copy)
        await self._notify()
        return copy

    async def wait_for_deliveries(self, *, timeout: float = 5.0) -> None:
        """Wait until every queued webhook was accepted by the bot (answered 200)."""
        try:
            await self.wait_until(lambda: all(d.delivered for d in self._deliveries), timeout=timeout)
        except TimeoutError:
            stuck = [d for d in self._deliveries if not d.delivered]
            raise TimeoutError(f"{len(stuck)} webhook(s) not accepted within {timeout}s; last error: "
                               f"{stuck[0].last_error if stuck else None}") from None

    async def _post(self, session: ClientSession, delivery: Delivery) -> str | None:
        assert self.webhook_url is not None
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": self.sign(delivery.body)}
        try:
            async with session.post(self.webhook_url, data=delivery.body, headers=headers) as response:
                await response.read()
                # Graph API webhooks: a notification that "returns an HTTP status code other than 200" is retried.
                return None if response.status == 200 else f"HTTP {response.status}"
        except (ClientError, TimeoutError, OSError) as exc:
            return f"{exc.__class__.__name__}: {exc}"

    def _next_delivery(self) -> Delivery | None:
        if self._paused or self.webhook_url is None:
            return None
        moment = time.monotonic()
        return next((d for d in self._deliveries if not d.delivered and d.not_before <= moment), None)

    async def deliver_webhooks(self, session: ClientSession) -> None:
        """Background task: POST queued webhooks one at a time; a failed one is retried later, not blocking others."""
        while True:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self._changed.wait_for(lambda: self._closing or self._next_delivery() is not None)
                if self._closing:
                    return
                delivery = self._next_delivery()
            if delivery is None:
                continue
            delivery.attempts += 1
            error = await self._post(session, delivery)
            if error is None:
                delivery.delivered = True
                delivery.last_error = None
            else:
                delivery.last_error = error
                delivery.not_before = time.monotonic() + self.webhook_retry_delay
            await self._notify()

    # ----------------------------------------------------------------------------------- waiting

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def begin_shutdown(self) -> None:
        self._closing = True
        await self._notify()

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds (re-checked on every change and every 50 ms). Raises TimeoutError."""
        async with self._changed:
            async with asyncio.timeout(timeout):
                while not condition():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.05):
                            await self._changed.wait()
