"""The sandbox's sample events stay on sale however old the example file gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.event_file import load_events_file
from bot.sandbox.sample_events import on_sale_copy
from tests.conftest import EXAMPLES


def test_file_still_on_sale_is_copied_as_it_is(tmp_path: Path) -> None:
    path, weeks = on_sale_copy(EXAMPLES, tmp_path, datetime(2026, 11, 22, tzinfo=UTC))
    assert weeks == 0 and path != EXAMPLES and path.parent == tmp_path  # the sandbox edits its copy, never the file
    assert path.read_text(encoding="utf-8") == EXAMPLES.read_text(encoding="utf-8")


def test_past_dates_move_by_whole_weeks_until_sales_are_open(tmp_path: Path) -> None:
    now = datetime(2029, 3, 7, 12, 0, tzinfo=UTC)
    path, weeks = on_sale_copy(EXAMPLES, tmp_path, now)
    assert path != EXAMPLES and weeks > 0
    before, after = load_events_file(EXAMPLES), load_events_file(path)
    for old, new in zip(before, after, strict=True):
        assert new.starts_at - old.starts_at == timedelta(weeks=weeks)
        assert new.starts_at.weekday() == old.starts_at.weekday()
        close = new.sales.closes_at or new.ends_at
        assert close >= now + timedelta(weeks=4)
        assert (new.sales.opens_at is None) or new.sales.opens_at <= now
        assert [t.model_dump() for t in new.tiers] == [t.model_dump() for t in old.tiers]
    assert yaml.safe_load(path.read_text())["events"][0]["title"] == before[0].title


def test_a_time_without_offset_is_counted_on_the_events_own_clock() -> None:
    from bot.sandbox.sample_events import weeks_to_shift

    event = {"starts_at": datetime(2026, 12, 31, 19), "ends_at": datetime(2027, 1, 1, 10)}  # no offsets
    now = datetime(2027, 1, 1, 2, 0, tzinfo=UTC) - timedelta(weeks=4)
    assert weeks_to_shift({"events": [{**event, "timezone": "WIT"}]}, now) == 1  # ends 01:00 UTC: an hour short
    assert weeks_to_shift({"events": [event]}, now) == 0  # WIB: ends 03:00 UTC, an hour to spare
