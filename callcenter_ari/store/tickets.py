"""Tickets in Redis, and the desk that the runtime and the API use to open, complete, search and watch them.

Layout (names from ``Keys``): one JSON string per ticket, keyed by its number; a hash call id -> number (one ticket
per call); a counter per year for the numbers; a sorted set per caller (digits only) of ticket numbers by creation
time; one lexicographic sorted set ``<casefolded name>\\0<number>`` for exact and prefix name search; a sorted set
of open tickets by the time they become overdue, which the overdue watcher drains.

A number is allocated and bound to its call in one Lua step, so two processes opening tickets at once get distinct,
increasing numbers, and opening the same call twice returns the first ticket. Numbers are never given twice, even
when Redis loses its data: each process remembers the highest number it gave in each year, the step never gives
one at or below it, and no number is given while the guard key is missing (after a loss, until every running
process has written back its highest: runtime/presence.py).

Under a hot standby's lease every write is fenced (``store/fenced.py``): the scripts check the node's token inside
Redis, the transactions watch it, so a process that lost the node opens, completes and reports no ticket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from callcenter_ari.fencing import Fenced
from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import StoreUnavailable, translated, translating
from callcenter_ari.store.fenced import FenceSource, guard, unfenced
from callcenter_ari.store.keys import Keys, checked
from callcenter_ari.store.scripts import Script
from callcenter_ari.tickets import events
from callcenter_ari.tickets.deadlines import overdue, overdue_at
from callcenter_ari.tickets.escalation import Roster, escalate, escalation_target
from callcenter_ari.tickets.model import (
    CallFacts,
    Ticket,
    TicketError,
    TicketForm,
    TicketNotFound,
    TicketValidationError,
)
from callcenter_ari.tickets.rules import (
    complete_ticket,
    name_key,
    normalize_number,
    open_ticket,
    phone_digits,
    ticket_year,
    validate_facts,
)

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Ticket).decode

# KEYS: by-call hash, the year's counter, the guard. ARGV: call id, year, the highest number this process gave that
# year. Returns {created (0/1), number}, or {2, ''} while the guard is missing (Redis lost its data).
_ALLOCATE = Script("""
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return {0, existing} end
if redis.call('EXISTS', KEYS[3]) == 0 then return {2, ''} end
local sequence = redis.call('INCR', KEYS[2])
if sequence <= tonumber(ARGV[3]) then
  sequence = tonumber(ARGV[3]) + 1
  redis.call('SET', KEYS[2], sequence)
end
local number = string.format('T-%04d-%06d', tonumber(ARGV[2]), sequence)
redis.call('HSET', KEYS[1], ARGV[1], number)
return {1, number}
""")

# KEYS: the guard, the instances. Creates the guard unless another process is running (after a loss, it is theirs
# to reopen numbering once they have written back). Returns 1 if numbering is open.
_OPEN = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local t = redis.call('TIME')
if redis.call('ZCOUNT', KEYS[2], tonumber(t[1]), '+inf') > 0 and ARGV[1] == 'first' then return 0 end
redis.call('SET', KEYS[1], '1')
return 1
""")

# KEYS: a year's counter. ARGV: a number given. Raises the counter to it, never lowers it.
_RAISE = Script("""
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
""")

# Plain writes as scripts, for the fenced path only (the fence's check runs in the same step).
_CLOSE = Script("return redis.call('DEL', KEYS[1])")
_TAKE = Script("return redis.call('ZREM', KEYS[1], ARGV[1])")

# The call store's ``Store.execute_later``: a step run in its next batch, answered with its results.
Later = Callable[[Callable[[Pipeline], int]], Awaitable[list[Any]]]

_ATTEMPTS = 3  # optimistic writes retried this often before giving up
_SEP = b"\x00"  # between name and number in the name index; names cannot contain it (validated)
_TOP = b"\xff"  # sorts after every UTF-8 byte, so "[p" .. "[p\xff" is everything starting with p


class TicketConflict(TicketError):
    """The ticket changed between reading and writing it; read it again."""


