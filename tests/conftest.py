"""Shared fixtures: a store on the embedded in-memory backend and, for storage and lifecycle tests, the same
store over a real TCP connection (MONGODB_TEST_URI, or a mongoeco server this run starts)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.event_file import load_events_file
from bot.sandbox.midtrans import MidtransSimulator
from bot.sandbox.telegram import FakeTelegram
from bot.services import Services, build_services
from storage.store import Store, close_store, open_store
from tests.mongo_server import MongoecoServer, find_mongoeco_python

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "events.yaml"
BUYER_ID = 900000001
ORGANISER_ID = 900000002
ADMIN_ID = 900000003
SERVICE_SERVER_KEY = "SB-Mid-server-RuntimeTestKey0123456789"
"""The `midtrans` fixture's server key, which the tests that run the whole service configure it with."""


class FakeClock:
    """A clock tests move by hand. Starts inside the example events' sales windows."""

    def __init__(self, start: datetime = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def wire_uri() -> Iterator[str]:
    """A MongoDB URI over TCP: MONGODB_TEST_URI, or a mongoeco server started for this run."""
    if os.environ.get("MONGODB_TEST_URI"):
        yield os.environ["MONGODB_TEST_URI"]
        return
    python = find_mongoeco_python()
    if python is None:
        pytest.skip("no MongoDB over TCP: set MONGODB_TEST_URI, or run .ci/mongoeco-venv.sh (needs Python 3.13) "
                    "to let the tests start a mongoeco server")
    with MongoecoServer(python) as server:
        yield server.uri


@pytest.fixture(params=["memory", "wire"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A fresh, indexed store: the embedded in-memory one, then the same tests over TCP."""
    if request.param == "memory":
        opened = open_store(None, "karcis_test")
    else:
        uri = request.getfixturevalue("wire_uri")
        opened = open_store(uri, f"karcis_test_{uuid.uuid4().hex[:12]}")
    await opened.ensure_indexes()
    try:
        yield opened
    finally:
        if not opened.embedded:
            await opened.db.client.drop_database(opened.db.name)
        close_store(opened)


@pytest.fixture
async def memory_store() -> AsyncIterator[Store]:
    opened = open_store(None, "karcis_test")
    await opened.ensure_indexes()
    yield opened


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, admin_ids=frozenset({ADMIN_ID}))  # type: ignore[call-arg]


async def make_services(store: Store, settings: Settings, clock: FakeClock, *, events: bool = True) -> Services:
    services = build_services(settings, store, clock=clock)
    if events:
        await services.catalog.import_events(load_events_file(EXAMPLES))
    return services


@pytest.fixture
async def services(store: Store, settings: Settings, clock: FakeClock) -> Services:
    """The domain services over `store` (both backends), with the example events imported."""
    return await make_services(store, settings, clock)


@pytest.fixture
async def mem_services(memory_store: Store, settings: Settings, clock: FakeClock) -> Services:
    """The domain services over the in-memory store only, with the example events imported."""
    return await make_services(memory_store, settings, clock)


@pytest.fixture
async def kit(memory_store: Store, settings: Settings, clock: FakeClock) -> AsyncIterator[Any]:
    """The Telegram handlers in a real PTB Application over the fake Bot API (see tests/handlers_kit.py)."""
    from tests.handlers_kit import open_kit

    async with open_kit(memory_store, settings, clock) as bot:
        yield bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on 127.0.0.1 and a free port, with no users (a test file that wants some overrides it)."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def midtrans() -> AsyncIterator[MidtransSimulator]:
    """The Midtrans simulator on 127.0.0.1 and a free port, with `SERVICE_SERVER_KEY`."""
    async with MidtransSimulator(SERVICE_SERVER_KEY) as sim:
        yield sim
