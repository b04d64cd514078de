"""Supervisors listening to, whispering into, or barging into an agent's live call.

listen: a snoop channel on the agent's leg hears both directions and speaks to no one; the supervisor's phone is
bridged with it. whisper: the snoop also carries the supervisor's voice to the agent only (``whisper=out``).
barge: the supervisor joins the call's own bridge and is heard by both.

Each session is one task: ring the supervisor's configured phone, bridge it once it answers, then wait until the
supervisor hangs up, the snoop ends (it does by itself when the agent hangs up) or the call ends, and clean up.
The supervisor is chosen by id from the configuration: nothing a request sends reaches a dial string.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import anyio
import structlog

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError, ChannelGone
from callcenter_ari.runtime.shared import Emit, Spawn

if TYPE_CHECKING:
    from callcenter_ari.runtime.call import CallTask
    from callcenter_ari.runtime.channels import Channels

log = structlog.get_logger(__name__)

Mode = Literal["listen", "whisper", "barge"]
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
        self.leg = f"{session_id}-sup"
        self.snoop = f"{session_id}-snoop"
        self.bridge = f"{session_id}-b"
        self.up = anyio.Event()
        self.over = anyio.Event()


class MonitorService:
    def __init__(
        self,
        ari: AriClient,
        calls: Mapping[str, CallTask],
        channels: Channels,
        *,
        spawn: Spawn,
        emit: Emit,
        supervisors: Mapping[str, str],
    ) -> None:
        self._ari, self._calls, self._channels = ari, calls, channels
        self._spawn, self._emit = spawn, emit
        self._supervisors = supervisors  # supervisor id -> endpoint (from the configuration)
        self._seq = itertools.count(1)
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
        session = Session(f"{call_id}-m{next(self._seq)}", call_id, supervisor, endpoint, mode)
        self.sessions[session.id] = session
        self._by_channel[session.leg] = self._by_channel[session.snoop] = session
        self._channels.own(session.leg, self)
        self._channels.own(session.snoop, self)
        self._spawn(self._run, session)
        log.info("monitor.started", call_id=call_id, supervisor=supervisor, mode=mode, session=session.id)
        return session

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
        agent_left = kind in ("call.transfer_requested", "call.transferred") or (
            kind == "call.party_left" and fields.get("party") == "agent"
        )
        if kind == "call.ended" or agent_left:
            for session in [s for s in self.sessions.values() if s.call_id == fields.get("call_id")]:
                session.over.set()

    # ---- the session -------------------------------------------------------------------------------------

    async def _run(self, session: Session) -> None:
        ari = self._ari
        try:
            task = self._calls.get(session.call_id)
            if task is None:
                return  # the call ended before the session's task ran; ``finally`` forgets the session
            record = task.machine.record
            if session.mode != "barge":
                whisper: Literal["out", "none"] = "out" if session.mode == "whisper" else "none"
                await ari.snoop(
                    record.agent_channel,
                    spy="both",
                    whisper=whisper,
                    app_args=("snoop", session.id),
                    snoop_id=session.snoop,
                )
            await ari.originate(
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
                    await ari.add_to_bridge(record.bridge_id, [session.leg])
                else:
                    await ari.create_bridge("mixing", bridge_id=session.bridge)
                    await ari.add_to_bridge(session.bridge, [session.leg, session.snoop])
                self._emit(
                    "monitor.started",
                    {"call_id": session.call_id, "supervisor": session.supervisor, "mode": session.mode},
                )
                await session.over.wait()
        except AriError as exc:
            log.warning("monitor.failed", session=session.id, error=exc.message)
        finally:
            with anyio.CancelScope(shield=True):
                await self._end(session)

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
        self.sessions.pop(session.id, None)
        for channel in (session.leg, session.snoop):
            self._by_channel.pop(channel, None)
            self._channels.disown(channel, self)
        self._emit("monitor.ended", {"call_id": session.call_id, "supervisor": session.supervisor})


async def _first(*events: anyio.Event) -> None:
    """Return as soon as any of the events is set."""
    async with anyio.create_task_group() as tg:

        async def wait(event: anyio.Event) -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        for event in events:
            tg.start_soon(wait, event)
