"""The live service behind `python -m bot run`: one process runs the Telegram bot, the HTTP server and the jobs.

    serve(settings)
      ├─ open_services            the store, indexes, EVENTS_FILE, start-up reconcile
      ├─ PTB Application          handlers.telegram.register(...); TelegramNotifier delivers what orders owe;
      │                           chats run concurrently, each in order (handlers/telegram/updates.py),
      │                           and every Bot API call is paced per chat and per bot, replies first
      │                           (handlers/telegram/rate_limit.py)
      ├─ DomainJobs               expiry sweep, delivery retries, digests, payment polling, reconcile
      │                           (bot/jobs.py, APScheduler: they run whichever doors are open)
      ├─ aiohttp (PORT)           Midtrans notifications, /healthz, /readyz; in webhook mode the Telegram webhook
      └─ updates                  long polling by default; a webhook when PUBLIC_URL is set

Credentials: TELEGRAM_BOT_TOKEN and MIDTRANS_SERVER_KEY are required. MIDTRANS_CLIENT_KEY is not: it is only for
Snap.js, the in-page popup, and Karcis sends buyers to Snap's `redirect_url`, which the server key creates.

Shutdown (SIGTERM, SIGINT, or the `stop` event) runs in reverse: polling stops, the HTTP server stops (and lets
deliveries it started finish), the domain jobs stop (a run in progress finishes or is cancelled), the
Application handles the updates it already has, then the store closes. In webhook mode the webhook is left
registered on purpose: another instance, or this one after a restart, keeps receiving on it, and Telegram holds
updates while nobody answers.

Secrets (the bot token, the Midtrans server key, the MongoDB URI, the webhook secrets) are never logged: httpx's
request log, which would print the token inside Bot API URLs, is silenced, the access log hides the webhook's
path, and a filter on the root handlers redacts them from any record that would still carry one.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder
from yarl import URL

from bot import qr
from bot.composition import open_services
from bot.config import ConfigError, Settings
from bot.errors import CannotStart
from bot.jobs import DomainJobs
from bot.services import Services
from webhooks import telegram as telegram_webhook
from webhooks.app import create_app

log = logging.getLogger("karcis")

SANDBOX_HINT = "To try Karcis without any accounts, run: python -m bot sandbox"

# Every Bot API call has a timeout (seconds), sized for a person waiting in the chat: Telegram answers a call in
# well under a second, so a reply that has not gone in a few seconds will not go; the handler fails into the
# error handler, and a delivery is retried by the delivery job. Uploading a QR photo (~2 KB) may take longer to
# write, but is bounded too. (Time spent queueing in the rate limiter is not counted here: it has its own cap,
# handlers/rate_limit.MAX_WAIT_SECONDS.) At worst an interactive call gives up after 3 + 3 + 5 + 2 = 13 s.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 3.0
MEDIA_WRITE_TIMEOUT = 15.0   # sendPhoto: an upload
POOL_TIMEOUT = 2.0           # waiting for one of the pool's connections (PTB's pool holds 256)
POLL_TIMEOUT = 30            # getUpdates long poll; PTB adds it to GET_UPDATES_READ_TIMEOUT for that call
GET_UPDATES_READ_TIMEOUT = 10.0
BOOTSTRAP_RETRIES = 3        # deleteWebhook at the start of polling, retried if Telegram is briefly unreachable


class Mode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Running:
    """What `serve` hands to `ready` once everything is up."""

    mode: Mode
    url: str
    application: Application | None  # None: the Telegram door is not open (a WhatsApp-only run)
    services: Services
    web_app: web.Application
    jobs: DomainJobs
    doors: tuple[str, ...] = ("telegram",)


# ---------------------------------------------------------------------------------------------- configuration


def require_credentials(settings: Settings) -> tuple[str | None, str]:
    """The bot token (None: no Telegram door, WhatsApp only) and the Midtrans server key; ConfigError naming each
    one missing (never a value). TELEGRAM_BOT_TOKEN is required unless the WhatsApp door is configured."""
    hints = {
        "TELEGRAM_BOT_TOKEN": "the token BotFather gave your bot",
        "MIDTRANS_SERVER_KEY": "Midtrans dashboard → Settings → Access Keys (sandbox keys start with SB-Mid-server-)",
    }
    values = {"TELEGRAM_BOT_TOKEN": settings.telegram_bot_token, "MIDTRANS_SERVER_KEY": settings.midtrans_server_key}
    if settings.whatsapp_enabled and settings.telegram_bot_token is None:
        del values["TELEGRAM_BOT_TOKEN"]  # a WhatsApp-only run
    missing = [name for name, value in values.items() if value is None]
    if missing:
        lines = [f"  {name}: {hints[name]}" for name in missing]
        verb = "is" if len(missing) == 1 else "are"
        raise ConfigError(f"Cannot start Karcis: {' and '.join(missing)} {verb} not set.\n" + "\n".join(lines)
                          + f"\n{SANDBOX_HINT}")
    require_whatsapp(settings)
    assert settings.midtrans_server_key is not None  # none missing (checked above)
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    server_key = settings.midtrans_server_key.get_secret_value()
    sandbox_key = server_key.startswith("SB-")
    if settings.midtrans_is_production and sandbox_key:
        log.warning("MIDTRANS_IS_PRODUCTION is true but MIDTRANS_SERVER_KEY looks like a sandbox key (SB-...)")
    elif not settings.midtrans_is_production and not sandbox_key:
        log.warning("MIDTRANS_IS_PRODUCTION is false but MIDTRANS_SERVER_KEY does not look like a sandbox key")
    return token, server_key


def require_whatsapp(settings: Settings) -> None:
    """With WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID set, the rest the WhatsApp door needs: the webhook's
    two secrets, and PUBLIC_URL (Meta posts to it; ticket QRs link to its /t/<code> page)."""
    if not settings.whatsapp_enabled:
        return
    hints = {"WHATSAPP_APP_SECRET": "App Dashboard → App settings → Basic → App secret",
             "WHATSAPP_VERIFY_TOKEN": "any secret string; type the same into the App Dashboard's webhook form",
             "PUBLIC_URL": "the public https address Meta posts webhooks to (/whatsapp/webhook)"}
    values = {"WHATSAPP_APP_SECRET": settings.whatsapp_app_secret,
              "WHATSAPP_VERIFY_TOKEN": settings.whatsapp_verify_token, "PUBLIC_URL": settings.public_url}
    if whatsapp_api_is_local(settings):
        del values["PUBLIC_URL"]
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ConfigError("Cannot open the WhatsApp door: " + ", ".join(missing) + " not set.\n"
                          + "\n".join(f"  {name}: {hints[name]}" for name in missing))


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def whatsapp_api_is_local(settings: Settings) -> bool:
    """WHATSAPP_API_BASE_URL on this machine (the sandbox's Cloud API simulator): that "Meta" posts its webhooks
    to the service over loopback, so no PUBLIC_URL is needed for them (QRs then carry the t.me link)."""
    return URL(settings.whatsapp_api_base_url).host in LOOPBACK_HOSTS


def open_whatsapp(services: Services, settings: Settings) -> object | None:
    """The WhatsApp door (handlers/whatsapp/wiring.py) when it is configured: its notifier joins the services'
    ChannelRouter, and its webhook's routes go on the aiohttp app (`add_routes`)."""
    if not settings.whatsapp_enabled:
        return None
    from handlers.whatsapp.wiring import WhatsAppProcess
    from storage.whatsapp_inbox import WhatsAppInbox

    return WhatsAppProcess(services, settings, inbox=WhatsAppInbox(services.store.db))


def build_application(settings: Settings, token: str, *, webhook: bool) -> Application:
    """The PTB Application: chats concurrently and each in order, paced to Telegram's limits with replies first,
    every call with a timeout; no Updater in webhook mode."""
    from handlers.telegram.rate_limit import KarcisRateLimiter
    from handlers.telegram.updates import ChatOrderedUpdateProcessor

    builder = (
        ApplicationBuilder()
        .token(token)
        .concurrent_updates(ChatOrderedUpdateProcessor())
        .rate_limiter(KarcisRateLimiter())
        .connect_timeout(CONNECT_TIMEOUT).read_timeout(READ_TIMEOUT)
        .write_timeout(WRITE_TIMEOUT).media_write_timeout(MEDIA_WRITE_TIMEOUT).pool_timeout(POOL_TIMEOUT)
        .get_updates_connect_timeout(CONNECT_TIMEOUT).get_updates_read_timeout(GET_UPDATES_READ_TIMEOUT)
        .get_updates_write_timeout(WRITE_TIMEOUT).get_updates_pool_timeout(POOL_TIMEOUT)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if webhook:
        builder = builder.updater(None)
    return builder.build()


def attach_front_door(application: Application, services: Services) -> None:
    """The Telegram handlers, and the notifier that delivers what orders owe through this bot (registered by
    handlers.telegram.register into the services' ChannelRouter, beside any other door's)."""
    import handlers.telegram

    handlers.telegram.register(application, services)


def _durable_updates(application: Application, services: Services, mode: Mode) -> Callable[[], Awaitable[int]]:
    """Updates are kept in MongoDB from receipt until handled (handlers/telegram/durable_updates.py, docs/faults.md)."""
    from bot.inbox import UpdateInbox
    from handlers.telegram.durable_updates import make_durable

    return make_durable(application, UpdateInbox(services.store, clock=services.clock),
                        wait_for_store=mode is Mode.POLLING)


async def set_commands(application: Application, services: Services) -> None:
    """Each role's command menu; a failure is logged and the bot runs on (the menu is a convenience)."""
    from handlers.telegram.commands import set_commands as set_role_commands

    try:
        await set_role_commands(application.bot, services)
    except Exception as exc:  # noqa: BLE001 - not worth refusing to start over
        log.warning("could not set the command menus (%s: %s); continuing", type(exc).__name__, exc)


# ---------------------------------------------------------------------------------------------- start-up failures


TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org"
_DETAIL_MAX = 160  # characters of an HTTP library's error quoted in the one line


def telegram_where(settings: Settings) -> str:
    """The Bot API server getMe went to, as the operator configured it (any user:password in it left out)."""
    if not settings.telegram_api_base_url:
        return f"{TELEGRAM_DEFAULT_BASE_URL} (the default; TELEGRAM_API_BASE_URL is not set)"
    url = URL(settings.telegram_api_base_url)
    return f"{url.with_user(None) if url.user else url} (TELEGRAM_API_BASE_URL)"


def telegram_start_failure(exc: BaseException, settings: Settings, token: str) -> Exception | None:
    """What a failed getMe at start-up means, in one line: what failed, where, and what to do. None: not a Bot API
    failure (let it through). The token is never in the result, even when an error message would quote it."""
    where = telegram_where(settings)
    custom = bool(settings.telegram_api_base_url)
    if isinstance(exc, InvalidToken):
        # Telegram answers 401 Unauthorized to a well-formed token it does not know, and 404 Not Found only to a
        # malformed one (the configuration has already refused those) or an unknown path: so a 404 here means the
        # server at the base URL is not a Bot API server (https://core.telegram.org/bots/api#making-requests).
        answer = exc.__cause__ if isinstance(exc.__cause__, InvalidToken) else exc  # PTB wraps it, quoting the token
        if "unauthorized" in str(answer).lower():
            return ConfigError(f"TELEGRAM_BOT_TOKEN was refused by the Bot API at {where}: 401 Unauthorized. Check "
                               f"the token BotFather gave you (@BotFather, /token). {SANDBOX_HINT}")
        if custom:
            return ConfigError(f"TELEGRAM_API_BASE_URL: the server at {where} answered 404 Not Found to getMe, so it "
                               "is not a Bot API server there. Give the server's root, like "
                               f"{TELEGRAM_DEFAULT_BASE_URL}, without /bot<token>; or unset it to use Telegram's.")
        return ConfigError(f"TELEGRAM_BOT_TOKEN: the Bot API at {where} answered 404 Not Found to getMe: Telegram "
                           "does not recognise the token's form. Copy it again from @BotFather.")
    if isinstance(exc, TimedOut):
        detail = f"no answer within {CONNECT_TIMEOUT:g} s"
    elif isinstance(exc, NetworkError):
        detail = _detail(exc, token)
    elif isinstance(exc, TelegramError):  # e.g. a 200 that is not JSON: not a Bot API server
        return (ConfigError if custom else CannotStart)(
            f"Cannot start: the server at {where} did not answer getMe like a Bot API server ({_detail(exc, token)})."
            " Check TELEGRAM_API_BASE_URL: the server's root, like https://api.telegram.org.")
    else:
        return None
    hint = "Check TELEGRAM_API_BASE_URL and that the server runs" if custom else (
        "Check this machine's internet access (or firewall and proxy) to api.telegram.org")
    return CannotStart(f"Cannot start: Telegram's Bot API at {where} could not be reached for getMe ({detail}). "
                       f"{hint}; to try Karcis offline: python -m bot sandbox")


def _detail(exc: BaseException, token: str) -> str:
    text = " ".join(str(exc).split())
    for secret in (token, token.split(":", 1)[-1]):
        text = text.replace(secret, "***")
    text = text.removeprefix("Unknown error in HTTP implementation: ")
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


# PTB logs a whole traceback ("Can not load invalid JSON data") before raising for a non-JSON answer; at start-up
# the one-line failure above says it better.
_BOT_API_REQUEST_LOGGERS = ("telegram.request.BaseRequest",)


@contextlib.contextmanager
def _quiet_bot_api_errors() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _BOT_API_REQUEST_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# ---------------------------------------------------------------------------------------------- logging


class RedactSecrets(logging.Filter):
    """Replaces secrets in a record's message and traceback with `***` (for the root handlers)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True


# httpx logs every request URL at INFO, and a Bot API URL carries the token; APScheduler logs every job run.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler")


@contextlib.contextmanager
def _quiet_and_redacted_logs(secrets: list[str]) -> Iterator[None]:
    quiet = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    redact = RedactSecrets(secrets)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(redact)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(redact)
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log, with the Telegram webhook's path secret hidden."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s %.3fs', request.remote, request.method,
                         telegram_webhook.redact_path(request.path), response.status, time)


# ---------------------------------------------------------------------------------------------- serving


@contextlib.contextmanager
def _signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` (where the loop can take signal handlers: the main thread, not Windows)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def received(sig: signal.Signals) -> None:
        log.info("%s received: shutting down", sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, received, sig)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def serve(
    settings: Settings, *, stop: asyncio.Event | None = None, ready: Callable[[Running], object] | None = None,
    host: str = "0.0.0.0",
) -> None:
    """Run Karcis until `stop` is set (or SIGTERM/SIGINT arrives). `ready(Running)` is called once it serves.

    Raises ConfigError before touching anything when credentials are missing, and for a token the Bot API
    refuses, a PUBLIC_URL Telegram will not take, or a PORT that cannot be listened on."""
    token, server_key = require_credentials(settings)
    mode = Mode.WEBHOOK if settings.public_url else Mode.POLLING
    secrets = [server_key]
    if token is not None:
        secrets += [token, telegram_webhook.webhook_secret_token(token), telegram_webhook.webhook_path(token)]
    for secret in (settings.mongodb_uri, settings.whatsapp_access_token, settings.whatsapp_app_secret,
                   settings.whatsapp_verify_token):
        if secret is not None:
            secrets.append(secret.get_secret_value())
    stop = stop or asyncio.Event()
    with _quiet_and_redacted_logs(secrets), _signals(stop):
        async with open_services(settings) as services, AsyncExitStack() as stack:
            application = build_application(settings, token, webhook=mode is Mode.WEBHOOK) if token else None
            whatsapp: Any = open_whatsapp(services, settings)
            doors = tuple(name for name, door in (("telegram", application), ("whatsapp", whatsapp)) if door)
            replay_unhandled: Callable[[], Awaitable[int]] | None = None
            if application is not None:
                attach_front_door(application, services)
                replay_unhandled = _durable_updates(application, services, mode)
            telegram_routes = (telegram_webhook.routes(application, bot_token=token)
                               if application is not None and token and mode is Mode.WEBHOOK else None)

            def extra(app: web.Application) -> None:
                if telegram_routes is not None:
                    telegram_routes(app)
                if whatsapp is not None:
                    whatsapp.add_routes(app)  # POST/GET /whatsapp/webhook, its inbox and workers

            web_app = create_app(services, services.payments, services.delivery, extra_routes=extra)

            if application is not None and token is not None:
                try:
                    with _quiet_bot_api_errors():
                        await application.initialize()  # getMe: checks the token
                except BaseException as exc:
                    await application.bot.shutdown()  # the HTTP clients it opened before getMe failed
                    failure = telegram_start_failure(exc, settings, token)
                    if failure is not None:
                        raise failure from None
                    raise
                stack.push_async_callback(application.shutdown)
                services.links.telegram_username = application.bot.username  # the ticket page's Telegram button
            await qr.start_worker()  # the first buyer's tickets do not wait for it
            stack.callback(qr.stop_worker)
            if application is not None:
                await application.start()  # update processing
                stack.push_async_callback(application.stop)
            if replay_unhandled is not None:
                await replay_unhandled()  # what a process that died had received but not handled
            jobs = DomainJobs(services, settings)
            await jobs.start()
            stack.push_async_callback(jobs.stop)  # before the Application stops and the store closes

            runner = web.AppRunner(web_app, access_log_class=AccessLogger)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)  # waits for deliveries it started
            try:
                await web.TCPSite(runner, host, settings.port).start()
            except OSError as exc:
                raise ConfigError(f"PORT: cannot listen on {host}:{settings.port} ({exc.strerror or exc})") from None

            if application is not None and token is not None:
                await set_commands(application, services)
                if mode is Mode.WEBHOOK:
                    await _set_webhook(application, settings, token)
                else:
                    assert application.updater is not None
                    # start_polling's bootstrap calls deleteWebhook first, so a webhook left from a deployment
                    # does not keep the updates away from getUpdates.
                    await application.updater.start_polling(
                        timeout=POLL_TIMEOUT, bootstrap_retries=BOOTSTRAP_RETRIES, allowed_updates=Update.ALL_TYPES,
                    )
                    stack.push_async_callback(application.updater.stop)

            url = f"http://{host}:{settings.port}"
            log.info("Karcis is running: %s, %s", mode.value, url)
            log.info("doors open: %s", ", ".join(
                f"Telegram ({mode.value})" if door == "telegram" else
                f"WhatsApp (webhook {settings.public_url.rstrip('/') if settings.public_url else ''}/whatsapp/webhook)"
                for door in doors))
            if ready is not None:
                result = ready(Running(mode, url, application, services, web_app, jobs, doors))
                if inspect.isawaitable(result):
                    await result
            await stop.wait()
            log.info("Karcis is stopping")
    log.info("Karcis stopped")


async def _set_webhook(application: Application, settings: Settings, token: str) -> None:
    assert settings.public_url is not None
    url = settings.public_url.rstrip("/") + telegram_webhook.webhook_path(token)
    try:
        await application.bot.set_webhook(
            url=url, secret_token=telegram_webhook.webhook_secret_token(token), allowed_updates=Update.ALL_TYPES,
        )
    except TelegramError as exc:
        if "webhook" in str(exc).lower():
            raise ConfigError(f"PUBLIC_URL: Telegram refused the webhook at {settings.public_url} ({exc}). "
                              "It must be a public https URL.") from None
        raise
    log.info("Telegram webhook set: %s%s***", settings.public_url.rstrip("/"), telegram_webhook.PATH_PREFIX)
