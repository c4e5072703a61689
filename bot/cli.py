"""`python -m bot`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.clock import to_wib
from bot.composition import open_services
from bot.config import ConfigError, Settings, load_settings
from bot.errors import EventsFileError
from bot.event_file import load_events_file


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
    sandbox.add_argument("--events", type=Path, metavar="FILE", help="events file (default examples/events.yaml)")
    return parser


async def _events_import(settings: Settings, path: Path) -> int:
    specs = load_events_file(path)  # validate before touching the database
    async with open_services(settings) as services:
        report = await services.catalog.import_events(specs)
    print(f"Imported {len(specs)} event(s) from {path}: {len(report.created)} created, {len(report.updated)} updated.")
    for change in report.capacity_changes:
        print(f"  capacity {change}")
    for tier in report.tiers_withdrawn:
        print(f"  tier {tier} is no longer in the file: withdrawn from sale (its tickets stay valid)")
    return 0


async def _events_list(settings: Settings) -> int:
    async with open_services(settings) as services:
        events = await services.catalog.events()
        if not events:
            print("No events. Import some with: python -m bot events import examples/events.yaml")
        for event in events:
            listing = await services.catalog.get(event.id)
            start = to_wib(event.starts_at).strftime("%Y-%m-%d %H:%M WIB")
            print(f"{event.id}  {event.title}  [{event.status}]  {start}  @ {event.venue}")
            for tier in listing.tiers if listing else []:
                print(f"    {tier.code:<12} {tier.name:<24} Rp{tier.price:>12,}  "
                      f"{tier.available:>6} available {tier.pending:>5} pending {tier.sold:>6} sold "
                      f"/ {tier.capacity}".replace(",", "."))
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
            from bot.runtime import serve  # imports the Telegram stack: only when it runs

            asyncio.run(serve(settings))
            return 0
    except (ConfigError, EventsFileError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 1
