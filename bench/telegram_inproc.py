"""python-telegram-bot's Bot API answered in-process by the fake Bot API (`TelegramSimulator.call`), without
HTTP: the bot's calls cost PTB's own request building and answer parsing plus the fake's work, and no socket.

`InProcessRequest` is a `telegram.request.BaseRequest`: it hands the parameters to the simulator exactly as the
fake's HTTP front would (form fields as strings, uploads as `UploadedFile`), and answers with the status code and
JSON body Telegram would. It also notes when each call was accepted, so a benchmark can tell when the last QR
photo of an order reached "Telegram"."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from telegram import Bot
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.sandbox.telegram import TelegramApiError, TelegramSimulator, UploadedFile

BASE_URL = "http://bot-api.in-process.invalid/bot"
FILE_URL = "http://bot-api.in-process.invalid/file/bot"


class InProcessRequest(BaseRequest):
    def __init__(self, simulator: TelegramSimulator) -> None:
        self.simulator = simulator
        self.accepted: dict[tuple[str, int], list[float]] = defaultdict(list)  # (method, chat_id) → times
        self.watchers: list[Callable[[str, int, float], None]] = []

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE, write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE, pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        token, _, api_method = url.removeprefix(BASE_URL).partition("/")
        if token != self.simulator.token:
            return 401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        if request_data:
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params[name] = UploadedFile(filename, mime, data)
        try:
            result = await self.simulator.call(api_method, params)
        except TelegramApiError as exc:
            return exc.error_code, json.dumps(exc.to_json()).encode()
        chat = params.get("chat_id")
        if chat is not None:
            now = time.perf_counter()
            key = (api_method, int(chat))
            self.accepted[key].append(now)
            for watch in self.watchers:
                watch(api_method, int(chat), now)
        return 200, json.dumps({"ok": True, "result": result}, default=str).encode()


def in_process_bot(simulator: TelegramSimulator) -> tuple[Bot, InProcessRequest]:
    """A PTB `Bot` whose every call is answered by `simulator` in this process."""
    request = InProcessRequest(simulator)
    bot = Bot(simulator.token, base_url=BASE_URL, base_file_url=FILE_URL, request=request,
              get_updates_request=InProcessRequest(simulator))
    return bot, request


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.0005)
