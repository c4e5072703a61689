"""What the doors know about a person to address them: their language and display name, on the person's users
document (storage/users.py), so notices reach them in their language and a check-in can say who did it.

Someone who has never written to the bot has no language of their own yet. For an organiser the events file may
give one (`organisers: - {address: ..., language: en}`); otherwise staff are addressed in STAFF_LANGUAGE,
Indonesian, Karcis's audience (docs/channels.md, "Which language")."""

from __future__ import annotations

from collections.abc import Iterable

from bot.accounts import AccountId, AccountService
from bot.catalog import Catalog
from storage.documents import EventDoc
from storage.store import Store

STAFF_LANGUAGE = "id"  # organisers and admins who never wrote, and whom the events file gives no language


class ProfileService:
    def __init__(self, store: Store, *, accounts: AccountService | None = None,
                 catalog: Catalog | None = None) -> None:
        self._store = store
        self._accounts = accounts
        self._catalog = catalog

    async def remember(self, who: AccountId, *, language: str | None, name: str | None) -> None:
        """Record the person's language code and display name (one upsert, no read)."""
        await self._store.users.remember_user(who, language=language, name=name)

    async def language(self, who: AccountId) -> str | None:
        """The language code the person's chat last reported, or None."""
        user = await self._store.users.get(who)
        return user.language if user else None

    async def file_language(self, who: AccountId, events: Iterable[EventDoc | None] = ()) -> str | None:
        """The language (`id` / `en`) the events file gives `who` as an organiser: in `events` first (the event a
        notice is about), then in any event of the catalog; None when no event gives them one."""
        candidates = [event for event in events if event is not None]
        if self._catalog is not None:
            candidates += await self._catalog.events()
        for event in candidates:
            for named, language in event.organiser_languages.items():
                if named == who or (self._accounts is not None and self._accounts.resolve(named) == who):
                    return language
        return None

    async def name(self, who: AccountId) -> str | None:
        """The person's display name as their chat last reported it, or None."""
        user = await self._store.users.get(who)
        return user.name if user else None
