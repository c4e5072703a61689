"""Rendering QR codes as PNG without holding up the event loop.

A render is pure Python (qrcode), so a worker *thread* still takes the GIL from the event loop for about a whole
render (docs/performance.md). Renders therefore run in one worker *process*, started on first use with "spawn"
(this module imports only qrcode, so the worker starts light). If that process cannot be had or dies, the
render falls back to a thread: slower for the loop, never lost.

One mask pattern is used instead of qrcode trying all eight and keeping the best: any mask is valid, the codes
still scan (zxing-cpp, phone cameras), and choosing was about 80% of a render.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import qrcode
from qrcode.constants import ERROR_CORRECT_M

log = logging.getLogger(__name__)

MASK_PATTERN = 4

_pool: ProcessPoolExecutor | None = None


def render_png(data: str) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4, mask_pattern=MASK_PATTERN)
    qr.add_data(data)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def _ignore_interrupts() -> None:
    """In the worker: Ctrl-C in a terminal reaches the whole process group, and the worker would die of it with a
    traceback; the parent stops the worker when it shuts down instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker() -> Executor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_ignore_interrupts)
    return _pool


async def start_worker() -> None:
    """Start the worker process now (about 0.1 s) rather than on the first ticket after start-up."""
    await render("https://t.me/warm-up")


def stop_worker() -> None:
    """Stop the worker process (at shutdown); a later render starts a new one."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


async def render(data: str) -> bytes:
    """The QR code of `data` as PNG bytes, rendered in the worker process (or, failing that, a thread)."""
    global _pool
    try:
        return await asyncio.get_running_loop().run_in_executor(_worker(), render_png, data)
    except (BrokenProcessPool, OSError, RuntimeError) as exc:
        log.warning("QR worker process unavailable (%s); rendering in a thread", type(exc).__name__)
        _pool = None
        return await asyncio.to_thread(render_png, data)
