"""The fake Telegram world's state and how tests read it: chats, files, updates, waits, subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable, Collection
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

from bot.sandbox.telegram.errors import SandboxError, _bad
from bot.sandbox.telegram.records import (
    ApiCall,
    CallbackQueryRecord,
    ChatEvent,
    FakeUser,
    MessageRecord,
    Predicate,
    StoredFile,
    _Flood,
    _Webhook,
)
from bot.sandbox.telegram.reply_keyboards import ShownKeyboard, is_keyboard_removal, is_reply_keyboard
from bot.sandbox.telegram.rules import _TOKEN_RE, DEFAULT_ALLOWED_UPDATES, DEFAULT_TOKEN, _inspect_image, _parse_int


class SimulatorState:
    """The state `TelegramSimulator` is made of, and what tests read of it; the mixins add the Bot API and users."""

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
        self._reply_keyboards: dict[int, ShownKeyboard] = {}  # chat → the reply keyboard it shows (if any)
        self._floods: list[_Flood] = []
        self._calls: deque[ApiCall] = deque(maxlen=10_000)
        self._subscribers: list[asyncio.Queue[ChatEvent]] = []
        self._revision = 0
        self._closing = False
        # One condition guards every wait: long polls, webhook delivery, wait_for_message, sandbox long polls.
        # State changes happen between awaits (so they are atomic on the loop); each ends with notify_all.
        self._changed = asyncio.Condition()

    # ----------------------------------------------------------------------------------- the bot's identity

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    def user(self, user_id: int) -> FakeUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise SandboxError(f"no user {user_id}; add_user() first", status=404) from None

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

    def reply_keyboard(self, chat_id: int) -> ShownKeyboard | None:
        """The reply keyboard the chat shows now (hidden or not), or None: the latest one a bot message brought,
        until a ReplyKeyboardRemove (reply_keyboards.py)."""
        return self._reply_keyboards.get(chat_id)

    def _take_reply_keyboard(self, record: MessageRecord) -> None:
        """A bot message's ReplyKeyboardMarkup becomes the chat's keyboard; its ReplyKeyboardRemove takes it away;
        an inline keyboard (or none) leaves it as it is."""
        markup = record.reply_markup or {}
        if is_reply_keyboard(markup):
            self._reply_keyboards[record.chat_id] = ShownKeyboard(record.message_id, markup)
        elif is_keyboard_removal(markup):
            self._reply_keyboards.pop(record.chat_id, None)

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
