"""Midtrans's notification and status bodies, per payment type, and their signed HTTP delivery."""

from __future__ import annotations

import copy
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.sandbox.midtrans.base import TransactionStore
from bot.sandbox.midtrans.records import Delivery, SnapTransaction
from bot.sandbox.midtrans.rules import (
    _NON_CARD_TYPES,
    _NOTIFICATION_MESSAGE,
    BANKS,
    JSON,
    STORES,
    _amount_string,
    _wib,
    signature_key,
)

logger = logging.getLogger(__name__)


def _status_view(txn: SnapTransaction, snap: JSON) -> JSON:
    """A copy of a snapshot as the status API shows it."""
    body = copy.deepcopy(snap)
    if txn.payment_type != "shopeepay":
        # Get Transaction Status, `actions`: "Will be returned only for DANA / ShopeePay payment type with "pending"
        # status." GoPay and QRIS `actions` come only with the charge (and, here, the notification).
        body.pop("actions", None)
    return body


def _method(payment_type: str, bank: str | None, store: str | None) -> tuple[str, str | None, str | None]:
    """(payment_type, bank, store) as Midtrans reports them; "permata" → bank_transfer with bank permata."""
    if payment_type == "permata":
        payment_type, bank = "bank_transfer", bank or "permata"
    if payment_type == "bank_transfer":
        bank = bank or "bca"
        if bank not in BANKS:
            raise ValueError(f"bank must be one of {', '.join(BANKS)}")
    elif bank is not None:
        raise ValueError(f"a bank is chosen only for bank_transfer, not {payment_type}")
    if payment_type == "cstore":
        store = store or "indomaret"
        if store not in STORES:
            raise ValueError(f"store must be one of {', '.join(STORES)}")
    elif store is not None:
        raise ValueError(f"a store is chosen only for cstore, not {payment_type}")
    return payment_type, bank, store


def _digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


def _issue_payment_details(txn: SnapTransaction) -> None:
    """The VA number, bill key or payment code a buyer pays with, made once per method (lengths as in the samples
    of the Notification / Webhooks page)."""
    if txn.payment_type == "bank_transfer" and txn.va_number is None:
        txn.va_number = {"bca": _digits(11), "bni": "988" + _digits(13), "bri": _digits(18),
                         "permata": "8562" + _digits(12)}[txn.bank or "bca"]
    elif txn.payment_type == "echannel" and txn.bill_key is None:
        txn.bill_key = _digits(12)
    elif txn.payment_type == "cstore" and txn.payment_code is None:
        txn.payment_code = _digits(18)


def _label(txn: SnapTransaction) -> str:
    extra = txn.bank or txn.store
    return f"{txn.payment_type} ({extra})" if extra else str(txn.payment_type)


def _default_fraud_status(payment_type: str, transaction_status: str, store: str | None = None) -> str | None:
    if payment_type == "credit_card":
        return "deny" if transaction_status == "deny" else "accept"
    if payment_type == "cstore" and store != "alfamart":
        return None  # sample "Indomaret" has no fraud_status; sample "Alfamart" has "accept"
    if payment_type in _NON_CARD_TYPES:
        return "accept"
    return None


def _flow(outcome: str, payment_type: str) -> list[tuple[str, str | None]]:
    """The (transaction_status, fraud_status) steps a buyer's choice produces, like Midtrans sends them."""
    card = payment_type == "credit_card"
    if outcome == "pay":
        return [("capture", "accept")] if card else [("pending", None), ("settlement", None)]
    if outcome == "challenge":
        return [("capture", "challenge")]
    if outcome == "fail":
        return [("deny", "deny")] if card else [("pending", None), ("deny", None)]
    return [("pending", None), ("expire", None)]


