"""Checkout: from a chosen cart to a reserved order, one contact detail at a time (docs/channels.md).

pretix's `services/cart.py` is the model: the purchase in progress is the domain's, kept in MongoDB (one draft per
account, `storage/drafts.py`), never in a process or a door. A door parses what the person did, calls one method
here and renders the `Draft` it gets back (or the typed refusal). Telegram may also carry the cart in callback
data; WhatsApp (3 buttons, 10 list rows) cannot, so `set_cart` keeps it in the draft.

    start(event, cart) ─▶ CHOICE (last time's details known) ─ use_last_details ─▶ CONFIRM
                       └▶ NAME ─ give ─▶ EMAIL ─ give ─▶ PHONE ─ give ─▶ CONFIRM ─ confirm ─▶ OrderDoc
    new_details: every detail again from NAME · change(field): that one again, the others kept · abandon

Every method after `start` names the draft by its nonce, so a stale button (an older purchase's, or one pressed
after the draft was confirmed or abandoned) is refused with `CheckoutRefused(DRAFT_GONE)` and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.accounts import AccountId
from bot.catalog import Catalog, EventWithTiers, SalesState, is_public, sales_state
from bot.clock import Clock, as_utc, utcnow
from bot.contacts import clean_email, clean_name, clean_phone
from bot.errors import ContactField, KarcisError, ReservationRefused
from bot.orders import MAX_PENDING_ORDERS, RESERVATIONS_PER_MINUTE, OrderService
from bot.tickets import ALPHABET
from storage.documents import Buyer, ContactStep, EventDoc, OrderDoc, OrderLine, PurchaseDraft, UserDoc
from storage.store import Store

Account = AccountId  # whom a draft belongs to (bot/accounts.py)

NONCE_LENGTH = 8
FIELDS = (ContactStep.NAME, ContactStep.EMAIL, ContactStep.PHONE)
CLEANERS = {ContactStep.NAME: clean_name, ContactStep.EMAIL: clean_email, ContactStep.PHONE: clean_phone}


def new_nonce() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(NONCE_LENGTH))


def clamp_cart(listing: EventWithTiers, cart: Mapping[str, int]) -> dict[str, int]:
    """The cart within what can be bought now: known tiers, at most max-per-order and the seats left, in the
    event's tier order."""
    clamped = {}
    for tier in listing.tiers:
        qty = min(cart.get(tier.code, 0), tier.max_per_order, tier.available)
        if qty > 0:
            clamped[tier.code] = qty
    return clamped


class Awaiting(StrEnum):
    """What the purchase waits for next."""

    CHOICE = "choice"    # use last time's details (`Draft.last`) or type new ones
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    CONFIRM = "confirm"  # every detail given: the summary, with Confirm


class CheckoutRefusal(StrEnum):
    UNKNOWN_EVENT = "unknown_event"
    SALES_CLOSED = "sales_closed"
    SALES_NOT_OPEN = "sales_not_open"      # the sales window opens later (the door says when)
    EMPTY_CART = "empty_cart"              # nothing left once clamped to what is on sale
    TOO_MANY_PENDING = "too_many_pending"  # said at start: the reservation would be refused (`limit` unpaid)
    RATE_LIMITED = "rate_limited"          # said at start: `limit` reservations in the last minute already
    DRAFT_GONE = "draft_gone"              # no draft by that nonce: confirmed, abandoned, replaced, or never
    NO_LAST_DETAILS = "no_last_details"    # use_last_details without details from an earlier purchase
    NOT_AWAITING = "not_awaiting"          # give() while the draft waits for no contact detail
    DETAILS_MISSING = "details_missing"    # confirm() before name, email and phone are all given


class CheckoutRefused(KarcisError):
    """A checkout step was not taken; nothing changed. `limit` for the two limits."""

    def __init__(self, reason: CheckoutRefusal, *, limit: int | None = None) -> None:
        self.reason = reason
        self.limit = limit
        super().__init__(reason.value + (f" (limit={limit})" if limit is not None else ""))


@dataclass(frozen=True)
class DraftRef:
    """Enough of a draft to offer the way forward after a refused reservation (change tickets, try again)."""

    nonce: str
    event_id: str
    cart: dict[str, int]


