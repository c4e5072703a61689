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

from mongomock.collection import Collection
from mongomock.filtering import filter_applies

_scan = Collection._iter_documents


def _iter_documents(self: Any, filter: Any) -> Iterator[dict[str, Any]]:  # noqa: A002 - mongomock's name
    key = filter.get("_id") if isinstance(filter, dict) else None
    if isinstance(key, str | int) and not isinstance(key, bool):
        try:
            document = self._store[key]
        except KeyError:
            return iter(())
        return iter((document,)) if filter_applies(filter, document) else iter(())
    return _scan(self, filter)


def install_id_lookup() -> None:
    """Patch mongomock's collections to find `{"_id": <str|int>, ...}` by key. Idempotent."""
    Collection._iter_documents = _iter_documents
