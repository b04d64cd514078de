"""Stored recordings' audio, streamed from Asterisk's HTTP server.

REST over the event WebSocket carries one message per reply, so a recording's file would travel whole through
memory; the file is fetched over plain HTTP instead, whatever transport the calls use, and handed on in chunks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx

from callcenter_ari.ari.errors import AriUnavailable, error_for
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.tls import client_context


class StoredFile:
    """An open download: ``chunks()`` streams it and closes it at the end (or ``aclose()`` if never read)."""

    def __init__(self, client: httpx.AsyncClient, response: httpx.Response) -> None:
        self._client = client
        self._response = response
        self.content_type = response.headers.get("content-type", "application/octet-stream")
        length = response.headers.get("content-length", "")
        self.size = int(length) if length.isdigit() else None

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()
        await self._client.aclose()


async def open_stored_file(endpoint: Endpoint, name: str, request_timeout: float) -> StoredFile:
    """Start downloading ``name``; NotFound when Asterisk has no such recording."""
    client = httpx.AsyncClient(
        auth=(endpoint.username, endpoint.password), timeout=request_timeout, verify=client_context()
    )
    url = f"{endpoint.url.rstrip('/')}/ari/recordings/stored/{quote(name, safe='')}/file"
    try:
        response = await client.send(client.build_request("GET", url), stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        raise AriUnavailable(f"cannot fetch the recording: {type(exc).__name__}") from None
    if response.status_code >= 300:
        try:
            body = await response.aread()
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
            await client.aclose()
        raise error_for(response.status_code, body.decode(errors="replace")[:200] or "recording not found")
    return StoredFile(client, response)
