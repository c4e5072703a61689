"""Who may do what, in one place: admins, the organisers of an event, its door staff (docs/channels.md).

Admins come from configuration (`ADMIN_IDS`, `ADMIN_WHATSAPP`), organisers from each event's `organisers` (account
ids, from the events file). A person is matched by every address their account has, so an organiser named in the
events file by a WhatsApp number and a Telegram id is recognised through either. Check-in, refunds, stats,
expire and the doors ask this service; none keeps its own list. Who may open a draft event (its organisers and
the admins) is decided here too (`may_see`, `event_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.accounts import AccountId, AccountService
from bot.catalog import Catalog, EventWithTiers, is_public
from storage.documents import EventDoc


class AccessService:
    def __init__(self, accounts: AccountService, catalog: Catalog, *,
                 admins: Iterable[Sequence[str]] = ()) -> None:
        self._accounts = accounts
        self._catalog = catalog
        self._admin_addresses = frozenset(a for group in admins for a in group)

    def _names(self, account: AccountId) -> frozenset[str]:
        """The account's id and all its addresses (what configuration may have named the person by)."""
        return frozenset(self._accounts.addresses(account))

    def is_admin(self, account: AccountId) -> bool:
        return not self._admin_addresses.isdisjoint(self._names(account))

    def admins(self) -> frozenset[AccountId]:
        """Every admin's account id (to notify them)."""
        return frozenset(self._accounts.resolve(a) for a in self._admin_addresses)

    def organises(self, account: AccountId, event: EventDoc) -> bool:
        return not self._names(account).isdisjoint(event.organisers)

    def door_staff(self, account: AccountId, event: EventDoc) -> bool:
        """May check tickets of this event in: its organisers and the admins."""
        return self.organises(account, event) or self.is_admin(account)

    def is_owner(self, account: AccountId, owner: AccountId) -> bool:
        """Whether a document keyed by `owner` (a ticket's or order's `user_id`) is the account's: its id or a
        linked address (`AccountService.owners`)."""
        return owner in self._accounts.owners(account)

    def may_see(self, account: AccountId, event: EventDoc) -> bool:
        """A draft event only to its organisers and the admins; any other event to anyone."""
        return is_public(event) or self.door_staff(account, event)

    async def event_for(self, account: AccountId, event_id: str) -> EventWithTiers | None:
        """The event and its tiers (stock as MongoDB has it now) as `account` may open it by id (a deep link, a
        button, a reply): None when there is no such event, and the same None for a draft they may not see, so
        that nobody learns a draft exists."""
        cached = await self._catalog.definitions(event_id)
        if cached is None or not self.may_see(account, cached.event):
            return None
        return await self._catalog.get(event_id)

    def organisers(self, event: EventDoc) -> list[AccountId]:
        """The event's organisers as accounts (each once, in file order), to notify them."""
        return list(dict.fromkeys(self._accounts.resolve(o) for o in event.organisers))

    async def organised_events(self, account: AccountId) -> list[EventDoc]:
        return await self._catalog.organised_by(self._names(account))

    async def is_staff(self, account: AccountId) -> bool:
        """Organises at least one event, or is an admin: may check tickets in, sees the staff menus."""
        return self.is_admin(account) or bool(await self.organised_events(account))

    async def staff(self) -> set[AccountId]:
        """Every admin and every organiser of any event, as accounts."""
        organisers = {o for event in await self._catalog.events() for o in self.organisers(event)}
        return organisers | set(self.admins())