@translating
class TicketStore:
    def __init__(self, redis: Redis, keys: Keys, *, fence: FenceSource = unfenced, later: Later | None = None) -> None:
        """``later``: the call store's ``Store.execute_later``, to take a number in the store's next batch instead
        of a round trip of its own (the number is asked for after the call: a few milliseconds are nothing)."""
        self.redis = redis
        self.keys = keys
        self._fence = fence
        self._later = later
        self.given: dict[int, int] = {}  # year -> the highest sequence number this process gave
        self._opened = False

    async def allocate(self, call_id: str, year: int) -> tuple[str, bool]:
        """The call's ticket number, new (True) or the one it already has (False); ``StoreUnavailable`` while
        numbering is paused after Redis lost its data."""
        if not self._opened:
            await self.open_numbering(first=True)
        keys = [self.keys.tickets_by_call, self.keys.ticket_sequence(year), self.keys.tickets_guard]
        args = [checked(call_id, "call id"), year, self.given.get(year, 0)]
        with translated():
            if self._later is None:
                created, number = await _ALLOCATE.call(self.redis, keys, args, fence=self._fence())
            else:

                def queue(pipe: Pipeline) -> int:
                    _ALLOCATE.queue(pipe, keys, args)
                    return 1

                [result] = await self._later(queue)
                # In the store's batch, fenced with it; a script Redis did not know runs again on its own, fenced.
                created, number = await _ALLOCATE.retry_if_unknown(self.redis, result, keys, args, fence=self._fence())
        if int(created) == 2:
            raise StoreUnavailable("ticket numbers are paused: Redis lost its data, numbers given are written back")
        number = text(number)
        sequence = int(number.rsplit("-", 1)[1])
        self.given[year] = max(self.given.get(year, 0), sequence)
        return number, bool(int(created))

    async def open_numbering(self, *, first: bool = False) -> bool:
        """Allow numbers to be given: on this process's first ticket (unless another process runs: then it is
        open already, or it is theirs to open after Redis lost its data), and after a loss once every process wrote
        back the numbers it gave (``first`` False). Returns whether numbering is open."""
        with translated():
            keys = [self.keys.tickets_guard, self.keys.instances]
            opened = bool(await _OPEN.call(self.redis, keys, ["first" if first else "again"], fence=self._fence()))
        self._opened = True  # the first look is done: from now on, only a loss and its write-back reopen it
        return opened

    async def close_numbering(self) -> None:
        """No numbers until ``open_numbering``: Redis failed over, and the counter may have lost the last ones
        given (runtime/presence.py)."""
        with translated():
            if (fence := self._fence()) is None:
                await self.redis.delete(self.keys.tickets_guard)
            else:
                await _CLOSE.call(self.redis, [self.keys.tickets_guard], [], fence=fence)

    async def write_back_numbers(self) -> None:
        """Redis lost its data: the counters go back up to the highest numbers this process gave."""
        with translated():
            for year, sequence in self.given.items():
                await _RAISE.call(self.redis, [self.keys.ticket_sequence(year)], [sequence], fence=self._fence())

    async def save(self, ticket: Ticket, previous: Ticket | None = None) -> None:
        """Write the ticket and bring its indexes up to date, in one transaction.

        With ``previous`` (the version read before changing it) the write only happens if Redis still holds that
        version; otherwise TicketConflict. The overdue watcher and a wrap-up may touch one ticket at the same time,
        and an overdue mark must never overwrite a completion.
        """
        key = self.keys.ticket(ticket.number)
        fence = self._fence()
        async with self.redis.pipeline(transaction=True) as pipe:
            await guard(pipe, fence)  # the node's token watched too: a process that lost the node writes nothing
            if previous is not None:
                await pipe.watch(key)
                current = await pipe.get(key)
                if current is None or _decode(current) != previous:
                    raise TicketConflict(f"ticket {ticket.number} changed meanwhile")
            if previous is not None or fence is not None:
                pipe.multi()  # type: ignore[no-untyped-call]
            self._stage_save(pipe, ticket, previous)
            try:
                await pipe.execute()
            except WatchError:
                if fence is not None and not fence.matches(await self.redis.get(fence.key)):
                    raise Fenced(f"another process holds the node (this process's token {fence.token})") from None
                raise TicketConflict(f"ticket {ticket.number} changed meanwhile") from None

    def stage_new(self, stage: Callable[..., None], ticket: Ticket) -> None:
        """A new ticket and its indexes, staged as another store's writes (``Store.stage``): written with its next
        batch, retried with it while Redis is unreachable."""
        for op, args in self._writes(ticket, None):
            stage(op, *args)

    def _stage_save(self, pipe: Any, ticket: Ticket, previous: Ticket | None) -> None:
        for op, args in self._writes(ticket, previous):
            getattr(pipe, op)(*args)

    def _writes(self, ticket: Ticket, previous: Ticket | None) -> list[tuple[str, tuple[Any, ...]]]:
        """The ticket and its indexes as (command, arguments)."""
        writes: list[tuple[str, tuple[Any, ...]]] = [("set", (self.keys.ticket(ticket.number), _encode(ticket)))]
        old_digits = phone_digits(previous.caller_number) if previous is not None else ""
        digits = phone_digits(ticket.caller_number)
        if old_digits and old_digits != digits:
            writes.append(("zrem", (self.keys.tickets_by_caller(old_digits), ticket.number)))
        if digits:
            writes.append(("zadd", (self.keys.tickets_by_caller(digits), {ticket.number: ticket.created_at})))
        if previous is not None and previous.customer_name and previous.customer_name != ticket.customer_name:
            writes.append(("zrem", (self.keys.tickets_by_name, _name_member(previous))))
        if ticket.customer_name:
            writes.append(("zadd", (self.keys.tickets_by_name, {_name_member(ticket): 0})))
        if ticket.status == "open" and ticket.overdue_notified_at is None:
            writes.append(("zadd", (self.keys.tickets_due, {ticket.number: overdue_at(ticket)})))
        else:
            writes.append(("zrem", (self.keys.tickets_due, ticket.number)))
        return writes

    async def get(self, number: str) -> Ticket | None:
        blob = await self.redis.get(self.keys.ticket(number))
        return _decode(blob) if blob is not None else None

    async def get_many(self, numbers: list[str]) -> list[Ticket]:
        if not numbers:
            return []
        blobs = await self.redis.mget([self.keys.ticket(n) for n in numbers])
        return [_decode(blob) for blob in blobs if blob is not None]

    async def all_numbers(self, batch: int = 500) -> list[str]:
        """Every ticket number of the tenant (from the call -> number hash)."""
        return [text(number) async for _, number in self.redis.hscan_iter(self.keys.tickets_by_call, count=batch)]

    async def number_for_call(self, call_id: str) -> str | None:
        number = await self.redis.hget(self.keys.tickets_by_call, checked(call_id, "call id"))
        return text(number) if number is not None else None

    async def numbers_for_caller(self, digits: str, limit: int) -> list[str]:
        raw: Any = await self.redis.zrevrange(self.keys.tickets_by_caller(digits), 0, limit - 1)
        return [text(n) for n in raw]

    async def numbers_for_name(self, key: str, *, prefix: bool, limit: int) -> list[str]:
        encoded = key.encode("utf-8")
        low = b"[" + encoded + (b"" if prefix else _SEP)
        high = b"[" + encoded + (_TOP if prefix else _SEP + _TOP)
        raw: Any = await self.redis.zrangebylex(self.keys.tickets_by_name, low, high, start=0, num=limit)
        return [text(member.rsplit(_SEP, 1)[1]) for member in raw]

    async def due(self, now: float, limit: int = 100) -> list[str]:
        raw: Any = await self.redis.zrangebyscore(self.keys.tickets_due, "-inf", repr(now), start=0, num=limit)
        return [text(n) for n in raw]

    async def take_due(self, number: str) -> bool:
        """Claim a due ticket's overdue notice; only one process gets True."""
        if (fence := self._fence()) is None:
            return bool(await self.redis.zrem(self.keys.tickets_due, number))
        return bool(await _TAKE.call(self.redis, [self.keys.tickets_due], [number], fence=fence))