class ConfirmRefused(ReservationRefused):
    """The reservation was refused (sold out, a limit reached meanwhile, sales closed); nothing was held and the
    draft is back, so the buyer can change the cart or try again. `draft` names it."""

    def __init__(self, refusal: ReservationRefused, draft: DraftRef) -> None:
        super().__init__(refusal.reason, tier=refusal.tier, limit=refusal.limit, available=refusal.available)
        self.draft = draft


@dataclass(frozen=True)
class Draft:
    """A purchase in progress, with everything a door renders."""

    nonce: str
    event: EventDoc
    lines: list[OrderLine]              # the cart with names and prices, in the event's tier order
    awaiting: Awaiting
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    last: Buyer | None = None           # last time's details, offered while awaiting CHOICE
    prompt_message_id: int | None = None  # the door's message showing this purchase (Telegram edits it in place)
    cart: dict[str, int] = field(default_factory=dict)
    # the detail `give` just took (a door may close that step's widgets); not part of what the draft is
    given: ContactStep | None = field(default=None, compare=False)

    @property
    def changing(self) -> bool:
        """True while the awaited detail was given before: one detail changed after the summary (`change`)."""
        return self.awaiting in (Awaiting.NAME, Awaiting.EMAIL, Awaiting.PHONE) and \
            getattr(self, self.awaiting.value) is not None

    @property
    def free(self) -> bool:
        """Nothing to pay: Confirm gives the tickets at once."""
        return self.total == 0

    @property
    def event_id(self) -> str:
        return self.event.id

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def buyer(self) -> Buyer | None:
        if self.name and self.email and self.phone:
            return Buyer(name=self.name, email=self.email, phone=self.phone)
        return None

    @property
    def step(self) -> int | None:
        """1, 2 or 3 while a contact detail is awaited ("Step 2 of 3"), else None."""
        try:
            return FIELDS.index(ContactStep(self.awaiting.value)) + 1
        except ValueError:
            return None


def _refuse_unless_open(listing: EventWithTiers, now: datetime) -> None:
    """Sales not open yet, or over (a sold-out event is refused by the cart clamped to nothing)."""
    state = sales_state(listing.event, now)
    if state is SalesState.NOT_YET_OPEN:
        raise CheckoutRefused(CheckoutRefusal.SALES_NOT_OPEN)
    if state is not SalesState.OPEN:
        raise CheckoutRefused(CheckoutRefusal.SALES_CLOSED)


