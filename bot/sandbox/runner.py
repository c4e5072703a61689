"""`python -m bot sandbox`: the whole storefront on one laptop, in a browser, with no accounts and no internet.

One process, everything on 127.0.0.1, one URL to open:

    http://127.0.0.1:<port>/              the web chat (webchat.py): chat as a buyer, an organiser or an admin
    http://127.0.0.1:<port>/telegram/     the fake Bot API (telegram/), which the bot long-polls
    http://127.0.0.1:<port>/midtrans/     the Midtrans simulator (midtrans/): Snap, status API, payment page
    http://127.0.0.1:<port>/whatsapp/     the WhatsApp Cloud API simulator (whatsapp/): Graph API, /sandbox/...
    http://127.0.0.1:<service port>/      the real service, `bot.runtime.serve`: Midtrans notifications, health,
                                          the ticket pages (/t/<code>) the QRs of new tickets carry

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
web chat, ``http://127.0.0.1:<port>/?start=o_<order>``, which sends `/start o_<order>` as Telegram would. Likewise
the ticket page's "Check in with Telegram" opens ``http://127.0.0.1:<port>/?start=t_<code>#<Budi's id>``, Budi's
chat; it offers no WhatsApp button, which no local link could serve.)

WhatsApp: the same process serves the WhatsApp Cloud API simulator under /whatsapp/ (its Graph API at
/whatsapp/v23.0, its user-acting /whatsapp/sandbox/... routes for the web chat). The service's WHATSAPP_* settings
point at it, with an access token, app secret and verify token made up at every start (never logged); once the
service is up, the simulator registers the service's webhook with Meta's verification handshake. Dewi is a
WhatsApp buyer; Budi has a WhatsApp number too, linked to his Telegram account as the sample events' organiser, so
a ticket bought on one channel checks in on the other.
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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final

import yaml
from aiohttp import web
from yarl import URL

from bot.clock import utcnow
from bot.config import ConfigError, Settings, load_settings
from bot.errors import CannotStart, EventsFileError
from bot.links import Links
from bot.sandbox.midtrans import MIDTRANS_STATE, MidtransState, create_midtrans_app
from bot.sandbox.sample_events import on_sale_copy
from bot.sandbox.telegram import TelegramSimulator, create_telegram_app
from bot.sandbox.webchat import Person, WebChatConfig, WhatsAppPerson, create_webchat_app
from bot.sandbox.whatsapp import (
    GRAPH_VERSION,
    WebhookVerificationError,
    WhatsAppSimulator,
    create_whatsapp_app,
)
from webhooks.payment_notifications import PATH as NOTIFICATION_PATH

if TYPE_CHECKING:
    from bot.runtime import Running  # imported at run time only when the sandbox runs (_serve_on)

log = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"
TELEGRAM_PREFIX: Final = "/telegram"
MIDTRANS_PREFIX: Final = "/midtrans"
WHATSAPP_PREFIX: Final = "/whatsapp"
WHATSAPP_WEBHOOK_PATH: Final = "/whatsapp/webhook"  # the service's (webhooks/whatsapp.py PATH)
WHATSAPP_PHONE_NUMBER_ID: Final = "106540352242922"
SANDBOX_DB: Final = "karcis_sandbox"
EXAMPLE_EVENTS: Final = Path(__file__).resolve().parents[2] / "examples" / "events.yaml"
BOT_NAME: Final = "Karcis"
BOT_USERNAME: Final = "KarcisBot"

BUYER: Final = Person(900000001, "Sinta", "Sinta", "buyer", "en")
ORGANISER: Final = Person(900000002, "Budi", "Budi (organiser)", "organiser", "id")
ADMIN: Final = Person(900000003, "Admin", "Admin", "admin", "en")
PEOPLE: Final = (BUYER, ORGANISER, ADMIN)
"""The organiser's id is the one examples/events.yaml lists; the admin's goes into ADMIN_IDS."""

WA_BUYER: Final = WhatsAppPerson("+6281234500001", "Dewi", "Dewi (WhatsApp)", "buyer")
WA_ORGANISER: Final = WhatsAppPerson("+6281234500002", "Budi", "Budi (WhatsApp)", "organiser")
WA_PEOPLE: Final = (WA_BUYER, WA_ORGANISER)
"""Budi's WhatsApp number is linked to his Telegram id in the sandbox's copy of the events (with_whatsapp_organiser)."""

TELEGRAM: Final = web.AppKey("sandbox_telegram", TelegramSimulator)
MIDTRANS: Final = web.AppKey("sandbox_midtrans", MidtransState)
WHATSAPP: Final = web.AppKey("sandbox_whatsapp", WhatsAppSimulator)


@dataclass(frozen=True)
class WhatsAppSecrets:
    """What the service and the simulator share, made up at every start (never logged)."""

    access_token: str
    app_secret: str
    verify_token: str

    @classmethod
    def fresh(cls) -> WhatsAppSecrets:
        return cls(f"EAAKsandbox{secrets.token_urlsafe(32)}", secrets.token_hex(16), secrets.token_urlsafe(24))


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
        "  Chat as Sinta (buyer), Budi (organiser) or Admin on Telegram, or as Dewi (buyer) or Budi on WhatsApp.\n"
        "  Telegram, WhatsApp, Midtrans and the store are local stand-ins: this is a sandbox and no real money\n"
        "  moves. Press Ctrl-C to stop.\n"
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
    whatsapp: WhatsAppSecrets | None = None,
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
        **(_whatsapp_settings(whatsapp, base_url) if whatsapp is not None else {}),
    )


def _whatsapp_settings(whatsapp: WhatsAppSecrets, base_url: str) -> dict[str, object]:
    return {
        "whatsapp_access_token": whatsapp.access_token,
        "whatsapp_phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
        "whatsapp_app_secret": whatsapp.app_secret,
        "whatsapp_verify_token": whatsapp.verify_token,
        "whatsapp_api_base_url": f"{base_url}{WHATSAPP_PREFIX}/{GRAPH_VERSION}",
    }


def with_whatsapp_organiser(events_file: Path) -> None:
    """In the sandbox's own copy of the events: the organiser Budi (his Telegram id) is also his WhatsApp number,
    one person named by two addresses (bot/event_file.py), so either chat of his may check tickets in."""
    data = yaml.safe_load(events_file.read_text(encoding="utf-8"))
    for event in data.get("events") or []:
        organisers = event.get("organisers") or []
        event["organisers"] = [
            [f"telegram:{ORGANISER.id}", f"whatsapp:{WA_ORGANISER.number}"] if entry == ORGANISER.id else entry
            for entry in organisers]
    events_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def bot_link_to_webchat(base_url: str, url: str, *, as_person: Person | None = None) -> str:
    """`https://t.me/<bot>?start=X` → this sandbox's web chat with `?start=X` (which sends `/start X`), in the
    chat of `as_person` when given (`#<id>`: the web chat opens as them), else the one it opens first."""
    link = URL(url)
    if link.host == "t.me" and link.path.strip("/").lower() == BOT_USERNAME.lower() and "start" in link.query:
        chat = URL(base_url + "/").with_query(start=link.query["start"])
        return str(chat.with_fragment(str(as_person.id)) if as_person is not None else chat)
    return url


def staff_link_to_webchat(base_url: str, url: str) -> str | None:
    """Where the ticket page's "Check in with ..." buttons lead in the sandbox (Links.check_in_rewrite): its
    Telegram and WhatsApp are local stand-ins that t.me and wa.me links never reach. The Telegram deep link
    opens this web chat as the organiser Budi with `/start t_<code>`, so the check-in happens in his chat as it
    would at a real door. Anything else, a wa.me link when WHATSAPP_DISPLAY_NUMBER is in the environment included,
    is dropped: the web chat cannot type into a WhatsApp chat, and a link to the real WhatsApp would leave the
    sandbox (Budi checks in on WhatsApp by sending `checkin <code>` in his WhatsApp chat)."""
    chat = bot_link_to_webchat(base_url, url, as_person=ORGANISER)
    return chat if chat != url else None


def create_sandbox_app(base_url: str, *, token: str, server_key: str, notification_url: str,
                       whatsapp: WhatsAppSecrets | None = None) -> web.Application:
    """The web chat at `base_url`, with the fake Bot API, the Midtrans simulator and the WhatsApp simulator mounted.

    The three people are added to the fake (as having started the bot); `app[TELEGRAM]` is the fake's simulator
    and `app[MIDTRANS]` the Midtrans simulator's state; `app[WHATSAPP]` the WhatsApp simulator, with the WhatsApp
    people as its users (the service's webhook is registered once it runs: register_whatsapp_webhook)."""
    telegram = TelegramSimulator(token, bot_name=BOT_NAME, bot_username=BOT_USERNAME,
                                 allowed_local_urls=[f"{base_url}{MIDTRANS_PREFIX}/"])
    for person in PEOPLE:
        telegram.add_user(person.id, person.first_name, language_code=person.language_code, started=True)
    midtrans = create_midtrans_app(server_key, public_base_url=base_url, notification_url=notification_url)
    midtrans[MIDTRANS_STATE].finish_link_rewrite = partial(bot_link_to_webchat, base_url)
    whatsapp = whatsapp or WhatsAppSecrets.fresh()
    wa = WhatsAppSimulator(access_token=whatsapp.access_token, app_secret=whatsapp.app_secret,
                           phone_number_id=WHATSAPP_PHONE_NUMBER_ID)
    wa.base_url = f"{base_url}{WHATSAPP_PREFIX}"  # the media download URLs it hands out
    for wa_person in WA_PEOPLE:
        wa.add_user(wa_person.number, wa_person.first_name)
    app = create_webchat_app(WebChatConfig(BOT_NAME, BOT_USERNAME, f"{TELEGRAM_PREFIX}/sandbox", PEOPLE,
                                           whatsapp_api=f"{WHATSAPP_PREFIX}/sandbox", whatsapp_people=WA_PEOPLE))
    app[TELEGRAM] = telegram
    app[MIDTRANS] = midtrans[MIDTRANS_STATE]
    app[WHATSAPP] = wa
    app.add_subapp(TELEGRAM_PREFIX, create_telegram_app(token, simulator=telegram))
    app.add_subapp(MIDTRANS_PREFIX, midtrans)
    app.add_subapp(WHATSAPP_PREFIX, create_whatsapp_app(wa))
    return app


WEBHOOK_ATTEMPTS: Final = 5


async def register_whatsapp_webhook(wa: WhatsAppSimulator, url: str, verify_token: str) -> bool:
    """Meta's verification handshake against the service's webhook (as an operator saving it in the App
    Dashboard), then the simulator delivers signed updates there. False (and a log line) if the service's
    WhatsApp door did not answer it: the Telegram chats work on, the WhatsApp ones get no answers."""
    for attempt in range(WEBHOOK_ATTEMPTS):
        try:
            await wa.configure_webhook(url, verify_token)
            log.info("sandbox: the WhatsApp simulator delivers to the service's webhook")
            return True
        except WebhookVerificationError as exc:
            reason = str(exc).replace(verify_token, "***")
        except OSError as exc:
            reason = type(exc).__name__
        if attempt + 1 < WEBHOOK_ATTEMPTS:
            await asyncio.sleep(0.5)
    log.warning("sandbox: the service did not answer the WhatsApp webhook handshake (%s); the WhatsApp chats "
                "get no answers in this run", reason)
    return False


def serve_ticket_pages_locally(links: Links, service_port: int, webchat_url: str) -> str:
    """New tickets' QRs carry `http://127.0.0.1:<service port>/t/<code>`, the service's own ticket page, so the page
    opens in this machine's browser. A sandbox-only exception: PUBLIC_URL must be https (Meta and Telegram must
    reach it) and, set, would make the service ask the Telegram stand-in for a webhook; so the sandbox leaves
    PUBLIC_URL unset and gives only the links the local address, before anyone can buy. The page's staff
    buttons lead into the web chat at `webchat_url` (staff_link_to_webchat)."""
    links.public_url = f"http://{HOST}:{service_port}"
    links.check_in_rewrite = partial(staff_link_to_webchat, webchat_url)
    return links.public_url


async def run_sandbox(
    *,
    port: int = 8000,
    events_file: Path | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[str], None] | None = None,
    running: Callable[[Running], None] | None = None,
) -> None:
    """Run the sandbox until `stop` is set (or SIGINT/SIGTERM). `ready(url)` gets the web chat's URL once all is up;
    `running` (tests) the service as `bot.runtime.serve` hands it over.

    `port` 0 picks a free port. Raises ConfigError if the port is taken or the events file is not there."""
    if events_file is not None and not events_file.is_file():
        raise ConfigError(f"events file not found: {events_file} (pass one with --events FILE)")
    stop = stop or asyncio.Event()
    sock = _listen(port)
    try:
        with tempfile.TemporaryDirectory(prefix="karcis-sandbox-") as scratch:
            if events_file is None:
                events_file, weeks = on_sale_copy(EXAMPLE_EVENTS, Path(scratch), utcnow())
                with_whatsapp_organiser(events_file)
                if weeks:
                    log.info("sample events moved %d week(s) forward so that they are on sale", weeks)
            await _serve_on(sock, events_file, stop, ready, running)
    finally:
        sock.close()


