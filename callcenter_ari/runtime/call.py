"""A live call: feed the machine, carry out its commands, persist its record.

No task per call: an input is taken at once, in the turn of the event loop of whoever delivers it (the dispatcher
for Asterisk's events, the ACD for an offer, the timers), as long as the commands of its step need not wait, which
is the common case (the ARI requests go without waiting, below; the ACD's and the store's calls are queued). A step
that must wait (a trunk line, a recording, a callback's slot, a named agent; every ARI request over the HTTP
transport) goes on in a task of its own, which takes the inputs that come meanwhile, in order, and ends when there
are none left.

The executor is where adapter failures become inputs again: a 404 on the caller's channel is ``CallerGone``, on
the agent's leg ``AgentGone``; an originate Asterisk refuses is ``AgentFailed``. Anything unexpected fails the
call safe: it goes back to the dialplan (or is hung up), and its record says so.

The requests whose answer decides nothing for the next command (answer, play, music on hold, originate, bridge,
hang up...) are sent without waiting where the ARI transport keeps them in order (ari/client.py). Their failures
come back as the call's next input (``_Unanswered``) and become the same inputs, or the same failure, as an awaited
request's would.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, cast

import anyio
import httpx
import msgspec
import structlog

from callcenter_ari.acd.errors import InvalidTransition, UnknownAgent
from callcenter_ari.ari.client import AriClient, OnError
from callcenter_ari.ari.errors import AriError, ChannelGone
from callcenter_ari.calls.legs import every_leg
from callcenter_ari.calls.machine import InboundCall
from callcenter_ari.calls.messages import (
    AgentConnected,
    AgentFailed,
    AgentFinished,
    AgentGone,
    AgentJoined,
    AgentOnHold,
    AgentReserved,
    Answer,
    CallerGone,
    CancelTimer,
    Command,
    Connect,
    ContinueInDialplan,
    Dequeue,
    DestroyBridge,
    Digit,
    Emit,
    EndedWhileAway,
    Enqueue,
    Failed,
    FreeAgent,
    Hangup,
    Input,
    JoinAgent,
    JoinBridge,
    LeaveBridge,
    Lookup,
    LookupResult,
    MohStart,
    MohStop,
    Mute,
    Originate,
    Play,
    RecordMessage,
    ReleaseAgent,
    ReleaseCall,
    ReleaseLine,
    RequestCallback,
    ReservationRefused,
    ReserveAgent,
    SetTimer,
    Start,
    StopPlayback,
    Timeout,
    Unmute,
)
from callcenter_ari.clock import Clock
from callcenter_ari.fencing import SteppedDown
from callcenter_ari.recording.recorder import ControlRecording, StartRecording
from callcenter_ari.runtime.acd import Line, ReservedElsewhere
from callcenter_ari.runtime.standing import LineGone, join
from callcenter_ari.tickets import CallFacts

if TYPE_CHECKING:
    from callcenter_ari.runtime.app import Services

log = structlog.get_logger(__name__)

# A call's own events while one of its steps waits: a handful, unless a caller floods DTMF. Past this many
# waiting, further digits are dropped; every other input (a hang-up, a timeout, an offer) is always queued.
INBOX_SIZE = 32

# How long a failed call's cleanup may wait on Asterisk: the caller must not be left in the application.
FAIL_SAFE_SECONDS = 5.0


class _Unanswered:
    """A request the call sent without waiting, which failed: handled in the call's turn, as an input."""

    __slots__ = ("command", "error")

    def __init__(self, command: Command, error: AriError) -> None:
        self.command = command
        self.error = error


