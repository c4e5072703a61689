"""One inbound WhatsApp message as the door's handlers see it: who wrote (account, number, language), what they
sent, and how to answer them (the client, bound to their number).

The chat's memory is the account's purchase in progress (`services.checkout`), its language choice and display
name (`services.profiles`: the WhatsApp profile name Meta sends in `contacts[].profile.name`, kept when it
changes, so "checked in by" names door staff); nothing here touches the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.accounts import AccountId, InvalidAddress, whatsapp_address
from bot.links import WHATSAPP
from bot.services import Services
from handlers.whatsapp.client import ListRow, ListSection, ReplyButton, Sent, WhatsAppClient
from handlers.whatsapp.texts import language_for
from handlers.whatsapp.updates import InboundMessage

LIST_ROWS = 10  # "a maximum of 10 rows across all sections" (client.py checks it before sending)


@dataclass
class Chat:
    services: Services
    client: WhatsAppClient
    message: InboundMessage
    number: str        # E.164, with the +
    account: AccountId
    lang: str
    address: str       # the account address the sender was resolved by (`whatsapp:<E.164>`), kept on orders
    name: str | None = None  # the display name kept for the account (their WhatsApp profile name, cleaned)

    @classmethod
    async def open(cls, services: Services, client: WhatsAppClient, message: InboundMessage) -> Chat:
        number = "+" + message.wa_id.lstrip("+")
        try:
            address = whatsapp_address(number)
        except InvalidAddress:  # Meta's wa_id decides who wrote; a number phonenumbers does not know stays as is
            address = f"{WHATSAPP}:{number}"
        account = services.accounts.resolve(address)
        profile = await services.profiles.profile(account)  # the one read a message costs here
        name = await services.profiles.note_name(account, message.profile_name, known=profile.name)  # on change
        return cls(services, client, message, number, account, language_for(number, profile.language), address,
                   name)

    # ---- answering ------------------------------------------------------------------------------------------

    async def text(self, body: str) -> Sent:
        return await self.client.send_text(self.number, body)

    async def buttons(self, body: str, buttons: Sequence[tuple[str, str]]) -> Sent:
        """Up to 3 reply buttons, (id, title) each."""
        return await self.client.send_buttons(self.number, body, [ReplyButton(id=i, title=t) for i, t in buttons])

    async def rows(self, body: str, button: str, rows: Sequence[tuple[str, str, str | None]]) -> Sent:
        """A list of up to 10 rows, (id, title, description) each, in one section."""
        section = ListSection(rows=[ListRow(id=i, title=t, description=d) for i, t, d in rows[:LIST_ROWS]])
        return await self.client.send_list(self.number, body, button, [section])

    # ---- memory ---------------------------------------------------------------------------------------------

    async def remember_language(self, lang: str) -> None:
        await self.services.profiles.remember(self.account, language=lang, name=self.name)
        self.lang = lang
