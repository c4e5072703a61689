"""People, not Telegram ids: addresses, the link table, who may do what, and old documents read by the models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.accounts import (
    AccountService,
    AddressProblem,
    InvalidAddress,
    account_id_of,
    parse_address,
    telegram_address,
    telegram_id,
    whatsapp_address,
    whatsapp_number,
)
from bot.config import Settings
from bot.errors import EventsFileError
from bot.event_file import parse_events
from bot.services import Services, build_services
from storage.documents import DraftDoc, EventDoc, OrderDoc, RefundRecord, TicketDoc, UserDoc
from storage.store import Store
from tests.conftest import ADMIN_ID, ORGANISER_ID, FakeClock
from tests.helpers import acct

AYU = "whatsapp:+6281234567890"
WHEN = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


# ---- addresses ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "address"), [
    (900000002, "telegram:900000002"),
    ("900000002", "telegram:900000002"),
    (" telegram:42 ", "telegram:42"),
    ("Telegram:42", "telegram:42"),
    ("whatsapp:+6281234567890", AYU),
    ("whatsapp:+62 812-3456-7890", AYU),
    ("whatsapp: +62 (812) 3456 7890", AYU),
    ("whatsapp:+14155550123", "whatsapp:+14155550123"),
])
def test_addresses_are_parsed_and_normalised(given: str | int, address: str) -> None:
    assert parse_address(given) == address
    assert parse_address(address) == address  # normalised is a fixed point


@pytest.mark.parametrize(("given", "problem"), [
    ("", AddressProblem.EMPTY),
    ("   ", AddressProblem.EMPTY),
    ("signal:+6281234567890", AddressProblem.UNKNOWN_CHANNEL),
    ("+6281234567890", AddressProblem.UNKNOWN_CHANNEL),  # a bare number is not a Telegram id nor an address
    ("@sinta", AddressProblem.UNKNOWN_CHANNEL),
    (True, AddressProblem.UNKNOWN_CHANNEL),
    ("telegram:", AddressProblem.BAD_TELEGRAM_ID),
    ("telegram:-5", AddressProblem.BAD_TELEGRAM_ID),
    ("telegram:0", AddressProblem.BAD_TELEGRAM_ID),
    ("telegram:sinta", AddressProblem.BAD_TELEGRAM_ID),
    (-5, AddressProblem.BAD_TELEGRAM_ID),
    (0, AddressProblem.BAD_TELEGRAM_ID),
    ("whatsapp:081234567890", AddressProblem.BAD_NUMBER),  # no country code: no region is guessed
    ("whatsapp:+62", AddressProblem.BAD_NUMBER),
    ("whatsapp:+1234", AddressProblem.BAD_NUMBER),
    ("whatsapp:+62abc", AddressProblem.BAD_NUMBER),
    ("whatsapp:+6281234567890123456789", AddressProblem.BAD_NUMBER),
])
def test_what_is_not_an_address_is_refused_with_the_reason(given: str | int, problem: AddressProblem) -> None:
    with pytest.raises(InvalidAddress) as refused:
        parse_address(given)
    assert refused.value.problem is problem
    assert len(str(refused.value)) < 200


def test_a_refusal_quotes_only_a_bounded_part_of_what_was_given() -> None:
    with pytest.raises(InvalidAddress) as refused:
        parse_address("x" * 10_000)
    assert len(refused.value.text) <= 64 and len(str(refused.value)) < 250


def test_each_address_names_its_channel() -> None:
    assert telegram_address(7) == "telegram:7" and telegram_id("telegram:7") == 7
    assert telegram_id(AYU) is None and whatsapp_number(AYU) == "+6281234567890"
    assert whatsapp_number("telegram:7") is None
    assert whatsapp_address("+62 812 3456 7890") == AYU


# ---- the link table ----------------------------------------------------------------------------------------------

def test_an_address_nobody_linked_is_its_own_account() -> None:
    accounts = AccountService()
    assert accounts.resolve("telegram:7") == "telegram:7"
    assert accounts.resolve(AYU) == AYU
    assert accounts.addresses(AYU) == (AYU,)


def test_a_person_named_by_two_addresses_is_one_account_known_by_its_telegram_address() -> None:
    accounts = AccountService([(AYU, "telegram:7")])
    assert accounts.resolve(AYU) == accounts.resolve("telegram:7") == "telegram:7"
    assert accounts.addresses("telegram:7") == ("telegram:7", AYU)
    assert accounts.address_on("telegram:7", "whatsapp") == AYU
    assert account_id_of([AYU, "whatsapp:+6281111111111"]) == AYU  # no Telegram address: the first


def test_groups_sharing_an_address_are_one_person_and_load_replaces_the_event_links() -> None:
    accounts = AccountService([("telegram:1", AYU)])  # configured (the admin settings): kept across loads
    accounts.load([[AYU, "whatsapp:+6281111111111"], ["telegram:2", "whatsapp:+6282222222222"]])
    assert accounts.resolve("whatsapp:+6281111111111") == "telegram:1"
    assert set(accounts.addresses("telegram:1")) == {"telegram:1", AYU, "whatsapp:+6281111111111"}
    assert accounts.resolve("whatsapp:+6282222222222") == "telegram:2"

    accounts.load([])  # the events file no longer links them
    assert accounts.resolve("whatsapp:+6282222222222") == "whatsapp:+6282222222222"
    assert accounts.resolve("whatsapp:+6281111111111") == "whatsapp:+6281111111111"
    assert accounts.resolve(AYU) == "telegram:1"


def test_two_people_joined_by_a_third_group_become_one() -> None:
    accounts = AccountService()
    accounts.load([["telegram:1", AYU], ["telegram:2", "whatsapp:+6281111111111"],
                   [AYU, "whatsapp:+6281111111111"]])
    assert accounts.resolve("telegram:2") == accounts.resolve(AYU) == "telegram:1"


# ---- who may do what ---------------------------------------------------------------------------------------------

def _event(organisers: list[str], links: list[list[str]] | None = None) -> EventDoc:
    return EventDoc(id="gig", title="Gig", venue="Jakarta", starts_at=WHEN, ends_at=WHEN, organisers=organisers,
                    organiser_links=links or [])


async def test_the_access_rules(store: Store, clock: FakeClock) -> None:
    settings = Settings(_env_file=None, admin_ids=f"{ADMIN_ID},telegram:5/whatsapp:+6285555555555",  # type: ignore[call-arg]
                        admin_whatsapp="+6281111111111")
    services = build_services(settings, store, clock=clock)
    access = services.access
    event = _event([acct(ORGANISER_ID), AYU])

    assert access.is_admin(acct(ADMIN_ID)) and access.is_admin("whatsapp:+6281111111111")
    assert access.is_admin(services.accounts.resolve("whatsapp:+6285555555555"))  # linked to telegram:5
    assert access.is_admin("telegram:5")
    assert not access.is_admin(acct(ORGANISER_ID)) and not access.is_admin(AYU)
    assert access.admins() == {acct(ADMIN_ID), "telegram:5", "whatsapp:+6281111111111"}

    assert access.organises(acct(ORGANISER_ID), event) and access.organises(AYU, event)
    assert not access.organises(acct(ADMIN_ID), event) and not access.organises("telegram:9", event)
    assert access.door_staff(acct(ADMIN_ID), event) and access.door_staff(AYU, event)
    assert not access.door_staff("telegram:9", event)
    assert access.organisers(event) == [acct(ORGANISER_ID), AYU]


async def test_an_organiser_named_by_a_whatsapp_number_in_the_events_file_is_recognised(
    services: Services,
) -> None:
    spec = {
        "id": "wa-gig", "title": "WA Gig", "venue": "Bandung", "starts_at": "2026-12-20T19:00:00+07:00",
        "ends_at": "2026-12-20T22:00:00+07:00",
        "organisers": ["whatsapp:+62 812-3456-7890", [4242, "whatsapp:+6281111111111"]],
        "tiers": [{"code": "GA", "name": "General", "price": 50000, "capacity": 10}],
    }
    await services.catalog.import_events(parse_events({"events": [spec]}))
    listing = await services.catalog.definitions("wa-gig")
    assert listing is not None
    assert listing.event.organisers == [AYU, "telegram:4242"]

    ayu = services.accounts.resolve(AYU)
    assert ayu == AYU and services.access.organises(ayu, listing.event)
    assert [e.id for e in await services.access.organised_events(ayu)] == ["wa-gig"]
    linked = services.accounts.resolve("whatsapp:+6281111111111")  # the same person as Telegram 4242
    assert linked == "telegram:4242" and services.access.door_staff(linked, listing.event)
    assert await services.access.is_staff(linked)
    assert not await services.access.is_staff(services.accounts.resolve("whatsapp:+6282222222222"))

    # the check-in service asks the same rules
    assert services.checkin.may_check_in(listing.event, AYU)
    assert not services.checkin.may_check_in(listing.event, "whatsapp:+6282222222222")


async def test_another_process_learns_the_links_from_the_catalog(store: Store, clock: FakeClock,
                                                                 settings: Settings) -> None:
    importer, other = build_services(settings, store, clock=clock), build_services(settings, store, clock=clock)
    spec = {"id": "wa-gig", "title": "WA Gig", "venue": "Bandung", "starts_at": "2026-12-20T19:00:00+07:00",
            "ends_at": "2026-12-20T22:00:00+07:00", "organisers": [[77, "whatsapp:+6281111111111"]],
            "tiers": [{"code": "GA", "name": "General", "price": 50000, "capacity": 10}]}
    await importer.catalog.import_events(parse_events({"events": [spec]}))
    assert other.accounts.resolve("whatsapp:+6281111111111") == "whatsapp:+6281111111111"  # not loaded yet
    await other.catalog.events()  # its first read (at start: open_services does it)
    assert other.accounts.resolve("whatsapp:+6281111111111") == "telegram:77"


@pytest.mark.parametrize(("organisers", "said"), [
    (["whatsapp:0812"], "international form"),
    (["signal:1"], "is not an address"),
    ([[]], "1 to 5 addresses"),
    ([1.5], "a Telegram user id, an address"),
    ([{"id": 1}], "a Telegram user id, an address"),
])
def test_bad_organiser_entries_are_refused_by_event_and_field(organisers: list[object], said: str) -> None:
    spec = {"id": "gig-one", "title": "Gig", "venue": "Bandung", "starts_at": "2026-12-20T19:00:00+07:00",
            "ends_at": "2026-12-20T22:00:00+07:00", "organisers": organisers,
            "tiers": [{"code": "GA", "name": "General", "price": 50000, "capacity": 10}]}
    with pytest.raises(EventsFileError) as refused:
        parse_events({"events": [spec]})
    assert "gig-one" in str(refused.value) and "organisers" in str(refused.value) and said in str(refused.value)


# ---- documents in today's shape still read -----------------------------------------------------------------------

def test_old_documents_with_integer_ids_read_as_telegram_accounts() -> None:
    order = OrderDoc.model_validate({
        "_id": "KRC-2612-AAAAAAAAAA", "user_id": 900000001, "event_id": "gig",
        "lines": [{"tier": "GA", "name": "GA", "price": 1000, "qty": 1}], "seats": 1, "total": 1000,
        "buyer": {"name": "Sinta", "email": "s@example.com", "phone": "+6281234567890"}, "status": "paid",
        "created_at": WHEN, "expires_at": WHEN, "updated_at": WHEN,
        "refunds": {"r1": {"id": "r1", "refund_key": "k", "amount": 1000, "source": "karcis", "by": 900000003,
                           "at": WHEN, "status": "done"}},
    })
    assert order.user_id == "telegram:900000001" and order.buyer_address is None
    assert order.refunds["r1"].by == "telegram:900000003"
    assert RefundRecord.model_validate({**order.refunds["r1"].model_dump(), "by": None}).by is None
    ticket = TicketDoc.model_validate({"_id": "ABCDEFGHJK", "order_id": order.id, "seq": 1, "event_id": "gig",
                                       "tier": "GA", "tier_name": "GA", "holder_name": "Sinta",
                                       "user_id": 900000001, "issued_at": WHEN, "checked_in_by": 900000002})
    assert (ticket.user_id, ticket.checked_in_by) == ("telegram:900000001", "telegram:900000002")
    assert UserDoc.model_validate({"_id": 900000001, "pending_orders": 1}).id == "telegram:900000001"
    assert DraftDoc.model_validate({"_id": 900000001, "updated_at": WHEN}).id == "telegram:900000001"
    event = EventDoc.model_validate({"_id": "gig", "title": "Gig", "venue": "J", "starts_at": WHEN,
                                     "ends_at": WHEN, "organisers": [900000002]})
    assert event.organisers == ["telegram:900000002"] and event.organiser_links == []
    # and they are written back as strings
    assert UserDoc.model_validate({"_id": 5}).to_mongo()["_id"] == "telegram:5"
