"""`python -m bot sandbox`: the whole storefront on one laptop, in a browser, with no accounts and no internet.

One process, everything on 127.0.0.1, one URL to open:

    http://127.0.0.1:<port>/              the web chat (webchat.py): chat as a buyer, an organiser or an admin
    http://127.0.0.1:<port>/telegram/     the fake Bot API (telegram_api.py), which the bot long-polls
    http://127.0.0.1:<port>/midtrans/     the Midtrans simulator (midtrans.py): Snap, status API, payment page
    http://127.0.0.1:<service port>/      the real service, `bot.runtime.serve`: Midtrans notifications, health

The bot is the real one: the same handlers, services and jobs as `python -m bot run`, on the embedded store (or
on MONGODB_URI when it is set, in the database `karcis_sandbox`), loaded with examples/events.yaml (its dates
moved forward by whole weeks once they have passed; see sample_events.py) or --events.
The bot token and the Midtrans server key are made up afresh at every start; `.env` is not read.

Payment links: Telegram refuses URL buttons that lead to a local host, and the fake Bot API enforces that rule.
The sandbox's fake is told to accept exactly one local prefix, this run's Midtrans simulator
(``allowed_local_urls=["http://127.0.0.1:<port>/midtrans/"]``). Nothing else bends: the bot sends Snap's
``redirect_url`` in a URL button as it does in production, and the browser opens the simulator's payment page in a
new tab; Pay / Fail / Let expire there send signed notifications to the service's real endpoint. (That page's
"Back to the merchant" is the bot's finish link, https://t.me/<bot>?start=o_<order>; the sandbox maps it to its own
web chat, ``http://127.0.0.1:<port>/?start=o_<order>``, which sends `/start o_<order>` as Telegram would.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Final

from aiohttp import web
from yarl import URL

from bot.clock import utcnow
from bot.config import ConfigError, Settings, load_settings
from bot.errors import CannotStart, EventsFileError
from bot.sandbox.midtrans import MIDTRANS_STATE, MidtransState, create_midtrans_app
from bot.sandbox.sample_events import on_sale_copy
from bot.sandbox.telegram_api import TelegramSimulator, create_telegram_app
from bot.sandbox.webchat import Person, WebChatConfig, create_webchat_app
from webhooks.payment_notifications import PATH as NOTIFICATION_PATH

log = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"
TELEGRAM_PREFIX: Final = "/telegram"
MIDTRANS_PREFIX: Final = "/midtrans"
SANDBOX_DB: Final = "karcis_sandbox"
EXAMPLE_EVENTS: Final = Path(__file__).resolve().parents[2] / "examples" / "events.yaml"
BOT_NAME: Final = "Karcis"
BOT_USERNAME: Final = "KarcisBot"

BUYER: Final = Person(900000001, "Sinta", "Sinta", "buyer", "en")
ORGANISER: Final = Person(900000002, "Budi", "Budi (organiser)", "organiser", "id")
ADMIN: Final = Person(900000003, "Admin", "Admin", "admin", "en")
PEOPLE: Final = (BUYER, ORGANISER, ADMIN)
"""The organiser's id is the one examples/events.yaml lists; the admin's goes into ADMIN_IDS."""

TELEGRAM: Final = web.AppKey("sandbox_telegram", TelegramSimulator)
MIDTRANS: Final = web.AppKey("sandbox_midtrans", MidtransState)


def banner(url: str, *, hold_minutes: int | None = None) -> str:
    """What `python -m bot sandbox` prints once it is up: the one URL to open (the web chat), and how long holds
    last. (The service's own URL answers only Midtrans and health checks, so it is not shown.)"""
    minutes = hold_minutes if hold_minutes is not None else _hold_minutes()
    return (
        "\n"
        "  Karcis sandbox is running. Open this in your browser:\n"
        "\n"
        f"      {url}\n"
        "\n"
        "  Chat as Sinta (buyer), Budi (organiser) or Admin. The Telegram server, Midtrans and the store are\n"
        "  local stand-ins: this is a sandbox and no real money moves. Press Ctrl-C to stop.\n"
        f"  Seats are held for {minutes} minutes (RESERVATION_MINUTES); to watch a hold expire, start it with\n"
        "  RESERVATION_MINUTES=5 python -m bot sandbox (5 is the shortest hold).\n"
    )


def _hold_minutes() -> int:
    """RESERVATION_MINUTES as the sandbox's settings read it (they have been validated by the time this is shown)."""
    value = os.environ.get("RESERVATION_MINUTES", "").strip()
    return int(value) if value.isdigit() else int(Settings.model_fields["reservation_minutes"].default)


class _HideServiceUrl(logging.Filter):
    """Drops the service's "Karcis is running: polling, http://127.0.0.1:<port>" line: in the sandbox that URL is
    noise (it answers 404 at `/`); the banner gives the one URL to open."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Karcis is running")


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--port {port}: cannot listen on {HOST}:{port} ({exc.strerror or exc}). "
                          "Choose another port with --port.") from None
    return sock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def sandbox_settings(
    *, token: str, server_key: str, base_url: str, service_port: int, events_file: Path,
) -> Settings:
    """The service's settings: everything that points outside is pointed at this process; `.env` is ignored.

    RESERVATION_MINUTES, EXPIRY_SWEEP_SECONDS and SALE_DIGEST_SECONDS (the settings not given here) are read from
    the environment as `python -m bot run` reads them: `RESERVATION_MINUTES=5 python -m bot sandbox` shortens holds."""
    return load_settings(
        _env_file=None,
        mongodb_uri=os.environ.get("MONGODB_URI") or None,
        mongodb_db=SANDBOX_DB,
        telegram_bot_token=token,
        telegram_api_base_url=f"{base_url}{TELEGRAM_PREFIX}",
        midtrans_server_key=server_key,
        midtrans_client_key=None,
        midtrans_is_production=False,
        midtrans_snap_base_url=f"{base_url}{MIDTRANS_PREFIX}/snap/v1",
        midtrans_api_base_url=f"{base_url}{MIDTRANS_PREFIX}",
        public_url=None,
        port=service_port,
        admin_ids=frozenset({ADMIN.id}),
        events_file=events_file,
    )


def bot_link_to_webchat(base_url: str, url: str) -> str:
    """`https://t.me/<bot>?start=X` → this sandbox's web chat with `?start=X` (which sends `/start X`)."""
    link = URL(url)
    if link.host == "t.me" and link.path.strip("/").lower() == BOT_USERNAME.lower() and "start" in link.query:
        return str(URL(base_url + "/").with_query(start=link.query["start"]))
    return url


def create_sandbox_app(base_url: str, *, token: str, server_key: str, notification_url: str) -> web.Application:
    """The web chat at `base_url`, with the fake Bot API and the Midtrans simulator mounted on it.

    The three people are added to the fake (as having started the bot); `app[TELEGRAM]` is the fake's simulator
    and `app[MIDTRANS]` the Midtrans simulator's state."""
    telegram = TelegramSimulator(token, bot_name=BOT_NAME, bot_username=BOT_USERNAME,
                                 allowed_local_urls=[f"{base_url}{MIDTRANS_PREFIX}/"])
    for person in PEOPLE:
        telegram.add_user(person.id, person.first_name, language_code=person.language_code, started=True)
    midtrans = create_midtrans_app(server_key, public_base_url=base_url, notification_url=notification_url)
    midtrans[MIDTRANS_STATE].finish_link_rewrite = partial(bot_link_to_webchat, base_url)
    app = create_webchat_app(WebChatConfig(BOT_NAME, BOT_USERNAME, f"{TELEGRAM_PREFIX}/sandbox", PEOPLE))
    app[TELEGRAM] = telegram
    app[MIDTRANS] = midtrans[MIDTRANS_STATE]
    app.add_subapp(TELEGRAM_PREFIX, create_telegram_app(token, simulator=telegram))
    app.add_subapp(MIDTRANS_PREFIX, midtrans)
    return app


async def run_sandbox(
    *,
    port: int = 8000,
    events_file: Path | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Run the sandbox until `stop` is set (or SIGINT/SIGTERM). `ready(url)` gets the web chat's URL once all is up.

    `port` 0 picks a free port. Raises ConfigError if the port is taken or the events file is not there."""
    if events_file is not None and not events_file.is_file():
        raise ConfigError(f"events file not found: {events_file} (pass one with --events FILE)")
    stop = stop or asyncio.Event()
    sock = _listen(port)
    try:
        with tempfile.TemporaryDirectory(prefix="karcis-sandbox-") as scratch:
            if events_file is None:
                events_file, weeks = on_sale_copy(EXAMPLE_EVENTS, Path(scratch), utcnow())
                if weeks:
                    log.info("sample events moved %d week(s) forward so that they are on sale", weeks)
            await _serve_on(sock, events_file, stop, ready)
    finally:
        sock.close()


async def _serve_on(
    sock: socket.socket, events_file: Path, stop: asyncio.Event, ready: Callable[[str], None] | None,
) -> None:
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    service_port = _free_port()
    token = f"{secrets.randbelow(9 * 10**9) + 10**9}:AA{secrets.token_urlsafe(24)}"
    server_key = f"SB-Mid-server-sandbox-{secrets.token_urlsafe(18)}"
    settings = sandbox_settings(token=token, server_key=server_key, base_url=base_url, service_port=service_port,
                                events_file=events_file)

    app = create_sandbox_app(base_url, token=token, server_key=server_key,
                             notification_url=f"http://{HOST}:{service_port}{NOTIFICATION_PATH}")

    from bot.runtime import Running, serve  # the Telegram stack: imported only when the sandbox runs

    def started(running: Running) -> None:
        log.info("sandbox: the bot is running (%s on the local Telegram stand-in); holds last %d minutes",
                 running.mode.value, settings.reservation_minutes)
        if ready is not None:
            ready(f"{base_url}/")

    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    service_log, hide = logging.getLogger("karcis"), _HideServiceUrl()
    service_log.addFilter(hide)
    try:
        await web.SockSite(runner, sock).start()
        await serve(settings, stop=stop, ready=started, host=HOST)
    finally:
        service_log.removeFilter(hide)
        await runner.cleanup()


def main(*, port: int = 8000, events_file: Path | None = None) -> int:
    """`python -m bot sandbox`: run until Ctrl-C; 2 with a message if it cannot start.

    The events: --events FILE, else EVENTS_FILE (as `python -m bot run` loads it), else examples/events.yaml."""
    try:
        if events_file is None and os.environ.get("EVENTS_FILE", "").strip():
            events_file = Path(os.environ["EVENTS_FILE"].strip())
            if not events_file.is_file():
                raise ConfigError(f"EVENTS_FILE: file not found: {events_file}")
        asyncio.run(run_sandbox(port=port, events_file=events_file, ready=lambda url: print(banner(url), flush=True)))
    except (ConfigError, EventsFileError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except CannotStart as exc:  # MONGODB_URI set but not answering
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the service took over the signal
        pass
    print("Karcis sandbox stopped.", flush=True)
    return 0

