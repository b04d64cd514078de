"""Persistent agents' standing lines: the agent's phone in a bridge of their own for the whole shift.

A persistent agent logs in once. Their phone is called into the application (``Stasis(callcenter,persistent,
<agent>)``), or the call they made to dial the log-in code stays up, and waits in a mixing bridge of its own, where
the agent hears silence between calls. A caller routed to them is joined into that bridge (``join``), with no
ring; when the caller leaves, the agent stays. The agent is on the ACD board (logged in) only while the line is
up: when it goes down they are logged out (after the call they are on, which hears of it as ``AgentGone``), and
logging them out any other way hangs the line up. Lines are kept in Redis so that a restart finds them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import structlog

from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.acd.records import AgentRecord
from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError, ChannelGone, NotFound
from callcenter_ari.ari.models import Bridge
from callcenter_ari.calls.messages import AgentGone, Input
from callcenter_ari.clock import Clock
from callcenter_ari.runtime.acd import AcdService, Line
from callcenter_ari.runtime.shared import Emit, Spawn
from callcenter_ari.store.redis import Store

if TYPE_CHECKING:
    from callcenter_ari.runtime.channels import Channels

log = structlog.get_logger(__name__)

RING_SECONDS = 30  # how long the agent's phone rings when the application calls it to log them in
CONFIRMATION = "sound:agent-loginok"


class LineGone(AriError):
    """The agent's bridge is gone: their line went down."""


async def join(ari: AriClient, line: Line, channel: str) -> None:
    """Put ``channel`` into the agent's bridge: they are connected at once, with no ring. Raises ``ChannelGone``
    when the channel hung up first, ``LineGone`` when the agent's line did."""
    try:
        await ari.add_to_bridge(line.bridge, (channel,))
    except ChannelGone:
        raise ChannelGone(channel) from None  # the only channel we asked to add
    except NotFound as exc:
        raise LineGone(f"agent {line.agent_id}: {exc.message}") from None


