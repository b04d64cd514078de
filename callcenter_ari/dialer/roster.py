"""What the pacer must hear about a campaign's agents, from what the ACD board shows now. Pure, no I/O.

The ACD board is the authority on agents (several processes and the inbound hotline share them); the pacer keeps
its own view of the campaign's agents (idle, reserving, reserved, talking, wrap-up). The runtime compares the two
once a second and after every change it makes, and ``agent_inputs`` says which inputs bring the pacer's view in
line: an agent who became available (or whose wrap-up ended) is ``AgentAvailable``, one whose call ended is
``AgentWrapup``, one who left (not ready, logged out, their line down, taken by an inbound call, or lent to the
hotline by the blend policy) is ``AgentAway``. An agent the pacer is reserving is in flux (the ACD's answer is on
its way) and is left alone; an agent the pacer holds for a call is only taken away when they leave the ACD.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from callcenter_ari.dialer.blend import Assessment, BlendPolicy, Inbound, assess
from callcenter_ari.dialer.messages import AgentAvailable, AgentAway, AgentWrapup, Input

_GONE = frozenset({"logged_out", "not_ready"})


class BoardAgent(msgspec.Struct, frozen=True, kw_only=True):
    """One of the campaign's agents as the ACD shows them. ``joinable``: persistent with their line up (a
    campaign call is joined to them with no ring); ``ours``: the call they are reserved for or on is one of the
    campaign's; ``inbound``: the hotline's figures for a blended agent (also in inbound queues), None otherwise,
    with ``free_blended`` counting every blended agent available and not with the campaign (this one included):
    the roster takes out each one it gives the campaign before assessing the next, so ``keep_free`` holds."""

    state: str
    joinable: bool
    ours: bool = False
    inbound: Inbound | None = None


class Roster:
    """Remembers each blended agent's last assessment (the blend policy's hysteresis) between comparisons."""

    def __init__(self, policy: BlendPolicy) -> None:
        self.policy = policy
        self._at_risk: dict[str, bool] = {}
        self.lent: dict[str, str] = {}  # agent -> the blend's reason, while lent to the hotline

    def agent_inputs(self, pacer: Mapping[str, str], board: Mapping[str, BoardAgent], spare: int) -> list[Input]:
        """``pacer``: agent -> state in the pacer; ``board``: the campaign's agents on the ACD board; ``spare``:
        how many idle agents may leave without the calls in flight being able to cause more abandons than the
        budget allows (``Pacer.spare_agents``)."""
        out: list[Input] = []
        free = max((seen.inbound.free_blended for seen in board.values() if seen.inbound is not None), default=0)
        for agent_id in sorted(pacer.keys() - board.keys()):
            out.append(AgentAway(agent_id, "not_in_campaign"))
        for agent_id, seen in sorted(board.items()):
            held = pacer.get(agent_id)
            if held == "reserving":
                continue
            gone = seen.state in _GONE or not seen.joinable
            if held is not None and gone:
                out.append(AgentAway(agent_id, seen.state if seen.state in _GONE else "line_down"))
            elif held == "idle" and seen.state != "available":
                out.append(AgentAway(agent_id, "other_call"))  # an inbound call took them
            elif held == "wrapup" and seen.state not in ("wrapup", "available") and not seen.ours:
                out.append(AgentAway(agent_id, "other_call"))
            elif held == "talking" and seen.state == "wrapup":
                out.append(AgentWrapup(agent_id))
            elif seen.state == "available" and not gone and held in (None, "idle", "wrapup", "talking"):
                work = self._assess(agent_id, seen, free - (0 if held == "idle" else 1))
                if work is not None and work.work == "inbound":
                    if held == "idle" and spare > 0:
                        spare -= 1
                        out.append(AgentAway(agent_id, "inbound"))
                        self.lent[agent_id] = work.reason
                    elif held != "idle":
                        self.lent[agent_id] = work.reason
                    continue
                self.lent.pop(agent_id, None)
                if held != "idle":
                    out.append(AgentAvailable(agent_id))
                    if seen.inbound is not None:
                        free -= 1  # with the campaign now: not free for the hotline
        return out

    def _assess(self, agent_id: str, seen: BoardAgent, others: int) -> Assessment | None:
        if seen.inbound is None:
            return None
        inbound = msgspec.structs.replace(seen.inbound, free_blended=max(0, others))
        result = assess(self.policy, inbound, at_risk=self._at_risk.get(agent_id, False))
        self._at_risk[agent_id] = result.at_risk
        return result
