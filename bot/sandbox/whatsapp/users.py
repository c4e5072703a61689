"""Acting as WhatsApp users: for tests (Python methods) and the sandbox web chat (``/sandbox/...`` JSON routes).

A user's message opens/refreshes their 24-hour window and reaches the bot as a signed ``messages`` webhook shaped
like Meta's (``contacts[{profile{name}, wa_id}]``, ``messages[{from, id, timestamp, type, ...}]``). Button presses
and list choices carry ``context{from, id}`` naming the bot message they answer. Reading bot messages sends
``read`` statuses.

The ``/sandbox/...`` routes have no authentication: never expose them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.whatsapp import rules
from bot.sandbox.whatsapp.records import (
    Delivery,
    Media,
    SandboxError,
    Status,
    WaMessage,
    WaUser,
    WebhookVerificationError,
)

if TYPE_CHECKING:
    from bot.sandbox.whatsapp.simulator import WhatsAppSimulator

Predicate = Callable[[WaMessage], bool]


class UserActions:
    """Mixed into `WhatsAppSimulator`: what a person with a phone can do, and what a test can look at."""

    if TYPE_CHECKING:
        users: dict[str, WaUser]
        _chats: dict[str, list[WaMessage]]
        _messages: dict[str, WaMessage]
        _seq: Iterator[int]
        display_phone_number: str

        def now(self) -> datetime: ...
        def _enqueue(self, value: dict[str, Any]) -> Delivery: ...
        async def _notify(self) -> None: ...
        async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None: ...
        def store_media(self, data: bytes, mime_type: str, *, uploaded: bool) -> Media: ...
        def _new_wamid(self, wa_id: str) -> str: ...
        def _set_status(self, message: WaMessage, status: Status, error: Any = None) -> None: ...
        def _count_traffic(self, now: datetime) -> int: ...
        def _bsuid(self, wa_id: str) -> str: ...
        _traffic: Any

    # ----------------------------------------------------------------------------------- people

    def add_user(self, number: str, name: str, *, window_open: bool = False) -> WaUser:
        """Create (or replace) a user by E.164 number ("+6281234567890"). ``window_open``: wrote to us just now."""
        wa_id = rules.wa_id_of(number)
        user = WaUser(wa_id, name, bsuid=self._bsuid(wa_id), last_user_message_at=self.now() if window_open else None)
        self.users[wa_id] = user
        self._chats.setdefault(wa_id, [])
        return user

    def user(self, number: str) -> WaUser:
        try:
            return self.users[rules.wa_id_of(number)]
        except (KeyError, rules.GraphApiError):
            raise SandboxError(f"no WhatsApp user {number}; add_user() first", status=404) from None

    def block(self, number: str) -> None:
        """The user blocks the business: messages to them fail with 131026 (Meta does not say "blocked")."""
        self.user(number).blocked_business = True

    def unblock(self, number: str) -> None:
        self.user(number).blocked_business = False

    def set_undeliverable(self, number: str, value: bool = True) -> None:
        self.user(number).undeliverable = value

    def age_window(self, number: str, **delta: float) -> None:
        """Pretend the user's last message was ``delta`` earlier (e.g. ``hours=25`` closes the window)."""
        user = self.user(number)
        if user.last_user_message_at is not None:
            user.last_user_message_at -= timedelta(**delta)

    # ----------------------------------------------------------------------------------- acting

    async def _from_user(self, number: str, kind: str, body: dict[str, Any], content: dict[str, Any],
                         *, context: WaMessage | None = None) -> WaMessage:
        user = self.user(number)
        if user.blocked_business:
            raise SandboxError(f"{number} blocked the business; unblock() first")
        now = self.now()
        message = WaMessage(
            id=self._new_wamid(user.wa_id), seq=next(self._seq), wa_id=user.wa_id, direction="in", type=kind,
            content=content, timestamp=now, status="delivered", context_id=context.id if context else None,
        )
        self._messages[message.id] = message
        self._chats.setdefault(user.wa_id, []).append(message)
        user.last_user_message_at = now
        self._count_traffic(now)
        self._traffic.append(now)  # throughput counts inbound messages too
        wire: dict[str, Any] = {"from": user.wa_id, "id": message.id, "timestamp": str(int(now.timestamp()))}
        if context is not None:
            wire["context"] = {"from": self.display_phone_number, "id": context.id}
        wire["type"] = "interactive" if kind in ("button_reply", "list_reply") else kind
        wire.update(body)
        contact = {"profile": {"name": user.name}, "wa_id": user.wa_id, "user_id": user.bsuid}
        self._enqueue({"contacts": [contact], "messages": [wire]})
        await self._notify()
        return message

    async def send_text(self, number: str, text: str) -> WaMessage:
        if not text:
            raise SandboxError("a WhatsApp message cannot be empty")
        return await self._from_user(number, "text", {"text": {"body": text}}, {"body": text})

    async def send_image(self, number: str, data: bytes, *, mime_type: str = "image/jpeg",
                         caption: str | None = None) -> WaMessage:
        """The user sends a photo: the bot gets an ``image`` message with the media id, mime_type and sha256."""
        if mime_type not in ("image/jpeg", "image/png"):
            raise SandboxError("WhatsApp users send photos as image/jpeg or image/png")
        media = self.store_media(data, mime_type, uploaded=False)
        image: dict[str, Any] = {"mime_type": mime_type, "sha256": media.sha256_b64, "id": media.id}
        if caption:
            image["caption"] = caption
        return await self._from_user(number, "image", {"image": image}, dict(image))

    def _answerable(self, number: str, message_id: str, kind: str) -> WaMessage:
        user = self.user(number)
        message = self._messages.get(message_id)
        if message is None or message.wa_id != user.wa_id or not message.from_bot or not message.visible:
            raise SandboxError(f"{number} has no bot message {message_id}", status=404)
        if message.interactive_type != kind:
            raise SandboxError(f"message {message_id} is not an interactive {kind} message")
        return message

    async def press_button(self, number: str, message_id: str, button_id: str) -> WaMessage:
        """Tap a reply button. WhatsApp lets a person tap again; the bot must cope with repeats."""
        message = self._answerable(number, message_id, "button")
        button = next((b for b in message.buttons() if b["id"] == button_id), None)
        if button is None:
            raise SandboxError(f"message {message_id} has no button {button_id!r}: {message.buttons()}")
        message.answered = True
        reply = {"id": button["id"], "title": button["title"]}
        return await self._from_user(number, "button_reply",
                                     {"interactive": {"type": "button_reply", "button_reply": reply}},
                                     dict(reply), context=message)

    async def press_template_button(self, number: str, message_id: str, index: int = 0) -> WaMessage:
        """Tap a template's quick-reply button. Messages webhook reference, button messages
        (…/webhooks/reference/messages/button): the tap arrives as ``"type": "button"`` with ``button{payload,
        text}`` and the template message in ``context``; it opens the customer service window like any message."""
        user = self.user(number)
        message = self._messages.get(message_id)
        if message is None or message.wa_id != user.wa_id or not message.from_bot or not message.visible:
            raise SandboxError(f"{number} has no bot message {message_id}", status=404)
        button = next((b for b in message.template_buttons() if b["index"] == str(index)), None)
        if button is None:
            raise SandboxError(f"message {message_id} has no template button {index}")
        message.answered = True
        reply = {"payload": button["payload"], "text": button["text"]}
        return await self._from_user(number, "button", {"button": reply}, dict(reply), context=message)

    async def choose_row(self, number: str, message_id: str, row_id: str) -> WaMessage:
        """Open a list message's sheet and pick a row."""
        message = self._answerable(number, message_id, "list")
        row = next((r for r in message.rows() if r["id"] == row_id), None)
        if row is None:
            raise SandboxError(f"message {message_id} has no row {row_id!r}: {[r['id'] for r in message.rows()]}")
        message.answered = True
        reply = {"id": row["id"], "title": row["title"]}
        if row.get("description"):
            reply["description"] = row["description"]
        return await self._from_user(number, "list_reply",
                                     {"interactive": {"type": "list_reply", "list_reply": reply}},
                                     dict(reply), context=message)

    async def read(self, number: str) -> list[WaMessage]:
        """The user opens the chat: every delivered bot message becomes ``read`` (and the bot hears so)."""
        user = self.user(number)
        read = [m for m in self._chats.get(user.wa_id, []) if m.from_bot and m.status == "delivered"]
        for message in read:
            self._set_status(message, "read")
        await self._notify()
        return read

    # ----------------------------------------------------------------------------------- looking

    def chat(self, number: str) -> list[WaMessage]:
        """Everything in the chat as the phone shows it (failed bot messages never arrive)."""
        return [m for m in self._chats.get(self.user(number).wa_id, []) if m.visible]

    def messages_for(self, number: str) -> list[WaMessage]:
        """The bot's messages that reached this user, oldest first."""
        return [m for m in self.chat(number) if m.from_bot]

    def all_messages_to(self, number: str) -> list[WaMessage]:
        """Every message the bot tried to send this user, failed ones included."""
        return [m for m in self._chats.get(rules.wa_id_of(number), []) if m.from_bot]

    def message(self, message_id: str) -> WaMessage:
        try:
            return self._messages[message_id]
        except KeyError:
            raise SandboxError(f"no message {message_id}", status=404) from None

    async def wait_for_message(self, number: str, predicate: Predicate | None = None, *, timeout: float = 5.0,
                               after: int | None = None) -> WaMessage:
        """The first bot message that reached ``number`` after ``after`` (a ``seq``; default: the user's last
        message) and matches ``predicate``."""
        wa_id = self.user(number).wa_id
        if after is None:
            own = [m.seq for m in self._chats.get(wa_id, []) if not m.from_bot]
            after = own[-1] if own else 0
        found: list[WaMessage] = []

        def check() -> bool:
            for m in self._chats.get(wa_id, []):
                if m.from_bot and m.visible and m.seq > after and (predicate is None or predicate(m)):
                    found.append(m)
                    return True
            return False

        try:
            await self.wait_until(check, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"no bot message to {number} after #{after} within {timeout}s\n"
                               f"{self.transcript(number)}") from None
        return found[0]

    def transcript(self, number: str, *, last: int = 12) -> str:
        lines = []
        for m in self._chats.get(rules.wa_id_of(number), [])[-last:]:
            who = "bot" if m.from_bot else "user"
            extra = f" [{m.status}{' ' + str(m.error['code']) if m.error else ''}]" if m.from_bot else ""
            lines.append(f"#{m.seq} {who} {m.type}{extra}: {m.text!r}")
        return "\n".join(lines) or "(empty chat)"


