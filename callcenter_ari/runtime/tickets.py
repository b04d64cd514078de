"""Work orders off the call's path: opening one for every handled call, at a bounded pace, and watching for overdue
ones.

A burst of calls ending together must not open a Redis connection per ticket, nor lose a ticket to a Redis
hiccup: ended calls queue their facts here, and a few workers open the tickets, retrying until Redis answers.
The watcher asks the desk for overdue tickets every ``check_interval`` seconds.
"""

from __future__ import annotations

import anyio
import structlog
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.tickets import CallFacts

log = structlog.get_logger(__name__)

WORKERS = 4
BACKLOG = 100_000  # calls ended faster than tickets are written: held in memory, in order
RETRY_SECONDS = 0.5


class TicketOpener:
    def __init__(self, desk: TicketDesk) -> None:
        self._desk = desk
        self._send, self._receive = anyio.create_memory_object_stream[CallFacts](BACKLOG)

    def open(self, facts: CallFacts) -> None:
        try:
            self._send.send_nowait(facts)
        except anyio.WouldBlock:
            log.error("ticket.backlog_full", call_id=facts.call_id)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(WORKERS):
                tg.start_soon(self._work, self._receive.clone())
            task_status.started()

    async def _work(self, receive: MemoryObjectReceiveStream[CallFacts]) -> None:
        async with receive:
            async for facts in receive:
                while True:
                    try:
                        await self._desk.open(facts)
                        break
                    except StoreUnavailable as exc:
                        log.warning("ticket.open_retry", call_id=facts.call_id, error=repr(exc))
                        await anyio.sleep(RETRY_SECONDS)


async def watch_overdue(desk: TicketDesk, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    """Mark overdue tickets (and escalate them) every ``desk.check_interval`` seconds until cancelled."""
    task_status.started()
    while True:
        try:
            await desk.check_overdue()
        except StoreUnavailable as exc:
            log.error("ticket.overdue_check_failed", error=str(exc))
        await anyio.sleep(desk.check_interval)
