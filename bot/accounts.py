"""People, not Telegram ids: channel addresses, accounts, and the link table between them (docs/channels.md).

An address names a person on one channel: `telegram:<user id>` or `whatsapp:<E.164 number>`. An account is a
person; its id is a string, the address it is known by (for a person named by several addresses, the group's
Telegram address if it has one, else its first: existing data is keyed by Telegram ids). Links between addresses
come only from configuration (admin settings, events-file organiser entries), so the whole table is small and held
in memory: `resolve` is a dict lookup and costs no MongoDB command.

A link configured later can change a person's id (a WhatsApp-first buyer named beside a Telegram id becomes
`telegram:<id>`); what they bought before stays keyed by the address they bought as, and `owners(account)` is
what readers of a person's orders and tickets ask for, so it stays theirs (docs/channels.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum

import phonenumbers

AccountId = str  # an account's id: the address it is known by, e.g. "telegram:12345"
Owners = Callable[[AccountId], Sequence[str]]  # every id an account's documents may be keyed by (AccountService.owners)


def only_itself(account: AccountId) -> Sequence[str]:
    """`Owners` without links: an account's documents are keyed by its id alone."""
    return (account,)

TELEGRAM = "telegram"
WHATSAPP = "whatsapp"
_TELEGRAM_ID = re.compile(r"^[1-9][0-9]{0,15}$")  # Telegram user ids are positive 64-bit integers (52 bits today)
ADDRESS_MAX = 64  # longer than any valid address: what is echoed back in a refusal is bounded


class AddressProblem(StrEnum):
    EMPTY = "empty"
    UNKNOWN_CHANNEL = "unknown_channel"  # not telegram: or whatsapp:
    BAD_TELEGRAM_ID = "bad_telegram_id"  # not a positive integer
    BAD_NUMBER = "bad_number"            # not a valid international phone number (E.164, with its +)


class InvalidAddress(ValueError):
    """A text that is not an address; `problem` says why, `text` is what was given (bounded)."""

    def __init__(self, problem: AddressProblem, text: str) -> None:
        self.problem = problem
        self.text = text[:ADDRESS_MAX]
        super().__init__(_EXPLAIN[problem].format(text=self.text))


_EXPLAIN = {
    AddressProblem.EMPTY: "an address cannot be empty",
    AddressProblem.UNKNOWN_CHANNEL: "{text!r} is not an address: write telegram:<user id>, whatsapp:<+number> "
                                    "or a bare Telegram user id",
    AddressProblem.BAD_TELEGRAM_ID: "{text!r}: a Telegram user id is a positive whole number",
    AddressProblem.BAD_NUMBER: "{text!r}: a WhatsApp number is written in international form with its country "
                               "code, e.g. +6281234567890",
}


def telegram_address(user_id: int) -> str:
    """The address of a Telegram user."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
        raise InvalidAddress(AddressProblem.BAD_TELEGRAM_ID, str(user_id))
    return f"{TELEGRAM}:{user_id}"


def e164(number: str) -> str:
    """A phone number in E.164 (`+6281234567890`); raises InvalidAddress(BAD_NUMBER). Spaces and dashes are
    allowed in what is given; the + and the country code are required (no region is guessed)."""
    text = number.strip()
    if not text.startswith("+"):
        raise InvalidAddress(AddressProblem.BAD_NUMBER, number)
    try:
        parsed = phonenumbers.parse(text[:ADDRESS_MAX], None)
    except phonenumbers.NumberParseException:
        raise InvalidAddress(AddressProblem.BAD_NUMBER, number) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidAddress(AddressProblem.BAD_NUMBER, number)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def whatsapp_address(number: str) -> str:
    """The address of a WhatsApp number (validated, normalised to E.164)."""
    return f"{WHATSAPP}:{e164(number)}"


def parse_address(value: str | int) -> str:
    """The normalised address for `value`: `telegram:<id>`, `whatsapp:<E.164>`, or a bare integer (a Telegram user
    id, as configuration has always written them). Raises InvalidAddress saying what is wrong."""
    if isinstance(value, bool):
        raise InvalidAddress(AddressProblem.UNKNOWN_CHANNEL, str(value))
    if isinstance(value, int):
        return telegram_address(value)
    text = value.strip()
    if not text:
        raise InvalidAddress(AddressProblem.EMPTY, value)
    if _TELEGRAM_ID.match(text):
        return f"{TELEGRAM}:{int(text)}"
    channel, sep, rest = text.partition(":")
    channel = channel.strip().lower()
    if not sep or channel not in (TELEGRAM, WHATSAPP):
        raise InvalidAddress(AddressProblem.UNKNOWN_CHANNEL, text)
    rest = rest.strip()
    if channel == TELEGRAM:
        if not _TELEGRAM_ID.match(rest):
            raise InvalidAddress(AddressProblem.BAD_TELEGRAM_ID, text)
        return f"{TELEGRAM}:{int(rest)}"
    return f"{WHATSAPP}:{e164(rest)}"


def is_address(value: object) -> bool:
    try:
        return isinstance(value, (str, int)) and parse_address(value) == value
    except InvalidAddress:
        return False


def channel_of(address: str) -> str:
    return address.partition(":")[0]


def telegram_id(address: str) -> int | None:
    """The Telegram user id an address names, or None for another channel's address."""
    channel, _, rest = address.partition(":")
    return int(rest) if channel == TELEGRAM and rest.isdigit() else None


