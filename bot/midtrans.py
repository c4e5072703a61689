"""Talking to Midtrans: Snap transactions and the status API through midtransclient, with timeouts and bounded
retries, and checking a notification's signature.

midtransclient is synchronous and sets no timeout of its own, so every call runs in a worker thread, each HTTP
request carries a timeout, and the whole call is bounded again on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
from collections.abc import Mapping
from typing import Any

import midtransclient
import requests
from midtransclient.error_midtrans import JSONDecodeError, MidtransAPIError

log = logging.getLogger(__name__)


class MidtransUnavailable(Exception):
    """Midtrans did not answer usefully after the retries (down, timing out, or answering 5xx)."""


class MidtransRefused(Exception):
    """Midtrans answered with a client error (4xx): retrying the same request will not help."""

    def __init__(self, status: int, messages: list[str]) -> None:
        self.status = status
        self.messages = messages
        super().__init__(f"HTTP {status}: {'; '.join(messages)}")


def signature_key(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Midtrans's notification signature: hex SHA-512 of the four strings exactly as sent."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


def signature_valid(body: Mapping[str, Any], server_key: str) -> bool:
    fields = [body.get(k) for k in ("order_id", "status_code", "gross_amount", "signature_key")]
    if not all(isinstance(f, str) for f in fields):
        return False
    order_id, status_code, gross_amount, given = fields
    expected = signature_key(order_id, status_code, gross_amount, server_key)  # type: ignore[arg-type]
    return hmac.compare_digest(expected.encode(), given.encode())  # type: ignore[union-attr]


class _RequestsWithTimeout:
    """Stands in for the `requests` module inside midtransclient so that every request has a timeout, and reuses
    connections (one pooled session per worker thread) instead of opening one per call."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._local = threading.local()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session.request(method, url, timeout=self._timeout, **kwargs)


class MidtransGateway:
    """`timeout` bounds each HTTP request (a worker thread waits at most that long, even after a caller's budget
    gave up on it); `budget` on each call bounds the whole call, retries included (docs/money.md, Budgets)."""

    def __init__(
        self, server_key: str, *, client_key: str = "", is_production: bool = False,
        snap_base_url: str | None = None, api_base_url: str | None = None,
        timeout: float = 4.0, attempts: int = 3, retry_delay: float = 0.5,
    ) -> None:
        self._server_key = server_key
        self._timeout = timeout
        self._attempts = attempts
        self._retry_delay = retry_delay
        self._snap = midtransclient.Snap(is_production=is_production, server_key=server_key, client_key=client_key)
        self._core = midtransclient.CoreApi(is_production=is_production, server_key=server_key,
                                            client_key=client_key)
        for client in (self._snap, self._core):
            client.http_client.http_client = _RequestsWithTimeout(timeout)
            if snap_base_url:
                client.api_config.SNAP_SANDBOX_BASE_URL = client.api_config.SNAP_PRODUCTION_BASE_URL = snap_base_url
            if api_base_url:
                client.api_config.CORE_SANDBOX_BASE_URL = client.api_config.CORE_PRODUCTION_BASE_URL = api_base_url

    def __repr__(self) -> str:  # never show the key
        return f"MidtransGateway(production={self._snap.api_config.is_production})"

    def verify(self, body: Mapping[str, Any]) -> bool:
        return signature_valid(body, self._server_key)

    async def _call(self, what: str, function: Any, *args: Any, budget: float | None = None) -> Any:
        """Call midtransclient with retries; `budget` bounds the whole call, retries included (seconds)."""
        loop = asyncio.get_running_loop()
        deadline = None if budget is None else loop.time() + budget
        last: Exception | None = None
        for attempt in range(1, self._attempts + 1):
            limit = self._timeout + 5
            if deadline is not None:
                limit = min(limit, deadline - loop.time())
                if limit <= 0:
                    break
            try:
                return await asyncio.wait_for(asyncio.to_thread(function, *args), limit)
            except MidtransAPIError as exc:
                body = exc.api_response_dict or {}
                status = exc.http_status_code
                if status < 400:  # an error carried in the body's status_code of an HTTP 200
                    status = int(body.get("status_code") or 400) if str(body.get("status_code", "")).isdigit() else 400
                if status < 500 and status != 429:
                    messages = body.get("error_messages") or [str(body.get("status_message", "refused"))]
                    raise MidtransRefused(status, [str(m) for m in messages]) from None
                last = exc
            except (TimeoutError, requests.RequestException, JSONDecodeError, OSError) as exc:
                last = exc
            log.warning("Midtrans %s failed (attempt %d of %d): %s", what, attempt, self._attempts,
                        type(last).__name__)
            if attempt < self._attempts:
                pause = self._retry_delay * attempt
                if deadline is not None and loop.time() + pause >= deadline:
                    break
                await asyncio.sleep(pause)
        raise MidtransUnavailable(f"Midtrans {what} failed within its attempts: {type(last).__name__}")

    async def create_transaction(self, payload: dict[str, Any], *, budget: float | None = None) -> dict[str, Any]:
        """Snap: create a transaction; returns `token` and `redirect_url`."""
        return await self._call("Snap create", self._snap.create_transaction, payload, budget=budget)

    async def status(self, order_id: str, *, budget: float | None = None) -> dict[str, Any] | None:
        """The transaction's status, or None if Midtrans has no such transaction (no method chosen yet)."""
        try:
            return await self._call("status", self._core.transactions.status, order_id, budget=budget)
        except MidtransRefused as exc:
            if exc.status == 404:
                return None
            raise

    async def refund(self, order_id: str, *, refund_key: str, amount: int, reason: str, direct: bool = False,
                     budget: float | None = None) -> dict[str, Any]:
        """Core API refund: `POST /v2/{order_id}/refund` (or `/refund/online/direct`). The same `refund_key`
        makes a retry the same refund ("Refund Transactions", docs.midtrans.com/reference/refund-transaction:
        "If you want to do retry the same refund request please use the same refund_key")."""
        body = {"refund_key": refund_key, "amount": amount, "reason": reason}
        function = self._core.transactions.refundDirect if direct else self._core.transactions.refund
        return await self._call("refund", function, order_id, body, budget=budget)
