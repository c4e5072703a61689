"""The domain's periodic work, scheduled with APScheduler directly: it runs whichever front doors are open.

    DomainJobs(services, settings)     the jobs below, on an AsyncIOScheduler of their own
      expiry-sweep       holds that ran out: seats back on sale, buyers told   (EXPIRY_SWEEP_SECONDS)
      delivery-retry     messages orders still owe                            (DELIVERY_INTERVAL)
      sale-digest        organisers' sale digests that are due                (DIGEST_JOB_INTERVAL)
      payment-poll       orders whose Midtrans notification may be lost       (PAYMENT_POLL_INTERVAL)
      reconcile          stock counters repaired from the orders              (RECONCILE_INTERVAL)
    await jobs.start()  ·  await jobs.stop()

The composition root (bot/runtime.py `serve`, which the sandbox runs too) starts them after the store is open
and stops them before it closes. PTB's JobQueue is APScheduler inside PTB; scheduling here instead means a
process without the Telegram door (WhatsApp only) runs the same jobs, and nothing here imports a door.

Each job:
- never takes the process down: an exception is logged and the next run retries (the domain operations are
  safe to repeat; that is what makes a crash survivable, and a failed run is no worse than a crash);
- never overlaps itself (`max_instances=1`), and runs once after a stall however many runs it missed
  (`coalesce=True`, `misfire_grace_time=None`: a late run still runs);
- stops at shutdown: no new run starts, a run in progress gets `STOP_GRACE` seconds to finish, then it is
  cancelled and awaited. Being cancelled half-way is what a crash would do, and every job is written for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.services import Services

log = logging.getLogger("karcis")

DELIVERY_INTERVAL = 15.0     # retrying messages orders still owe
RECONCILE_INTERVAL = 600.0   # repairing crash drift in stock counters
RECONCILE_SETTLE_SECONDS = 2.0
PAYMENT_POLL_INTERVAL = 60.0  # asking Midtrans about orders whose notification may be lost (≤ 20 per run)
DIGEST_JOB_INTERVAL = 2.0    # how often due digests are looked for (a chat gets one every SALE_DIGEST_SECONDS)
STOP_GRACE = 10.0            # seconds a run in progress may take to finish at shutdown before it is cancelled


# ---------------------------------------------------------------------------------------------- the jobs


async def expire(services: Services) -> None:
    """Expire the holds that ran out (seats back on sale), then tell those buyers (the outbox expiry wrote)."""
    report = await services.orders.expire_due()
    if report.orders:
        per_event = "; ".join(f"{event_id}: {e.orders} order(s), {e.seats} seat(s)"
                              for event_id, e in sorted(report.per_event.items()))
        log.info("expiry: %d order(s) expired, %d seat(s) released (%s)", len(report.orders), report.seats,
                 per_event)
        await deliver(services)


async def poll_payments(services: Services) -> None:
    """Ask Midtrans about orders whose notification may have been lost (a bounded batch per run; docs/money.md)."""
    report = await services.payments.poll_due()
    if report.asked:
        log.info("payment polling: asked Midtrans about %d order(s): %s", report.asked, report.outcomes)
        await deliver(services)


async def deliver(services: Services) -> None:
    """Retry the messages orders still owe (tickets, expiry notices, organiser and admin alerts)."""
    delivered = await services.delivery.deliver_due()
    if delivered:
        log.info("delivery: %d order(s) fully delivered", delivered)


async def send_digests(services: Services) -> None:
    """Send the organisers' sale digests that are due (bot/digest.py)."""
    await services.digests.send_due()


async def reconcile(services: Services) -> None:
    """Recompute stock counters from the orders, repairing what a crash between two writes left behind."""
    report = await services.reconcile(settle_seconds=RECONCILE_SETTLE_SECONDS)
    if report.changed:
        log.warning("reconcile repaired %d tier(s), issued tickets for %d order(s), voided for %d",
                    len(report.tiers), len(report.tickets_issued), len(report.tickets_voided))


@dataclass(frozen=True)
class JobSpec:
    name: str
    run: Callable[[Services], Awaitable[None]]
    every: float          # seconds between runs
    first: float | None   # seconds after start of the first run; None: one interval after start
    failed: str           # the log line when a run raises


def job_specs(settings: Settings) -> list[JobSpec]:
    return [
        # The first sweep runs at once: holds that ended while the service was down are released first thing.
        JobSpec("expiry-sweep", expire, float(settings.expiry_sweep_seconds), 0.5,
                "expiry sweep failed; the next sweep retries"),
        JobSpec("delivery-retry", deliver, DELIVERY_INTERVAL, 2.0, "delivery run failed; the next run retries"),
        JobSpec("sale-digest", send_digests, DIGEST_JOB_INTERVAL, 1.0,
                "sale digest run failed; the next run retries"),
        JobSpec("payment-poll", poll_payments, PAYMENT_POLL_INTERVAL, 5.0,
                "payment polling failed; the next run retries"),
        JobSpec("reconcile", reconcile, RECONCILE_INTERVAL, None, "reconcile failed; the next run retries"),
    ]


# ---------------------------------------------------------------------------------------------- the scheduler


class DomainJobs:
    """The domain's jobs on an AsyncIOScheduler bound to the running loop (start and stop inside it)."""

    def __init__(self, services: Services, settings: Settings, *, specs: list[JobSpec] | None = None,
                 stop_grace: float = STOP_GRACE) -> None:
        self._services = services
        self._specs = job_specs(settings) if specs is None else specs
        self._stop_grace = stop_grace
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        now = datetime.now(UTC)
        for spec in self._specs:
            first = now + timedelta(seconds=spec.every if spec.first is None else spec.first)
            scheduler.add_job(self._run, IntervalTrigger(seconds=spec.every, timezone=UTC), args=[spec],
                              id=spec.name, name=spec.name, next_run_time=first,
                              max_instances=1, coalesce=True, misfire_grace_time=None)
        scheduler.start()
        self._scheduler = scheduler
        log.info("jobs started: %s", ", ".join(spec.name for spec in self._specs))

    def get(self, name: str) -> Job | None:
        """The scheduled job `name` (its trigger, next run time), while started."""
        return None if self._scheduler is None else self._scheduler.get_job(name)

    async def run_now(self, name: str) -> None:
        """Run one job once, here and now, as the scheduler would (exceptions logged, not raised)."""
        [spec] = [s for s in self._specs if s.name == name]
        await self._run(spec)

    async def _run(self, spec: JobSpec) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)  # type: ignore[arg-type]
        try:
            await spec.run(self._services)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # ours, at shutdown: ended here, so APScheduler does not report it as a job that raised
            log.info("job %s cancelled at shutdown; its next run (after a restart) picks up", spec.name)
        except Exception:  # noqa: BLE001 - a job never takes the process down; the next run retries
            log.exception(spec.failed)
        finally:
            if task is not None:
                self._running.discard(task)  # type: ignore[arg-type]

    async def stop(self) -> None:
        """No new runs; runs in progress get the grace period, then are cancelled; returns when all are done."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()  # nothing new starts while the runs in progress finish
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=self._stop_grace)
            self._stopping = True
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
        scheduler.shutdown(wait=False)
        self._stopping = False
        log.info("jobs stopped")
