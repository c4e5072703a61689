"""The embedded in-memory store (mongomock-motor), made to find documents by `_id` without a scan.

mongomock answers every query by testing every document of the collection, even `{"_id": x}`
(`Collection._iter_documents`). Nearly every hot-path operation in Karcis is keyed by `_id` (a buyer's counters,
a tier's stock, an order's transition, a ticket's check-in), so on the embedded store each cost O(collection) and
a sell-out O(N²) (docs/performance.md). mongomock keeps its documents in a dict keyed by `_id`: for a filter with a
scalar `_id`, looking the document up there and applying the whole filter to it gives exactly what the scan
gives, in O(1). Every other query still scans: mongomock has no secondary indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mongomock
from mongomock.collection import Collection
from mongomock.filtering import filter_applies

_scan = Collection._iter_documents


def _iter_documents(self: Any, filter: Any) -> Iterator[dict[str, Any]]:  # noqa: A002 - mongomock's name
    key = filter.get("_id") if isinstance(filter, dict) else None
    if isinstance(key, str | int) and not isinstance(key, bool):
        document = _get_unexpired(self._store, key)
        if document is None or not filter_applies(filter, document):
            return iter(())
        return iter((document,))
    return _scan(self, filter)


def _get_unexpired(store: Any, key: str | int) -> dict[str, Any] | None:
    """The document with `_id` `key`, expiring it if a TTL index says so: only this one document is looked at
    (mongomock's own `store[key]` first sweeps the whole collection for expired documents)."""
    with store._rwlock.reader():
        document = store._documents.get(key)
    if document is None:
        return None
    # mongomock.utcnow is public (mongomock's own docs patch it there) but missing from its __all__
    now = mongomock.utcnow()  # type: ignore[attr-defined]
    for index in store._ttl_indexes.values():
        fields = list(index["key"])
        try:
            expiry = int(index["expireAfterSeconds"])
        except ValueError:
            continue
        if len(fields) == 1 and store._value_meets_expiry(document.get(fields[0][0]), expiry, now):
            del store[key]
            return None
    return document


def install_id_lookup() -> None:
    """Patch mongomock's collections to find `{"_id": <str|int>, ...}` by key. Idempotent."""
    Collection._iter_documents = _iter_documents  # type: ignore[method-assign]  # the deliberate patch