@translating
class TicketDesk:
    """Tickets for the runtime (open at call end, complete at wrap-up) and the API (read, search)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        now: Callable[[], float],
        emit: Callable[[str, dict[str, Any]], None],
        roster: Roster,
        check_interval: float = 15.0,
        fence: FenceSource = unfenced,
        stage: Callable[..., None] | None = None,
        later: Later | None = None,
    ) -> None:
        """``stage``: the call store's ``Store.stage``, to write a new ticket with the store's next batch (the same
        pipeline as its ``ticket.created``, which ``emit`` stages there after it) instead of a transaction of its
        own; without it (or for any later change of a ticket) the desk writes through its own transaction, fenced
        by ``fence``. ``later``: the call store's ``Store.execute_later``, to take a new ticket's number in the
        store's next batch."""
        self.store = TicketStore(redis, keys, fence=fence, later=later)
        self.roster = roster  # replace it when the shift plan changes
        self._now = now
        self._emit = emit
        self._stage = stage
        self.check_interval = check_interval

    async def open(self, facts: CallFacts) -> Ticket:
        """The call's ticket, opened now (``ticket.created``), or the one it already has. Raises
        TicketValidationError."""
        errors = validate_facts(facts)
        if errors:
            raise TicketValidationError(errors)
        now = self._now()
        number, created = await self.store.allocate(facts.call_id, ticket_year(now))
        if not created:  # a new number has no ticket yet: only a number the call already had is looked up
            existing = await self.store.get(number)
            if existing is not None:
                return existing
        # Also reached when a previous open died between allocating the number and writing the ticket.
        ticket = open_ticket(facts, number, now)
        if self._stage is not None:
            self.store.stage_new(self._stage, ticket)
        else:
            await self.store.save(ticket)
        self._emit(*events.created(ticket))
        log.info("ticket.opened", ticket=number, call_id=facts.call_id, agent_id=facts.agent_id, new=created)
        return ticket

    async def complete(self, number: str, form: TicketForm) -> Ticket:
        """File the agent's wrap-up; escalates complaints, requests for help and urgent tickets at once.

        Raises TicketValidationError (naming every bad field), TicketNotFound or TicketAlreadyCompleted.
        """
        for _ in range(_ATTEMPTS):
            ticket = await self._get(number)
            now = self._now()
            done = complete_ticket(ticket, form, now)
            target = escalation_target(done, self.roster, now)
            if target is not None:
                done = escalate(done, target, now)
            try:
                await self.store.save(done, ticket)
                break
            except TicketConflict:
                continue  # the overdue watcher marked it meanwhile: complete the fresh version
        else:
            raise TicketConflict(f"ticket {number} keeps changing; try again")
        self._emit(*events.completed(done))
        if target is not None:
            self._emit(*events.escalated(done, target))
            log.info("ticket.escalated", ticket=number, to=target.contact.id, role=target.role)
        log.info("ticket.completed", ticket=number, category=done.category, urgent=done.urgent)
        return done

    async def get(self, number: str) -> Ticket | None:
        canonical = normalize_number(number)
        return await self.store.get(canonical) if canonical else None

    async def for_call(self, call_id: str) -> Ticket | None:
        number = await self.store.number_for_call(call_id)
        return await self.store.get(number) if number else None

    async def search(
        self,
        *,
        caller_number: str | None = None,
        number: str | None = None,
        customer_name: str | None = None,
        prefix: bool = False,
        limit: int = 50,
    ) -> list[Ticket]:
        """By exactly one of: caller number (digits compared, punctuation ignored), ticket number (any case), or
        customer name (case-insensitive; whole name, or with ``prefix`` its beginning). Newest first."""
        given = [v for v in (caller_number, number, customer_name) if v is not None]
        if len(given) != 1:
            raise TicketError("search by exactly one of caller_number, number, customer_name")
        limit = max(1, min(limit, 500))
        if number is not None:
            found = await self.get(number)
            return [found] if found else []
        if caller_number is not None:
            digits = phone_digits(caller_number)
            numbers = await self.store.numbers_for_caller(digits, limit) if digits else []
        else:
            key = name_key(customer_name or "")
            if not key or "\x00" in key:
                return []
            numbers = await self.store.numbers_for_name(key, prefix=prefix, limit=limit)
        tickets = await self.store.get_many(numbers)
        return sorted(tickets, key=lambda t: (t.created_at, t.number), reverse=True)

    async def overdue(self, now: float, batch: int = 500) -> list[Ticket]:
        """Open tickets past their deadline at ``now``, reported or not, the longest overdue first.

        A reported ticket has left the due index and nothing else indexes open tickets, so this reads every ticket
        of the tenant: O(tickets ever opened). An index of open tickets by deadline (a sorted set that completion
        removes from) would make it O(overdue).
        """
        numbers = await self.store.all_numbers(batch)
        late: list[Ticket] = []
        for start in range(0, len(numbers), batch):
            for ticket in await self.store.get_many(numbers[start : start + batch]):
                if ticket.status == "open" and now >= overdue_at(ticket):
                    late.append(ticket)
        return sorted(late, key=lambda t: (overdue_at(t), t.number))

    async def check_overdue(self) -> list[Ticket]:
        """Raise ``ticket.overdue`` for every open ticket past its deadline (once per ticket, across processes)."""
        now = self._now()
        reported: list[Ticket] = []
        for number in await self.store.due(now):
            if not await self.store.take_due(number):
                continue  # another process reported it
            late = await self._mark_overdue(number, now)
            if late is not None:
                self._emit(*events.overdue(late))
                log.warning("ticket.overdue", ticket=number, call_id=late.call_id, agent_id=late.agent_id)
                reported.append(late)
        return reported

    async def _mark_overdue(self, number: str, now: float) -> Ticket | None:
        for _ in range(_ATTEMPTS):
            ticket = await self.store.get(number)
            if ticket is None:
                return None
            marked = overdue([ticket], now)
            if not marked:
                return None  # completed in time after all
            late = marked[0]
            try:
                await self.store.save(late, ticket)
                return late
            except TicketConflict:
                continue
        return None

    async def _get(self, number: str) -> Ticket:
        ticket = await self.get(number)
        if ticket is None:
            raise TicketNotFound(f"no ticket {number[:40]!r}")
        return ticket


def _name_member(ticket: Ticket) -> bytes:
    return name_key(ticket.customer_name).encode("utf-8") + _SEP + ticket.number.encode("ascii")