class StandingLines:
    def __init__(
        self,
        ari: AriClient,
        store: Store,
        acd: AcdService,
        channels: Channels,
        clock: Clock,
        *,
        endpoints: Mapping[str, str],
        spawn: Spawn,
        emit: Emit,
        deliver: Callable[[str, Input], None],
        seat_limit: int | None,
    ) -> None:
        self._ari, self._store, self._acd, self._channels, self._clock = ari, store, acd, channels, clock
        self._spawn, self._emit = spawn, emit
        self._deliver = deliver
        self._endpoints = endpoints  # persistent agent id -> their phone's endpoint
        self._seat_limit = seat_limit
        self._lines: dict[str, Line] = {}  # agent id -> the line that is up
        self._by_channel: dict[str, str] = {}  # channel id -> agent id, for lines up
        self._connecting: dict[str, str] = {}  # channel id -> agent id, for lines being set up

    # ---- what the ACD asks (runtime/acd.py: Lines) ---------------------------------------------------------

    def line(self, agent_id: str) -> Line | None:
        return self._lines.get(agent_id)

    def connect(self, agent_id: str) -> None:
        """Call the agent's phone into the application; they are logged in when it is up in their bridge."""
        endpoint = self._endpoints.get(agent_id)
        if endpoint is None:
            raise InvalidTransition(f"agent {agent_id} is not a persistent agent")
        if agent_id in self._lines or agent_id in self._connecting.values():
            return
        channel = f"line-{uuid.uuid4().hex[:20]}"
        self._connect(channel, agent_id)
        self._changed(agent_id, "connecting", channel)
        self._spawn(self._originate, agent_id, endpoint, channel)

    def hang_up(self, agent_id: str) -> None:
        """The agent logged out: their line ends (its hang-up then cleans up the bridge)."""
        channels = [c for c, a in (*self._by_channel.items(), *self._connecting.items()) if a == agent_id]
        for channel in channels:
            self._spawn(self._hang_up, channel)

    def _connect(self, channel: str, agent_id: str) -> None:
        self._connecting[channel] = agent_id
        self._channels.own(channel, self)

    # ---- what the dispatcher and feature codes tell -------------------------------------------------------

    def entered(self, channel: str, agent_id: str) -> None:
        """A line we called answered and entered the application."""
        if self._connecting.get(channel) != agent_id:
            log.info("agent.orphan_line", channel=channel)  # called before a restart, or given up on
            self._spawn(self._hang_up, channel)
            return
        self._spawn(self._set_up, channel, agent_id, "")

    def write_back(self) -> None:
        """Redis lost its data: the lines up now are recorded again."""
        for agent_id, line in self._lines.items():
            self._store.save_line(agent_id, line.channel)

    def is_persistent(self, agent_id: str) -> bool:
        return agent_id in self._endpoints

    async def take_over(self, channel: str, agent_id: str) -> bool:
        """A persistent agent dialled the log-in code: that call becomes their line (as Asterisk's AgentLogin
        keeps it). False when they cannot log in (already logged in, seat limit): the caller refuses."""
        acd = self._acd
        if agent_id in self._lines or acd.board.state(agent_id) != "logged_out":
            return False
        if self._seat_limit is not None and await acd.seats_taken() >= self._seat_limit:
            return False  # refused before anything is set up; the log-in's write decides in the end
        self._connect(channel, agent_id)
        self._changed(agent_id, "connecting", channel)
        await self._set_up(channel, agent_id, CONFIRMATION)
        return agent_id in self._lines

    def channel_gone(self, channel: str, cause: int | None, dialstatus: str = "") -> None:
        """A line hung up (set up or being set up): the agent is logged out, the call they were on told."""
        self._channels.disown(channel, self)
        agent_id = self._connecting.pop(channel, None)
        if agent_id is not None:
            self._changed(agent_id, "failed", channel, cause=cause)
            return
        agent_id = self._by_channel.pop(channel, None)
        if agent_id is None:
            return
        line = self._lines.pop(agent_id)
        self._store.drop_line(agent_id)
        self._changed(agent_id, "down", channel, cause=cause)
        acd = self._acd
        record = acd.board.agents[agent_id]
        if record.state in ("reserved", "talking") and record.call_id:
            # The call ends as released by the agent (or goes back in line if it was still being joined).
            self._deliver(record.call_id, AgentGone(cause, channel))
        acd.line_down(agent_id)
        self._spawn(self._ari.destroy_bridge, line.bridge)

    def reconcile(self, channels: set[str]) -> None:
        """After a reconnect: lines whose channel ended while we were away are down."""
        for channel in [c for c in (*self._by_channel, *self._connecting) if c not in channels]:
            self.channel_gone(channel, None)

    async def recover(self, agents: Iterable[AgentRecord], channels: set[str], bridges: Iterable[Bridge]) -> None:
        """On start: a line still up keeps its agent logged in, in their bridge (made again if it is gone); an agent
        whose line ended while we were down is logged out, and the call they were on told so."""
        acd = self._acd
        stored = await self._store.lines()
        in_bridge = {channel: bridge.id for bridge in bridges for channel in bridge.channels}
        for agent_id, channel in stored.items():
            logged_in = agent_id in self._endpoints and acd.board.state(agent_id) != "logged_out"
            if channel not in channels or not logged_in:
                self._store.drop_line(agent_id)
                if channel in channels:
                    await self._hang_up(channel)
                continue
            line = Line(agent_id, channel, _bridge_of(channel))
            if in_bridge.get(channel) != line.bridge and not await self._bridge(line):
                continue
            self._lines[agent_id], self._by_channel[channel] = line, agent_id
            self._channels.own(channel, self)
            log.info("agent.line_recovered", agent=agent_id, channel=channel)
        for record in agents:
            if record.agent_id in self._endpoints and record.agent_id not in self._lines:
                self._lost_while_down(record)

    # ---- steps ---------------------------------------------------------------------------------------------

    async def _originate(self, agent_id: str, endpoint: str, channel: str) -> None:
        try:
            await self._ari.originate(
                endpoint,
                app_args=("persistent", agent_id),
                ring_timeout=RING_SECONDS,
                caller_id='"Log in" <login>',
                channel_id=channel,
            )
        except AriError as exc:
            log.warning("agent.line_originate_failed", agent=agent_id, endpoint=endpoint, error=exc.message)
            if self._connecting.pop(channel, None) is not None:
                self._channels.disown(channel, self)
                self._changed(agent_id, "failed", channel)

    async def _set_up(self, channel: str, agent_id: str, prompt: str) -> None:
        """Answer, put the line in its bridge, and log the agent in; a hang-up on the way undoes it."""
        ari = self._ari
        line = Line(agent_id, channel, _bridge_of(channel))
        try:
            await ari.answer(channel)
            if not await self._bridge(line) or self._connecting.get(channel) != agent_id:
                await ari.destroy_bridge(line.bridge)
                return
        except AriError as exc:
            log.warning("agent.line_setup_failed", agent=agent_id, error=exc.message)
            self._connecting.pop(channel, None)
            self._channels.disown(channel, self)
            await ari.destroy_bridge(line.bridge)
            await self._hang_up(channel)
            return
        del self._connecting[channel]
        if agent_id in self._lines:  # two log-ins at once (the phone called, and the agent dialled the code)
            self._channels.disown(channel, self)
            await ari.destroy_bridge(line.bridge)
            await self._hang_up(channel)
            return
        self._lines[agent_id], self._by_channel[channel] = line, agent_id
        self._store.save_line(agent_id, channel)
        self._changed(agent_id, "up", channel)
        try:
            await self._acd.log_in(agent_id)
        except InvalidTransition as exc:  # the seat limit filled up meanwhile
            log.info("agent.line_refused", agent=agent_id, reason=str(exc))
            await self._hang_up(channel)
            return
        if prompt:
            try:
                await ari.play(f"channel:{channel}", prompt, playback_id=f"{channel}-loginok")
            except AriError:
                pass  # the agent hung up already: the line's hang-up logs them out

    async def _bridge(self, line: Line) -> bool:
        """The line's own bridge, with the line in it; False if the line hung up meanwhile."""
        ari = self._ari
        try:
            await ari.create_bridge("mixing", bridge_id=line.bridge, name=f"agent {line.agent_id}")
        except AriError:
            pass  # it exists already (a restart): put the line back in it
        try:
            await ari.add_to_bridge(line.bridge, (line.channel,))
        except ChannelGone:
            return False
        return True

    def _lost_while_down(self, record: AgentRecord) -> None:
        """A persistent agent logged in without a line (it ended while we were down): logged out."""
        if record.state in ("reserved", "talking") and record.call_id:
            self._deliver(record.call_id, AgentGone(None, ""))
        if record.state != "logged_out":
            log.info("agent.line_lost_while_down", agent=record.agent_id, state=record.state)
            self._acd.line_down(record.agent_id)

    async def _hang_up(self, channel: str) -> None:
        try:
            await self._ari.hangup(channel)
        except AriError:
            pass  # gone already

    def _changed(self, agent_id: str, state: str, channel: str, **extra: object) -> None:
        at = self._clock.now()
        self._emit("agent.line", {"at": at, "agent": agent_id, "line": state, "channel": channel, **extra})
        log.info("agent.line", agent=agent_id, line=state, channel=channel, **extra)


def _bridge_of(channel: str) -> str:
    return f"{channel}-agent"
