"""The callback service: entries from Redis in line in the ACD at their places, and each one's turn carried out.

Theory of operation
-------------------
*Mirror.* Every process keeps the tenant's live callbacks (``store/callbacks.py``) in memory, loaded on start and
compared with Redis every ``SYNC_SECONDS`` of wall time (callbacks made or ended by another process). A due entry
is in line in this process's ACD under its own id, at its place (``-priority, place``): a virtual hold's place is
the caller's arrival, so it waits behind exactly the callers who were there before. A waiting entry (scheduled, a
retry, the window closed) has a timer at its next time; an agent-only entry tries to reserve its agent every
``AGENT_POLL_SECONDS`` until it falls back to anyone, then joins the line.

*Its turn.* When the ACD reserves an agent for the entry (``Offered``), the process claims it in Redis: due to
dialing, over the version it read. Another process may have seen the same turn and claimed it first: the claim
is refused, the agent is released, and the entry leaves this process's line. The claimant then brings agent and
customer together (``callback/connection.py``); before the customer's leg is placed, the attempt is written (the
attempt count, over the version again), so a callback is dialled once per attempt whatever happens to the
process. The customer's leg is an outbound leg (``runtime/outbound.py``: a trunk line, the originate, the
outcome); the agent's leg is rung like any agent's (``("callback", <leg id>)`` in its Stasis arguments).

*Restart.* On start the live entries are loaded again and due ones go back in line at their places. An entry left
dialing by a process whose lease ran out (killed while connecting it) is settled as not reached ("interrupted"),
and retried by its rules: its customer leg, if it was placed, is not dialled twice at once, and the attempt
counts.

Events (``callback.*``) go to the stream and the webhooks with ``queue`` and ``callback_id``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError
from callcenter_ari.callback import connection as legs
from callcenter_ari.callback import entry as life
from callcenter_ari.callback.entry import Entry, Step
from callcenter_ari.callback.figures import CallbackFigures, QueueCallbacks
from callcenter_ari.callback.numbers import callback_number
from callcenter_ari.callback.settings import CallbackSettings, QueueCallback
from callcenter_ari.calls import messages as call
from callcenter_ari.calls.outbound import Answered, Busy, Ended, Failed, LegEvent, NoAnswer, OutboundRequest
from callcenter_ari.clock import Clock
from callcenter_ari.metrics import Metrics
from callcenter_ari.runtime.acd import AcdService
from callcenter_ari.runtime.channels import Channels
from callcenter_ari.runtime.outbound import OutboundLegs
from callcenter_ari.runtime.shared import Emit, Spawn
from callcenter_ari.runtime.timers import Timers
from callcenter_ari.store.callbacks import CallbackStore, Conflict, Duplicate, Stored
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.trunks.phone import PhoneNumber

log = structlog.get_logger(__name__)

SYNC_SECONDS = 5.0  # how often the mirror is compared with Redis (entries made or ended by other processes)
WRITE_RETRY_SECONDS = 0.5  # between tries of an attempt's write while Redis is unreachable
DIAL_PATIENCE_SECONDS = 5.0  # how long a reserved agent waits for the claim, or the attempt, to be written
AGENT_POLL_SECONDS = 15.0  # how often an agent-only callback tries its agent
AGENT_RING_SECONDS = 20
_OWNER = "callbacks"
# The ACD's reasons that leave an agent available (others make them not ready: see acd/board.py).
_NOT_OURS = "call_gone"


def customer_leg(callback_id: str, attempt: int) -> str:
    return f"{callback_id}-k{attempt}"


def new_callback_id() -> str:
    return "k" + uuid.uuid4().hex[:20]


@dataclass(frozen=True)
class CallbackServices:
    """What the callback service uses of the application."""

    ari: AriClient
    acd: AcdService
    outbound: OutboundLegs
    channels: Channels
    timers: Timers
    clock: Clock
    metrics: Metrics
    spawn: Spawn
    emit: Emit


class CallbackError(Exception):
    """A request about a callback that cannot be carried out; ``field`` names what is wrong, if a field."""

    def __init__(self, message: str, field: str = "", *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


class _Attempt:
    """One callback being connected by this process: its legs and the connection's state."""

    def __init__(self, stored: Stored, agent_id: str, endpoint: str, seq: int) -> None:
        self.stored = stored
        self.agent_id = agent_id
        self.endpoint = endpoint
        base = stored.entry.id
        self.agent_leg = f"{base}-a{seq}"
        # The customer's leg is named by its attempt: a second originate of one attempt is refused by Asterisk
        # (the channel id exists), and a process settling an orphan knows which leg to end.
        self.customer_leg = customer_leg(base, stored.entry.attempts + 1)
        self.bridge = f"{base}-b{seq}"
        self.connection = legs.Connection(stored.entry.mode, agent_id)


