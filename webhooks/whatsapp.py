"""`GET|POST /whatsapp/webhook`: the WhatsApp Cloud API webhook (Meta's "create-webhook-endpoint" page).

- `GET`: the verification handshake. Meta sends `hub.mode=subscribe`, `hub.verify_token` (what was typed in the
  App Dashboard: WHATSAPP_VERIFY_TOKEN, compared in constant time) and `hub.challenge`, which we echo as
  text/plain 200. Anything else: 403.
- `POST`: updates. `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed by the app secret>` is
  checked (constant time) before the body is parsed: missing or wrong → 401; a body over MAX_BODY_BYTES → 413;
  not Meta's JSON → 400. Nothing of a refused request is kept but a counter and a log line with escaped values.
- A verified update is answered at once with 200, after each message in it is written to the inbox
  (storage/whatsapp_inbox.py) under its message id: a redelivery of the same id is a duplicate key and skipped,
  so a message is handled once even across restarts; the stored update stays until handled, so a crash between
  the 200 and the handling loses nothing (unhandled ones are replayed at start and by a periodic sweep). If the
  database does not answer, the answer is 503 and Meta delivers again later.
- Messages are handled from per-person queues (the same person's messages in order; different people at once)
  by calling `handle(InboundMessage)`. A handler that raises is retried later, then given up on (kept, logged).
- Statuses (`sent`/`delivered`/`read`/`failed`) of the messages we sent are recorded (bounded); a `failed` one
  is kept in the inbox like a message and handed once to `on_failed(StatusUpdate)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import zlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from pymongo.errors import PyMongoError

from bot.clock import Clock, utcnow
from handlers.whatsapp.updates import (
    InboundMessage,
    StatusUpdate,
    parse_message,
    parse_status,
    raw_messages,
    statuses,
    values,
)
from storage.whatsapp_inbox import RAW_MAX, InboxKind, WhatsAppInbox
from webhooks.bodies import read_at_most

log = logging.getLogger(__name__)

PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta's webhook payloads stay under 3 MB
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
WORKERS = 4
QUEUE_LIMIT = 1000  # per worker: past it the webhook answers 503 and Meta delivers again later
LEASE = timedelta(minutes=2)
RETRY_DELAY = timedelta(seconds=30)
MAX_ATTEMPTS = 5
SWEEP_SECONDS = 30.0
SWEEP_BATCH = 500
LOGGED_REFUSALS = 20  # refusals logged one by one; after that every 100th

Handle = Callable[[InboundMessage], Awaitable[None]]
OnFailed = Callable[[StatusUpdate], Awaitable[None]]


def signature(app_secret: str, body: bytes) -> str:
    """What Meta puts in X-Hub-Signature-256 for `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _shown(value: object, limit: int = 64) -> str:
    return ascii(str(value))[1:-1][:limit]


async def _nothing_failed(status: StatusUpdate) -> None:
    log.warning("whatsapp: message %s failed (%s); no handler for failed statuses", _shown(status.message_id),
                ", ".join(f"{e.code}" for e in status.errors) or "no code")


class WhatsAppWebhook:
    def __init__(
        self, inbox: WhatsAppInbox, *, app_secret: str, verify_token: str, handle: Handle,
        on_failed: OnFailed | None = None, phone_number_id: str | None = None, clock: Clock = utcnow,
        workers: int = WORKERS, queue_limit: int = QUEUE_LIMIT, lease: timedelta = LEASE,
        retry_delay: timedelta = RETRY_DELAY, max_attempts: int = MAX_ATTEMPTS,
        sweep_seconds: float | None = SWEEP_SECONDS,
    ) -> None:
        if not app_secret or not verify_token:
            raise ValueError("WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN are required for the webhook")
        self._inbox = inbox
        self._secret = app_secret
        self._verify = verify_token
        self._handle = handle
        self._on_failed = on_failed or _nothing_failed
        self._phone = phone_number_id
        self._clock = clock
        self._queues: list[asyncio.Queue[str]] = [asyncio.Queue() for _ in range(max(1, workers))]
        self._queue_limit = queue_limit
        self._lease = lease
        self._retry_delay = retry_delay
        self._max_attempts = max_attempts
        self._sweep_seconds = sweep_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self.refusals: dict[str, int] = {}
        self.counts: dict[str, int] = {"received": 0, "duplicates": 0, "statuses": 0, "handled": 0, "gave_up": 0}

    # -- wiring

    def add_routes(self, app: web.Application) -> None:
        """The routes, and the workers started and stopped with the app (for `create_app(extra_routes=...)`)."""
        app.router.add_get(PATH, self.verify)
        app.router.add_post(PATH, self.receive)

        async def start(_: web.Application) -> None:
            await self.start()

        async def stop(_: web.Application) -> None:
            await self.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)

    async def start(self) -> None:
        """Start the workers and replay what a previous run left unhandled."""
        for index, queue in enumerate(self._queues):
            self._tasks.append(asyncio.get_running_loop().create_task(self._work(queue), name=f"whatsapp {index}"))
        try:
            replayed = await self.sweep()
        except PyMongoError as exc:
            log.warning("whatsapp: could not look for unhandled updates at start (%s); the sweep will",
                        type(exc).__name__)
        else:
            if replayed:
                log.info("whatsapp: replaying %d update(s) left unhandled", replayed)
        if self._sweep_seconds:
            self._tasks.append(asyncio.get_running_loop().create_task(self._sweeping(), name="whatsapp sweep"))

    async def stop(self) -> None:
        """Stop at once: what is being handled stays pending and is replayed when its lease runs out."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def drain(self) -> None:
        """Wait until every queued update has been handled (tests, shutdown)."""
        for queue in self._queues:
            await queue.join()

    # -- GET: the handshake

    async def verify(self, request: web.Request) -> web.Response:
        mode = request.query.get("hub.mode", "")
        token = request.query.get("hub.verify_token", "")
        challenge = request.query.get("hub.challenge", "")
        if mode != "subscribe" or not hmac.compare_digest(token.encode(), self._verify.encode()):
            self._refuse("handshake", request)
            return web.Response(status=403, text="forbidden")
        if not CHALLENGE.match(challenge):
            self._refuse("handshake", request)
            return web.Response(status=400, text="bad challenge")
        return web.Response(status=200, text=challenge, content_type="text/plain")

    # -- POST: updates

    async def receive(self, request: web.Request) -> web.Response:
        raw = await _read_body(request, MAX_BODY_BYTES)
        if raw is None:
            self._refuse("too large", request)
            return web.Response(status=413, text="too large")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given.encode("utf-8", "replace"),
                                                signature(self._secret, raw).encode()):
            self._refuse("signature", request)
            return web.Response(status=401, text="bad signature")
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            self._refuse("malformed", request)
            return web.Response(status=400, text="not JSON")
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            self._refuse("malformed", request)
            return web.Response(status=400, text="not a WhatsApp update")
        if any(queue.qsize() >= self._queue_limit for queue in self._queues):
            log.warning("whatsapp webhook: queues full; asking Meta to deliver again later")
            return web.Response(status=503, text="busy")
        try:
            await self._take(payload)
        except PyMongoError as exc:
            log.error("whatsapp webhook: database unavailable (%s); Meta will deliver again", type(exc).__name__)
            return web.Response(status=503, text="unavailable")
        return web.Response(status=200, text="ok")

    async def _take(self, payload: dict[str, object]) -> None:
        now = self._clock()
        for value in values(payload, self._phone):
            for message in raw_messages(value):
                parsed = parse_message(message)
                if parsed is None:
                    self._refuse("unusable message", None)
                    continue
                await self._keep(parsed.id, "message", parsed.wa_id, message)
            for status in statuses(value):
                self.counts["statuses"] += 1
                await self._inbox.record_status(
                    status.message_id, status.status, at=status.timestamp, recipient=status.recipient, now=now,
                    errors=[{"code": e.code, "title": e.title} for e in status.errors])
                if status.status == "failed":
                    raw_status: dict[str, object] = {
                        "id": status.message_id, "status": "failed", "recipient_id": status.recipient,
                        "timestamp": str(int(status.timestamp.timestamp())),
                        "errors": [{"code": e.code, "title": e.title} for e in status.errors]}
                    await self._keep(f"failed:{status.message_id}", "failed", status.recipient or "", raw_status)

    async def _keep(self, entry_id: str, kind: InboxKind, wa_id: str, raw: dict[str, object]) -> None:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
        if len(text) > RAW_MAX:
            self._refuse("unusable message", None)
            return
        if await self._inbox.receive(entry_id, kind, wa_id, text, now=self._clock()):
            self.counts["received"] += 1
            self._queue_for(wa_id).put_nowait(entry_id)
        else:
            self.counts["duplicates"] += 1

    def _queue_for(self, wa_id: str) -> asyncio.Queue[str]:
        return self._queues[zlib.crc32(wa_id.encode()) % len(self._queues)]

    def _refuse(self, reason: str, request: web.Request | None) -> None:
        count = self.refusals.get(reason, 0) + 1
        self.refusals[reason] = count
        if count <= LOGGED_REFUSALS or count % 100 == 0:
            remote = _shown(request.remote) if request is not None else "-"
            log.warning("whatsapp webhook: refused (%s) from %s; %d so far", reason, remote, count)

    # -- handling

    async def sweep(self) -> int:
        """Queue the pending updates nobody holds: left by a crash, a failed handler, a full queue."""
        now = self._clock()
        queued = 0
        for entry_id, wa_id in await self._inbox.unhandled(now=now, limit=SWEEP_BATCH):
            self._queue_for(wa_id).put_nowait(entry_id)
            queued += 1
        return queued

    async def _sweeping(self) -> None:
        assert self._sweep_seconds
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                await self.sweep()
            except PyMongoError as exc:
                log.warning("whatsapp: sweep failed (%s); trying again later", type(exc).__name__)

    async def _work(self, queue: asyncio.Queue[str]) -> None:
        while True:
            entry_id = await queue.get()
            try:
                await self.process(entry_id)
            except PyMongoError as exc:
                log.warning("whatsapp: database unavailable while handling an update (%s); the sweep retries",
                            type(exc).__name__)
            except Exception:  # noqa: BLE001 - a worker must outlive any one update
                log.exception("whatsapp: unexpected error while handling an update")
            finally:
                queue.task_done()

    async def process(self, entry_id: str) -> bool:
        """Handle one stored update, if nobody else holds it. True if it is done (handled or given up)."""
        now = self._clock()
        entry = await self._inbox.claim(entry_id, now=now, lease=self._lease)
        if entry is None:
            return False
        try:
            raw = json.loads(entry.raw)
            if entry.kind == "failed":
                status = parse_status(raw)
                if status is not None:
                    await self._on_failed(status)
            else:
                message = parse_message(raw)
                if message is not None:
                    await self._handle(message)
        except Exception as exc:  # noqa: BLE001 - the door's failure: retried, then given up on
            if entry.attempts >= self._max_attempts:
                self.counts["gave_up"] += 1
                log.error("whatsapp: gave up on update %s after %d attempts (%s)", _shown(entry_id),
                          entry.attempts, type(exc).__name__, exc_info=exc)
                await self._inbox.give_up(entry_id, now=self._clock(), reason=type(exc).__name__)
                return True
            log.warning("whatsapp: handling update %s failed (%s); retrying later", _shown(entry_id),
                        type(exc).__name__, exc_info=exc)
            await self._inbox.release(entry_id, retry_at=self._clock() + self._retry_delay * entry.attempts)
            return False
        await self._inbox.handled(entry_id, now=self._clock())
        self.counts["handled"] += 1
        return True


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None if it is over `limit` bytes (told without reading more than `limit` + 1)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    raw = await read_at_most(request, limit)
    return raw if len(raw) <= limit else None


def webhook_from_settings(settings: object, inbox: WhatsAppInbox, *, handle: Handle,
                          on_failed: OnFailed | None = None, **options: Any) -> WhatsAppWebhook:
    """The webhook for `settings` (bot/config.py); ValueError if its secrets are not configured."""
    secret = getattr(settings, "whatsapp_app_secret", None)
    verify = getattr(settings, "whatsapp_verify_token", None)
    if secret is None or verify is None:
        raise ValueError("WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN are required for the WhatsApp webhook")
    return WhatsAppWebhook(inbox, app_secret=secret.get_secret_value(), verify_token=verify.get_secret_value(),
                           handle=handle, on_failed=on_failed,
                           phone_number_id=getattr(settings, "whatsapp_phone_number_id", None),
                           **options)
