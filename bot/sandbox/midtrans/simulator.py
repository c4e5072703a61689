"""`MidtransSimulator`: the app on 127.0.0.1 and a free port, driven from Python by tests."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.sandbox.midtrans.records import Delivery, PaymentOutcome, SnapTransaction
from bot.sandbox.midtrans.rules import (
    DEFAULT,
    DEFAULT_NOTIFY_TIMEOUT,
    JSON,
    Clock,
    _Default,
)
from bot.sandbox.midtrans.server import MIDTRANS_STATE, create_midtrans_app

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------------------
# Running it


class MidtransSimulator:
    """Runs `create_midtrans_app` on 127.0.0.1 (a free port by default) and drives it from Python.

        async with MidtransSimulator("SB-Mid-server-test", notification_url=url) as sim:
            snap.api_config.SNAP_SANDBOX_BASE_URL = sim.snap_base_url
            core.api_config.CORE_SANDBOX_BASE_URL = sim.api_base_url
    """

    def __init__(
        self,
        server_key: str,
        *,
        notification_url: str | None = None,
        public_base_url: str | None = None,
        port: int = 0,
        clock: Clock | None = None,
        notify_timeout: float = DEFAULT_NOTIFY_TIMEOUT,
    ) -> None:
        self.app = create_midtrans_app(
            server_key, public_base_url=public_base_url, notification_url=notification_url, clock=clock,
            notify_timeout=notify_timeout,
        )
        self.state = self.app[MIDTRANS_STATE]
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._used = False

    def __repr__(self) -> str:
        return f"<MidtransSimulator {self._base_url or 'not started'}>"

    async def start(self) -> None:
        if self._used:
            raise RuntimeError("a MidtransSimulator starts once; make a new one")
        self._used = True
        runner = web.AppRunner(self.app)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        self._base_url = f"http://127.0.0.1:{port}"
        logger.info("midtrans simulator listening on %s", self._base_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- where it is

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`; also the Core API base (`CORE_SANDBOX_BASE_URL`)."""
        if self._base_url is None:
            raise RuntimeError("the simulator is not started")
        return self._base_url

    @property
    def api_base_url(self) -> str:
        return self.base_url

    @property
    def snap_base_url(self) -> str:
        """`<base_url>/snap/v1` (`SNAP_SANDBOX_BASE_URL`)."""
        return f"{self.base_url}/snap/v1"

    @property
    def notification_url(self) -> str | None:
        return self.state.notification_url

    @notification_url.setter
    def notification_url(self, url: str | None) -> None:
        self.state.notification_url = url

    # -- what it knows

    @property
    def transactions(self) -> Mapping[str, SnapTransaction]:
        return self.state.transactions

    @property
    def deliveries(self) -> list[Delivery]:
        """Every notification POST so far, oldest first."""
        return self.state.deliveries

    def transaction(self, order_id: str) -> SnapTransaction:
        """The Snap transaction for `order_id`; UnknownTransaction (a KeyError) if none."""
        return self.state.get(order_id)

    def status_body(self, order_id: str) -> JSON | None:
        """What the status API would answer now, or None while it answers 404."""
        return self.state.status_body(order_id)

    def payment_page_url(self, order_id: str) -> str:
        return f"{self.base_url}/snap/v4/redirection/{self.state.get(order_id).token}"

    def signature_key(self, order_id: str, status_code: str, gross_amount: str) -> str:
        return self.state.sign(order_id, status_code, gross_amount)

    # -- driving payments

    async def set_status(
        self,
        order_id: str,
        transaction_status: str,
        *,
        payment_type: str | None = None,
        fraud_status: str | None = None,
        gross_amount: int | str | None = None,
        extra: Mapping[str, Any] | None = None,
        bank: str | None = None,
        store: str | None = None,
    ) -> JSON:
        """Record a new status for `order_id` (no notification is sent) and return the new status body.

        `bank` / `store` choose the VA bank (bank_transfer) or the store (cstore), as in `simulate_payment`.

        `payment_type`: None keeps the one already chosen, else "bank_transfer". `fraud_status`: None gives the
        usual one for the payment type ("accept" for card, VA and e-wallets; "deny" for a denied card).
        `gross_amount` overrides the amount in this snapshot only (int → "N.00", str as is), signed as sent, to
        simulate a payment for another amount. `extra` sets fields after all that (None removes a field, e.g.
        `{"fraud_status": None}`); `signature_key` is computed last unless `extra` sets it.
        """
        return self.state.set_status(
            order_id, transaction_status, payment_type=payment_type, fraud_status=fraud_status,
            gross_amount=gross_amount, extra=extra, bank=bank, store=store,
        )

    async def notify(
        self,
        url: str | None,
        order_id: str,
        *,
        duplicates: int = 1,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> list[int | None]:
        """POST the latest status of `order_id` as a notification to `url` (None: `notification_url`).

        Sent `duplicates` times in a row. Returns the HTTP status of each POST (None: no answer, e.g. timeout).
        `body_overrides` changes fields (None removes one); the body is then signed with the server key, or,
        with `sign=False`, with a wrong key, so the signature does not verify. Setting `signature_key` in
        `body_overrides` sends exactly that.
        """
        return await self.state.notify_snapshot(
            url, order_id, -1, duplicates=duplicates, body_overrides=body_overrides, sign=sign,
        )

    async def notify_snapshot(
        self,
        url: str | None,
        order_id: str,
        index: int,
        *,
        duplicates: int = 1,
        body_overrides: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> list[int | None]:
        """Like `notify`, for `transaction(order_id).history[index]`: replays an older status, out of order."""
        return await self.state.notify_snapshot(
            url, order_id, index, duplicates=duplicates, body_overrides=body_overrides, sign=sign,
        )

    async def simulate_payment(
        self,
        order_id: str,
        outcome: str = "pay",
        *,
        payment_type: str = "bank_transfer",
        bank: str | None = None,
        store: str | None = None,
        fraud_status: str | None | _Default = DEFAULT,
        notify: bool = True,
    ) -> PaymentOutcome:
        """What the payment page's buttons do, from Python.

        outcome "pay": every non-card type → pending, settlement; credit_card → capture (fraud accept).
        "fail": → pending, deny (card: deny, fraud deny). "expire": → pending, expire. "challenge" (card only) →
        capture with fraud_status challenge (status_code 201; approve or deny it with the Core API).
        `payment_type`: one of PAYMENT_METHODS (bank_transfer, permata, echannel, cstore, gopay, shopeepay, qris,
        credit_card); `bank` for bank_transfer (bca — the default —, bni, bri, permata); `store` for cstore
        (indomaret — the default —, alfamart). `fraud_status`: DEFAULT gives the usual one; a string puts it in
        every snapshot this call adds; None leaves the field out (a card capture without fraud_status).
        Each step is notified to `notification_url` when `notify` and a URL is set; `notify=False` loses every
        notification of this call (the status API still answers the truth). PaymentRefused if the page would
        refuse (past its expiry, already final, unknown outcome or method; "rejected" for a BNI VA and a phone not
        starting with +62 or 0, a BCA VA and a name over 30, Alfamart and a `|` in an item name); UnknownTransaction
        if no such order.
        """
        return await self.state.simulate_payment(
            order_id, outcome, payment_type=payment_type, bank=bank, store=store, fraud_status=fraud_status,
            notify=notify,
        )

    async def reverse(self, order_id: str, *, notify: bool = True) -> PaymentOutcome:
        """settlement → deny, the "payment reversal" (Permata VA, Mandiri bill payment and Indomaret only, as the
        docs say). PaymentRefused("not_allowed") for any other status or payment type."""
        return await self.state.reverse(order_id, notify=notify)

    async def cancel_after_payment(self, order_id: str, *, notify: bool = True) -> PaymentOutcome:
        """capture → cancel (a card payment voided before settlement). PaymentRefused("not_allowed") after
        settlement: Midtrans says to refund instead (Core `POST /v2/{id}/cancel` answers 412 then too)."""
        return await self.state.cancel_after_payment(order_id, notify=notify)

    async def chargeback(self, order_id: str, amount: int | None = None, *, notify: bool = True) -> PaymentOutcome:
        """settlement → chargeback (all that is left) or partial_chargeback (`amount` less than that); a second
        chargeback of a partial_chargeback can complete it. A card capture is first settled (notified), as
        Midtrans settles it the next day. PaymentRefused otherwise."""
        return await self.state.chargeback(order_id, amount, notify=notify)

    async def dashboard_refund(
        self, order_id: str, amount: int | None = None, *, reason: str = "refund from the dashboard",
        notify: bool = True,
    ) -> PaymentOutcome:
        """A refund from the Midtrans dashboard: settlement/partial_refund → refund (all that is left) or
        partial_refund, with `refund_amount` (cumulative) and a new `refunds` entry whose refund_key Midtrans made
        (not Karcis's). Two notifications, without and with `bank_confirmed_at`, as Midtrans sends for a refund.
        A card capture is first settled (notified). PaymentRefused otherwise (e.g. over what is left)."""
        return await self.state.dashboard_refund(order_id, amount, reason=reason, notify=notify)

    def refunds(self, order_id: str) -> list[JSON]:
        """Every refund of `order_id` (refund API and dashboard), as the status body's `refunds` array lists them."""
        return copy.deepcopy(self.state.get(order_id).refunds)

    def mute(self, order_id: str, muted: bool = True) -> None:
        """Lose every notification of `order_id` from now on (`muted=False`: deliver again), also those the HTTP
        APIs cause (a refund API call, a Core cancel): the status changes, the status API tells, nothing is sent."""
        self.state.get(order_id)
        (self.state.muted.add if muted else self.state.muted.discard)(order_id)

    def reject_direct_refunds(self, order_id: str, rejected: bool = True) -> None:
        """The bank rejects `order_id`'s direct refunds: `/refund/online/direct` answers status_code "202" "Refund
        denied by the bank" and nothing changes (Direct Refund Transaction, sample "Rejected Direct Refund")."""
        self.state.get(order_id)
        target = self.state.banks_rejecting_refunds
        (target.add if rejected else target.discard)(order_id)

    @property
    def lost(self) -> list[tuple[str, int]]:
        """(order_id, snapshot index) of each status change whose notification was lost (`notify=False`)."""
        return self.state.lost
