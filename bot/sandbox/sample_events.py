"""Keeping the sample events on sale: the sandbox shows examples/events.yaml, whose dates are fixed, long after
they have passed. Before loading, every date in the file is moved forward by whole weeks (weekdays and times of
day stay as written) until the earliest sales close is at least four weeks away. Events files given with
`--events` are loaded as they are."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.clock import zone_info
from bot.event_file import ZONE_SPELLINGS, event_zone

LEAD = timedelta(weeks=4)
DATE_FIELDS = ("starts_at", "ends_at")
SALES_FIELDS = ("opens_at", "closes_at")


def _zone(event: dict[str, Any]) -> str:
    """The event's zone by the events file's rule (docs/time-zones.md), read leniently."""
    named = event.get("timezone")
    start = event.get("starts_at")
    return event_zone(ZONE_SPELLINGS.get(named.strip().lower()) if isinstance(named, str) else None,
                      start if isinstance(start, datetime) else datetime(2000, 1, 1))


def _aware(value: Any, zone: str) -> datetime | None:
    """A time of the file as an instant: one written without an offset is on the event's clock."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone_info(zone))
    if isinstance(value, date):
        return None
    return None


def weeks_to_shift(data: dict[str, Any], now: datetime) -> int:
    """How many whole weeks the file's dates must move so that every sale is open for at least LEAD."""
    closes = []
    for event in data.get("events") or []:
        sales = event.get("sales") or {}
        zone = _zone(event)
        close = _aware(sales.get("closes_at"), zone) or _aware(event.get("ends_at"), zone)
        if close is not None:
            closes.append(close)
    if not closes:
        return 0
    short = (now + LEAD) - min(closes)
    return max(0, math.ceil(short / timedelta(weeks=1)))


def shifted(data: dict[str, Any], weeks: int) -> dict[str, Any]:
    """A copy of the parsed file with every event date moved by `weeks`."""
    delta = timedelta(weeks=weeks)
    events = []
    for event in data.get("events") or []:
        moved = dict(event)
        for field in DATE_FIELDS:
            if isinstance(moved.get(field), datetime):
                moved[field] = moved[field] + delta
        if isinstance(moved.get("sales"), dict):
            moved["sales"] = {k: (v + delta if k in SALES_FIELDS and isinstance(v, datetime) else v)
                              for k, v in moved["sales"].items()}
        events.append(moved)
    return {**data, "events": events}


def on_sale_copy(source: Path, target_dir: Path, now: datetime) -> tuple[Path, int]:
    """Write the sample file, moved forward if it must be, into `target_dir`; the path and the weeks moved.
    Always a copy, even when nothing moves: the sandbox adjusts its copy (runner.with_whatsapp_organiser), and the
    repository's file must never be rewritten by running the sandbox."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    weeks = weeks_to_shift(data, now) if isinstance(data, dict) else 0
    target = target_dir / source.name
    if weeks == 0:
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        return target, 0
    target.write_text(yaml.safe_dump(shifted(data, weeks), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target, weeks
