"""Lines in Asterisk's queue_log format, so that existing queue-report tools can read our history.

``epoch|callid|queuename|agent|event|data1|data2|...``: the epoch in whole seconds, ``NONE`` for an absent call,
queue or agent. Field meanings follow Asterisk's app_queue (docs.asterisk.org, "Queue Logs"); durations are whole
seconds except RINGNOANSWER's ring time, which Asterisk writes in milliseconds. See docs/ACD.md for the mapping.
"""

from __future__ import annotations


def line(at: float, call_id: str, queue: str, agent: str, event: str, *data: object) -> str:
    fields = [str(int(at)), call_id or "NONE", queue or "NONE", agent or "NONE", event]
    fields += [_field(value) for value in data]
    return "|".join(fields)


def enter_queue(at: float, call_id: str, queue: str, caller_id: str = "", url: str = "") -> str:
    """ENTERQUEUE(url|callerid)."""
    return line(at, call_id, queue, "", "ENTERQUEUE", url, caller_id)


def connect(at: float, call_id: str, queue: str, agent: str, hold: float, bridged_id: str, ring: float) -> str:
    """CONNECT(holdtime|bridgedchanneluniqueid|ringtime): seconds waited, the agent leg's id, seconds rung."""
    return line(at, call_id, queue, agent, "CONNECT", _secs(hold), bridged_id, _secs(ring))


def complete_caller(at: float, call_id: str, queue: str, agent: str, hold: float, talk: float, origpos: int) -> str:
    """COMPLETECALLER(holdtime|calltime|origposition): the caller hung up first."""
    return line(at, call_id, queue, agent, "COMPLETECALLER", _secs(hold), _secs(talk), origpos)


def complete_agent(at: float, call_id: str, queue: str, agent: str, hold: float, talk: float, origpos: int) -> str:
    """COMPLETEAGENT(holdtime|calltime|origposition): the agent hung up first."""
    return line(at, call_id, queue, agent, "COMPLETEAGENT", _secs(hold), _secs(talk), origpos)


def abandon(at: float, call_id: str, queue: str, position: int, origpos: int, wait: float) -> str:
    """ABANDON(position|origposition|waittime)."""
    return line(at, call_id, queue, "", "ABANDON", position, origpos, _secs(wait))


def ring_no_answer(at: float, call_id: str, queue: str, agent: str, ring: float) -> str:
    """RINGNOANSWER(ringtime), in milliseconds."""
    return line(at, call_id, queue, agent, "RINGNOANSWER", round(ring * 1000))


def exit_with_timeout(at: float, call_id: str, queue: str, position: int, origpos: int, wait: float) -> str:
    """EXITWITHTIMEOUT(position|origposition|waittime): the queue's max wait passed."""
    return line(at, call_id, queue, "", "EXITWITHTIMEOUT", position, origpos, _secs(wait))


def exit_empty(at: float, call_id: str, queue: str, position: int, origpos: int, wait: float) -> str:
    """EXITEMPTY(position|origposition|waittime): left because nobody could serve (leave-when-empty)."""
    return line(at, call_id, queue, "", "EXITEMPTY", position, origpos, _secs(wait))


def agent_login(at: float, agent: str, channel: str) -> str:
    """AGENTLOGIN(channel)."""
    return line(at, "", "", agent, "AGENTLOGIN", channel)


def agent_logoff(at: float, agent: str, channel: str, logged_in: float) -> str:
    """AGENTLOGOFF(channel|logintime): seconds the agent had been logged in."""
    return line(at, "", "", agent, "AGENTLOGOFF", channel, _secs(logged_in))


def pause(at: float, queue: str, agent: str, reason: str = "") -> str:
    """PAUSE(reason): the member stops taking calls from ``queue`` (``NONE``/empty: every queue)."""
    return line(at, "", queue, agent, "PAUSE", reason)


def unpause(at: float, queue: str, agent: str, reason: str = "") -> str:
    """UNPAUSE(reason)."""
    return line(at, "", queue, agent, "UNPAUSE", reason)


def _secs(seconds: float) -> int:
    return max(0, round(seconds))


def _field(value: object) -> str:
    # A '|' or a newline inside a field would shift every field after it.
    return str(value).replace("|", "/").replace("\n", " ").replace("\r", " ")
