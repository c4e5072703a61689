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


def test_the_example_file_has_three_events_one_with_a_free_tier_one_in_bali() -> None:
    specs = load_events_file(EXAMPLES)
    assert len(specs) == 3
    assert any(t.price == 0 for s in specs for t in s.tiers)
    # +07:00 times are Jakarta time, stored in UTC
    assert specs[0].starts_at.isoformat() == "2026-12-31T12:00:00+00:00"
    assert [s.timezone for s in specs] == ["Asia/Jakarta", "Asia/Jakarta", "Asia/Makassar"]
    assert specs[2].starts_at.isoformat() == "2027-01-09T11:00:00+00:00"  # 19:00 WITA


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["events"][1]["tiers"][0].update(price=-5),
     'event #2 (workshop-ui-bandung), tier #1 ("FREE"), price: -5 is too small: must be 0 or more'),
    (lambda d: d["events"][1]["tiers"][1].update(price=99000.5), 'event #2 (workshop-ui-bandung), tier #2 ("PRO"), '
     "price: 99000.5 has decimals: must be whole rupiah, written with digits only (e.g. 99000)"),
    (lambda d: d["events"][1]["tiers"][1].update(capacity=1.5), 'tier #2 ("PRO"), capacity: YAML reads this as 1.5 '
     "(a dot is a decimal point there), not 1.500: write 1500"),
    (lambda d: d["events"][0].update(id="Jazz Senja!"), 'event #1 (Jazz Senja!), id: "Jazz Senja!" does not fit an '
     "event id: use 3–32 characters: lowercase letters a–z, digits 0–9 and dashes (-)"),
    (lambda d: d["events"][0].pop("venue"), "event #1 (jazz-senja-2026), venue: is missing"),
    (lambda d: d["events"][0].update(ends_at="2026-12-30T10:00:00+07:00"),
     "event #1 (jazz-senja-2026), ends_at: the event ends before (or when) it starts"),
    (lambda d: d["events"][0]["tiers"].append(dict(d["events"][0]["tiers"][0])),
     "event #1 (jazz-senja-2026), tiers (#1, #4): the tier code EARLY is used more than once"),
    (lambda d: d["events"][1].update(id="jazz-senja-2026"),
     'event #2 (jazz-senja-2026), id: "jazz-senja-2026" is already the id of event #1'),
    (lambda d: d["events"][0].update(colour="red"), "event #1 (jazz-senja-2026), colour: is not a field of an event"),
    (lambda d: d["events"][0]["tiers"][0].update(code="EARLY-BIRD"), 'tier #1 ("EARLY-BIRD"), code: "EARLY-BIRD" '
     "does not fit a tier code: use 1–12 letters A–Z or digits 0–9, no spaces or dashes"),
    (lambda d: d["events"][0]["sales"].update(opens_at="2026-12-31T22:00:00+07:00"),
     "event #1 (jazz-senja-2026), sales: the sales window is reversed: sales.closes_at must be after "
     "sales.opens_at"),
    (lambda d: d["events"][0].update(starts_at="31/12/2026 19:00"), 'event #1 (jazz-senja-2026), starts_at: '
     '"31/12/2026 19:00" is not a date and time in the expected format: write it like 2026-12-31T19:00:00+07:00'),
    (lambda d: d["events"][1]["tiers"][1].update(capacity="1.500"),
     'tier #2 ("PRO"), capacity: "1.500" is not a plain number: write 1500'),
])
def test_invalid_events_are_named_by_event_and_field(mutate, expected: str) -> None:
    data = copy.deepcopy(example_data())
    mutate(data)
    with pytest.raises(EventsFileError) as caught:
        parse_events(data)
    assert expected in str(caught.value)
    assert "pattern" not in str(caught.value) and "^" not in str(caught.value)  # no regular expressions


def test_a_price_with_a_thousands_dot_says_what_to_write(tmp_path: Path) -> None:
    """YAML reads `250.000` as the float 250.0: the message says so and what to write instead."""
    path = tmp_path / "events.yaml"
    path.write_text(EXAMPLES.read_text().replace("price: 250000", "price: 250.000"))
    with pytest.raises(EventsFileError) as caught:
        load_events_file(path)
    assert ('event #1 (jazz-senja-2026), tier #2 ("REG"), price: YAML reads this as 250.0 (a dot is a decimal point '
            "there), not 250.000: write 250000, without dots or commas") in str(caught.value)


def test_every_mistake_is_reported_at_once() -> None:
    """Field errors and cross-field rules of one event, and of the next, in one message, one line each."""
    data = copy.deepcopy(example_data())
    first, second, _ = data["events"]
    first["tiers"][1]["price"] = 250.0
    first["ends_at"] = "2026-12-30T10:00:00+07:00"
    first["sales"]["opens_at"] = "2026-12-31T22:00:00+07:00"
    first["tiers"][2]["code"] = "reg"
    second["id"] = "jazz-senja-2026"
    second["starts_at"] = "16/01/2027 09:00"
    with pytest.raises(EventsFileError) as caught:
        parse_events(data)
    lines = str(caught.value).splitlines()
    assert lines[0] == "Invalid events file (8 problems); nothing was imported:"
    assert [line.split(",")[0].strip() for line in lines[1:]] == ["event #1 (jazz-senja-2026)"] * 6 + [
        "event #2 (jazz-senja-2026)"] * 2
    text = str(caught.value)
    for fragment in ('tier #2 ("REG"), price', "ends_at: the event ends before", "the tier code REG is used more",
                     "sales: the sales window is reversed", "sales.closes_at: sales close after the event has ended",
                     "starts_at:", "is already the id of event #1"):
        assert fragment in text


def test_an_event_in_the_past_is_a_warning_not_an_error() -> None:
    from datetime import UTC, datetime

    from bot.event_file import past_event_warnings

    specs = parse_events(example_data())  # not refused
    assert past_event_warnings(specs, datetime(2026, 12, 1, tzinfo=UTC)) == []
    [warning] = past_event_warnings(specs, datetime(2027, 1, 9, tzinfo=UTC))
    assert warning.startswith("event #1 (jazz-senja-2026): it ended on 2026-12-31 17:30 UTC, which is in the past")


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
    assert report.updated == ["jazz-senja-2026", "workshop-ui-bandung", "kecak-uluwatu-2027"]
    assert report.created == []
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
