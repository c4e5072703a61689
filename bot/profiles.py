"""What the doors know about a person to address them: their language and display name, on the person's users
document (storage/users.py), so notices reach them in their language and a check-in can say who did it.

Someone who has never written to the bot has no language of their own yet. For an organiser the events file may
give one (`organisers: - {address: ..., language: en}`); otherwise staff are addressed in STAFF_LANGUAGE,
Indonesian, Karcis's audience (docs/channels.md, "Which language")."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.accounts import AccountId, AccountService
from bot.catalog import Catalog
from storage.documents import EventDoc
from storage.store import Store

STAFF_LANGUAGE = "id"  # organisers and admins who never wrote, and whom the events file gives no language

NAME_LIMIT = 64  # characters of a display name kept (a check-in line, a digest line show it)
# Bidirectional embedding/override/isolate controls: they could turn the rest of a staff line around.
_BIDI = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def clean_name(raw: str | None) -> str | None:
    """A display name a chat reported, as Karcis keeps it: control characters and bidi overrides dropped, white
    space runs made one space, at most NAME_LIMIT characters; None if nothing is left. (Joiners stay: emoji.)"""
    if not raw:
        return None
    kept = "".join(ch for ch in raw[:4 * NAME_LIMIT]
                   if unicodedata.category(ch) != "Cc" and ord(ch) not in _BIDI)
    kept = " ".join(kept.split())[:NAME_LIMIT].strip()
    return kept or None


@dataclass(frozen=True)
class Profile:
    language: str | None
    name: str | None


class ProfileService:
    def __init__(self, store: Store, *, accounts: AccountService | None = None,
                 catalog: Catalog | None = None) -> None:
        self._store = store
        self._accounts = accounts
        self._catalog = catalog

    async def remember(self, who: AccountId, *, language: str | None, name: str | None) -> None:
        """Record the person's language code and display name (one upsert, no read)."""
        await self._store.users.remember_user(who, language=language, name=name)

    async def profile(self, who: AccountId) -> Profile:
        """The person's language and display name, in one read."""
        user = await self._store.users.get(who)
        return Profile(user.language, user.name) if user else Profile(None, None)

    async def note_name(self, who: AccountId, reported: str | None, *, known: str | None) -> str | None:
        """The display name a chat reported with a message (WhatsApp's `contacts[].profile.name`), cleaned, kept
        when it differs from the one `known` (read with the profile already): one upsert of the name alone, and
        none while it stays the same. The name now known."""
        name = clean_name(reported)
        if name is None or name == known:
            return known
        await self._store.users.remember_name(who, name)
        return name

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
