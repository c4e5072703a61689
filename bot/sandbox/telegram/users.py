"""The user-acting API: a fake user writes text, sends a photo, presses a button, blocks the bot.

Tests and the sandbox web chat call these; each becomes an update the bot receives.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from bot.sandbox.telegram.errors import SandboxError, TelegramApiError
from bot.sandbox.telegram.html import _bot_command_entities
from bot.sandbox.telegram.records import CallbackQueryRecord, FakeUser, MessageRecord
from bot.sandbox.telegram.reply_keyboards import BUTTON_KINDS, button_text
from bot.sandbox.telegram.rules import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH
from bot.sandbox.telegram.state import SimulatorState


def default_phone(user_id: int) -> str:
    """A fake user's own number when the test names none: a valid Indonesian mobile number (+62 812…)."""
    return f"+62812{user_id % 10**8:08d}"


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
        phone_number: str | None = None,
    ) -> FakeUser:
        """Create (or replace) a user. ``started`` = has already written to the bot, so the bot may message them.
        ``phone_number``: their account's number (every Telegram account has one), shared by a request_contact
        button; by default an Indonesian mobile number made from the id (``+62812`` and its last 8 digits)."""
        user = FakeUser(user_id, first_name, last_name, username, language_code, started=started,
                        phone_number=phone_number or default_phone(user_id))
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

    async def press_keyboard_button(self, user_id: int, text: str) -> MessageRecord:
        """The user presses the reply keyboard's button labelled ``text`` (the chat's keyboard, hidden or not: a
        one-time keyboard is "still available"). A text button sends its text; a request_contact button shares the
        user's own contact, in reply to the message that brought the keyboard. Returns the user's message."""
        user = self._acting_user(user_id)
        shown = self._reply_keyboards.get(user.id)
        button = shown.button(text) if shown is not None else None
        if shown is None or button is None:
            labels = [button_text(b) for b in shown.buttons()] if shown is not None else []
            raise SandboxError(f"chat {user.id} shows no reply keyboard button {text!r}; it has {labels}")
        if shown.markup.get("one_time_keyboard") is True:
            shown.hidden = True  # "hide the keyboard as soon as it's been used"
        if isinstance(button, dict) and button.get("request_contact") is True:
            return await self.share_contact(user.id)
        if isinstance(button, dict) and any(kind in button for kind in BUTTON_KINDS):
            raise SandboxError(f"the sandbox cannot press a {next(k for k in BUTTON_KINDS if k in button)} button")
        return await self.send_text(user.id, text)

    async def share_contact(self, user_id: int) -> MessageRecord:
        """The user shares their own phone number through the chat's request_contact button ("Available in
        private chats only", and only where a bot's reply keyboard offers one): a Contact with their
        ``user_id``, replying to the keyboard's message. The number comes without its ``+``, a form Telegram
        clients are seen to send (the docs say only String), which a bot must read as international."""
        user = self._acting_user(user_id)
        shown = self._reply_keyboards.get(user.id)
        if shown is None or shown.contact_button() is None:
            raise SandboxError(f"chat {user.id} shows no request_contact button to press")
        if user.chat().get("type") != "private":
            raise SandboxError("request_contact is available in private chats only")
        if not user.phone_number:
            raise SandboxError(f"user {user.id} has no phone number to share")
        contact: dict[str, Any] = {"phone_number": user.phone_number.lstrip("+"), "first_name": user.first_name,
                                   "user_id": user.id}
        if user.last_name:
            contact["last_name"] = user.last_name
        reply_to = shown.message_id if self._find_message(user.id, shown.message_id) is not None else None
        return await self._send_contact_message(user, contact, reply_to)

    async def send_contact(self, user_id: int, phone_number: str, first_name: str, *,
                           last_name: str | None = None, contact_user_id: int | None = None) -> MessageRecord:
        """The user attaches a contact from their address book, or forwards one: anyone's, with a Telegram
        ``user_id`` only when ``contact_user_id`` says so (Contact.user_id is optional)."""
        user = self._acting_user(user_id)
        if not phone_number or not first_name:
            raise SandboxError("a contact needs a phone_number and a first_name")
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return await self._send_contact_message(user, contact, None)

    async def _send_contact_message(self, user: FakeUser, contact: dict[str, Any],
                                    reply_to: int | None) -> MessageRecord:
        user.started = True
        record = self._new_message(user.id, from_bot=False, sender=user.to_api(), contact=contact,
                                   reply_to_message_id=reply_to)
        await self._publish("message", record)
        await self._enqueue_update("message", self._message_json(record))
        return record

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