class LiveCall:
    def __init__(self, machine: InboundCall, services: Services) -> None:
        self.machine = machine
        self.services = services
        self.call_id = machine.record.call_id
        self._inbox: deque[Input | _Unanswered] = deque()  # inputs delivered while a step waits
        self._busy = False  # a turn is running: in the deliverer's, or a step waits in the call's task
        self._closed = False  # no step runs any more: inputs are moot, requests' failures handled as they come
        self._lines: set[str] = set()  # the legs holding a trunk line (the lease is the leg's channel id)

    @property
    def caller_channel(self) -> str:
        return self.machine.record.channel_id

    def start(self, first: Input) -> None:
        """Run the call from its first input: a new call's ``Start``, a recovered one's ``Resume``."""
        self.deliver(first)

    def channel_gone(self, channel_id: str, cause: int | None, dialstatus: str) -> None:
        """The caller hung up, or one of the legs the call dialled (an agent's, a transfer's, a consultation's)."""
        if channel_id == self.caller_channel:
            self.deliver(CallerGone(cause))
        else:
            self.deliver(AgentGone(cause, channel_id, dialstatus))

    def _time_out(self, name: str) -> None:
        self.deliver(Timeout(name))

    def deliver(self, message: Input | _Unanswered) -> bool:
        """Take an input: at once when no step of the call waits, else after it. False only for a digit dropped
        from a flood (an input for an ended call is moot). A full inbox must never lose a hang-up: the call would
        wait for it forever."""
        if isinstance(message, Digit) and len(self._inbox) >= INBOX_SIZE:
            return False
        if not self._closed:
            self._inbox.append(message)
            if not self._busy:
                self._take_turn()
        return True

    def _take_turn(self) -> None:
        """The inputs waiting, one step each, in this turn of the event loop, until one must wait: that step goes
        on in the call's task. A step that fails (a bug, a refused request) fails the call safe, in the task."""
        self._busy = True
        tokens = structlog.contextvars.bind_contextvars(call_id=self.call_id)
        try:
            self._turn()
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    def _turn(self) -> None:
        try:
            inbox = self._inbox
            while inbox and not self.machine.ended:
                rest = self._step_now(inbox.popleft())
                if rest is not None:
                    self.services.start(self._go_on, *rest)
                    return
        except SteppedDown as stop:  # the process stops acting for its node: not in the deliverer's task
            self._end(left_live=True)
            self.services.start(_stop, stop)
            return
        except Exception:
            log.exception("call.failed")
            self._closed = True
            self.services.start(self._fail)
            return
        if self.machine.ended:
            self._end()
        self._busy = False

    def _step_now(self, message: Input | _Unanswered) -> tuple[list[Command], deque[Input | _Unanswered]] | None:
        """``_step`` in this turn; what is left of it (its commands from the first that must wait, the inputs that
        follow) when it cannot go on without waiting."""
        machine, services = self.machine, self.services
        pending: deque[Input | _Unanswered] = deque([message])
        while pending:
            item = pending.popleft()
            if isinstance(item, _Unanswered):
                _then(pending, self._failure(item.command, item.error))
                continue
            if isinstance(item, Start) and self._on_a_trunk():
                pending.appendleft(item)  # its line is taken first, from Redis
                return [], pending
            commands = machine.handle(item, services.clock.now())
            for n, command in enumerate(commands):
                if not self._immediate(command):
                    return commands[n:], pending
                _then(pending, _run_now(self._execute(command)))
        services.store.save_call(machine.record)
        return None

    def _immediate(self, command: Command) -> bool:
        """Whether carrying the command out needs no wait (its requests go without waiting)."""
        match command:
            case RecordMessage() | StartRecording() | ControlRecording() | JoinAgent():
                return False  # a recording's or a persistent agent's line: awaited replies decide the next input
            case RequestCallback() | ReserveAgent():
                return False  # the callback's slot, the named agent: asked of Redis and the ACD
            case Originate(trunk=trunk) if trunk:
                return False  # its line is taken first, from Redis
            case _ if isinstance(command, _ARI_COMMANDS):
                return self.services.ari.sends_without_waiting
        return True

    async def _go_on(self, commands: list[Command], pending: deque[Input | _Unanswered]) -> None:
        """A step that must wait, to its end, then the inputs that came meanwhile; the call's turns are taken in
        the deliverer's again once none is left."""
        with structlog.contextvars.bound_contextvars(call_id=self.call_id):
            try:
                await self._step(pending, commands)
                while self._inbox and not self.machine.ended:
                    await self._step(deque([self._inbox.popleft()]))
            except (anyio.get_cancelled_exc_class(), SteppedDown):
                self._end(left_live=not self.machine.ended)  # the process stops: whoever recovers the call goes on
                raise
            except Exception:
                log.exception("call.failed")
                self._closed = True
                await self._fail_safely()
            if self.machine.ended or self._closed:
                self._end()
            else:
                self._busy = False

    async def _fail(self) -> None:
        with structlog.contextvars.bound_contextvars(call_id=self.call_id):
            try:
                await self._fail_safely()
            finally:
                self._end()

    async def _fail_safely(self) -> None:
        try:
            await self._fail_safe()
        except Exception:  # one call's trouble must never take the process down
            log.exception("call.fail_safe_failed")

    def _end(self, *, left_live: bool = False) -> None:
        if self.services.calls.get(self.call_id) is not self:
            return  # ended already
        if not left_live:
            self._release_lines()
            self._open_ticket()
        self._log_outcome()
        self._closed = True
        self._inbox.clear()
        self.services.timers.cancel_owner(self.call_id)
        self.services.forget(self)

    async def _step(self, pending: deque[Input | _Unanswered], commands: list[Command] | None = None) -> None:
        """Handle the inputs in ``pending`` (after carrying out ``commands``, left from a step begun in a turn),
        and the inputs their commands give back, then write the record."""
        machine, services = self.machine, self.services
        for command in commands or ():
            _then(pending, await self._execute(command))
        while pending:
            item = pending.popleft()
            if isinstance(item, _Unanswered):
                _then(pending, self._failure(item.command, item.error))
                continue
            if isinstance(item, Start):
                item = await self._take_line(item)
            for command in machine.handle(item, services.clock.now()):
                _then(pending, await self._execute(command))
        services.store.save_call(machine.record)

    def _unanswered(self, command: Command) -> OnError:
        """Where the failure of a request sent for ``command`` without waiting goes: the call's inbox."""

        def failed(error: AriError) -> None:
            if not self._closed:
                self.deliver(_Unanswered(command, error))
                return
            with structlog.contextvars.bound_contextvars(call_id=self.call_id):
                try:  # no step will take it: what it means needs no call (a hang-up instead of a refused continue)
                    self._failure(command, error)
                except AriError:
                    log.warning("call.request_failed_after_end", command=type(command).__name__, error=error.message)

        return failed

    async def _execute(self, command: Command, *, wait: bool = False) -> Input | None:
        """Carry out one command; ``wait``: its requests awaited, whatever the transport (a failing call's last
        ones, which its shield must cover)."""
        services, record = self.services, self.machine.record
        ari: AriClient = services.ari
        # Where a request sent without waiting reports its failure (ARI commands only: none for the others).
        told = None if wait or not isinstance(command, _ARI_COMMANDS) else self._unanswered(command)
        try:
            match command:
                case Answer(channel):
                    await ari.answer(channel, on_error=told)
                case Play(channel, media, playback_id, lang):
                    await ari.play(f"channel:{channel}", media, playback_id=playback_id, lang=lang, on_error=told)
                case StopPlayback(playback_id):
                    await ari.stop_playback(playback_id, on_error=told)
                case Lookup():
                    services.spawn(self._lookup, command)
                case RecordMessage(channel, name, max_seconds, beep, terminate_on):
                    await ari.record(
                        f"channel:{channel}",
                        name,
                        max_duration=max_seconds,
                        beep=beep,
                        terminate_on=terminate_on,
                        if_exists="overwrite",
                    )
                case Hangup(channel, cause):
                    await ari.hangup(channel, cause=cause, on_error=told)
                case ContinueInDialplan(channel):
                    services.admission.gave_up(channel)  # should the dialplan send it in again: not served twice
                    try:
                        await ari.continue_in_dialplan(channel, on_error=told)
                    except AriError:  # awaited and refused: hung up instead, in this step
                        await _hangup(ari, channel, 41)
                case MohStart(channel, moh_class):
                    await ari.moh_start(channel, moh_class, on_error=told)
                case MohStop(channel):
                    await ari.moh_stop(channel, on_error=told)
                case Mute(channel):
                    await ari.mute(channel, "in", on_error=told)
                case Unmute(channel):
                    await ari.unmute(channel, "in", on_error=told)
                case AgentOnHold(agent_id, held):
                    services.acd.hold(agent_id, held, call_id=self.call_id)
                case Originate(endpoint, channel_id, app_args, timeout, caller_id, trunk):
                    if trunk:
                        if await services.lines.acquire(channel_id, (trunk,)) is None:
                            log.warning("trunk.full", trunk=trunk, direction="outbound")
                            services.metrics.trunk_full.labels(trunk).inc()
                            return AgentFailed("no_free_line")
                        self._lines.add(channel_id)
                    services.expect_leg(channel_id, self)
                    await ari.originate(
                        endpoint,
                        app_args=app_args,
                        ring_timeout=timeout,
                        caller_id=caller_id,
                        channel_id=channel_id,
                        originator=self.caller_channel,
                        on_error=told,
                    )
                case Connect(bridge_id, channels):
                    await ari.create_bridge("mixing", bridge_id=bridge_id, on_error=told)
                    await ari.add_to_bridge(bridge_id, channels, on_error=told)
                case DestroyBridge(bridge_id):
                    await ari.destroy_bridge(bridge_id, on_error=told)
                case StartRecording():
                    return await services.recordings.start(record, command)
                case ControlRecording():
                    return await services.recordings.control(command)
                case JoinBridge(bridge_id, channels):
                    await ari.add_to_bridge(bridge_id, channels, on_error=told)
                case JoinAgent(bridge_id, channel, line):
                    try:
                        await join(ari, Line(record.agent_id, line, bridge_id), channel)
                    except LineGone:
                        return AgentGone(None, line)
                    return AgentJoined()
                case LeaveBridge(bridge_id, channel):
                    await ari.remove_from_bridge(bridge_id, (channel,), on_error=told)
                case Enqueue(queue, priority, enqueued_at, first, language, skills):
                    services.acd.enqueue(
                        self.call_id, queue, priority, enqueued_at, first=first, language=language, skills=skills
                    )
                case Dequeue(queue):
                    services.acd.remove(self.call_id, queue)
                case RequestCallback():
                    return await services.callbacks.request(self.call_id, command)
                case ReleaseAgent(agent_id, reason):
                    services.acd.release(agent_id, reason, call_id=self.call_id)
                case ReserveAgent(agent_id, queue):
                    return await self._reserve(agent_id, queue)
                case FreeAgent(agent_id, reason):
                    services.acd.free(agent_id, self.call_id, reason)
                case ReleaseCall(queue):
                    services.acd.call_failed(self.call_id, queue)
                case ReleaseLine(channel):
                    if channel in self._lines:
                        self._lines.discard(channel)
                        services.lines.release(channel)
                case AgentConnected(agent_id):
                    services.acd.connected(agent_id, call_id=self.call_id)
                case AgentFinished(agent_id):
                    services.acd.finished(agent_id, call_id=self.call_id)
                case SetTimer(name, at):
                    services.timers.set((self.call_id, name), at, functools.partial(self._time_out, name))
                case CancelTimer(name):
                    services.timers.cancel((self.call_id, name))
                case Emit(kind, fields):
                    services.emit(kind, fields)
        except AriError as exc:
            return self._failure(command, exc)
        return None

    def _failure(self, command: Command, error: AriError) -> Input | None:
        """What a failed request (awaited, or sent without waiting and failed later) means for the call: an input,
        nothing, or (raised) the call's failure."""
        services, record = self.services, self.machine.record
        gone = isinstance(error, ChannelGone)
        services.metrics.ari_errors.labels("channel_gone" if gone else type(error).__name__).inc()
        match command:
            case Hangup(channel):
                if not gone:  # gone already: the outcome a hang-up wants
                    log.warning("call.hangup_failed", channel=channel, error=error.message)
                return None
            case ContinueInDialplan(channel):
                services.spawn(_hangup, services.ari, channel, 41)
                return None
            case JoinBridge() | Connect() if gone:
                return None  # a party hung up as it moved or as we joined them: its hang-up event tells the call
            case Originate(endpoint, channel_id) if not gone:
                log.warning("agent.originate_failed", endpoint=endpoint, error=error.message)
                return AgentFailed("unavailable", channel_id)
        if isinstance(error, ChannelGone):
            if error.channel_id == record.channel_id:
                return CallerGone(None)
            return AgentGone(None, error.channel_id)
        if isinstance(command, (DestroyBridge, MohStop, LeaveBridge)):
            log.warning("call.cleanup_failed", command=type(command).__name__, error=error.message)
            return None
        raise error

    def _on_a_trunk(self) -> bool:
        source = self.machine.record.source
        return bool(source) and self.services.lines.known(source)

    def _release_lines(self) -> None:
        """Every trunk line the call holds: the caller's, and its legs' (those it took, and those a process before a
        restart took, which the lines service recovered): leg ids follow one scheme, releasing is idempotent."""
        record = self.machine.record
        legs = {self.caller_channel, *self._lines}
        legs.update(every_leg(record.call_id, record.offers))
        for leg in legs:
            self.services.lines.release(leg)

    async def _take_line(self, start: Start) -> Start:
        """A call that came in on a configured trunk holds one of its lines for as long as it lasts; one the trunk
        has no line left for (more calls than the carrier contract or the card allows) is refused."""
        source, lines = self.machine.record.source, self.services.lines
        if not self._on_a_trunk():
            return start
        if await lines.acquire(self.caller_channel, (source,)) is None:
            log.warning("trunk.full", trunk=source, direction="inbound")
            self.services.metrics.trunk_full.labels(source).inc()
            return msgspec.structs.replace(start, refused="trunk_full")
        self._lines.add(self.caller_channel)
        return start

    async def _reserve(self, agent_id: str, queue: str) -> Input:
        """The ACD's answer to a call asking for a named agent, as the call's next input."""
        try:
            endpoint = await self.services.acd.reserve(agent_id, self.call_id, queue)
        except UnknownAgent:
            return ReservationRefused(agent_id, "unknown_agent")
        except ReservedElsewhere:
            return ReservationRefused(agent_id, "reserved_elsewhere")
        except InvalidTransition:
            return ReservationRefused(agent_id, "not_available")
        return AgentReserved(agent_id, endpoint)

    async def _lookup(self, lookup: Lookup) -> None:
        """POST to the CRM in a task of its own, so a slow CRM never holds up this call's other events."""
        self.deliver(await crm_lookup(self.services.http, lookup, self.services.clock))

    def _open_ticket(self) -> None:
        """Every call an agent handled gets a work order, which the agent completes at wrap-up."""
        record = self.machine.record
        if not record.agent_id or record.connected_at is None:
            return
        facts = CallFacts(
            tenant=self.services.tenant,
            call_id=record.call_id,
            agent_id=record.agent_id,
            queue=record.queue,
            call_ended_at=record.ended_at or self.services.clock.now(),
            caller_number=record.caller,
            customer_name=record.caller_name,
        )
        self.services.open_ticket(facts)

    def _log_outcome(self) -> None:
        """The one canonical line per call: everything needed to find it again, in one place."""
        record = self.machine.record
        log.info(
            "call.ended",
            outcome=record.outcome or "unfinished",
            phase=record.phase,
            did=record.did,
            source=record.source,
            queue=record.queue or None,
            agent=record.agent_id or None,
            offers=record.offers,
            cause=record.hangup_cause,
            duration=round((record.ended_at or self.services.clock.now()) - record.started_at, 3),
        )

    async def close(self, message: EndedWhileAway) -> None:
        """Close a call that is not run: recovery found its caller gone while the process was down."""
        self._busy = self._closed = True  # not run: its requests' failures are handled as they come
        await self._step(deque([message]))
        self._release_lines()

    async def _fail_safe(self) -> None:
        """Carry out what the call makes of its failure, each command on its own, so that one failing (Asterisk or
        Redis gone) does not keep the others from running. Asterisk's part is shielded and bounded in time."""
        services = self.services
        deadline = anyio.current_time() + FAIL_SAFE_SECONDS
        for command in self.machine.handle(Failed(), services.clock.now()):
            try:
                if isinstance(command, ContinueInDialplan | Hangup):
                    with anyio.CancelScope(deadline=deadline, shield=True):  # awaited: the shield holds them
                        await self._execute(command, wait=True)
                else:
                    await self._execute(command)
            except Exception:
                log.exception("call.fail_safe_step_failed", command=type(command).__name__)
        services.store.save_call(self.machine.record)


