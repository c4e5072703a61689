"""Reading a request body without letting an unverified sender make us hold more than we accept."""

from __future__ import annotations

from aiohttp import web


async def read_at_most(request: web.Request, limit: int) -> bytes:
    """The body, cut after `limit` + 1 bytes: enough to tell an oversized one without reading all of it."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
