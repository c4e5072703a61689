"""Run a mongoeco MongoDB wire-protocol server as a subprocess for the storage tests.

mongoeco (pinned 4.11.0) needs Python >= 3.13, so it lives in its own venv
(``.venv-mongoeco``, made by ``.ci/mongoeco-venv.sh``) and the tests, on Python 3.11,
talk to it over TCP like to any MongoDB server. mongoeco ships no command line for
its server: the child runs the small script below, which starts
``mongoeco.wire.proxy.AsyncMongoEcoProxyServer`` on a ``MemoryEngine``.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
MONGOECO_VENV_PYTHON = REPO_ROOT / ".venv-mongoeco" / "bin" / "python"
READY_PREFIX = "MONGOECO_READY "

# Runs inside the mongoeco interpreter. Binds port 0 on 127.0.0.1 (so the OS picks a
# free port, with no race), prints "MONGOECO_READY <port>", then serves until
# SIGTERM/SIGINT or until its stdin closes (the parent died), and shuts down cleanly.
_SERVER_SCRIPT = r"""
import asyncio, os, signal, sys
from mongoeco.engines.memory import MemoryEngine
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

async def main() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def on_stdin() -> None:
        if not os.read(0, 4096):
            loop.remove_reader(0)
            stop.set()

    loop.add_reader(0, on_stdin)
    server = AsyncMongoEcoProxyServer(engine=MemoryEngine(), host="127.0.0.1", port=0)
    address = await server.start()
    try:
        print(f"MONGOECO_READY {address.port}", flush=True)
        await stop.wait()
    finally:
        await server.close()

asyncio.run(main())
"""


def find_mongoeco_python() -> str | None:
    """Return a Python interpreter with mongoeco installed, or None.

    ``$KARCIS_MONGOECO_PYTHON`` wins when set; else ``<repo>/.venv-mongoeco/bin/python``.
    """
    configured = os.environ.get("KARCIS_MONGOECO_PYTHON")
    if configured:
        return configured
    if MONGOECO_VENV_PYTHON.exists():
        return str(MONGOECO_VENV_PYTHON)
    return None


class MongoecoServerError(RuntimeError):
    """The mongoeco server could not be started or did not answer ``ping``."""


class MongoecoServer:
    """A mongoeco wire server (memory engine) on 127.0.0.1, as a context manager.

    Usage: ``with MongoecoServer() as server: AsyncIOMotorClient(server.uri)``.
    Each instance owns a fresh, empty in-memory server.
    """

    def __init__(self, python: str | None = None, *, startup_timeout: float = 20.0) -> None:
        found = python or find_mongoeco_python()
        if found is None:
            raise MongoecoServerError(
                "no Python with mongoeco found: run .ci/mongoeco-venv.sh or set KARCIS_MONGOECO_PYTHON"
            )
        self.python: str = found
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def uri(self) -> str:
        """The connection string of the running server."""
        if self.port is None:
            raise MongoecoServerError("mongoeco server is not running")
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        """Launch the server, wait until it answers ``ping``, and return its URI."""
        if self._process is not None:
            return self.uri
        began = time.monotonic()
        deadline = began + self.startup_timeout
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", prefix="mongoeco-stderr-")  # noqa: SIM115 - lives as long as the server
        self._process = subprocess.Popen(
            [self.python, "-c", _SERVER_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        try:
            self.port = self._read_port(deadline)
            self._wait_for_ping(deadline)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self.uri

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) and release its pipes."""
        process, self._process = self._process, None
        self.port = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> MongoecoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _read_port(self, deadline: float) -> int:
        """Wait for the child's ready line and return the port it bound."""
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._fail(f"did not report ready within {self.startup_timeout:.0f} s")
                if not selector.select(timeout=remaining):
                    continue
                line = stdout.readline()
                if not line:
                    self._fail(f"exited before it was ready (exit code {self._process.wait()})")
                if line.startswith(READY_PREFIX):
                    return int(line[len(READY_PREFIX) :].strip())

    def _wait_for_ping(self, deadline: float) -> None:
        """Poll the ``ping`` command until it succeeds or the deadline passes."""
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        last_error: Exception | None = None
        while time.monotonic() < deadline:
            client: MongoClient[dict[str, object]] = MongoClient(
                self.uri, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000
            )
            try:
                if client.admin.command("ping").get("ok") == 1:
                    return
            except PyMongoError as error:
                last_error = error
            finally:
                client.close()
            time.sleep(0.1)
        self._fail(f"did not answer ping within {self.startup_timeout:.0f} s (last error: {last_error!r})")

    def _fail(self, reason: str) -> NoReturn:
        """Raise MongoecoServerError with the child's stderr attached."""
        stderr = ""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._stderr is not None:
            self._stderr.seek(0)
            stderr = self._stderr.read()
        raise MongoecoServerError(
            f"mongoeco server ({self.python}) {reason}.\n--- server stderr ---\n{stderr.strip() or '(empty)'}"
        )
