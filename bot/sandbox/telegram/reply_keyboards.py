"""Reply keyboards as the Bot API documents them (https://core.telegram.org/bots/api#replykeyboardmarkup,
#keyboardbutton, #replykeyboardremove), and the one a user's chat shows now, so a fake user can press its buttons:
a `request_contact` button shares the user's own phone number as a contact (#contact).

What the fake checks when the bot sends a message with a reply keyboard (each rule quotes the page):

* ReplyKeyboardMarkup ``keyboard``: "Array of button rows, each represented by an Array of KeyboardButton
  objects"; a KeyboardButton's ``text``: "Text of the button. If none of the fields other than text ... are used,
  it will be sent as a message when the button is pressed" (non-empty); of its kinds (``request_contact``,
  ``request_location``, ``request_poll``, ``request_users``, ``request_chat``, ``web_app``...): "At most one of
  the fields other than text, icon_custom_emoji_id, and style must be used to specify the type of the
  button". ``request_contact``: "If True, the user's phone number will be sent as a contact when the button is
  pressed. Available in private chats only."
* ``is_persistent``, ``resize_keyboard``, ``one_time_keyboard``, ``selective``: Booleans. ``one_time_keyboard``:
  "Requests clients to hide the keyboard as soon as it's been used. The keyboard will still be available, but
  clients will automatically display the usual letter-keyboard in the chat - the user can press a special button
  in the input field to see the custom keyboard again." ``input_field_placeholder``: "The placeholder to be shown
  in the input field when the keyboard is active; 1-64 characters".
* ReplyKeyboardRemove ``remove_keyboard``: True, "Requests clients to remove the custom keyboard (user will not be
  able to summon this keyboard ...)". "Upon receiving a message with this object, Telegram clients will remove the
  current custom keyboard and display the default letter-keyboard. By default, custom keyboards are displayed
  until a new keyboard is sent by a bot." So the chat's keyboard is the latest one a bot message brought, until a
  removal; a message with an inline keyboard (or none) leaves it as it is, and an edit cannot carry one (edits
  take only inline keyboards: "inline keyboard expected").
* A pressed ``request_contact`` button: "clients must request permission from the user to send the current
  user's contact to the chat, replying to the message that attached the replyKeyboardMarkup"
  (core.telegram.org/constructor/keyboardButtonRequestPhone): the contact message answers that message, and its
  Contact carries the user's ``user_id`` ("Contact's user identifier in Telegram"), which a contact the user
  merely attached (someone else's) need not.

Error texts Telegram is known to give are used as they are ("can't parse keyboard button: Text must be
non-empty", 'Field "..." must be of type ...'); for a rule whose refusal text we have not seen (two kinds on one
button, a placeholder over 64 characters) the wording is ours and says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.telegram.errors import _bad

BUTTON_KINDS = ("request_users", "request_chat", "request_managed_bot", "request_contact", "request_location",
                "request_poll", "web_app")
BOOLEAN_FIELDS = ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective")
PLACEHOLDER_MAX = 64


def is_reply_keyboard(markup: dict[str, Any]) -> bool:
    return "keyboard" in markup


def is_keyboard_removal(markup: dict[str, Any]) -> bool:
    return "remove_keyboard" in markup


def check_reply_keyboard(markup: dict[str, Any]) -> None:
    """A ReplyKeyboardMarkup as the Bot API takes it (the module's list), else the refusal Telegram gives."""
    rows = markup["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
    for row in rows:
        for button in row:
            check_keyboard_button(button)
    for name in BOOLEAN_FIELDS:
        if name in markup and not isinstance(markup[name], bool):
            raise _bad(f'can\'t parse reply keyboard markup JSON object: Field "{name}" must be of type Boolean')
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and (not isinstance(placeholder, str) or not 1 <= len(placeholder) <= PLACEHOLDER_MAX):
        raise _bad(f"input_field_placeholder must be 1-{PLACEHOLDER_MAX} characters")


def check_keyboard_button(button: Any) -> None:
    text = button.get("text") if isinstance(button, dict) else button  # a bare string is a text button
    if not isinstance(text, str) or not text:
        raise _bad("can't parse keyboard button: Text must be non-empty")
    if not isinstance(button, dict):
        return
    kinds = [kind for kind in BUTTON_KINDS if kind in button]
    if len(kinds) > 1:
        raise _bad(f"can't parse keyboard button: at most one of {', '.join(kinds)} may be used")
    for kind in ("request_contact", "request_location"):
        if kind in button and not isinstance(button[kind], bool):
            raise _bad(f'can\'t parse keyboard button: Field "{kind}" must be of type Boolean')


def check_keyboard_removal(markup: dict[str, Any]) -> None:
    if markup.get("remove_keyboard") is not True:
        raise _bad("can't parse reply keyboard markup JSON object")  # ``remove_keyboard``: "True"
    if "selective" in markup and not isinstance(markup["selective"], bool):
        raise _bad('can\'t parse reply keyboard markup JSON object: Field "selective" must be of type Boolean')


def button_text(button: Any) -> str:
    return str(button.get("text") if isinstance(button, dict) else button)


@dataclass
class ShownKeyboard:
    """The reply keyboard a chat shows: the markup, the bot message that brought it (a shared contact replies to
    it), and whether a one-time keyboard was used (hidden, "still available")."""

    message_id: int
    markup: dict[str, Any]
    hidden: bool = False

    def buttons(self) -> list[Any]:
        return [button for row in self.markup["keyboard"] for button in row]

    def button(self, text: str) -> Any | None:
        return next((b for b in self.buttons() if button_text(b) == text), None)

    def contact_button(self) -> Any | None:
        return next((b for b in self.buttons() if isinstance(b, dict) and b.get("request_contact") is True), None)

    def to_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "hidden": self.hidden, **self.markup}
