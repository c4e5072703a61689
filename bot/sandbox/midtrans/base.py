"""The simulator's state: its transactions, how they are found, authorisation and signatures."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Callable

import aiohttp
from aiohttp import web

from bot.sandbox.midtrans.errors import UnknownTransaction
from bot.sandbox.midtrans.records import Delivery, SnapTransaction
from bot.sandbox.midtrans.rules import DEFAULT_NOTIFY_TIMEOUT, Clock, _utcnow, signature_key


class TransactionStore:
    """The Snap transactions the simulator remembers, found by order id, transaction id or token, and signed."""

    def __init__(
        self,
        server_key: str,
        *,
        public_base_url: str | None = None,
        notification_url: str | None = None,
        clock: Clock | None = None,
        notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT,
    ) -> None:
        if not server_key:
            raise ValueError("server_key must not be empty")
        self._server_key = server_key
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.notification_url = notification_url
        self.clock: Clock = clock or _utcnow
        self.notify_timeout = notify_timeout
        self.finish_link_rewrite: Callable[[str], str] | None = None
        """Where "Back to the merchant" really goes (the sandbox maps the bot's t.me link to its web chat)."""
        self.transactions: dict[str, SnapTransaction] = {}
        self.deliveries: list[Delivery] = []
        self.http: aiohttp.ClientSession | None = None
        self._by_token: dict[str, str] = {}
        self._by_transaction_id: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refund_ids = 0
        self.router: web.UrlDispatcher | None = None
        """The app's router, for URLs in `actions` (set by `create_midtrans_app`)."""
        self.lost: list[tuple[str, int]] = []
        """(order_id, snapshot index) of every status change whose notification was lost (`notify=False`)."""
        self.actions_in_notifications = True
        """Whether pending GoPay / ShopeePay / QRIS notifications carry `actions`. The docs show `actions` on the
        Core API charge response (Integration: GoPay) and, for ShopeePay, on the status API; they show no pending
        e-wallet notification at all. Set False to check that a merchant copes without them."""
        self.muted: set[str] = set()
        """Orders whose every notification is lost, also those the HTTP APIs cause (`MidtransSimulator.mute`)."""
        self.banks_rejecting_refunds: set[str] = set()
        """Orders whose direct refunds the bank rejects (`MidtransSimulator.reject_direct_refunds`)."""

    def __repr__(self) -> str:
        return f"<MidtransState {len(self.transactions)} transactions, notification_url={self.notification_url!r}>"

    # -- auth and signatures

    def authorized(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header is Basic with the server key as user and an empty password."""
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(credentials, self._server_key.encode() + b":")

    def sign(self, order_id: str, status_code: str, gross_amount: str) -> str:
        return signature_key(order_id, status_code, gross_amount, self._server_key)

    # -- lookups

    def get(self, order_id: str) -> SnapTransaction:
        try:
            return self.transactions[order_id]
        except KeyError:
            raise UnknownTransaction(order_id) from None

    def find(self, order_or_transaction_id: str) -> SnapTransaction | None:
        """By order id, or by transaction id once a payment method was chosen (Midtrans accepts either)."""
        txn = self.transactions.get(order_or_transaction_id)
        if txn is None:
            order_id = self._by_transaction_id.get(order_or_transaction_id)
            txn = self.transactions.get(order_id) if order_id else None
            if txn is not None and not txn.history:
                return None
        return txn

    def by_token(self, token: str) -> SnapTransaction | None:
        order_id = self._by_token.get(token)
        return self.transactions.get(order_id) if order_id else None

    def is_expired(self, txn: SnapTransaction) -> bool:
        return self.clock() >= txn.expires_at

    def _lock(self, order_id: str) -> asyncio.Lock:
        """Serialises the page's flows and the Core API actions per order, so a double tap cannot pay twice."""
        return self._locks.setdefault(order_id, asyncio.Lock())
