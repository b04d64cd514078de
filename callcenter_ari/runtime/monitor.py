"""Supervisors listening to, whispering into, or barging into an agent's live call.

listen: a snoop channel on the agent's leg hears both directions and speaks to no one; the supervisor's phone is
bridged with it. whisper: the snoop also carries the supervisor's voice to the agent only (``whisper=out``).
barge: the supervisor joins the call's own bridge and is heard by both.

Each session is one task: ring the supervisor's configured phone, bridge it once it answers, then wait until the
supervisor hangs up, the snoop ends (it does by itself when the agent hangs up) or the call ends, and clean up.
Meanwhile the supervisor may change mode (asking for the session again with another mode): the session's task
moves them (a new snoop with the other direction, or into the call's bridge and back). The supervisor is chosen by
id from the configuration: nothing a request sends reaches a dial string.

A session is recorded in Redis before Asterisk is asked for any of its parts, and again at each change of mode
(``store/monitor_sessions.py``, in the call store's batches): after a restart or a takeover, recovery adopts a
session whose channels and bridge all survive (``adopt``: it keeps going, without ringing again) and ends one that
is partly gone (calls/monitoring.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import anyio
import structlog

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError, ChannelGone
from callcenter_ari.calls.monitoring import Mode, SessionRecord
from callcenter_ari.runtime.shared import Emit, Spawn
from callcenter_ari.store.monitor_sessions import MonitorSessions

if TYPE_CHECKING:
    from callcenter_ari.runtime.call import LiveCall
    from callcenter_ari.runtime.channels import Channels

log = structlog.get_logger(__name__)

RING_SECONDS = 30


class MonitorError(Exception):
    """The session cannot start: no such call or supervisor, or the call has no agent on it."""


class Session:
    def __init__(self, session_id: str, call_id: str, supervisor: str, endpoint: str, mode: Mode) -> None:
        self.id = session_id
        self.call_id = call_id
        self.supervisor = supervisor
        self.endpoint = endpoint
        self.mode = mode
        self.wanted = mode  # the mode asked for last: the session's task moves the supervisor there
        self.generation = 1
        self.leg = f"{session_id}-sup"
        self.snoop = f"{session_id}-snoop"
        self.bridge = f"{session_id}-b"
        self.up = anyio.Event()
        self.over = anyio.Event()
        self.changed = anyio.Event()  # another mode asked for
        self.adopted = False  # taken over from the process before (recovery): bridged already

    @classmethod
    def adopted_from(cls, record: SessionRecord) -> Session:
        session = cls(record.id, record.call_id, record.supervisor, record.endpoint, record.mode)
        session.generation = record.generation
        session.snoop, session.bridge = record.snoop or session.snoop, record.bridge or session.bridge
        session.adopted = True
        session.up.set()
        return session

    def record(self) -> SessionRecord:
        barge = self.mode == "barge"
        return SessionRecord(
            id=self.id,
            call_id=self.call_id,
            supervisor=self.supervisor,
            endpoint=self.endpoint,
            mode=self.mode,
            leg=self.leg,
            snoop="" if barge else self.snoop,
            bridge="" if barge else self.bridge,
            generation=self.generation,
        )

    def next_generation(self) -> tuple[str, str]:
        """Fresh ids for a snoop and a bridge: the old ones may still be on their way out of Asterisk."""
        self.generation += 1
        return f"{self.id}-snoop{self.generation}", f"{self.id}-b{self.generation}"


class MonitorService:
    def __init__(
        self,
        ari: AriClient,
        calls: Mapping[str, LiveCall],
        channels: Channels,
        *,
        spawn: Spawn,
        emit: Emit,
        supervisors: Mapping[str, str],
        recorded: MonitorSessions,
    ) -> None:
        self._ari, self._calls, self._channels = ari, calls, channels
        self._recorded = recorded
        self._spawn, self._emit = spawn, emit
        self._supervisors = supervisors  # supervisor id -> endpoint (from the configuration)
        self._seq = itertools.count(1)
        self._reserved: set[str] = set()
        self.sessions: dict[str, Session] = {}
        self._by_channel: dict[str, Session] = {}

    @property
    def supervisors(self) -> list[str]:
        """The configured supervisors' ids (their phones ring for listen, whisper and barge)."""
        return sorted(self._supervisors)

    def start(self, call_id: str, supervisor: str, mode: Mode) -> Session:
        endpoint = self._supervisors.get(supervisor)
        if endpoint is None:
            raise MonitorError(f"no supervisor {supervisor[:64]!r} is configured")
        task = self._calls.get(call_id)
        if task is None or task.machine.record.phase != "talking" or not task.machine.record.agent_id:
            raise MonitorError("the call has no agent on it to monitor")
        current = next((s for s in self.sessions.values() if (s.call_id, s.supervisor) == (call_id, supervisor)), None)
        if current is not None and not current.over.is_set():
            # The supervisor is on the call already: another mode moves them there, the same mode changes nothing.
            if mode != current.wanted:
                current.wanted = mode
                current.changed.set()
                log.info("monitor.mode_asked", call_id=call_id, supervisor=supervisor, mode=mode, session=current.id)
            return current
        session_id = f"{call_id}-m{next(self._seq)}"
        while session_id in self.sessions or session_id in self._reserved:
            session_id = f"{call_id}-m{next(self._seq)}"
        session = Session(session_id, call_id, supervisor, endpoint, mode)
        self._register(session)
        self._spawn(self._run, session)
        log.info("monitor.started", call_id=call_id, supervisor=supervisor, mode=mode, session=session.id)
        return session

    def reserve(self, session_ids: Iterable[str]) -> None:
        """Ids recorded by the process before (adopted or ended at recovery): no new session takes one."""
        self._reserved.update(session_ids)

    def adopt(self, record: SessionRecord) -> Session:
        """Recovery found the session whole in Asterisk, on a call that goes on: it keeps going here."""
        session = Session.adopted_from(record)
        self._register(session)
        self._spawn(self._run, session)
        log.info("monitor.adopted", call_id=session.call_id, supervisor=session.supervisor, mode=session.mode)
        return session

    def _register(self, session: Session) -> None:
        self.sessions[session.id] = session
        self._by_channel[session.leg] = self._by_channel[session.snoop] = session
        self._channels.own(session.leg, self)
        self._channels.own(session.snoop, self)

    # ---- events, from the dispatcher and the event stream --------------------------------------------------

    def leg_up(self, session_id: str) -> bool:
        session = self.sessions.get(session_id)
        if session is not None:
            session.up.set()
        return session is not None

    def channel_gone(self, channel_id: str, cause: int | None, dialstatus: str) -> None:
        """The supervisor's phone or the snoop went: the session is over."""
        session = self._by_channel.get(channel_id)
        if session is not None:
            session.over.set()

    def __call__(self, kind: str, fields: dict[str, Any]) -> None:
        """Event observer: a call that ends, or whose agent leaves it (a transfer, blind or attended; the agent
        hanging up in a consultation or a conference), ends the sessions on it: a barging supervisor is in the
        call's bridge, which a transfer destroys, and would be left on a channel outside any bridge."""
        if not self.sessions:
            return  # every event of every call comes here; a session is rare
        agent_left = kind in ("call.transfer_requested", "call.transferred") or (
            kind == "call.party_left" and fields.get("party") == "agent"
        )
        if kind == "call.ended" or agent_left:
            for session in [s for s in self.sessions.values() if s.call_id == fields.get("call_id")]:
                session.over.set()

    # ---- the session -------------------------------------------------------------------------------------

    async def _run(self, session: Session) -> None:
        try:
            await self._session(session)
        except AriError as exc:
            log.warning("monitor.failed", session=session.id, error=exc.message)
        except Exception:
            log.exception("monitor.crashed", session=session.id)  # ended below: no supervisor left in a half session
        except BaseException:
            # The task tree ends (a stop, a hand-over to a standby, a step-down) with the call live: the session is
            # left as it is in Asterisk and in Redis, for the next process's recovery to adopt or end, as the call.
            self._drop_here(session)
            log.info("monitor.left_for_recovery", session=session.id, call_id=session.call_id)
            raise
        with anyio.CancelScope(shield=True):
            await self._end(session)

    async def _session(self, session: Session) -> None:
        if session.adopted:
            await self._serve(session)
            return
        task = self._calls.get(session.call_id)
        if task is None:
            return  # the call ended before the session's task ran: the session is forgotten
        record = task.machine.record
        await self._recorded.save_now(session.record())
        if session.mode != "barge":
            await self._snoop(session, record.agent_channel, session.mode, session.snoop)
        await self._ari.originate(
            session.endpoint,
            app_args=("monitor", session.id),
            ring_timeout=RING_SECONDS,
            channel_id=session.leg,
            caller_id=f'"Monitor" <{record.caller}>',
        )
        with anyio.move_on_after(RING_SECONDS + 5):
            await _first(session.up, session.over)
        if session.up.is_set() and not session.over.is_set():
            if session.mode == "barge":
                await self._ari.add_to_bridge(record.bridge_id, [session.leg])
            else:
                await self._ari.create_bridge("mixing", bridge_id=session.bridge)
                await self._ari.add_to_bridge(session.bridge, [session.leg, session.snoop])
            self._emit(
                "monitor.started",
                {"call_id": session.call_id, "supervisor": session.supervisor, "mode": session.mode},
            )
            await self._serve(session)

    async def _serve(self, session: Session) -> None:
        """The supervisor is bridged: move them whenever another mode is asked for, until the session is over."""
        while True:
            await _first(session.over, session.changed)
            if session.over.is_set():
                return
            session.changed = anyio.Event()
            if session.wanted != session.mode:
                await self._switch(session, session.wanted)
                await self._recorded.save_now(session.record())

    async def _switch(self, session: Session, mode: Mode) -> None:
        """Move the supervisor from their mode to ``mode``: into the call's bridge (barge), or into a bridge of
        their own with a new snoop of the right direction (listen, whisper); what served the old mode goes."""
        task = self._calls.get(session.call_id)
        if task is None:
            session.over.set()
            return
        record = task.machine.record
        old_snoop, old_bridge, had_snoop = session.snoop, session.bridge, session.mode != "barge"
        if mode == "barge":
            await self._ari.add_to_bridge(record.bridge_id, [session.leg])  # moves them out of their own bridge
        else:
            snoop, bridge = session.next_generation()
            self._by_channel[snoop] = session
            self._channels.own(snoop, self)
            session.snoop, session.bridge = snoop, bridge
            await self._snoop(session, record.agent_channel, mode, snoop)
            await self._ari.create_bridge("mixing", bridge_id=bridge)
            await self._ari.add_to_bridge(bridge, [session.leg, snoop])
        session.mode = mode
        if had_snoop:
            self._by_channel.pop(old_snoop, None)  # its end is not the session's
            self._channels.disown(old_snoop, self)
            await self._dismantle(old_snoop, old_bridge)
        log.info("monitor.mode_changed", session=session.id, mode=mode)
        self._emit("monitor.mode_changed", {"call_id": session.call_id, "supervisor": session.supervisor, "mode": mode})

    async def _snoop(self, session: Session, agent_channel: str, mode: Mode, snoop_id: str) -> None:
        whisper: Literal["out", "none"] = "out" if mode == "whisper" else "none"
        await self._ari.snoop(
            agent_channel, spy="both", whisper=whisper, app_args=("snoop", session.id), snoop_id=snoop_id
        )

    async def _dismantle(self, snoop: str, bridge: str) -> None:
        try:
            await self._ari.hangup(snoop)
        except AriError:
            pass  # gone already
        try:
            await self._ari.destroy_bridge(bridge)
        except AriError:
            pass  # never made, or gone with its last channel

    async def _end(self, session: Session) -> None:
        ari = self._ari
        for channel in (session.leg, session.snoop):
            try:
                await ari.hangup(channel)
            except (ChannelGone, AriError):
                pass  # gone already, or never made
        if session.mode != "barge":
            try:
                await ari.destroy_bridge(session.bridge)
            except AriError:
                pass  # never made, or Asterisk is away: it goes with its last channel
        self._recorded.drop(session.id)
        self._drop_here(session)
        self._emit("monitor.ended", {"call_id": session.call_id, "supervisor": session.supervisor})

    def _drop_here(self, session: Session) -> None:
        """This process's part of the session: gone (what is in Asterisk and in Redis stays as it is)."""
        self.sessions.pop(session.id, None)
        for channel in (session.leg, session.snoop):
            self._by_channel.pop(channel, None)
            self._channels.disown(channel, self)


async def _first(*events: anyio.Event) -> None:
    """Return as soon as any of the events is set."""
    async with anyio.create_task_group() as tg:

        async def wait(event: anyio.Event) -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        for event in events:
            tg.start_soon(wait, event)
