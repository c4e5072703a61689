"""The sandbox's web chat: a Telegram-like chat in the browser, over the fake Bot API's ``/sandbox/...`` endpoints,
and WhatsApp-like chats beside it over the WhatsApp simulator's ``/sandbox/...`` endpoints (whatsapp.js: reply
buttons, list sheets, call-to-action links, images; WhatsApp's *bold* _italic_ ~strike~ ```mono``` built as DOM
nodes from the message's plain text, never as HTML).

The page is plain HTML, CSS and JavaScript from ``static/`` (no build step, nothing fetched from the internet).
It reads ``config.json`` (the bot's name, the people one can chat as, where the fake's ``/sandbox`` endpoints
are) and does the rest in the browser: it long-polls every chat at once, shows the ``html`` the fake renders
(escaped text plus Telegram's formatting tags; raw text is never put into the page as HTML), presses buttons,
sends texts and photos, and lists the bot's commands for the person chatting.

Served on 127.0.0.1 only. `local_only` refuses what another web site could send to it from the same browser:
requests with a foreign ``Host`` (DNS rebinding) and cross-site POST, PUT, PATCH or DELETE requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web

STATIC_DIR: Final = Path(__file__).with_name("static")
STATIC_FILES: Final = {"chat.css": "text/css", "chat.js": "text/javascript", "whatsapp.css": "text/css",
                       "whatsapp.js": "text/javascript"}
LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

# The page runs only its own script and style, talks only to its own origin, and cannot be framed.
PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class Person:
    """Someone the web chat lets you be: a fake Telegram user, with how the person switch names them."""

    id: int
    first_name: str
    label: str
    role: str
    language_code: str = "en"


@dataclass(frozen=True)
class WhatsAppPerson:
    """Someone the web chat lets you be on WhatsApp: a user of the WhatsApp simulator, by number."""

    number: str  # E.164 with '+'
    first_name: str
    label: str
    role: str


@dataclass(frozen=True)
class WebChatConfig:
    """What the page needs to know; served as ``config.json``."""

    bot_name: str
    bot_username: str
    api: str  # where the fake Bot API's /sandbox endpoints are, e.g. "/telegram/sandbox"
    people: Sequence[Person]
    whatsapp_api: str | None = None  # the WhatsApp simulator's /sandbox endpoints, e.g. "/whatsapp/sandbox"
    whatsapp_people: Sequence[WhatsAppPerson] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "bot": {"name": self.bot_name, "username": self.bot_username},
            "api": self.api,
            "people": [{k: v for k, v in asdict(p).items() if k != "language_code"} for p in self.people],
            "whatsapp": {"api": self.whatsapp_api, "people": [asdict(p) for p in self.whatsapp_people]}
            if self.whatsapp_api else None,
        }


WEBCHAT_CONFIG: Final = web.AppKey("karcis_webchat_config", WebChatConfig)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a foreign Host header (DNS rebinding) and state-changing requests from another origin."""
    if request.url.host not in LOCAL_HOSTS:
        raise web.HTTPForbidden(text="The sandbox answers only on 127.0.0.1 / localhost.\n")
    origin = request.headers.get("Origin")
    if request.method not in SAFE_METHODS and origin is not None and origin != f"{request.scheme}://{request.host}":
        raise web.HTTPForbidden(text="Cross-site request refused.\n")
    return await handler(request)


async def _page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "chat.html", headers={**PAGE_HEADERS, "Content-Type": "text/html"})


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    headers = {"Content-Type": f"{STATIC_FILES[name]}; charset=utf-8", "Cache-Control": "no-cache",
               "X-Content-Type-Options": "nosniff"}
    return web.FileResponse(STATIC_DIR / name, headers=headers)


async def _config(request: web.Request) -> web.Response:
    return web.json_response(request.app[WEBCHAT_CONFIG].to_json(), headers={"Cache-Control": "no-store"})


def create_webchat_app(config: WebChatConfig, *, client_max_size: int = 20 * 1024 * 1024) -> web.Application:
    """The web chat at ``/``. Mount the fake Bot API on it (``add_subapp``) at the prefix ``config.api`` names.

    ``client_max_size`` applies to every mounted app too (aiohttp reads it from the root): it bounds photo uploads.
    """
    app = web.Application(middlewares=[local_only], client_max_size=client_max_size)
    app[WEBCHAT_CONFIG] = config
    app.router.add_get("/", _page)
    app.router.add_get("/config.json", _config)
    app.router.add_get("/static/{name}", _static)
    return app
