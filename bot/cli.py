"""`python -m bot`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.clock import in_zone, utcnow, zone_name
from bot.composition import open_services
from bot.config import ConfigError, Settings, load_settings
from bot.errors import CannotStart, EventsFileError
from bot.event_file import load_events_file, past_event_warnings
from storage.documents import EventDoc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Karcis: a ticket storefront in Telegram.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    events = commands.add_parser("events", help="import or list the events on sale")
    events_commands = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    import_cmd = events_commands.add_parser("import", help="validate an events YAML file and upsert its events")
    import_cmd.add_argument("file", type=Path)
    events_commands.add_parser("list", help="list events and their stock")
    commands.add_parser("run", help="run the bot, the payment webhook and the jobs (polling; webhook if PUBLIC_URL)")
    sandbox = commands.add_parser("sandbox", help="the whole storefront in a browser, no accounts, no real money")
    sandbox.add_argument("--port", type=int, default=8000, help="port of the web chat (default 8000; 0: any free port)")
    sandbox.add_argument("--events", type=Path, metavar="FILE",
                         help="events file (default: EVENTS_FILE if set, else examples/events.yaml)")
    return parser


EMBEDDED_IMPORT_REFUSED = (
    "Not imported: MONGODB_URI is not set, so there is no database to import into (the embedded store lasts only "
    "as long as one command). Set MONGODB_URI to your MongoDB to import, or set EVENTS_FILE={path} instead: "
    "`python -m bot run` and `python -m bot sandbox` load that file at every start."
)
EMBEDDED_EMPTY = (
    "No events: MONGODB_URI is not set, so this lists the embedded store, which starts empty in every command. "
    "Set MONGODB_URI to list your database, or EVENTS_FILE=FILE to list the events of that file."
)


async def _events_import(settings: Settings, path: Path) -> int:
    """Validate, then upsert. On the embedded store nothing would outlive the command: the file is checked, and
    the import refused (exit 2) rather than reported as done (see docs/operators.md)."""
    specs = load_events_file(path)  # validate before touching the database
    for warning in past_event_warnings(specs, utcnow()):
        print(f"warning: {warning}", file=sys.stderr)
    if settings.uses_embedded_store:
        ids = ", ".join(s.id for s in specs)
        print(f"{path} is valid: {_count(len(specs), 'event')} ({ids}).", file=sys.stderr)
        print(EMBEDDED_IMPORT_REFUSED.format(path=path), file=sys.stderr)
        return 2
    async with open_services(settings) as services:
        report = await services.catalog.import_events(specs)
    print(f"Imported {_count(len(specs), 'event')} from {path}: {len(report.created)} created, "
          f"{len(report.updated)} updated.")
    for change in report.capacity_changes:
        print(f"  capacity {change}")
    for tier in report.tiers_withdrawn:
        print(f"  tier {tier} is no longer in the file: withdrawn from sale (its tickets stay valid)")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def event_time(event: EventDoc, moment: datetime) -> str:
    """A time about an event, in the event's zone with its name: `2026-12-31 19:00 WITA` (the one place that
    decides how the command line shows an event's times)."""
    return f"{in_zone(moment, event.timezone):%Y-%m-%d %H:%M} {zone_name(event.timezone)}"


def price_text(price: int) -> str:
    """The house format, `Rp150.000`; a free tier is `Free`."""
    return "Free" if price == 0 else f"Rp{price:,}".replace(",", ".")


TIER_COLUMNS = ("code", "tier", "price", "available", "pending", "sold", "capacity")
_NUMERIC = {"price", "available", "pending", "sold", "capacity"}


def tier_table(rows: Sequence[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Rows under TIER_COLUMNS, every column as wide as its widest cell; numbers right-aligned."""
    table = [TIER_COLUMNS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(TIER_COLUMNS))]
    lines = []
    for row in table:
        cells = [cell.rjust(width) if name in _NUMERIC else cell.ljust(width)
                 for name, cell, width in zip(TIER_COLUMNS, row, widths, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


async def _events_list(settings: Settings) -> int:
    async with open_services(settings) as services:
        events = await services.catalog.events()
        if not events:
            print(EMBEDDED_EMPTY if settings.uses_embedded_store
                  else f"No events in the database {settings.mongodb_db}. Import an events file with: "
                       "python -m bot events import FILE (see examples/events.yaml)")
            return 0
        listings = [(event, await services.catalog.get(event.id)) for event in events]
    for number, (event, listing) in enumerate(listings):
        if number:
            print()
        print(f"{event.id}  [{event.status}]  {event.title}")
        print(f"  {event_time(event, event.starts_at)} – {event_time(event, event.ends_at)}, {event.venue}")
        if event.sales_open_at or event.sales_close_at:
            closes = event_time(event, event.sales_close_at or event.ends_at)
            opens = f"{event_time(event, event.sales_open_at)} – " if event.sales_open_at else "until "
            print(f"  sales: {opens}{closes}")
        rows = [(t.code, t.name, price_text(t.price), str(t.available), str(t.pending), str(t.sold), str(t.capacity))
                for t in (listing.tiers if listing else [])]
        for line in tier_table(rows):
            print(line)
    return 0


def _run(settings: Settings) -> int:
    from bot.runtime import serve  # imports the Telegram stack: only when it runs

    asyncio.run(serve(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "sandbox":  # makes its own settings: needs no environment at all
        from bot.sandbox.runner import main as sandbox

        return sandbox(port=args.port, events_file=args.events)
    try:
        settings = load_settings()
        if args.command == "events" and args.events_command == "import":
            return asyncio.run(_events_import(settings, args.file))
        if args.command == "events" and args.events_command == "list":
            return asyncio.run(_events_list(settings))
        if args.command == "run":
            return _run(settings)
    except (ConfigError, EventsFileError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except CannotStart as exc:  # Telegram or MongoDB unreachable: one line, exit 1 (a retry may succeed)
        print(exc, file=sys.stderr)
        return 1
    return 1