class CallbackService:
    def __init__(
        self,
        services: CallbackServices,
        store: CallbackStore,
        settings: CallbackSettings,
        queues: Callable[[str], QueueCallback | None],
        *,
        trunks: tuple[str, ...],
        instance: str,
    ) -> None:
        self._services = services
        self._store = store
        self.store = store  # read by the API
        self.settings = settings
        self._queues = queues
        self._trunks = settings.trunks or trunks
        self._instance = instance
        self.entries: dict[str, Stored] = {}  # the live callbacks, as last read or written
        self._in_line: set[str] = set()  # the ids this process put in the ACD's line
        self._attempts: dict[str, _Attempt] = {}  # by callback id, those this process is connecting
        self._claiming: set[str] = set()  # callback ids whose claim this process is writing
        self._legs: dict[str, _Attempt] = {}  # by agent leg id
        self._seq = itertools.count(1)
        self.figures = CallbackFigures()

    # ---- the service ---------------------------------------------------------------------------------------

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Load the live callbacks, then keep the mirror in step with Redis."""
        await self.sync()
        task_status.started()
        while True:
            # Wall time, as the webhook outbox: a comparison with Redis, not a deadline of the call center's, so a
            # manual clock moved on by days does not stop at every five seconds of them.
            await anyio.sleep(SYNC_SECONDS)
            try:
                await self.sync()
            except StoreUnavailable as exc:
                log.warning("callback.sync_failed", error=str(exc))

    def owns(self, callback_id: str) -> bool:
        return callback_id in self.entries or callback_id in self._attempts

    def rules(self, queue: str) -> QueueCallback:
        return self._queues(queue) or QueueCallback()

    def queue_figures(self, queue: str) -> QueueCallbacks:
        return self.figures.figures(queue, (stored.entry for stored in self.entries.values()))

    async def sync(self) -> None:
        """Compare the mirror with Redis: new entries are taken in, ended ones let go, orphans settled."""
        # What this process writes while Redis is read is newer than what the read returns: only an entry unchanged
        # here meanwhile is let go when Redis no longer lists it, and only a newer version is taken in.
        before = {callback_id: stored.version for callback_id, stored in self.entries.items()}
        current = {stored.entry.id: stored for stored in await self._store.live()}
        for callback_id, stored in list(self.entries.items()):
            unchanged = before.get(callback_id) == stored.version
            if callback_id not in current and callback_id not in self._attempts and unchanged:
                # Ended elsewhere, it is still readable (for KEEP_DAYS); gone altogether, Redis lost its data:
                # the entry as this process knows it goes back, so a pending callback is not lost with it.
                if await self._store.get(callback_id) is None and await self._store.restore(stored):
                    log.warning("callback.written_back", callback_id=callback_id, state=stored.entry.state)
                    continue
                self._forget(callback_id)
        busy = self._attempts.keys() | self._claiming
        orphans = [s for s in current.values() if s.entry.state == "dialing" and s.owner and s.entry.id not in busy]
        gone = await self._store.gone_owners(s.owner for s in orphans) if orphans else set()
        # Dialing under this process's name but connected by none of its attempts: a claim whose answer was lost
        # and that this process gave up, or a write-back of a mirror. Nobody else would ever settle it.
        gone.add(self._instance)
        for stored in current.values():
            callback_id = stored.entry.id
            if callback_id in busy:
                continue
            if stored.entry.state == "dialing" and stored.owner in gone:
                await self._settle_orphan(stored)
                continue
            known = self.entries.get(callback_id)
            if known is not None and known.version > stored.version and before.get(callback_id) == known.version:
                await self._redis_behind(stored, known)
                continue
            if known is not None and known.version >= stored.version:
                continue
            self._adopt(stored)
        self._update_gauges()

    async def _redis_behind(self, stored: Stored, known: Stored) -> None:
        """Redis holds an older version than one it acknowledged to this process: it lost its last writes (an
        append-only file synced every second, a failover to a replica behind). The newer one goes back."""
        log.warning("callback.redis_behind", callback_id=known.entry.id, redis=stored.version, here=known.version)
        try:
            written = await self._persist(stored, known.entry, owner=known.owner, patience=0.0)
        except Conflict as conflict:  # changed by another process meanwhile: that one stands
            if conflict.current is not None:
                self._adopt(conflict.current)
            return
        self._adopt(written)

    # ---- requests ------------------------------------------------------------------------------------------

    async def request(self, call_id: str, asked: call.RequestCallback) -> call.CallbackAnswer:
        """A caller's request (virtual hold, from the call machine)."""
        now = self._services.clock.now()
        step = life.request(
            callback_id=new_callback_id(),
            queue=asked.queue,
            number=asked.number,
            origin="virtual_hold",
            rules=self.rules(asked.queue),
            now=now,
            place=asked.place,
            priority=asked.priority,
            name_recording=asked.name_recording,
            call_id=call_id,
        )
        try:
            await self._create(step)
        except Duplicate as dup:
            log.info("callback.refused_pending", call_id=call_id, queue=asked.queue, existing=dup.existing)
            return call.CallbackAnswer(False, reason="pending")
        except StoreUnavailable as exc:
            log.error("callback.not_saved", call_id=call_id, error=str(exc))
            return call.CallbackAnswer(False, reason="unavailable")
        return call.CallbackAnswer(True, step.entry.id)

    async def schedule(
        self,
        *,
        queue: str,
        number: str,
        at: float | None = None,
        agent: str = "",
        deadline: float | None = None,
        note: str = "",
        ticket: str = "",
        priority: int = 0,
        origin: life.Origin = "scheduled",
    ) -> Entry:
        """A callback from the API (the CRM), an agent's wrap-up or a ticket. Raises CallbackError naming the field,
        Duplicate when the number has one pending for the queue."""
        try:
            checked = callback_number(number, self.settings.plan).e164
        except ValueError as exc:
            raise CallbackError(str(exc), "number") from None
        now = self._services.clock.now()
        if deadline is not None and deadline <= now:
            raise CallbackError("the deadline is past", "deadline")
        step = life.request(
            callback_id=new_callback_id(),
            queue=queue,
            number=checked,
            origin=origin,
            rules=self.rules(queue),
            now=now,
            at=at,
            deadline=deadline,
            agent=agent,
            priority=priority,
            note=note,
            ticket=ticket,
        )
        await self._create(step)
        return self.entries[step.entry.id].entry if step.entry.id in self.entries else step.entry

    async def cancel(self, callback_id: str, by: str) -> Entry:
        return await self._change(callback_id, lambda e, now: life.cancel(e, now, by))

    async def reschedule(self, callback_id: str, at: float) -> Entry:
        if at <= self._services.clock.now():
            raise CallbackError("the new time is past", "at")
        return await self._change(callback_id, lambda e, now: life.reschedule(e, self.rules(e.queue), at, now))

    async def _change(self, callback_id: str, how: Callable[[Entry, float], Step]) -> Entry:
        for _ in range(3):
            stored = await self._store.get(callback_id)
            if stored is None:
                raise CallbackError(f"no callback {callback_id[:64]!r}")
            try:
                step = how(stored.entry, self._services.clock.now())
            except life.NotNow as exc:
                raise CallbackError(str(exc), conflict=True) from None
            try:
                written = await self._store.update(stored, step.entry)
            except Conflict:
                continue
            self._publish(step)
            self._adopt(written)
            return written.entry
        raise CallbackError("the callback keeps changing; try again", conflict=True)

    async def _create(self, step: Step) -> None:
        stored = await self._store.create(step.entry)
        self._publish(step)
        self._adopt(stored)

    # ---- the mirror ----------------------------------------------------------------------------------------

    def _adopt(self, stored: Stored) -> None:
        """Take ``stored`` as the entry now is: in line if due, a timer for its next time otherwise."""
        entry = stored.entry
        if not entry.live:
            self._forget(entry.id)
            return
        self.entries[entry.id] = stored
        timers, now = self._services.timers, self._services.clock.now()
        timers.cancel((_OWNER, entry.id))
        if entry.state == "dialing":  # another process connects it
            self._leave_line(entry)
            return
        if entry.state in life.WAITING:
            self._leave_line(entry)
            wake_at = life.next_wake(entry)
            if wake_at is not None:
                timers.set((_OWNER, entry.id), max(wake_at, now), lambda: self._spawn_wake(entry.id))
            return
        # Due: in line, unless it waits for one agent.
        if life.wanted_agent(entry, now):
            self._leave_line(entry)
            self._services.spawn(self._try_agent, entry.id)
            return
        if entry.id not in self._in_line:
            self._in_line.add(entry.id)
            self._services.acd.enqueue(entry.id, entry.queue, entry.priority, entry.place)
        wake_at = life.next_wake(entry)
        if wake_at is not None:
            timers.set((_OWNER, entry.id), max(wake_at, now), lambda: self._spawn_wake(entry.id))

    def _leave_line(self, entry: Entry) -> None:
        if entry.id in self._in_line:
            self._in_line.discard(entry.id)
            self._services.acd.remove(entry.id, entry.queue)

    def _forget(self, callback_id: str) -> None:
        stored = self.entries.pop(callback_id, None)
        self._services.timers.cancel((_OWNER, callback_id))
        if stored is not None:
            self._leave_line(stored.entry)

    def _spawn_wake(self, callback_id: str) -> None:
        self._services.spawn(self._wake, callback_id)

    async def _wake(self, callback_id: str) -> None:
        stored = self.entries.get(callback_id)
        if stored is None or callback_id in self._attempts:
            return
        now = self._services.clock.now()
        entry = stored.entry
        step = life.overdue(entry, now) if entry.state == "due" else life.wake(entry, self.rules(entry.queue), now)
        if step.entry == entry:
            self._adopt(stored)  # an agent-only entry falling back to anyone: into the line
            return
        await self._write(stored, step)

    async def _write(
        self, stored: Stored, step: Step, *, owner: str = "", patience: float | None = 0.0
    ) -> Stored | None:
        """Write a step over what was read; None (and the mirror refreshed) when someone changed it first."""
        try:
            written = await self._persist(stored, step.entry, owner=owner, patience=patience)
        except Conflict as conflict:
            if conflict.current is None:
                self._forget(stored.entry.id)
            else:
                self._adopt(conflict.current)
            return None
        self._publish(step)
        self._adopt(written)
        return written

    async def _persist(self, stored: Stored, entry: Entry, *, owner: str, patience: float | None) -> Stored:
        """Write ``entry`` over ``stored`` (what this process read or last wrote) until Redis takes it. A write
        refused for want of a connection is tried again (for ``patience`` seconds; None: as long as the process
        runs); a write Redis applied whose answer was lost on the way is found in Redis as this very entry; a
        Redis that lost the entry (its data) or went back to an older version (lost its last writes) gets this
        one written over it. Raises Conflict when another process changed it since, StoreUnavailable when
        ``patience`` ran out."""
        deadline = None if patience is None else time.monotonic() + patience
        unsure = False  # a try failed on the way: it may have been applied
        while True:
            try:
                return await self._store.update(stored, entry, owner=owner)
            except StoreUnavailable as exc:
                unsure = True
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                log.warning("callback.write_retried", callback_id=entry.id, state=entry.state, error=str(exc))
                await anyio.sleep(WRITE_RETRY_SECONDS)
            except Conflict as conflict:
                current = conflict.current
                if current is None:
                    again = Stored(entry, stored.version + 1, owner)
                    if await self._store.restore(again):
                        log.warning("callback.written_back", callback_id=entry.id, state=entry.state)
                        return again
                    continue  # written back by another process meanwhile: compared with that one
                if unsure and current.entry == entry:
                    return Stored(entry, current.version, owner)  # applied: only its answer was lost
                if current.version < stored.version:
                    log.warning("callback.redis_behind", callback_id=entry.id, redis=current.version)
                    stored = current
                    continue
                raise

    async def _try_agent(self, callback_id: str) -> None:
        """An agent-only callback: reserve its agent if available now, else look again later."""
        stored = self.entries.get(callback_id)
        if stored is None or callback_id in self._attempts:
            return
        entry, now = stored.entry, self._services.clock.now()
        agent_id = life.wanted_agent(entry, now)
        if not agent_id:
            self._adopt(stored)
            return
        try:
            endpoint = await self._services.acd.reserve(agent_id, entry.id, entry.queue)
        except InvalidTransition:
            retry_at = now + AGENT_POLL_SECONDS
            if entry.anyone_at is not None:
                retry_at = min(retry_at, entry.anyone_at)
            self._services.timers.set((_OWNER, entry.id), retry_at, lambda: self._spawn_wake(entry.id))
            return
        self._services.spawn(self._turn, entry.id, agent_id, endpoint)

    # ---- its turn ------------------------------------------------------------------------------------------

    def deliver(self, callback_id: str, message: call.Input) -> None:
        """From the ACD: an agent was reserved for the callback (or the line let it go)."""
        match message:
            case call.Offered(agent_id=agent_id, endpoint=endpoint, line=line):
                self._in_line.discard(callback_id)
                if line:
                    # A persistent agent sits in their own bridge: not rung for a callback (left out for now).
                    self._services.acd.release(agent_id, _NOT_OURS, call_id=callback_id)
                    self._later_in_line(callback_id)
                    return
                self._services.spawn(self._turn, callback_id, agent_id, endpoint)
            case call.RingAll(agents=agents):
                self._in_line.discard(callback_id)
                (agent_id, endpoint), *others = agents
                for other, _ in others:
                    self._services.acd.release(other, _NOT_OURS, call_id=callback_id)
                self._services.spawn(self._turn, callback_id, agent_id, endpoint)
            case call.QueueEnded(reason=reason):
                self._in_line.discard(callback_id)
                log.info("callback.taken_out_of_line", callback_id=callback_id, reason=reason)
                self._later_in_line(callback_id)

    def _later_in_line(self, callback_id: str) -> None:
        stored = self.entries.get(callback_id)
        if stored is not None:
            at = self._services.clock.now() + AGENT_POLL_SECONDS
            self._services.timers.set((_OWNER, callback_id), at, lambda: self._adopt_again(callback_id))

    def _adopt_again(self, callback_id: str) -> None:
        stored = self.entries.get(callback_id)
        if stored is not None:
            self._adopt(stored)

    async def _turn(self, callback_id: str, agent_id: str, endpoint: str) -> None:
        """An agent is reserved: claim the callback, then connect agent and customer."""
        services = self._services
        stored = self.entries.get(callback_id)
        if stored is None or callback_id in self._attempts:
            services.acd.release(agent_id, _NOT_OURS, call_id=callback_id)
            return
        now = services.clock.now()
        try:
            step = life.claim(stored.entry, self.rules(stored.entry.queue), now)
        except life.NotNow:
            services.acd.release(agent_id, _NOT_OURS, call_id=callback_id)
            return
        self._claiming.add(callback_id)
        try:
            claimed = await self._write(stored, step, owner=self._instance, patience=DIAL_PATIENCE_SECONDS)
        except StoreUnavailable as exc:
            log.warning("callback.claim_failed", callback_id=callback_id, error=str(exc))
            services.acd.release(agent_id, _NOT_OURS, call_id=callback_id)
            self._later_in_line(callback_id)
            return
        finally:
            self._claiming.discard(callback_id)
        if claimed is None or claimed.entry.state != "dialing":
            # Claimed elsewhere first, or outside the window now: the agent is someone else's to offer.
            log.info("callback.not_claimed", callback_id=callback_id, agent=agent_id)
            services.acd.release(agent_id, _NOT_OURS, call_id=callback_id)
            return
        attempt = _Attempt(claimed, agent_id, endpoint, next(self._seq))
        self._attempts[callback_id] = attempt
        log.info("callback.claimed", callback_id=callback_id, agent=agent_id, mode=claimed.entry.mode)
        await self._carry_out(attempt, attempt.connection.start())

    async def _carry_out(self, attempt: _Attempt, commands: list[legs.Command]) -> None:
        for command in commands:
            try:
                await self._execute(attempt, command)
            except AriError as exc:
                log.warning("callback.step_failed", callback_id=attempt.stored.entry.id, error=exc.message)
                if isinstance(command, legs.RingAgent):
                    await self._carry_out(attempt, attempt.connection.agent_failed("unavailable"))
                    return

    async def _execute(self, attempt: _Attempt, command: legs.Command) -> None:
        services, entry = self._services, attempt.stored.entry
        ari, callback_id = services.ari, entry.id
        match command:
            case legs.RingAgent():
                self._legs[attempt.agent_leg] = attempt
                services.channels.own(attempt.agent_leg, self)
                await ari.originate(
                    attempt.endpoint,
                    app_args=("callback", attempt.agent_leg),
                    ring_timeout=AGENT_RING_SECONDS,
                    caller_id=f'"Callback" <{entry.number}>',
                    channel_id=attempt.agent_leg,
                )
            case legs.AnnounceToAgent():
                media = [self.settings.prompts.agent_intro]
                if entry.name_recording:
                    media.append(f"recording:{entry.name_recording}")
                media.append(f"digits:{entry.number.lstrip('+')}")
                await ari.play(f"channel:{attempt.agent_leg}", media, playback_id=f"{attempt.agent_leg}-intro")
            case legs.DialCustomer():
                await self._dial_customer(attempt)
            case legs.Bridge():
                await ari.create_bridge("mixing", bridge_id=attempt.bridge)
                await ari.add_to_bridge(attempt.bridge, [attempt.agent_leg, attempt.customer_leg])
                services.acd.connected(attempt.agent_id, call_id=callback_id)
            case legs.Connected():
                await self._settle(
                    attempt, life.connected(attempt.stored.entry, services.clock.now(), attempt.agent_id)
                )
            case legs.HangUpAgent():
                await self._hang_up(attempt.agent_leg)
            case legs.HangUpCustomer():
                await services.outbound.hang_up(attempt.customer_leg)
            case legs.ReleaseAgent(reason=reason):
                services.acd.release(attempt.agent_id, reason, call_id=callback_id)
            case legs.AgentFinished():
                services.acd.finished(attempt.agent_id, call_id=callback_id)
                await self._end_attempt(attempt)
            case legs.BackInLine():
                step = life.back_in_line(attempt.stored.entry, services.clock.now())
                await self._settle(attempt, step)
                await self._end_attempt(attempt)
            case legs.NotReached(outcome=outcome):
                step = life.not_reached(attempt.stored.entry, self.rules(entry.queue), services.clock.now(), outcome)
                await self._settle(attempt, step)
                await self._end_attempt(attempt)

    async def _dial_customer(self, attempt: _Attempt) -> None:
        """Write the attempt, then place the customer's leg: never a leg without its attempt counted first."""
        services, entry = self._services, attempt.stored.entry
        step = life.dialled(entry, services.clock.now(), attempt.agent_id)
        try:
            written = await self._persist(
                attempt.stored, step.entry, owner=self._instance, patience=DIAL_PATIENCE_SECONDS
            )
        except (Conflict, StoreUnavailable) as exc:
            log.error("callback.attempt_not_written", callback_id=entry.id, error=repr(exc))
            await self._carry_out(attempt, attempt.connection.agent_failed("callback_lost"))
            return
        attempt.stored = written
        self.entries[entry.id] = written
        self._publish(step)
        request = OutboundRequest(
            leg_id=attempt.customer_leg,
            number=PhoneNumber(entry.number),
            trunks=self._trunks,
            caller_id=self.settings.caller_id,
            caller_name=self.settings.caller_name,
            ring_seconds=self.settings.ring_seconds,
            variables={"CALLBACK_ID": entry.id},
            app_args=("callback", entry.id),
        )
        await services.outbound.place(request, lambda event: self._customer_event(attempt, event))

    def _customer_event(self, attempt: _Attempt, event: LegEvent) -> None:
        connection = attempt.connection
        match event:
            case Answered():
                commands = connection.customer_answered()
            case NoAnswer():
                commands = connection.customer_not_reached("no_answer")
            case Busy():
                commands = connection.customer_not_reached("busy")
            case Failed(reason=reason):
                commands = connection.customer_not_reached("failed" if reason != "no free line" else "no_line")
            case Ended():
                commands = connection.customer_gone()
        if commands:
            self._services.spawn(self._carry_out, attempt, commands)

    async def _settle(self, attempt: _Attempt, step: Step) -> None:
        """Write how the attempt went, however long Redis takes to come back: left unwritten, the entry would stay
        dialing under this process's name, and nobody would ever connect or retry it."""
        owner = self._instance if step.entry.state == "dialing" else ""
        try:
            written = await self._persist(attempt.stored, step.entry, owner=owner, patience=None)
        except Conflict as conflict:  # another process changed it since: that one stands
            log.error("callback.settle_failed", callback_id=step.entry.id, error=repr(conflict))
            if conflict.current is not None:
                attempt.stored = conflict.current
            return
        attempt.stored = written
        self._publish(step)
        if written.entry.state != "connected":
            self.entries[written.entry.id] = written

    async def _end_attempt(self, attempt: _Attempt) -> None:
        callback_id = attempt.stored.entry.id
        self._attempts.pop(callback_id, None)
        self._legs.pop(attempt.agent_leg, None)
        self._services.channels.disown(attempt.agent_leg, self)
        try:
            await self._services.ari.destroy_bridge(attempt.bridge)
        except AriError:
            pass  # never made, or gone with its last channel
        self._adopt(attempt.stored)

    async def _hang_up(self, channel_id: str) -> None:
        try:
            await self._services.ari.hangup(channel_id)
        except AriError:
            pass  # gone already

    async def _settle_orphan(self, stored: Stored) -> None:
        """A callback left dialing by a process that is gone: its attempt counts, and it is retried by its rules."""
        entry = stored.entry
        now = self._services.clock.now()
        step = life.not_reached(entry, self.rules(entry.queue), now, "interrupted")
        log.warning("callback.interrupted", callback_id=entry.id, owner=stored.owner, attempts=entry.attempts)
        if await self._write(stored, step) is None:
            return  # another process settled it first
        # Its legs may still be up in Asterisk (an agent listening to nothing, a customer's phone ringing).
        try:
            channels = [channel.id for channel in await self._services.ari.list_channels()]
        except AriError as exc:
            log.warning("callback.orphan_legs_unknown", callback_id=entry.id, error=exc.message)
            return
        for channel_id in channels:
            if channel_id.startswith(f"{entry.id}-k"):
                await self._services.outbound.abandon(channel_id)
            elif channel_id.startswith(f"{entry.id}-a"):
                await self._hang_up(channel_id)

    # ---- from the dispatcher: the agent's leg ---------------------------------------------------------------

    def agent_up(self, channel_id: str) -> bool:
        attempt = self._legs.get(channel_id)
        if attempt is None:
            return False
        self._services.spawn(self._carry_out, attempt, attempt.connection.agent_answered())
        return True

    def channel_gone(self, channel_id: str, cause: int | None, dialstatus: str = "") -> None:
        """The agent's leg ended (from the channel registry)."""
        self._services.channels.disown(channel_id, self)
        attempt = self._legs.pop(channel_id, None)
        if attempt is None:
            return
        connection = attempt.connection
        if connection.phase == "ringing_agent" or connection.phase == "ringing_agent_for_customer":
            busy = dialstatus == "BUSY" or (not dialstatus and cause == 17)
            failed = dialstatus in ("CONGESTION", "CHANUNAVAIL")
            reason = "busy" if busy else "unavailable" if failed else "ring_no_answer"
        else:
            reason = "agent_hung_up"
        self._services.spawn(self._carry_out, attempt, connection.agent_failed(reason))

    # ---- events --------------------------------------------------------------------------------------------

    def _publish(self, step: Step) -> None:
        metrics = self._services.metrics
        for kind, fields in step.events:
            self._services.emit(kind, dict(fields))
            metrics.callbacks.labels(fields["queue"], kind.partition(".")[2]).inc()
            log.info(kind, callback_id=fields["callback_id"], queue=fields["queue"])

    def _update_gauges(self) -> None:
        counts: dict[str, int] = {}
        for stored in self.entries.values():
            counts[stored.entry.state] = counts.get(stored.entry.state, 0) + 1
        for state in ("requested", "due", "dialing", "retry"):
            self._services.metrics.callbacks_live.labels(state).set(counts.get(state, 0))
