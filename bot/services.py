"""The domain services, built over one store: what both front doors (Telegram, HTTP) call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.access import AccessService
from bot.accounts import AccountService
from bot.catalog import Catalog
from bot.checkin import CheckInService, DoorWindow
from bot.checkout import CheckoutService
from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.delivery_router import ChannelRouter, default_addresses
from bot.digest import DigestRouter, DigestService
from bot.links import Links
from bot.midtrans import MidtransGateway
from bot.notifications import DeliveryService, Notice, Notifier
from bot.orders import OrderService
from bot.payments import PaymentService
from bot.profiles import ProfileService
from bot.reconcile import ReconcileReport, reconcile
from bot.refunds import RefundService
from bot.stats import StatsService
from bot.tickets import TicketService
from storage.store import Store


class NoNotifier:
    """A notifier that reaches nobody: messages stay owed (and are retried later). build_services uses a
    ChannelRouter instead (bot/delivery_router.py), which does the same until a door registers its notifier."""

    async def notify(self, notice: Notice) -> None:
        raise RuntimeError("no notifier attached yet")


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    catalog: Catalog
    tickets: TicketService
    orders: OrderService
    checkin: CheckInService
    stats: StatsService
    payments: PaymentService
    delivery: DeliveryService
    refunds: RefundService
    digests: DigestService  # organisers' sale digests (bot/digest.py)
    checkout: CheckoutService  # a purchase from cart to reserved order (bot/checkout.py)
    profiles: ProfileService  # language and display name per person (bot/profiles.py)
    accounts: AccountService  # addresses → accounts (bot/accounts.py)
    access: AccessService  # who may do what (bot/access.py)
    clock: Clock = utcnow  # the time every service above uses; the front doors read it too
    links: Links = field(default_factory=Links)  # ticket QRs, check-in and payment finish links (bot/links.py)

    async def reconcile(self, *, settle_seconds: float = 0.0) -> ReconcileReport:
        return await reconcile(self.store, self.tickets, settle_seconds=settle_seconds, clock=self.clock)


def gateway_from_settings(settings: Settings) -> MidtransGateway:
    key = settings.midtrans_server_key.get_secret_value() if settings.midtrans_server_key else ""
    return MidtransGateway(
        key, client_key=settings.midtrans_client_key or "", is_production=settings.midtrans_is_production,
        snap_base_url=settings.midtrans_snap_base_url, api_base_url=settings.midtrans_api_base_url,
    )


def _addresses_of(accounts: AccountService) -> Callable[[int | str], Sequence[str]]:
    """Where the router reaches a person: their account's addresses (a bare int, from an old caller, is Telegram's)."""
    return lambda who: accounts.addresses(who) if isinstance(who, str) else default_addresses(who)


def build_services(
    settings: Settings, store: Store, *, clock: Clock = utcnow, gateway: MidtransGateway | None = None,
    notifier: Notifier | None = None,
) -> Services:
    catalog = Catalog(store, clock=clock)
    accounts = AccountService(settings.admin_groups)
    catalog.on_links = accounts.load  # the organisers' links, loaded with the catalog (at start, on import)
    access = AccessService(accounts, catalog, admins=settings.admin_groups)
    tickets = TicketService(store, clock=clock, owners=accounts.owners)
    orders = OrderService(store, catalog, tickets, clock=clock, owners=accounts.owners,
                          reservation=timedelta(minutes=settings.reservation_minutes))
    gateway = gateway or gateway_from_settings(settings)
    refunds = RefundService(store, catalog, gateway, access=access, clock=clock)
    payments = PaymentService(store, orders, gateway, clock=clock, refunds=refunds,
                              poll_grace=timedelta(minutes=settings.payment_poll_grace_minutes))
    orders.expiry_check = payments.expiry_check()  # a lost notification is found before the hold is expired
    return Services(
        settings=settings,
        store=store,
        catalog=catalog,
        tickets=tickets,
        orders=orders,
        checkin=CheckInService(store, catalog, access, clock=clock,
                               window=DoorWindow(timedelta(hours=settings.door_opens_hours_before))),
        stats=StatsService(store),
        payments=payments,
        delivery=DeliveryService(store, catalog, tickets, notifier or ChannelRouter(addresses=_addresses_of(accounts)),
                                 admin_ids=access.admins(),
                                 clock=clock),
        refunds=refunds,
        digests=DigestService(store, catalog, DigestRouter(_addresses_of(accounts)), clock=clock,
                              interval=timedelta(seconds=settings.sale_digest_seconds)),
        checkout=CheckoutService(store, catalog, orders, clock=clock),
        profiles=ProfileService(store, accounts=accounts, catalog=catalog),
        accounts=accounts,
        access=access,
        clock=clock,
        links=Links.from_settings(settings),
    )
