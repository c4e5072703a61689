"""The domain's jobs (bot/jobs.py) on APScheduler, with no PTB Application anywhere: they run, a failing run is
logged and retried, a job never overlaps itself, and stopping waits for a run in progress or cancels it."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.jobs import DomainJobs, JobSpec
from bot.outbox import Message
from bot.services import Services, build_services
from storage.documents import OrderStatus
from storage.store import Store
from tests.conftest import FakeClock, make_services
from tests.helpers import acct, buyer
from tests.payment_stack import RecordingNotifier

ROOT = Path(__file__).resolve().parent.parent
JAZZ = "jazz-senja-2026"


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_the_jobs_module_imports_no_front_door() -> None:
    code = ("import sys, bot.jobs; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('telegram', 'aiohttp', 'handlers', 'webhooks')); print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_the_expiry_sweep_and_delivery_run_without_any_telegram_application(
    memory_store: Store, clock: FakeClock,
) -> None:
    settings = Settings(_env_file=None, expiry_sweep_seconds=1)  # type: ignore[call-arg]
    notifier = RecordingNotifier()
    services = build_services(settings, memory_store, clock=clock, notifier=notifier)
    from bot.event_file import load_events_file
    from tests.conftest import EXAMPLES
    await services.catalog.import_events(load_events_file(EXAMPLES))
    order = await services.orders.reserve(acct(7), JAZZ, {"REG": 2}, buyer())
    clock.advance(minutes=31)
    jobs = DomainJobs(services, settings)
    await jobs.start()
    try:
        await eventually(lambda: bool(notifier.sent(Message.EXPIRED)))
        assert (await services.orders.get(order.id)).status == OrderStatus.EXPIRED  # type: ignore[union-attr]
        assert {spec for spec in ("expiry-sweep", "delivery-retry", "sale-digest", "payment-poll", "reconcile")
                if jobs.get(spec) is not None} == {"expiry-sweep", "delivery-retry", "sale-digest", "payment-poll",
                                                   "reconcile"}
    finally:
        await jobs.stop()
    assert jobs.get("expiry-sweep") is None and not jobs.running


@pytest.fixture
async def services(memory_store: Store, settings: Settings, clock: FakeClock) -> Services:
    return await make_services(memory_store, settings, clock, events=False)


async def test_a_failing_run_is_logged_and_the_next_run_still_comes(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def broken(_: Services) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database on fire")

    jobs = DomainJobs(services, settings, specs=[JobSpec("broken", broken, 0.05, 0.0, "broken run failed")])
    with caplog.at_level(logging.ERROR, logger="karcis"):
        await jobs.start()
        try:
            await eventually(lambda: calls >= 3)
        finally:
            await jobs.stop()
    assert [r.getMessage() for r in caplog.records if r.name == "karcis"].count("broken run failed") >= 3


async def test_a_job_never_overlaps_itself(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    active = peak = 0
    release = asyncio.Event()

    async def slow(_: Services) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            await release.wait()
        finally:
            active -= 1

    jobs = DomainJobs(services, settings, specs=[JobSpec("slow", slow, 0.02, 0.0, "slow run failed")])
    with caplog.at_level(logging.WARNING, logger="apscheduler"):
        await jobs.start()
        try:
            # APScheduler says so when a run is due while the previous one is still going
            await eventually(lambda: any("maximum number of running instances" in r.getMessage()
                                         for r in caplog.records))
            assert (active, peak) == (1, 1)
        finally:
            release.set()
            await jobs.stop()
    assert active == 0


async def test_stopping_waits_for_a_run_in_progress(services: Services, settings: Settings) -> None:
    started, finish = asyncio.Event(), asyncio.Event()
    finished = False

    async def work(_: Services) -> None:
        nonlocal finished
        started.set()
        await finish.wait()
        finished = True

    jobs = DomainJobs(services, settings, specs=[JobSpec("work", work, 3600, 0.0, "work failed")], stop_grace=60)
    await jobs.start()
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(jobs.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # it waits for the run
    finish.set()
    await asyncio.wait_for(stopping, 10)
    assert finished


async def test_stopping_cancels_a_run_that_outlasts_the_grace(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    outcome: list[str] = []

    async def stuck(_: Services) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    jobs = DomainJobs(services, settings, specs=[JobSpec("stuck", stuck, 3600, 0.0, "stuck failed")],
                      stop_grace=0.05)
    await jobs.start()
    await asyncio.wait_for(started.wait(), 10)
    with caplog.at_level(logging.INFO):
        await asyncio.wait_for(jobs.stop(), 10)
    assert outcome == ["cancelled"]
    assert not jobs.running
    assert "job stuck cancelled at shutdown" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # a clean stop, not a job that raised
