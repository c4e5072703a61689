"""`POST /telegram/webhook/<path secret>`: Telegram's updates in webhook mode (`PUBLIC_URL` set).

Two secrets guard it, both derived from the bot token so that every instance behind the same URL agrees on them
without sharing state (a random secret per start would let the last instance to call `setWebhook` lock the
others out) and so that rotating the token in BotFather rotates them too:

- the path secret keeps the URL unguessable: hex HMAC-SHA256(token, "karcis/telegram-webhook-path"), 32 chars;
- the secret token Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (1-256 chars of `A-Za-z0-9_-`): hex
  HMAC-SHA256(token, "karcis/telegram-webhook-secret-token"), 64 chars, compared in constant time.

Neither can be turned back into the token. Neither is ever logged: the access log shows the route as
`/telegram/webhook/***` (see `redact_path`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

PATH_PREFIX = "/telegram/webhook/"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

TELEGRAM_APPLICATION = web.AppKey("telegram_application", Application)
WEBHOOK_SECRET = web.AppKey("telegram_webhook_secret", str)


def _derive(token: str, label: str) -> str:
    return hmac.new(token.encode(), label.encode(), hashlib.sha256).hexdigest()


def webhook_secret_token(bot_token: str) -> str:
    """What Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (64 hex chars)."""
    return _derive(bot_token, "karcis/telegram-webhook-secret-token")


def webhook_path(bot_token: str) -> str:
    """The route's path, `/telegram/webhook/<32 hex chars>`."""
    return PATH_PREFIX + _derive(bot_token, "karcis/telegram-webhook-path")[:32]


def redact_path(path: str) -> str:
    """The path as it may be logged: the webhook's path secret hidden."""
    return PATH_PREFIX + "***" if path.startswith(PATH_PREFIX) else path


def _malformed(reason: str) -> web.Response:
    log.warning("telegram webhook: malformed update (%s)", reason)
    return web.json_response({"ok": False, "error": "malformed update"}, status=400)


async def telegram_update(request: web.Request) -> web.Response:
    """Check the secret header, parse the update and queue it for the Application; answer at once."""
    expected = request.app[WEBHOOK_SECRET]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("telegram webhook: request without the right secret token from %s", request.remote)
        return web.json_response({"ok": False}, status=403)
    application = request.app[TELEGRAM_APPLICATION]
    try:
        data = await request.json()  # a body over the app's client_max_size is answered 413 by aiohttp
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _malformed("not JSON")
    except RecursionError:
        return _malformed("nested too deep")
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return _malformed("no update_id")
    try:
        update = Update.de_json(data, application.bot)
    except Exception as exc:  # noqa: BLE001 - anything PTB cannot read is the sender's mistake
        return _malformed(type(exc).__name__)
    await application.update_queue.put(update)
    return web.json_response({"ok": True})


def routes(application: Application, *, bot_token: str) -> Callable[[web.Application], None]:
    """For `create_app(..., extra_routes=...)`: adds the webhook route for this bot."""

    def add(app: web.Application) -> None:
        app[TELEGRAM_APPLICATION] = application
        app[WEBHOOK_SECRET] = webhook_secret_token(bot_token)
        app.router.add_post(webhook_path(bot_token), telegram_update)

    return add
