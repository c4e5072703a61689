"""The MongoDB database behind Karcis: opening it (a server, or the embedded in-memory store), its indexes, and
one object that hands out each collection's store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, IndexModel

from storage.catalog_version import CatalogVersionStore
from storage.digests import DigestStore
from storage.drafts import DRAFT_TTL_SECONDS, DraftStore
from storage.events import EventStore
from storage.inventory import InventoryStore
from storage.order_messages import OrderMessageStore
from storage.orders import OrderStore
from storage.payment_log import PaymentLog
from storage.tickets import TicketStore
from storage.updates import HANDLED_TTL_SECONDS, UpdateStore
from storage.users import UserStore

# Timeouts for every call to a MongoDB server: a dead server is an error in seconds, not a hang.
SERVER_SELECTION_TIMEOUT_MS = 5_000
CONNECT_TIMEOUT_MS = 5_000
SOCKET_TIMEOUT_MS = 15_000

INDEXES: dict[str, list[IndexModel]] = {
    "inventory": [IndexModel([("event_id", ASCENDING), ("code", ASCENDING)], unique=True, name="event_tier")],
    "orders": [
        # the expiry sweep: pending orders by hold end, so its cost follows the due orders
        IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)], name="status_expires"),
        IndexModel([("user_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)], name="user_orders"),
        IndexModel([("event_id", ASCENDING), ("status", ASCENDING)], name="event_status"),
        # the delivery job: orders that still owe a message
        IndexModel([("notify_due_at", ASCENDING)], name="notify_due",
                   partialFilterExpression={"notify_due_at": {"$type": "date"}}),
        # the status polling job: orders with a Snap transaction Midtrans may still settle (docs/money.md)
        IndexModel([("poll_due_at", ASCENDING)], name="poll_due",
                   partialFilterExpression={"poll_due_at": {"$type": "date"}}),
    ],
    "tickets": [
        IndexModel([("order_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="one_ticket_per_seat"),
        IndexModel([("user_id", ASCENDING), ("event_id", ASCENDING)], name="user_tickets"),
        IndexModel([("event_id", ASCENDING), ("tier", ASCENDING)], name="event_tickets"),
    ],
    "payment_log": [IndexModel([("order_id", ASCENDING), ("received_at", ASCENDING)], name="order_log")],
    # chat updates: handled ones are kept a day (to drop a re-sent duplicate), unhandled ones until handled
    "updates": [IndexModel([("handled_at", ASCENDING)], expireAfterSeconds=HANDLED_TTL_SECONDS, name="handled_ttl")],
    # chats left half-way are forgotten after a while
    "drafts": [IndexModel([("updated_at", ASCENDING)], expireAfterSeconds=DRAFT_TTL_SECONDS, name="draft_ttl")],
    # the sale digest job: chats with sales not yet in a digest message
    "digests": [IndexModel([("due_at", ASCENDING)], name="digest_due",
                           partialFilterExpression={"due_at": {"$type": "date"}})],
}


@dataclass(frozen=True)
class Store:
    """Every collection's store, over one database handle (motor or mongomock-motor)."""

    db: Any
    embedded: bool

    @property
    def events(self) -> EventStore:
        return EventStore(self.db["events"])

    @property
    def catalog_version(self) -> CatalogVersionStore:
        return CatalogVersionStore(self.db["meta"])

    @property
    def inventory(self) -> InventoryStore:
        return InventoryStore(self.db["inventory"])

    @property
    def orders(self) -> OrderStore:
        return OrderStore(self.db["orders"])

    @property
    def order_messages(self) -> OrderMessageStore:
        return OrderMessageStore(self.db["orders"])

    @property
    def tickets(self) -> TicketStore:
        return TicketStore(self.db["tickets"])

    @property
    def users(self) -> UserStore:
        return UserStore(self.db["users"])

    @property
    def drafts(self) -> DraftStore:
        return DraftStore(self.db["drafts"])

    @property
    def updates(self) -> UpdateStore:
        return UpdateStore(self.db["updates"])

    @property
    def digests(self) -> DigestStore:
        return DigestStore(self.db["digests"])

    @property
    def payment_log(self) -> PaymentLog:
        return PaymentLog(self.db["payment_log"])

    async def ensure_indexes(self) -> None:
        """Create every index Karcis needs; safe to run on every start."""
        for collection, models in INDEXES.items():
            await self.db[collection].create_indexes(models)

    async def ping(self) -> bool:
        """True if the database answers `ping` (the readiness check)."""
        try:
            reply = await self.db.command("ping")
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        return bool(reply.get("ok"))


def open_store(uri: str | None, db_name: str, *, event_listeners: Sequence[Any] = ()) -> Store:
    """Open the database at `uri`, or the embedded in-memory store when `uri` is None. `event_listeners`:
    pymongo monitoring listeners for a server's client (the benchmarks count commands with one)."""
    if uri is None:
        from mongomock_motor import AsyncMongoMockClient

        from storage.embedded import install_id_lookup

        install_id_lookup()
        return Store(AsyncMongoMockClient(tz_aware=True)[db_name], embedded=True)
    from motor.motor_asyncio import AsyncIOMotorClient

    client: AsyncIOMotorClient[dict[str, Any]] = AsyncIOMotorClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
        connectTimeoutMS=CONNECT_TIMEOUT_MS,
        socketTimeoutMS=SOCKET_TIMEOUT_MS,
        event_listeners=list(event_listeners),
    )
    return Store(client[db_name], embedded=False)


async def unreachable_reason(store: Store) -> str | None:
    """None when the server answers `ping`; else why not, in a few words (no credentials: pymongo's messages name
    hosts, not the URI). The embedded store is always reachable."""
    if store.embedded:
        return None
    try:
        await store.db.command("ping")
    except Exception as exc:  # noqa: BLE001 - any failure is the reason
        text = " ".join(str(exc).split())
        text = text.split(" (configured timeouts", 1)[0].split(", Timeout:", 1)[0]
        return f"{type(exc).__name__}: {text}"[:200]
    return None


def server_hosts(uri: str) -> str:
    """The hosts a MongoDB URI names, `db1:27017,db2:27017` (never its user or password); `?` if it cannot be read."""
    from pymongo.uri_parser import parse_uri

    try:
        return ",".join(f"{host}:{port}" for host, port in parse_uri(uri, connect_timeout=1)["nodelist"]) or "?"
    except Exception:  # noqa: BLE001 - a name for a message only
        return "?"


def close_store(store: Store) -> None:
    client: Any = store.db.client
    close = getattr(client, "close", None)
    if close is not None:
        close()
