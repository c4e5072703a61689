"""Time: stored as aware UTC, shown in Asia/Jakarta (WIB)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, aware, in UTC, at millisecond precision (what MongoDB stores)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as already UTC (as MongoDB returns it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_wib(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(WIB)
