"""The fake Bot API over HTTP: `create_telegram_app` (api.telegram.org's paths plus the /sandbox JSON routes)
and `FakeTelegram`, the simulator on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

from aiohttp import ClientSession, ClientTimeout, MultipartReader, hdrs, web

from bot.sandbox.local_site import LocalServer
from bot.sandbox.telegram.errors import SandboxError, TelegramApiError, _bad
from bot.sandbox.telegram.records import MessageRecord, UploadedFile
from bot.sandbox.telegram.rules import _TOKEN_RE, DEFAULT_TOKEN, MAX_REQUEST_BYTES, _parse_int
from bot.sandbox.telegram.simulator import TelegramSimulator

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
            language_code=body.get("language_code", "en"), phone_number=body.get("phone_number") or None,
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


async def _sandbox_press_keyboard(request: web.Request) -> web.Response:
    """Press the chat's reply keyboard button labelled ``text`` (a request_contact one shares the number)."""

    async def act(sim: TelegramSimulator) -> Any:
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise SandboxError("text must be a string")
        record = await sim.press_keyboard_button(_int_arg(request.match_info["user_id"], "user_id"), text)
        return record.to_dict()

    return await _sandbox(request, act)


async def _sandbox_send_contact(request: web.Request) -> web.Response:
    """Attach a contact (anyone's): ``phone_number``, ``first_name``, optional ``last_name`` and ``user_id``."""

    async def act(sim: TelegramSimulator) -> Any:
        body = await _json_body(request)
        phone, first = body.get("phone_number"), body.get("first_name")
        if not isinstance(phone, str) or not isinstance(first, str):
            raise SandboxError("phone_number and first_name must be strings")
        contact_user = body.get("user_id")
        record = await sim.send_contact(
            _int_arg(request.match_info["user_id"], "user_id"), phone, first,
            last_name=body.get("last_name") if isinstance(body.get("last_name"), str) else None,
            contact_user_id=_int_arg(contact_user, "user_id") if contact_user is not None else None,
        )
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
    app.router.add_post("/sandbox/users/{user_id}/keyboard", _sandbox_press_keyboard)
    app.router.add_post("/sandbox/users/{user_id}/contacts", _sandbox_send_contact)
    app.router.add_post("/sandbox/users/{user_id}/{action:block|unblock}", _sandbox_block)
    app.router.add_get("/sandbox/chats/{chat_id}/messages", _sandbox_messages)
    app.router.add_get("/sandbox/messages", _sandbox_messages)
    app.router.add_get("/sandbox/chats/{chat_id}/commands", _sandbox_commands)
    app.router.add_get("/sandbox/callbacks/{query_id}", _sandbox_callback)
    app.router.add_get("/sandbox/files/{file_id}", _sandbox_file)
    return app


class FakeTelegram(LocalServer, TelegramSimulator):
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
        self._serve_on(host, port)

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

    def _create_app(self) -> web.Application:
        return create_telegram_app(self.token, bot_username=self.bot_username, simulator=self)

    async def _release(self) -> None:
        await self._begin_shutdown()
