"""bot/sandbox/local_site.py: how the Telegram and WhatsApp stand-ins bind their port, start, stop, and fail."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.local_site import serve_locally
from bot.sandbox.telegram import FakeTelegram
from bot.sandbox.whatsapp import FakeWhatsApp


def _app(cleaned: list[str]) -> web.Application:
    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def on_cleanup(_: web.Application) -> None:
        cleaned.append("cleaned")

    app = web.Application()
    app.router.add_get("/", hello)
    app.on_cleanup.append(on_cleanup)
    return app


async def test_port_0_serves_on_a_free_port_that_is_read_back() -> None:
    cleaned: list[str] = []
    runner, port = await serve_locally(_app(cleaned), "127.0.0.1", 0)
    try:
        assert port > 0
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as response:
            assert await response.text() == "hello"
    finally:
        await runner.cleanup()
    assert cleaned == ["cleaned"]


async def test_a_port_in_use_raises_and_leaves_nothing_running() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        cleaned: list[str] = []
        with pytest.raises(OSError):
            await serve_locally(_app(cleaned), "127.0.0.1", port)
        assert cleaned == ["cleaned"]  # the runner was cleaned up

        for fake in (FakeTelegram(port=port), FakeWhatsApp(port=port)):
            with pytest.raises(OSError):
                await fake.start()
            assert fake.port == port  # not started: nothing to stop, and it may be started again elsewhere
            fake.port = 0
            async with fake:
                assert fake.port not in (0, port)


async def test_a_stand_in_starts_once_stops_twice_and_starts_again() -> None:
    for fake in (FakeTelegram(), FakeWhatsApp()):
        async with fake:
            with pytest.raises(RuntimeError, match=f"{type(fake).__name__} is already started"):
                await fake.start()
            assert fake.app is not None
        await fake.stop()  # stopping a stopped one is nothing
        async with fake, aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{fake.port}/x") as response:
            assert response.status == 404  # served again
