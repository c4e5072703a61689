"""The Bot API methods the bot calls (sendMessage, editMessageText, getUpdates...), with Telegram's rules."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession

from bot.sandbox.telegram.errors import HtmlParseError, TelegramApiError, _bad, _forbidden
from bot.sandbox.telegram.html import _check_entities, _trim, parse_html
from bot.sandbox.telegram.records import ApiCall, ChatEvent, FakeUser, MessageRecord, StoredFile, UploadedFile, _Webhook
from bot.sandbox.telegram.reply_keyboards import (
    check_keyboard_removal,
    check_reply_keyboard,
    is_keyboard_removal,
    is_reply_keyboard,
)
from bot.sandbox.telegram.rules import (
    _COMMAND_RE,
    _LOCAL_SUFFIXES,
    _SECRET_RE,
    BUTTON_ACTIONS,
    CHAT_ACTIONS,
    DEFAULT_ALLOWED_UPDATES,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_COMMANDS,
    MAX_DOWNLOAD_BYTES,
    MAX_INLINE_BUTTONS,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    QUERY_INVALID,
    _check_url_host,
    _normalize_params,
    _Params,
    _parse_int,
)
from bot.sandbox.telegram.state import SimulatorState

_Handler = Callable[[_Params], Awaitable[Any]]


class BotApi(SimulatorState):
    """The Bot API methods, run in-process by `call` (the HTTP server calls it too)."""

    @functools.cached_property
    def _methods(self) -> dict[str, tuple[str, _Handler]]:
        """Bot API method names, lower-cased (Telegram matches them case-insensitively) → (name, handler)."""
        return {
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
        if is_reply_keyboard(markup):
            check_reply_keyboard(markup)  # the rules, quoted: reply_keyboards.py
            return markup
        if is_keyboard_removal(markup):
            check_keyboard_removal(markup)
            return markup
        if markup.get("force_reply") is True:
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
        self._take_reply_keyboard(record)
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
        self._take_reply_keyboard(record)
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
        self._take_reply_keyboard(record)
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
