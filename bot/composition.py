"""The composition root: opens the store and wires the services for `python -m bot`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.clock import utcnow
from bot.config import Settings
from bot.errors import CannotStart
from bot.event_file import EventSpec, load_events_file, past_event_warnings
from bot.services import Services, build_services
from storage.migrate import migrate
from storage.store import Store, close_store, open_store, server_hosts, unreachable_reason

log = logging.getLogger("karcis")

EMBEDDED_WARNING = (
    "MONGODB_URI is not set: using the embedded in-memory store. Nothing is persisted; "
    "every order and ticket is gone when this process stops."
)


@asynccontextmanager
async def open_services(settings: Settings, *, reconcile_settle_seconds: float = 1.0) -> AsyncIterator[Services]:
    """Open the database, create indexes, migrate old documents, load EVENTS_FILE, repair crash drift; close
    everything on exit."""
    uri = settings.mongodb_uri.get_secret_value() if settings.mongodb_uri else None
    store = open_store(uri, settings.mongodb_db)
    if store.embedded:
        log.warning(EMBEDDED_WARNING)
    try:
        await _check_reachable(store, uri)
        await store.ensure_indexes()
        await migrate(store.db)  # documents from before accounts get account ids (once; storage/migrate.py)
        services = build_services(settings, store)
        if settings.events_file is not None:
            specs = load_events_file(settings.events_file)
            _warn_of_past_events(specs)
            report = await services.catalog.import_events(specs)
            log.info("events file %s: %d created, %d updated", settings.events_file,
                     len(report.created), len(report.updated))
        await services.catalog.events()  # loads the organisers' address links (bot/accounts.py)
        repaired = await services.reconcile(settle_seconds=0.0 if store.embedded else reconcile_settle_seconds)
        if repaired.changed:
            log.warning("reconcile repaired %d tier(s) at start-up", len(repaired.tiers))
        yield services
    finally:
        close_store(store)


def _warn_of_past_events(specs: list[EventSpec]) -> None:
    for warning in past_event_warnings(specs, utcnow()):
        log.warning("events file: %s", warning)


async def _check_reachable(store: Store, uri: str | None) -> None:
    """A MongoDB that does not answer is one line (CannotStart), not a driver traceback."""
    reason = await unreachable_reason(store)
    if reason is not None and uri is not None:
        raise CannotStart(f"Cannot start: MongoDB at {server_hosts(uri)} (MONGODB_URI) did not answer ({reason}). "
                          "Check MONGODB_URI and that the server runs and lets this machine in.")
