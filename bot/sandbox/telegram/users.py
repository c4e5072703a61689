"""The user-acting API: a fake user writes text, sends a photo, presses a button, blocks the bot.

Tests and the sandbox web chat call these; each becomes an update the bot receives.
"""

from __future__ import annotations

import hashlib
import secrets

from bot.sandbox.telegram.errors import SandboxError, TelegramApiError
from bot.sandbox.telegram.html import _bot_command_entities
from bot.sandbox.telegram.records import CallbackQueryRecord, FakeUser, MessageRecord
from bot.sandbox.telegram.rules import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH
from bot.sandbox.telegram.state import SimulatorState


class UserActions(SimulatorState):
    """What a fake user does in their private chat with the bot."""

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