def whatsapp_number(address: str) -> str | None:
    """The E.164 number a WhatsApp address names, or None for another channel's address."""
    channel, _, rest = address.partition(":")
    return rest if channel == WHATSAPP else None


def account_id_of(group: Sequence[str]) -> AccountId:
    """The id of the account a group of (normalised) addresses names: its Telegram address if it has one (data
    written before accounts is keyed by Telegram ids), else its first address."""
    if not group:
        raise InvalidAddress(AddressProblem.EMPTY, "")
    return next((a for a in group if channel_of(a) == TELEGRAM), group[0])


class AccountService:
    """The link table: which addresses name one person. Only configuration adds links (admin settings, and the
    organiser entries of the events as the catalog last loaded them); an address nobody linked is an account of
    its own whose id is the address. Rebuilt whole by `load`, never written to MongoDB."""

    def __init__(self, configured: Iterable[Sequence[str]] = ()) -> None:
        self._configured = [tuple(g) for g in configured]
        self._account: dict[str, AccountId] = {}
        self._addresses: dict[AccountId, tuple[str, ...]] = {}
        self.load(())

    def load(self, groups: Iterable[Sequence[str]]) -> None:
        """Rebuild the table from the configured groups and `groups` (the events' organiser entries). Groups that
        share an address are one person. Each group is a list of normalised addresses."""
        merged: list[list[str]] = []
        owner: dict[str, int] = {}
        for group in [*self._configured, *(tuple(g) for g in groups)]:
            if len(group) < 2:
                continue
            hits = sorted({owner[a] for a in group if a in owner})
            target = hits[0] if hits else len(merged)
            if not hits:
                merged.append([])
            for other in hits[1:]:  # this group joins two people already known: they are one
                for a in merged[other]:
                    owner[a] = target
                    merged[target].append(a)
                merged[other] = []
            for a in group:
                if owner.get(a) != target:
                    owner[a] = target
                    merged[target].append(a)
        account: dict[str, AccountId] = {}
        addresses: dict[AccountId, tuple[str, ...]] = {}
        for person in merged:
            if person:
                aid = account_id_of(person)
                addresses[aid] = tuple(person)
                account.update(dict.fromkeys(person, aid))
        self._account, self._addresses = account, addresses

    def resolve(self, address: str) -> AccountId:
        """The account an address belongs to (a normalised address; see parse_address)."""
        return self._account.get(address, address)

    def addresses(self, account: AccountId) -> tuple[str, ...]:
        """Every address the account is reachable at, its own id first if it is one (for delivery)."""
        linked = self._addresses.get(account)
        if linked is None:
            return (account,)
        return (account, *(a for a in linked if a != account))

    def owners(self, account: AccountId) -> tuple[str, ...]:
        """Every id the account's orders and tickets may be keyed by: its id, then each linked address. A person
        who bought as `whatsapp:+62…` before a link made `telegram:<id>` their account id keeps those orders and
        tickets (they are keyed by the WhatsApp address; readers ask for all of these). docs/channels.md."""
        return self.addresses(account)

    def address_on(self, account: AccountId, channel: str) -> str | None:
        """The account's first address on `channel`, or None."""
        return next((a for a in self.addresses(account) if channel_of(a) == channel), None)

    @property
    def links(self) -> dict[AccountId, tuple[str, ...]]:
        """The accounts named by more than one address, and their addresses."""
        return dict(self._addresses)