async def _serve_on(
    sock: socket.socket, events_file: Path, stop: asyncio.Event, ready: Callable[[str], None] | None,
    on_running: Callable[[Running], None] | None = None,
) -> None:
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    service_port = _free_port()
    token = f"{secrets.randbelow(9 * 10**9) + 10**9}:AA{secrets.token_urlsafe(24)}"
    server_key = f"SB-Mid-server-sandbox-{secrets.token_urlsafe(18)}"
    whatsapp = WhatsAppSecrets.fresh()
    settings = sandbox_settings(token=token, server_key=server_key, base_url=base_url, service_port=service_port,
                                events_file=events_file, whatsapp=whatsapp)

    app = create_sandbox_app(base_url, token=token, server_key=server_key, whatsapp=whatsapp,
                             notification_url=f"http://{HOST}:{service_port}{NOTIFICATION_PATH}")
    tasks: set[asyncio.Task[bool]] = set()

    from bot.runtime import serve  # the Telegram stack: imported only when the sandbox runs

    async def connect_whatsapp() -> bool:
        connected = await register_whatsapp_webhook(app[WHATSAPP], f"http://{HOST}:{service_port}"
                                                    f"{WHATSAPP_WEBHOOK_PATH}", whatsapp.verify_token)
        if ready is not None:
            ready(f"{base_url}/")
        return connected

    def started(running: Running) -> None:
        serve_ticket_pages_locally(running.services.links, service_port, base_url)
        if on_running is not None:
            on_running(running)
        log.info("sandbox: the bot is running (%s on the local Telegram stand-in); holds last %d minutes",
                 running.mode.value, settings.reservation_minutes)
        task = asyncio.get_running_loop().create_task(connect_whatsapp())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    service_log, hide = logging.getLogger("karcis"), _HideServiceUrl()
    service_log.addFilter(hide)
    try:
        await web.SockSite(runner, sock).start()
        await serve(settings, stop=stop, ready=started, host=HOST)
    finally:
        for task in tasks:
            task.cancel()
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