class CheckoutService:
    def __init__(self, store: Store, catalog: Catalog, orders: OrderService, *, clock: Clock = utcnow) -> None:
        self._store = store
        self._catalog = catalog
        self._orders = orders
        self._clock = clock

    # ---- beginning -----------------------------------------------------------------------------------------

    async def start(self, account: Account, event_id: str, cart: Mapping[str, int], *,
                    prompt_message_id: int | None = None) -> Draft:
        """A new purchase of `cart` (clamped to max per order and the seats left), replacing any earlier one.

        Refused (CheckoutRefused) for an unknown event, sales not open, an empty cart, and, before the buyer types
        anything, when the reservation would be refused for the account's limits (read from its one users
        document, which also gives last time's details)."""
        listing = await self._catalog.get(event_id)
        if listing is None or not is_public(listing.event):  # a draft is no event to a buyer (bot/access.py)
            raise CheckoutRefused(CheckoutRefusal.UNKNOWN_EVENT)
        now = self._clock()
        _refuse_unless_open(listing, now)
        clamped = clamp_cart(listing, cart)
        if not clamped:
            raise CheckoutRefused(CheckoutRefusal.EMPTY_CART)
        user = await self._store.users.get(account)
        self._refuse_over_limits(user)
        last = user.last_buyer if user else None
        purchase = PurchaseDraft(nonce=new_nonce(), event_id=listing.event.id, cart=clamped,
                                 awaiting=None if last else ContactStep.NAME, prompt_message_id=prompt_message_id)
        await self._store.drafts.start_purchase(account, purchase, at=now)
        return self._view(listing, purchase, last)

    def _refuse_over_limits(self, user: UserDoc | None) -> None:
        """The limits `OrderService.reserve` enforces atomically, read ahead so nobody types details in vain. The
        reservation still checks them (another chat of the same account may reserve meanwhile)."""
        if user is None:
            return
        if user.pending_orders >= MAX_PENDING_ORDERS:
            raise CheckoutRefused(CheckoutRefusal.TOO_MANY_PENDING, limit=MAX_PENDING_ORDERS)
        recent = user.recent_reservations[-RESERVATIONS_PER_MINUTE:]
        window_start = self._clock() - timedelta(minutes=1)
        if len(recent) >= RESERVATIONS_PER_MINUTE and as_utc(recent[0].at) > window_start:
            raise CheckoutRefused(CheckoutRefusal.RATE_LIMITED, limit=RESERVATIONS_PER_MINUTE)

    async def set_cart(self, account: Account, nonce: str, cart: Mapping[str, int]) -> Draft:
        """Replace the draft's cart (clamped as in `start`), keeping the details: for a door that keeps the cart
        in the draft. Refused: sales closed, an empty cart, the draft gone."""
        purchase = await self._purchase(account, nonce)
        listing = await self._catalog.get(purchase.event_id)
        if listing is None or not is_public(listing.event):  # a draft is no event to a buyer (bot/access.py)
            raise CheckoutRefused(CheckoutRefusal.UNKNOWN_EVENT)
        _refuse_unless_open(listing, self._clock())
        clamped = clamp_cart(listing, cart)
        if not clamped:
            raise CheckoutRefused(CheckoutRefusal.EMPTY_CART)
        return await self._update(account, nonce, {"cart": clamped})

    # ---- contact details -----------------------------------------------------------------------------------

    async def use_last_details(self, account: Account, nonce: str) -> Draft:
        """Fill in last time's name, email and phone: the draft awaits CONFIRM."""
        user = await self._store.users.get(account)
        last = user.last_buyer if user else None
        if last is None:
            await self._purchase(account, nonce)  # a stale nonce says so first
            raise CheckoutRefused(CheckoutRefusal.NO_LAST_DETAILS)
        return await self._update(account, nonce, {"name": last.name, "email": last.email, "phone": last.phone,
                                                   "awaiting": None})

    async def new_details(self, account: Account, nonce: str) -> Draft:
        """Forget the details given so far and ask for every one again, from the name."""
        return await self._update(account, nonce, {"name": None, "email": None, "phone": None,
                                                   "awaiting": ContactStep.NAME.value})

    async def change(self, account: Account, nonce: str, field_: ContactField | ContactStep | str) -> Draft:
        """Ask for one detail again, keeping the others: once it is given, the next missing one (or CONFIRM)."""
        step = ContactStep(str(field_))
        return await self._update(account, nonce, {"awaiting": step.value})

    async def review(self, account: Account, nonce: str) -> Draft:
        """Back to the summary with the details as they are (a change not made after all). Refused
        DETAILS_MISSING unless name, email and phone are all given."""
        purchase = await self._purchase(account, nonce)
        if purchase.buyer is None:
            raise CheckoutRefused(CheckoutRefusal.DETAILS_MISSING)
        return await self._update(account, nonce, {"awaiting": None})

    async def give(self, account: Account, nonce: str | None, text: str, *,
                   expect: ContactStep | None = None) -> Draft:
        """The detail the draft awaits, cleaned (InvalidContact with the field and a reason per mistake, and then
        nothing changes); the draft then awaits the next missing detail, or CONFIRM. `nonce` None: whatever draft
        the account has (a typed message names no draft; this saves the door a read). `expect`: refused
        NOT_AWAITING unless the draft awaits that detail (a shared contact, a "use this number" button: only
        ever a phone number)."""
        purchase = await self._purchase(account, nonce)
        step = purchase.awaiting
        if step is None or (expect is not None and step != expect):
            raise CheckoutRefused(CheckoutRefusal.NOT_AWAITING)
        value = CLEANERS[step](text)
        given = {f: getattr(purchase, f.value) for f in FIELDS} | {step: value}
        following = next((f for f in FIELDS if not given[f]), None)
        # only while it still awaits this step: of two answers typed at once, one fills it
        draft = await self._update(account, purchase.nonce, {step.value: value,
                                                            "awaiting": following.value if following else None},
                                   awaiting=step)
        return replace(draft, given=step)

    async def remember_prompt(self, account: Account, nonce: str, message_id: int) -> None:
        """The door's message that shows this purchase now (Telegram edits it at each step)."""
        await self._store.drafts.update_purchase(account, nonce, {"prompt_message_id": message_id},
                                                 at=self._clock())

    # ---- the end -------------------------------------------------------------------------------------------

    async def confirm(self, account: Account, nonce: str, *, address: str | None = None) -> OrderDoc:
        """Reserve the draft's seats: a pending order (or a paid one with tickets when it costs nothing).

        The draft is taken atomically, so of two taps exactly one reserves and the other is refused DRAFT_GONE.
        A refused reservation raises ConfirmRefused and puts the draft back (as does any failure: nothing was
        held, so the buyer can try again). `address`: the address the buyer confirmed from (accounts seam)."""
        purchase = await self._store.drafts.take_purchase(account, nonce)
        if purchase is None:
            raise CheckoutRefused(CheckoutRefusal.DRAFT_GONE)
        buyer = purchase.buyer
        if buyer is None:
            await self._store.drafts.restore_purchase(account, purchase, at=self._clock())
            raise CheckoutRefused(CheckoutRefusal.DETAILS_MISSING)
        try:
            return await self._orders.reserve(account, purchase.event_id, purchase.cart, buyer, address=address)
        except ReservationRefused as refusal:
            await self._store.drafts.restore_purchase(account, purchase, at=self._clock())
            raise ConfirmRefused(refusal, DraftRef(purchase.nonce, purchase.event_id, dict(purchase.cart))) \
                from refusal
        except BaseException:
            await self._store.drafts.restore_purchase(account, purchase, at=self._clock())  # nothing was held
            raise

    async def abandon(self, account: Account, nonce: str) -> bool:
        """Forget the draft; nothing was held. False if there was no draft by that nonce (already gone)."""
        return await self._store.drafts.drop_purchase(account, nonce)

    async def current(self, account: Account) -> Draft | None:
        """The account's purchase in progress, or None (none, or its event is no longer in the catalog)."""
        doc = await self._store.drafts.get(account)
        purchase = doc.purchase if doc else None
        if purchase is None:
            return None
        listing = await self._catalog.definitions(purchase.event_id)
        if listing is None:
            return None
        last = None
        if purchase.awaiting is None and purchase.buyer is None:
            user = await self._store.users.get(account)
            last = user.last_buyer if user else None
        return self._view(listing, purchase, last)

    # ---- inside --------------------------------------------------------------------------------------------

    async def _purchase(self, account: Account, nonce: str | None) -> PurchaseDraft:
        doc = await self._store.drafts.get(account)
        if doc is None or doc.purchase is None or (nonce is not None and doc.purchase.nonce != nonce):
            raise CheckoutRefused(CheckoutRefusal.DRAFT_GONE)
        return doc.purchase

    async def _update(self, account: Account, nonce: str, fields: dict[str, Any],
                      awaiting: ContactStep | None | object = ...) -> Draft:
        updated = await self._store.drafts.update_purchase(account, nonce, fields, at=self._clock(),
                                                           awaiting=awaiting)
        if updated is None:
            raise CheckoutRefused(CheckoutRefusal.DRAFT_GONE)
        listing = await self._catalog.definitions(updated.event_id)  # names and prices: the cache, no query
        if listing is None:
            raise CheckoutRefused(CheckoutRefusal.UNKNOWN_EVENT)
        last = None
        if updated.awaiting is None and updated.buyer is None:  # still offering last time's details
            user = await self._store.users.get(account)
            last = user.last_buyer if user else None
        return self._view(listing, updated, last)

    @staticmethod
    def _view(listing: EventWithTiers, purchase: PurchaseDraft, last: Buyer | None) -> Draft:
        if purchase.awaiting is not None:
            awaiting = Awaiting(purchase.awaiting.value)
        else:
            awaiting = Awaiting.CONFIRM if purchase.buyer is not None else Awaiting.CHOICE
        lines = [OrderLine(tier=tier.code, name=tier.name, price=tier.price, qty=purchase.cart[tier.code])
                 for tier in listing.tiers if purchase.cart.get(tier.code, 0) > 0]
        return Draft(nonce=purchase.nonce, event=listing.event, lines=lines, awaiting=awaiting,
                     name=purchase.name, email=purchase.email, phone=purchase.phone,
                     last=last if awaiting is Awaiting.CHOICE else None,
                     prompt_message_id=purchase.prompt_message_id, cart=dict(purchase.cart))
