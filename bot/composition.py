"""The composition root: opens the store and wires the services for `python -m bot`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.event_file import load_events_file
from bot.services import Services, build_services
from storage.migrate import migrate
from storage.store import close_store, open_store

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
        await store.ensure_indexes()
        await migrate(store.db)  # documents from before accounts get account ids (once; storage/migrate.py)
        services = build_services(settings, store)
        if settings.events_file is not None:
            report = await services.catalog.import_events(load_events_file(settings.events_file))
            log.info("events file %s: %d created, %d updated", settings.events_file,
                     len(report.created), len(report.updated))
        await services.catalog.events()  # loads the organisers' address links (bot/accounts.py)
        repaired = await services.reconcile(settle_seconds=0.0 if store.embedded else reconcile_settle_seconds)
        if repaired.changed:
            log.warning("reconcile repaired %d tier(s) at start-up", len(repaired.tiers))
        yield services
    finally:
        close_store(store)
