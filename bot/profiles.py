"""What the doors know about a person to address them: their language and display name, on the person's users
document (storage/users.py), so notices reach them in their language and a check-in can say who did it."""

from __future__ import annotations

from bot.accounts import AccountId
from storage.store import Store


class ProfileService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def remember(self, who: AccountId, *, language: str | None, name: str | None) -> None:
        """Record the person's language code and display name (one upsert, no read)."""
        await self._store.users.remember_user(who, language=language, name=name)

    async def language(self, who: AccountId) -> str | None:
        """The language code the person's chat last reported, or None."""
        user = await self._store.users.get(who)
        return user.language if user else None

    async def name(self, who: AccountId) -> str | None:
        """The person's display name as their chat last reported it, or None."""
        user = await self._store.users.get(who)
        return user.name if user else None
