"""Bounds on what an unverified request may make Karcis keep or log (docs/faults.md).

Anyone can POST to the payment notification URL. Until its signature is checked, a request is a stranger's
bytes: each field it makes us store or log is cut to a few dozen characters with control characters escaped (a
newline in an `order_id` cannot forge a log line), and `payment_log` keeps the first KEEP_PER_WINDOW unverified
notifications of each WINDOW in full (bounded) and counts the rest in one summary document per window. Verified
notifications (Midtrans's own, ≤ 64 KiB) are always kept whole.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.payment_log import PaymentLog

FIELD_LIMIT = 64          # Midtrans order ids are ≤ 50 characters
RAW_LIMIT = 2048          # what of an unverified body is kept
KEEP_PER_WINDOW = 20
WINDOW = timedelta(minutes=10)


def loggable(value: object, limit: int = FIELD_LIMIT) -> str:
    """`value` as one safe log field: at most `limit` characters, control and non-ASCII characters escaped,
    and how much was cut."""
    text = value if isinstance(value, str) else repr(value)
    shown = text[:limit].encode("unicode_escape").decode("ascii")
    return shown if len(text) <= limit else f"{shown}…(+{len(text) - limit} chars)"


def _window(at: datetime) -> datetime:
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, tz=at.tzinfo)


def _bounded(entry: dict[str, Any], raw: bytes) -> dict[str, Any]:
    kept = {k: v if v is None or isinstance(v, bool | int | float | datetime) else loggable(v)
            for k, v in entry.items()}
    kept["raw"] = raw[:RAW_LIMIT].decode("utf-8", "replace")
    kept["raw_bytes"] = len(raw)
    return kept


async def record_notification(payment_log: PaymentLog, entry: dict[str, Any], raw: bytes, *,
                              full_limit: int) -> None:
    """Append the notification to payment_log: whole if verified, else bounded and capped per window."""
    if entry.get("verified"):
        await payment_log.append({**entry, "raw": raw[:full_limit].decode("utf-8", "replace")})
        return
    await payment_log.append_unverified(_bounded(entry, raw), window=_window(entry["received_at"]),
                                        keep=KEEP_PER_WINDOW)
