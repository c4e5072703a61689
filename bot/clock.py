"""Time: stored as aware UTC, shown in an event's zone (WIB, WITA or WIT; docs/time-zones.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

JAKARTA: Final = "Asia/Jakarta"
MAKASSAR: Final = "Asia/Makassar"
JAYAPURA: Final = "Asia/Jayapura"

DEFAULT_ZONE: Final = JAKARTA
"""The zone of an event whose file names none (and whose start carries no +08:00 / +09:00 offset)."""

ZONE_NAMES: Final = {JAKARTA: "WIB", MAKASSAR: "WITA", JAYAPURA: "WIT"}
"""Indonesia's three zones, by IANA name, with the name a person reads beside a time. None of them keeps
daylight saving time, so each is one fixed offset from UTC (+07:00, +08:00, +09:00)."""

ZONE_BY_OFFSET: Final = {timedelta(hours=7): JAKARTA, timedelta(hours=8): MAKASSAR, timedelta(hours=9): JAYAPURA}

_ZONES: Final = {name: ZoneInfo(name) for name in ZONE_NAMES}

WIB: Final = _ZONES[JAKARTA]
"""Jakarta time: Midtrans's times are in it, and so are the few times that belong to no one event."""

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


def known_zone(zone: str | None) -> str:
    """`zone` if it is one of the three, else the default (a document written before events had zones)."""
    return zone if zone in _ZONES else DEFAULT_ZONE


def zone_name(zone: str | None) -> str:
    """`WIB`, `WITA` or `WIT`."""
    return ZONE_NAMES[known_zone(zone)]


def in_zone(moment: datetime, zone: str | None) -> datetime:
    """The stored (UTC) instant as a clock in `zone` reads it."""
    return as_utc(moment).astimezone(_ZONES[known_zone(zone)])


def zone_info(zone: str | None) -> ZoneInfo:
    return _ZONES[known_zone(zone)]