# --------------------------------------------------------------------------------------------------- sandbox HTTP

SIMULATOR_KEY: web.AppKey[WhatsAppSimulator] = web.AppKey("whatsapp_simulator")


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise SandboxError("expected a JSON object body") from None
    if not isinstance(body, dict):
        raise SandboxError("expected a JSON object body")
    return body


def _str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise SandboxError(f"{name} must be a non-empty string")
    return value


async def _sandbox(request: web.Request, action: Callable[[WhatsAppSimulator], Awaitable[Any]]) -> web.Response:
    try:
        return web.json_response(await action(request.app[SIMULATOR_KEY]))
    except SandboxError as exc:
        return web.json_response({"error": str(exc)}, status=exc.status)


async def _list_users(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        return {"users": [u.to_dict(sim.now()) for u in sim.users.values()]}
    return await _sandbox(request, act)


async def _add_user(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        body = await _json(request)
        try:
            user = sim.add_user(_str(body, "number"), _str(body, "name"))
        except rules.GraphApiError as exc:
            raise SandboxError(exc.text) from None
        return user.to_dict(sim.now())
    return await _sandbox(request, act)


async def _send_text(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        body = await _json(request)
        return (await sim.send_text(request.match_info["number"], _str(body, "text"))).to_dict()
    return await _sandbox(request, act)


async def _send_image(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        body = await _json(request)
        try:
            data = base64.b64decode(_str(body, "data_base64"), validate=True)
        except (binascii.Error, ValueError):
            raise SandboxError("data_base64 must be base64") from None
        message = await sim.send_image(request.match_info["number"], data,
                                       mime_type=body.get("mime_type") or "image/jpeg", caption=body.get("caption"))
        return message.to_dict()
    return await _sandbox(request, act)


async def _press(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        body = await _json(request)
        number, message_id = request.match_info["number"], _str(body, "message_id")
        if "button_id" in body:
            return (await sim.press_button(number, message_id, _str(body, "button_id"))).to_dict()
        return (await sim.choose_row(number, message_id, _str(body, "row_id"))).to_dict()
    return await _sandbox(request, act)


async def _read(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        return {"read": [m.id for m in await sim.read(request.match_info["number"])]}
    return await _sandbox(request, act)


async def _block(request: web.Request) -> web.Response:
    async def act(sim: WhatsAppSimulator) -> Any:
        number = request.match_info["number"]
        (sim.block if request.match_info["action"] == "block" else sim.unblock)(number)
        return sim.user(number).to_dict(sim.now())
    return await _sandbox(request, act)


async def _messages(request: web.Request) -> web.Response:
    """The chat after ``?after=<seq>``; with ``?wait=<seconds>`` (≤ 30) a long poll until something newer."""
    async def act(sim: WhatsAppSimulator) -> Any:
        try:
            after = int(request.query.get("after", "0"))
            wait = min(float(request.query.get("wait", "0")), 30.0)
        except ValueError:
            raise SandboxError("after must be an integer and wait a number of seconds") from None
        number = request.match_info["number"]

        def newer() -> list[WaMessage]:
            return [m for m in sim.chat(number) if m.seq > after]

        if wait > 0 and not newer():
            with contextlib.suppress(TimeoutError):
                await sim.wait_until(lambda: bool(newer()), timeout=wait)
        return {"messages": [m.to_dict() for m in newer()]}
    return await _sandbox(request, act)


async def _webhook(request: web.Request) -> web.Response:
    """Point the simulator at the bot: Meta's verification GET first, as when an operator saves the URL."""
    async def act(sim: WhatsAppSimulator) -> Any:
        body = await _json(request)
        try:
            await sim.configure_webhook(_str(body, "url"), _str(body, "verify_token"))
        except WebhookVerificationError as exc:
            raise SandboxError(str(exc), status=502) from None
        return {"url": sim.webhook_url}
    return await _sandbox(request, act)


async def _webhook_status(request: web.Request) -> web.Response:
    """Where webhooks go (null until a handshake succeeded): the web chat says when no bot listens."""
    return web.json_response({"url": request.app[SIMULATOR_KEY].webhook_url})


async def _media(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR_KEY]
    try:
        media = sim.media(request.match_info["media_id"])
    except rules.GraphApiError:
        return web.json_response({"error": "no such media"}, status=404)
    return web.Response(body=media.data, content_type=media.mime_type)


def add_sandbox_routes(app: web.Application) -> None:
    app.router.add_get("/sandbox/users", _list_users)
    app.router.add_post("/sandbox/users", _add_user)
    app.router.add_post("/sandbox/users/{number}/messages", _send_text)
    app.router.add_post("/sandbox/users/{number}/images", _send_image)
    app.router.add_post("/sandbox/users/{number}/replies", _press)
    app.router.add_post("/sandbox/users/{number}/read", _read)
    app.router.add_post("/sandbox/users/{number}/{action:block|unblock}", _block)
    app.router.add_get("/sandbox/users/{number}/messages", _messages)
    app.router.add_get("/sandbox/media/{media_id}", _media)
    app.router.add_post("/sandbox/webhook", _webhook)
    app.router.add_get("/sandbox/webhook", _webhook_status)

