"""The domain services, built over one store: what both front doors (Telegram, HTTP) call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.catalog import Catalog
from bot.checkin import CheckInService
from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.orders import OrderService
from bot.reconcile import ReconcileReport, reconcile
from bot.stats import StatsService
from bot.tickets import TicketService
from storage.store import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    catalog: Catalog
    tickets: TicketService
    orders: OrderService
    checkin: CheckInService
    stats: StatsService

    async def reconcile(self, *, settle_seconds: float = 0.0) -> ReconcileReport:
        return await reconcile(self.store, self.tickets, settle_seconds=settle_seconds)


def build_services(settings: Settings, store: Store, *, clock: Clock = utcnow) -> Services:
    catalog = Catalog(store, clock=clock)
    tickets = TicketService(store, clock=clock)
    return Services(
        settings=settings,
        store=store,
        catalog=catalog,
        tickets=tickets,
        orders=OrderService(store, catalog, tickets, clock=clock,
                            reservation=timedelta(minutes=settings.reservation_minutes)),
        checkin=CheckInService(store, admin_ids=settings.admin_ids, clock=clock),
        stats=StatsService(store),
    )
