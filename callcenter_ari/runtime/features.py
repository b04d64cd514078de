"""Feature codes dialled from an agent's phone: log in, log out, ready, not ready, break.

The dialplan sends them as ``Stasis(callcenter,agentphone,<endpoint>,<code>)``. The phone is known by its endpoint
(an agent's ``endpoint`` in the configuration), the code by ``acd.feature_codes``; anything else hears the
invalid-input prompt. The agent hears a confirmation, then the call ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import anyio
import structlog

from callcenter_ari.acd.errors import InvalidTransition
from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError
from callcenter_ari.runtime.acd import AcdService
from callcenter_ari.runtime.shared import Spawn

if TYPE_CHECKING:
    from callcenter_ari.runtime.channels import Channels
    from callcenter_ari.runtime.standing import StandingLines

log = structlog.get_logger(__name__)

Action = Literal["login", "logout", "ready", "not_ready", "break"]
CONFIRMATION: Mapping[str, str] = {
    "login": "sound:agent-loginok",
    "logout": "sound:agent-loggedoff",
    "ready": "sound:beep",
    "not_ready": "sound:beep",
    "break": "sound:beep",
}
REFUSED = "sound:invalid"
PROMPT_SECONDS = 10  # a confirmation is a second or two; never hold the line longer than this


class FeatureCodes:
    def __init__(
        self,
        ari: AriClient,
        acd: AcdService,
        standing: StandingLines,
        channels: Channels,
        *,
        spawn: Spawn,
        agents: Mapping[str, str],
        codes: Mapping[str, Action],
    ) -> None:
        self._ari, self._acd, self._standing, self._registry, self._spawn = ari, acd, standing, channels, spawn
        self._agents = agents  # endpoint -> agent id
        self._codes = codes
        self._prompts: dict[str, anyio.Event] = {}  # playback id -> set when it finished or the phone hung up
        self._channels: dict[str, anyio.Event] = {}

    def start(self, channel_id: str, endpoint: str, code: str) -> None:
        self._spawn(self._handle, channel_id, endpoint, code)

    def playback_done(self, playback_id: str) -> bool:
        event = self._prompts.get(playback_id)
        if event is not None:
            event.set()
        return event is not None

    def channel_gone(self, channel_id: str, cause: int | None, dialstatus: str) -> None:
        """The phone hung up during its confirmation."""
        event = self._channels.get(channel_id)
        if event is not None:
            event.set()

    async def _handle(self, channel_id: str, endpoint: str, code: str) -> None:
        agent_id, action = self._agents.get(endpoint), self._codes.get(code)
        prompt = REFUSED
        standing = self._standing
        if agent_id is not None and action == "login" and standing.is_persistent(agent_id):
            # A persistent agent logs in by staying on this call: it becomes their line (runtime/standing.py).
            if await standing.take_over(channel_id, agent_id):
                log.info("agent.feature_code", agent=agent_id, action=action, persistent=True)
                return
            log.info("agent.feature_code_refused", agent=agent_id, code=code, reason="cannot log in")
        elif agent_id is not None and action is not None:
            try:
                await self._apply(agent_id, action)
            except InvalidTransition as exc:
                log.info("agent.feature_code_refused", agent=agent_id, code=code, reason=str(exc))
            else:
                prompt = CONFIRMATION[action]
                log.info("agent.feature_code", agent=agent_id, action=action)
        else:
            log.info("agent.feature_code_unknown", endpoint=endpoint[:64], code=code[:16])
        await self._confirm(channel_id, prompt)

    async def _apply(self, agent_id: str, action: Action) -> None:
        acd = self._acd
        match action:
            case "login":
                await acd.log_in(agent_id)
            case "logout":
                await acd.log_out(agent_id)
            case "ready":
                await acd.ready(agent_id)
            case "not_ready":
                await acd.not_ready(agent_id, "not_ready", policed=False)
            case "break":
                await acd.not_ready(agent_id, "break", policed=True)  # the team's break policy applies

    async def _confirm(self, channel_id: str, media: str) -> None:
        ari = self._ari
        playback_id = f"f{uuid.uuid4().hex[:12]}-confirm"
        done = self._prompts[playback_id] = self._channels[channel_id] = anyio.Event()
        self._registry.own(channel_id, self)
        try:
            await ari.answer(channel_id)
            await ari.play(f"channel:{channel_id}", media, playback_id=playback_id)
            with anyio.move_on_after(PROMPT_SECONDS):
                await done.wait()
            await ari.hangup(channel_id)
        except AriError:
            pass  # the phone hung up first: nothing left to tell it
        finally:
            self._prompts.pop(playback_id, None)
            self._channels.pop(channel_id, None)
            self._registry.disown(channel_id, self)
