"""Tickets in the real Redis: opening at call end, completing at wrap-up with escalation, the overdue watcher on a
controlled clock, the three searches, and numbers from two writers at once."""

from __future__ import annotations

import time
from typing import Any

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from callcenter_ari.calls.records import CallRecord
from callcenter_ari.clock import ManualClock
from callcenter_ari.runtime.tickets import watch_overdue
from callcenter_ari.store.keys import Keys
from callcenter_ari.store.redis import Store
from callcenter_ari.store.tickets import TicketDesk
from callcenter_ari.tickets import (
    Contact,
    Roster,
    Shift,
    ShiftLead,
    TicketError,
    TicketNotFound,
    TicketValidationError,
)
from tests.tickets.helpers import ENDED, facts, form

LEAD = ShiftLead(contact=Contact(id="lead-day", name="Dana"), shifts=(Shift(ENDED - 3600, ENDED + 3600),))
ROSTER = Roster(fallback=Contact(id="duty-phone", name="Duty phone"), leads=(LEAD,))


class Desk:
    """A desk with a controlled clock and the events it emitted."""

    def __init__(self, redis: Redis, keys: Keys, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock(ENDED + 5)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.desk = TicketDesk(
            redis, keys, now=self.clock.now, emit=lambda kind, fields: self.events.append((kind, fields)), roster=ROSTER
        )

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


async def test_a_handled_call_gets_one_ticket_and_a_created_event(redis: Redis, keys: Keys) -> None:
    d = Desk(redis, keys)
    ticket = await d.desk.open(facts("c1"))
    assert ticket.number == "T-2026-000001" and ticket.status == "open"
    assert await d.desk.open(facts("c1")) == ticket  # opening again (a retry, a restart) finds the same one
    assert await d.desk.for_call("c1") == ticket
    assert d.kinds() == ["ticket.created"]
    assert d.events[0][1]["ticket"] == "T-2026-000001" and d.events[0][1]["overdue_at"] == ENDED + 900


async def test_completing_an_ordinary_ticket_files_it_without_escalation(redis: Redis, keys: Keys) -> None:
    d = Desk(redis, keys)
    ticket = await d.desk.open(facts("c1"))
    done = await d.desk.complete(ticket.number.lower(), form())
    assert await d.desk.get(ticket.number) == done
    assert done.status == "completed" and done.escalated_to == ""
    assert d.kinds() == ["ticket.created", "ticket.completed"]


async def test_a_complaint_is_escalated_to_the_lead_on_duty(redis: Redis, keys: Keys) -> None:
    d = Desk(redis, keys)
    ticket = await d.desk.open(facts("c1"))
    done = await d.desk.complete(ticket.number, form(category="complaint"))
    assert (done.escalated_to, done.escalated_role, done.escalated_at) == ("lead-day", "shift_lead", ENDED + 5)
    kind, fields = d.events[-1]
    assert kind == "ticket.escalated"
    assert (fields["to"], fields["role"], fields["reasons"]) == ("lead-day", "shift_lead", ["complaint"])


async def test_an_urgent_ticket_with_no_lead_on_duty_goes_to_the_fallback(redis: Redis, keys: Keys) -> None:
    d = Desk(redis, keys, ManualClock(ENDED + 7200))  # the lead's shift is over
    ticket = await d.desk.open(facts("c1"))
    done = await d.desk.complete(ticket.number, form(urgent=True))
    assert (done.escalated_to, done.escalated_role) == ("duty-phone", "fallback")
    assert d.events[-1][0] == "ticket.escalated" and d.events[-1][1]["reasons"] == ["urgent"]


async def test_invalid_wrap_up_names_the_fields_and_changes_nothing(redis: Redis, keys: Keys) -> None:
    d = Desk(redis, keys)
    ticket = await d.desk.open(facts("c1"))
    with pytest.raises(TicketValidationError) as caught:
        await d.desk.complete(ticket.number, form(category="", answer=""))
    assert caught.value.fields == ["category", "answer"]
    assert await d.desk.get(ticket.number) == ticket
    with pytest.raises(TicketNotFound):
        await d.desk.complete("T-2026-999999", form())


class TestOverdue:
    async def test_an_open_ticket_raises_overdue_fifteen_minutes_after_the_call_once(
        self, redis: Redis, keys: Keys
    ) -> None:
        d = Desk(redis, keys)
        late = await d.desk.open(facts("c1"))
        on_time = await d.desk.open(facts("c2"))
        await d.desk.complete(on_time.number, form())
        await d.clock.advance(ENDED + 899 - d.clock.now())
        assert await d.desk.check_overdue() == []
        await d.clock.advance(ENDED + 900 - d.clock.now())
        [reported] = await d.desk.check_overdue()
        assert reported.number == late.number and reported.overdue_notified_at == ENDED + 900
        await d.clock.advance(ENDED + 5000 - d.clock.now())
        assert await d.desk.check_overdue() == []
        overdue_events = [fields for kind, fields in d.events if kind == "ticket.overdue"]
        assert [(e["ticket"], e["overdue_at"]) for e in overdue_events] == [(late.number, ENDED + 900)]

    async def test_two_processes_report_an_overdue_ticket_once(self, redis: Redis, keys: Keys) -> None:
        clock = ManualClock(ENDED + 5)
        first, second = Desk(redis, keys, clock), Desk(redis, keys, clock)
        await first.desk.open(facts("c1"))
        await clock.advance(ENDED + 1000 - clock.now())
        reports = [await first.desk.check_overdue(), await second.desk.check_overdue()]
        assert sorted(len(r) for r in reports) == [0, 1]

    async def test_a_late_wrap_up_still_completes_an_overdue_ticket(self, redis: Redis, keys: Keys) -> None:
        d = Desk(redis, keys)
        ticket = await d.desk.open(facts("c1"))
        await d.clock.advance(ENDED + 1000 - d.clock.now())
        await d.desk.check_overdue()
        done = await d.desk.complete(ticket.number, form())
        assert done.status == "completed" and done.overdue_notified_at == ENDED + 1000

    async def test_the_watcher_runs_as_a_service(self, redis: Redis, keys: Keys) -> None:
        d = Desk(redis, keys, ManualClock(ENDED + 1000))
        d.desk.check_interval = 0.01
        await d.desk.open(facts("c1"))
        async with anyio.create_task_group() as tg:
            await tg.start(watch_overdue, d.desk)
            with anyio.fail_after(5):
                while "ticket.overdue" not in d.kinds():
                    await anyio.sleep(0.01)
            tg.cancel_scope.cancel()


class TestSearch:
    @pytest.fixture
    async def desk(self, redis: Redis, keys: Keys) -> TicketDesk:
        d = Desk(redis, keys, ManualClock(ENDED))
        people = [
            ("c1", "Anna Müller", "+1 555 123 4567"),
            ("c2", "anna mueller", "+15551234567"),
            ("c3", "Annabel Lee", "0170-9999"),
            ("c4", "Bob Stone", "+1 (555) 123-4567"),
            ("c5", "Ann", "0170 8888"),
        ]
        for n, (call_id, name, number) in enumerate(people):
            await d.clock.advance(ENDED + n - d.clock.now())  # one a second, oldest first
            await d.desk.open(facts(call_id, customer_name=name, caller_number=number))
        return d.desk

    async def test_by_caller_number_whatever_the_punctuation(self, desk: TicketDesk) -> None:
        found = await desk.search(caller_number="+1-555-123-4567")
        assert [t.call_id for t in found] == ["c4", "c2", "c1"]  # newest first
        assert await desk.search(caller_number="555") == []  # exact, not a substring
        assert await desk.search(caller_number="\u0665\u0665\u0665 \u00b2") == []  # other scripts' digits: none

    async def test_by_ticket_number(self, desk: TicketDesk) -> None:
        [found] = await desk.search(number="t-2026-000003")
        assert found.call_id == "c3"
        assert await desk.search(number="T-2026-000042") == []
        assert await desk.search(number="nonsense") == []

    async def test_by_exact_name_ignoring_case_and_spacing(self, desk: TicketDesk) -> None:
        assert [t.call_id for t in await desk.search(customer_name="ANNA  müller")] == ["c1"]
        assert [t.call_id for t in await desk.search(customer_name="Ann")] == ["c5"]

    async def test_by_name_prefix_ignoring_case(self, desk: TicketDesk) -> None:
        found = await desk.search(customer_name="ann", prefix=True)
        assert sorted(t.call_id for t in found) == ["c1", "c2", "c3", "c5"]
        assert [t.call_id for t in await desk.search(customer_name="ANNA M", prefix=True)] == ["c2", "c1"]
        assert await desk.search(customer_name="Zed", prefix=True) == []

    async def test_a_name_corrected_at_wrap_up_moves_in_the_index(self, desk: TicketDesk) -> None:
        [bob] = await desk.search(customer_name="Bob Stone")
        await desk.complete(bob.number, form(customer_name="Robert Stone"))
        assert await desk.search(customer_name="Bob Stone") == []
        assert [t.call_id for t in await desk.search(customer_name="robert", prefix=True)] == ["c4"]

    async def test_exactly_one_criterion(self, desk: TicketDesk) -> None:
        with pytest.raises(TicketError):
            await desk.search(caller_number="1", customer_name="x")
        with pytest.raises(TicketError):
            await desk.search()


async def test_numbers_are_unique_and_increasing_with_two_writers(redis: Redis, redis_url: str, keys: Keys) -> None:
    """Two processes (two connections) open tickets at the same time: no number twice, none going backwards."""
    other = Redis.from_url(redis_url)
    try:
        writers = [Desk(redis, keys), Desk(other, keys)]
        got: list[list[int]] = [[], []]

        async def write(index: int) -> None:
            for n in range(60):
                ticket = await writers[index].desk.open(facts(f"w{index}-{n}"))
                got[index].append(int(ticket.number.rsplit("-", 1)[1]))

        async with anyio.create_task_group() as tg:
            tg.start_soon(write, 0)
            tg.start_soon(write, 1)
    finally:
        await other.aclose()
    assert all(numbers == sorted(numbers) and len(set(numbers)) == 60 for numbers in got)
    assert sorted(got[0] + got[1]) == list(range(1, 121))
    assert got[0] and got[1] and set(got[0]).isdisjoint(got[1])


async def test_ticket_events_reach_the_stream_in_the_runtimes_format(redis: Redis, keys: Keys) -> None:
    store = Store(redis, keys, now=time.time)
    desk = TicketDesk(redis, keys, now=lambda: ENDED + 5, emit=store.emit, roster=ROSTER)
    ticket = await desk.open(facts("c1"))
    await desk.complete(ticket.number, form(category="request_for_help"))
    await store.flush()
    stream = await store.events()
    assert [kind for _, kind, _ in stream] == ["ticket.created", "ticket.completed", "ticket.escalated"]
    assert stream[2][2]["to"] == "lead-day" and stream[2][2]["category"] == "request_for_help"
    assert msgspec.json.encode(stream[1][2])  # plain JSON, ready for webhooks


async def test_a_ticket_opened_with_the_call_store_is_written_in_its_batch_before_its_event(
    redis: Redis, keys: Keys
) -> None:
    """As the runtime opens work orders: the number is allocated at once (one round trip), the ticket and its
    indexes go with the call store's next batch, ahead of ``ticket.created``; nothing else is read or written."""
    store = Store(redis, keys, now=time.time)
    desk = TicketDesk(redis, keys, now=lambda: ENDED + 5, emit=store.emit, roster=ROSTER, stage=store.stage)
    ticket = await desk.open(facts("c1", caller_number="+4930123456", customer_name="Ada Lovelace"))
    assert await desk.get(ticket.number) is None  # staged, not written yet
    await store.flush()
    assert store.round_trips == 1
    assert await desk.get(ticket.number) == ticket
    assert await desk.for_call("c1") == ticket
    assert await desk.search(caller_number="+49 30 123456") == [ticket]
    assert await desk.search(customer_name="ada lovelace") == [ticket]
    assert await redis.zscore(keys.tickets_due, ticket.number) is not None
    assert [kind for _, kind, _ in await store.events()] == ["ticket.created"]
    assert await desk.open(facts("c1")) == ticket  # the call's number is known: its ticket, not a second one


async def test_a_new_tickets_number_is_taken_in_the_call_stores_batch(redis: Redis, keys: Keys) -> None:
    """As the runtime opens work orders: the number is taken in the call store's next batch (no round trip of its
    own), and the ticket with its indexes in the batch after, ahead of ``ticket.created``; the same call asking
    again gets the same ticket."""
    store = Store(redis, keys, now=time.time)
    desk = TicketDesk(
        redis,
        keys,
        now=lambda: ENDED + 5,
        emit=store.emit,
        roster=ROSTER,
        stage=store.stage,
        later=store.execute_later,
    )
    await desk.store.open_numbering(first=True)
    async with anyio.create_task_group() as tg:
        await tg.start(store.run_flusher)
        store.save_call(CallRecord(call_id="c1", channel_id="ch1", started_at=1.0, phase="ended"))
        ticket = await desk.open(facts("c1", caller_number="+4930123456"))
        await store.flush()
        assert store.round_trips == 2  # the call's record with the number, then the ticket with its event
        assert await desk.open(facts("c1")) == ticket  # the call's number is known: its ticket, not a second one
        tg.cancel_scope.cancel()
    assert await desk.get(ticket.number) == ticket
    assert await desk.for_call("c1") == ticket
    assert [kind for _, kind, _ in await store.events()] == ["ticket.created"]