async def _post_json(
    session: aiohttp.ClientSession, url: str, body: JSON, timeout: aiohttp.ClientTimeout,
) -> tuple[int | None, str | None]:
    try:
        async with session.post(
            url, data=json.dumps(body), timeout=timeout,
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": "Karcis-Midtrans-Simulator/1"},
        ) as resp:
            await resp.read()
            logger.info("midtrans: notified %s of %s %s → HTTP %s",
                        url, body.get("order_id"), body.get("transaction_status"), resp.status)
            return resp.status, None
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("midtrans: notification for %s to %s failed: %r", body.get("order_id"), url, exc)
        return None, repr(exc)


class Notifications(TransactionStore):
    """What Midtrans shows and sends about a transaction: status bodies, notification bodies, their delivery."""

    def status_body(self, order_id: str) -> JSON | None:
        """What `GET /v2/{order_id}/status` answers, or None while it would answer 404."""
        txn = self.find(order_id)
        if txn is None or txn.current is None:
            return None
        return _status_view(txn, txn.current)

    def _payment_type_fields(self, txn: SnapTransaction, transaction_status: str) -> JSON:
        """The fields a payment type adds to a status body (HTTP(S) Notification / Webhooks, "Sample for Various
        Payment Methods", docs.midtrans.com/docs/https-notification-webhooks)."""
        kind = txn.payment_type
        pending = transaction_status == "pending"
        if kind == "bank_transfer":
            if txn.bank == "permata":  # sample "Permata VA": "permata_va_number": "8562000087926752"
                return {"permata_va_number": txn.va_number}
            # samples "BCA VA" / "BNI VA" / "BRI VA": "va_numbers": [{"va_number", "bank"}], "payment_amounts"
            fields: JSON = {"va_numbers": [{"bank": txn.bank, "va_number": txn.va_number}], "payment_amounts": []}
            if transaction_status == "settlement" and txn.settlement_time is not None:
                # sample "BNI VA": "payment_amounts": [{"paid_at": …, "amount": "150000.00"}]
                fields["payment_amounts"] = [{"paid_at": _wib(txn.settlement_time),
                                              "amount": _amount_string(txn.gross_amount)}]
            return fields
        if kind == "echannel":  # sample "Mandiri Bill": "biller_code": "70012", "bill_key": "990000000260"
            return {"biller_code": "70012", "bill_key": txn.bill_key}
        if kind == "cstore":  # samples "Indomaret" / "Alfamart": "store", "payment_code"
            fields = {"store": txn.store, "payment_code": txn.payment_code}
            if txn.store == "indomaret" and transaction_status == "settlement":
                fields["approval_code"] = txn.transaction_id[:12].replace("-", "").upper()  # sample "Indomaret"
            return fields
        if kind == "credit_card":
            ok = transaction_status != "deny"
            fields = {
                "masked_card": "48111111-1114", "bank": "bni", "card_type": "credit", "eci": "05",
                "channel_response_code": "00" if ok else "05",
                "channel_response_message": "Approved" if ok else "Denied",
            }
            if ok:
                fields["approval_code"] = txn.transaction_id[:13].replace("-", "")
            return fields
        if kind == "qris":  # sample "QRIS": "transaction_type": "on-us", "issuer": "gopay", "acquirer": "gopay"
            fields = {"transaction_type": "on-us", "issuer": "gopay", "acquirer": "gopay"}
            if pending:
                fields["actions"] = self._actions(txn)
            return fields
        if kind in {"gopay", "shopeepay"} and pending:
            return {"actions": self._actions(txn)}
        return {}

    def _actions(self, txn: SnapTransaction) -> list[JSON]:
        """The `actions` of a pending e-wallet / QRIS transaction.

        Integration: GoPay (docs.midtrans.com, Core API "Sample Response"): "You will get the `actions` attribute
        to complete the transaction": generate-qr-code (GET …/v2/gopay/{transaction_id}/qr-code), deeplink-redirect,
        get-status (GET …/v2/{transaction_id}/status), cancel (POST …/v2/{transaction_id}/cancel). Get Transaction
        Status, "Sample Response - Pending (DANA & ShopeePay)": "actions": [{"name": "deeplink-redirect", "method":
        "GET", …}]. QRIS: generate-qr-code only. Here the QR image is served by the simulator and the deeplink
        opens its payment page, so a person in the sandbox can follow either.
        """
        base = txn.origin
        qr = {"name": "generate-qr-code", "method": "GET",
              "url": base + self._path("qr_code", kind=txn.payment_type or "gopay", id=txn.transaction_id)}
        page = base + self._path("snap_page", token=txn.token)
        deeplink = {"name": "deeplink-redirect", "method": "GET", "url": page}
        status = {"name": "get-status", "method": "GET", "url": base + self._path("status", id=txn.transaction_id)}
        cancel = {"name": "cancel", "method": "POST", "url": base + self._path("cancel", id=txn.transaction_id)}
        if txn.payment_type == "gopay":
            return [qr, deeplink, status, cancel]
        if txn.payment_type == "shopeepay":
            return [deeplink]
        return [qr]

    def _path(self, route: str, **parts: str) -> str:
        if self.router is None:
            return ""
        return str(self.router[route].url_for(**parts))

    # -- notifications

    def notification_body(
        self,
        order_id: str,
        index: int = -1,
        *,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> JSON:
        """The notification Midtrans would POST for snapshot `index` (see `MidtransSimulator.notify`)."""
        txn = self.get(order_id)
        if not txn.history:
            raise ValueError(f"{order_id} has no status yet: Midtrans sends nothing before a payment method is chosen")
        try:
            body = copy.deepcopy(txn.history[index])
        except IndexError:
            raise IndexError(f"{order_id} has {len(txn.history)} snapshots; no index {index}") from None
        body["status_message"] = _NOTIFICATION_MESSAGE
        if not self.actions_in_notifications:
            body.pop("actions", None)
        for key, value in (body_overrides or {}).items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        if "signature_key" not in (body_overrides or {}):
            parts = (str(body.get("order_id", "")), str(body.get("status_code", "")), str(body.get("gross_amount", "")))
            body["signature_key"] = (
                self.sign(*parts) if sign else signature_key(*parts, "not-the-server-key-" + secrets.token_hex(8))
            )
        return body

    async def deliver(self, url: str, order_id: str, body: JSON, *, duplicates: int = 1) -> list[int | None]:
        """POST `body` to `url` `duplicates` times in a row; the HTTP statuses answered (None: no answer)."""
        if duplicates < 1:
            raise ValueError("duplicates must be at least 1")
        statuses: list[int | None] = []
        timeout = aiohttp.ClientTimeout(total=self.notify_timeout)
        session = self.http
        own_session = session is None or session.closed
        if own_session:
            session = aiohttp.ClientSession(timeout=timeout)
        assert session is not None
        try:
            for _ in range(duplicates):
                status, error = await _post_json(session, url, body, timeout)
                statuses.append(status)
                self.deliveries.append(Delivery(url, order_id, copy.deepcopy(body), status, error, self.clock()))
        finally:
            if own_session:
                await session.close()
        return statuses

    async def notify_snapshot(
        self,
        url: str | None,
        order_id: str,
        index: int = -1,
        *,
        duplicates: int = 1,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> list[int | None]:
        target = url or self.notification_url
        if not target:
            raise ValueError("no url given and no notification_url set")
        body = self.notification_body(order_id, index, body_overrides=body_overrides, sign=sign)
        return await self.deliver(target, order_id, body, duplicates=duplicates)

    async def _notify_latest(self, order_id: str) -> list[Delivery]:
        """Send the newest snapshot to `notification_url`, if one is set (what Midtrans does on every change)."""
        if order_id in self.muted:
            self.lost.append((order_id, len(self.get(order_id).history) - 1))
            logger.info("midtrans: a notification for %s is lost (muted)", order_id)
            return []
        if not self.notification_url:
            logger.warning("midtrans: no notification_url set; %s changed but nobody was told", order_id)
            return []
        before = len(self.deliveries)
        await self.notify_snapshot(None, order_id)
        return self.deliveries[before:]
