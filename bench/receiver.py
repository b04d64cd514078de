"""A webhook receiver for the production-like surge: answers 204 to every POST and counts them.

Run in its own process (`python -m bench.receiver`), so that its CPU is not the measured process's; it prints
`listening on http://127.0.0.1:PORT/hook` once ready, and `GET /count` answers how many deliveries it took and on
how many TCP connections they came.
"""

from __future__ import annotations

import asyncio

from aiohttp import web


async def main() -> None:
    received = [0]
    connections: set[object] = set()

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        received[0] += 1
        if request.transport is not None:
            connections.add(request.transport.get_extra_info("peername"))
        return web.Response(status=204)

    async def count(request: web.Request) -> web.Response:
        return web.json_response({"received": received[0], "connections": len(connections)})

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"listening on http://127.0.0.1:{port}/hook", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
