"""The events file: validated as a whole, upserted by id, capacity changes guarded by what is sold."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bot.errors import CapacityError, EventsFileError
from bot.event_file import load_events_file, parse_events
from bot.services import Services
from tests.conftest import EXAMPLES
from tests.helpers import acct, assert_invariant, buyer


def example_data() -> dict:
    return yaml.safe_load(EXAMPLES.read_text())


def test_the_example_file_has_two_events_one_with_a_free_tier() -> None:
    specs = load_events_file(EXAMPLES)
    assert len(specs) == 2
    assert any(t.price == 0 for s in specs for t in s.tiers)
    # naive and +07:00 times are both Jakarta time, stored in UTC
    assert specs[0].starts_at.isoformat() == "2026-12-31T12:00:00+00:00"


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["events"][1]["tiers"][0].update(price=-5), "event #2 (workshop-ui-bandung): tiers.0.price"),
    (lambda d: d["events"][1]["tiers"][1].update(price=99000.5), "event #2 (workshop-ui-bandung): tiers.1.price"),
    (lambda d: d["events"][0].update(id="Jazz Senja!"), "event #1 (Jazz Senja!): id"),
    (lambda d: d["events"][0].pop("venue"), "event #1 (jazz-senja-2026): venue"),
    (lambda d: d["events"][0].update(ends_at="2026-12-30T10:00:00+07:00"), "ends_at must be after starts_at"),
    (lambda d: d["events"][0]["tiers"].append(dict(d["events"][0]["tiers"][0])), "tier codes must be unique"),
    (lambda d: d["events"][1].update(id="jazz-senja-2026"), "event (jazz-senja-2026): id used more than once"),
    (lambda d: d["events"][0].update(colour="red"), "event #1 (jazz-senja-2026): colour"),
])
def test_invalid_events_are_named_by_event_and_field(mutate, expected: str) -> None:
    data = copy.deepcopy(example_data())
    mutate(data)
    with pytest.raises(EventsFileError) as caught:
        parse_events(data)
    assert expected in str(caught.value)


def test_not_yaml_and_wrong_shape_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("events:\n  - id: [unclosed\n")
    with pytest.raises(EventsFileError, match="not valid YAML at line"):
        load_events_file(broken)
    with pytest.raises(EventsFileError, match="list under `events:`"):
        parse_events({"event": []})
    with pytest.raises(EventsFileError, match="cannot read"):
        load_events_file(tmp_path / "missing.yaml")


async def test_one_bad_event_means_nothing_is_written(services: Services) -> None:
    data = copy.deepcopy(example_data())
    data["events"][0]["id"] = "brand-new-event"
    data["events"][1]["tiers"][0]["capacity"] = "lots"
    with pytest.raises(EventsFileError):
        parse_events(data)
    assert await services.catalog.get("brand-new-event") is None


async def test_reimport_upserts_and_capacity_moves_available(services: Services) -> None:
    await services.orders.reserve(acct(1), "jazz-senja-2026", {"EARLY": 3}, buyer())
    data = copy.deepcopy(example_data())
    data["events"][0]["title"] = "Jazz Senja 2026 (new line-up)"
    data["events"][0]["tiers"][0]["capacity"] = 120
    report = await services.catalog.import_events(parse_events(data))
    assert report.updated == ["jazz-senja-2026", "workshop-ui-bandung"] and report.created == []
    listing = await services.catalog.get("jazz-senja-2026")
    assert listing.event.title == "Jazz Senja 2026 (new line-up)"
    early = listing.tier("EARLY")
    assert (early.capacity, early.available, early.pending) == (120, 117, 3)
    await assert_invariant(services)


async def test_capacity_below_sold_is_refused_and_nothing_changes(services: Services) -> None:
    order = await services.orders.reserve(acct(1), "jazz-senja-2026", {"VIP": 2}, buyer())
    await services.orders.pay(order.id)
    data = copy.deepcopy(example_data())
    data["events"][0]["title"] = "Should not be written"
    data["events"][0]["tiers"][2]["capacity"] = 1
    with pytest.raises(CapacityError) as caught:
        await services.catalog.import_events(parse_events(data))
    assert "jazz-senja-2026" in str(caught.value) and "VIP" in str(caught.value) and "2 seats" in str(caught.value)
    listing = await services.catalog.get("jazz-senja-2026")
    assert listing.event.title != "Should not be written"
    assert listing.tier("VIP").capacity == 50
    await assert_invariant(services)


async def test_a_tier_left_out_of_the_file_is_withdrawn_not_deleted(services: Services) -> None:
    data = copy.deepcopy(example_data())
    data["events"][0]["tiers"] = data["events"][0]["tiers"][:2]
    report = await services.catalog.import_events(parse_events(data))
    assert report.tiers_withdrawn == ["jazz-senja-2026:VIP"]
    listing = await services.catalog.get("jazz-senja-2026")
    assert [t.code for t in listing.tiers] == ["EARLY", "REG"]
    assert await services.store.inventory.get("jazz-senja-2026:VIP") is not None