# What the executor sends to Asterisk: immediate only when the transport sends without waiting.
_ARI_COMMANDS = (
    Answer,
    Play,
    StopPlayback,
    Hangup,
    ContinueInDialplan,
    MohStart,
    MohStop,
    Mute,
    Unmute,
    Originate,
    Connect,
    DestroyBridge,
    JoinBridge,
    LeaveBridge,
)


def _then(pending: deque[Input | _Unanswered], follow_up: Input | None) -> None:
    """A command's outcome that is an input of the call: handled next, in the same step."""
    if follow_up is not None:
        pending.append(follow_up)


async def _stop(stop: SteppedDown) -> None:
    raise stop


def _run_now(step: Coroutine[Any, Any, Input | None]) -> Input | None:
    """Run a coroutine that must not wait (``_execute`` of an immediate command) to its end, now."""
    try:
        step.send(None)
    except StopIteration as done:
        return cast(Input | None, done.value)
    step.close()
    raise RuntimeError("a command taken for immediate waited")


async def _hangup(ari: AriClient, channel: str, cause: int) -> None:
    try:
        await ari.hangup(channel, cause=cause)
    except ChannelGone:
        pass  # already gone: the outcome a hang-up wants
    except AriError as exc:
        log.warning("call.hangup_failed", channel=channel, error=exc.message)


async def crm_lookup(http: httpx.AsyncClient, lookup: Lookup, clock: Clock) -> LookupResult:
    """The CRM's answer as the IVR wants it: a transport failure, a timeout (on the clock) or bad JSON is
    ``ok=False``."""
    request_id = lookup.request_id
    try:
        with clock.move_on_at(clock.now() + lookup.timeout) as waited:
            reply = await http.post(lookup.url, json=lookup.payload)
    except httpx.HTTPError as exc:
        return LookupResult(request_id=request_id, ok=False, error=type(exc).__name__)
    if waited.cancelled_caught:
        return LookupResult(request_id=request_id, ok=False, error="TimeoutError")
    try:
        data = reply.json() if reply.content else None
    except ValueError:
        return LookupResult(request_id=request_id, ok=False, status=reply.status_code, error="invalid JSON")
    return LookupResult(request_id=request_id, ok=reply.is_success, status=reply.status_code, data=data)
