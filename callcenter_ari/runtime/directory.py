"""The directory: the agents and queues in force, as the configuration file declares them and the API changes them.

Entries set through the API are validated exactly as the file is (``config.check_agent``, ``config.check_queue``),
kept in Redis (``store/directory.py``) and laid over the file's on start, so the file seeds and an entry changed
through the API wins for its id. A change is checked, stored, then applied: to the ACD board (which keeps agents'
states and calls, and waiting callers' places) and to everything derived from the configuration (the calls' queue
settings, the statistics' thresholds and members, the phones the feature codes know, persistent agents' phones, the
names the API shows). Changes are made one at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import msgspec
import structlog

from callcenter_ari.acd.errors import InUse, InvalidTransition, UnknownAgent, UnknownQueue
from callcenter_ari.acd.skills import parse as parse_skills
from callcenter_ari.acd.specs import AgentSpec, QueueSpec, Step
from callcenter_ari.acd.stats import Stats
from callcenter_ari.calls.machine import QueueSettings
from callcenter_ari.config import (
    AgentConfig,
    Config,
    Problem,
    QueueConfig,
    check_agent,
    check_queue,
    problems,
    valid_id,
)
from callcenter_ari.ivr import survey_flow
from callcenter_ari.runtime.acd import AcdService
from callcenter_ari.store.directory import DirectoryStore, Kind

log = structlog.get_logger(__name__)

Emit = Callable[[str, dict[str, Any]], None]


class InvalidEntry(ValueError):
    """An agent or queue the configuration's checks refuse; ``problems`` are (field path in the entry, message)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


class AlreadyExists(InvalidTransition):
    """Creating an agent or queue whose id is taken."""


class Directory:
    def __init__(
        self,
        config: Config,
        store: DirectoryStore,
        acd: AcdService,
        stats: Stats,
        *,
        emit: Emit,
        live_queues: Callable[[], set[str]],
    ) -> None:
        self.config = config  # the configuration in force: the file's, with the directory laid over it
        self._file = config
        self._store = store
        self._acd = acd
        self._stats = stats
        self._emit = emit
        self._live_queues = live_queues  # the queues of the calls up now
        self._lock = anyio.Lock()
        # Views kept up to date in place, so that whoever holds one sees every change.
        self.agent_names: dict[str, str] = {}
        self.queue_names: dict[str, str] = {}  # id -> display name
        self.queue_settings: dict[str, QueueSettings] = {}  # what a call needs of each queue
        self.phones: dict[str, str] = {}  # endpoint -> agent id (feature codes dialled from agents' phones)
        self.persistent: dict[str, str] = {}  # persistent agent id -> endpoint (their standing line)
        self._derive()

    # ---- start -------------------------------------------------------------------------------------------

    async def load(self) -> Config:
        """Lay the stored entries over the file's and return the configuration in force. A stored entry that no
        longer fits (the file changed under it) is left out, with an error in the log, rather than stop the start."""
        agents, queues = await self._store.agents(), await self._store.queues()
        stored: tuple[dict[str, Any], dict[str, Any]] = (agents, queues)
        while found := problems(config := _merged(self._file, agents=agents, queues=queues)):
            culprits = {
                (kind, entry)
                for kind, section in enumerate(("agents", "queues"))
                for entry in stored[kind]
                if any(f.startswith((f"{section}.{entry}.", f"{section}.{entry}:")) for f in found)
            }
            if not culprits:  # something in the file refers to an entry removed through the API: it comes back
                culprits = {(kind, entry) for kind in (0, 1) for entry, value in stored[kind].items() if value is None}
            if not culprits:
                raise ValueError("; ".join(found))  # the file itself: checked when it was read, so never here
            for kind, entry in sorted(culprits):
                log.error("directory.entry_ignored", kind=("agents", "queues")[kind], id=entry, problems=found[:5])
                stored[kind].pop(entry)
        self.config = config
        self._derive()
        return config

    async def write_back(self) -> None:
        """Redis lost its data: the entries set through the API (what differs from the file) go back."""
        async with self._lock:
            for kind in ("agents", "queues"):
                current, file = getattr(self.config, kind), getattr(self._file, kind)
                for entry_id, entry in current.items():
                    if file.get(entry_id) != entry:
                        await self._store.put(kind, entry_id, entry)
                for entry_id in file.keys() - current.keys():
                    await self._store.put(kind, entry_id, None)

    # ---- changes -----------------------------------------------------------------------------------------

    async def put_agent(self, agent_id: str, agent: AgentConfig, *, create: bool, by: str) -> None:
        """Create (``create``: 409 if the id is taken) or replace an agent's configuration."""
        async with self._lock:
            exists = self._expect("agents", agent_id, create=create)
            others = {a: other for a, other in self.config.agents.items() if a != agent_id}
            found = _id_problems(agent_id) + check_agent(agent, self.config.queues, others, servers=self.config.servers)
            if found:
                raise InvalidEntry(found)
            self._check_persistent(agent_id, agent)
            # They may have logged in while Redis answered.
            await self._stored("agents", agent_id, agent, lambda: self._check_persistent(agent_id, agent))
            self._set(_merged(self.config, agents={agent_id: agent}))
            await self._acd.configure_agent(agent_spec(agent_id, agent))
        log.info("directory.agent_configured", agent=agent_id, created=not exists, by=by)
        self._emit("agent.configured", {"agent": agent_id, "created": not exists, "by": by})

    async def remove_agent(self, agent_id: str, *, by: str) -> None:
        """Remove a logged-out agent nothing refers to (an agent's API token)."""
        async with self._lock:
            self._expect("agents", agent_id, create=False)
            without = _merged(self.config, agents={agent_id: None})
            _refuse_referred(f"agent {agent_id}", without)
            state = self._acd.board.agents[agent_id].state
            if state != "logged_out":
                raise InvalidTransition(f"agent {agent_id} is {state}: log them out first")
            # The board refuses an agent who logged in while Redis answered.
            await self._stored("agents", agent_id, None, lambda: self._acd.remove_agent(agent_id))
            self._set(without)
        log.info("directory.agent_removed", agent=agent_id, by=by)
        self._emit("agent.removed", {"agent": agent_id, "by": by})

    async def put_queue(self, queue_id: str, queue: QueueConfig, *, create: bool, by: str) -> None:
        """Create (``create``: 409 if the id is taken) or replace a queue's configuration."""
        async with self._lock:
            exists = self._expect("queues", queue_id, create=create)
            known = {*self.config.queues, queue_id}  # a queue may overflow to itself, as in the file
            found = _id_problems(queue_id) + check_queue(queue, known, self.config.ivr.surveys)
            if found:
                raise InvalidEntry(found)
            await self._store.put("queues", queue_id, queue)
            self._set(_merged(self.config, queues={queue_id: queue}))
            await self._acd.configure_queue(queue_spec(queue_id, queue))
        log.info("directory.queue_configured", queue=queue_id, created=not exists, by=by)
        self._emit("queue.configured", {"queue": queue_id, "created": not exists, "by": by})

    async def remove_queue(self, queue_id: str, *, by: str) -> None:
        """Remove a queue nobody waits or talks in and nothing refers to: an agent, a DID, an IVR flow, the
        default queue, another queue's overflow step (409 naming them)."""
        async with self._lock:
            self._expect("queues", queue_id, create=False)
            without = _merged(self.config, queues={queue_id: None})
            _refuse_referred(f"queue {queue_id}", without)
            if queue_id in self._live_queues():
                raise InUse(f"queue {queue_id} is in use", ("calls in it",))
            # The board refuses a queue a caller joined while Redis answered.
            await self._stored("queues", queue_id, None, lambda: self._acd.remove_queue(queue_id))
            self._set(without)
        log.info("directory.queue_removed", queue=queue_id, by=by)
        self._emit("queue.removed", {"queue": queue_id, "by": by})

    # ---- internals ---------------------------------------------------------------------------------------

    def _expect(self, kind: Kind, entry_id: str, *, create: bool) -> bool:
        """Whether the entry exists; refused when creating one that does, or changing one that does not."""
        exists = entry_id in (self.config.agents if kind == "agents" else self.config.queues)
        what = kind.removesuffix("s")
        if create and exists:
            raise AlreadyExists(f"{what} {entry_id} exists already")
        if not create and not exists:
            raise (UnknownAgent if kind == "agents" else UnknownQueue)(f"no {what} {entry_id[:64]!r}")
        return exists

    def _check_persistent(self, agent_id: str, agent: AgentConfig) -> None:
        """A persistent agent's standing line is set up at log-in: the flag changes only while logged out."""
        before = self.config.agents.get(agent_id)
        if before is None or before.persistent == agent.persistent:
            return
        state = self._acd.board.agents[agent_id].state
        if state != "logged_out":
            raise InvalidTransition(f"agent {agent_id} is {state}: log them out to change persistent")

    async def _stored(
        self,
        kind: Kind,
        entry_id: str,
        entry: AgentConfig | QueueConfig | None,
        then: Callable[[], Awaitable[None] | None],
    ) -> None:
        """Store a change, then ``then`` (a check or a board change); if that refuses, the store is put back."""
        previous = await self._store.put(kind, entry_id, entry)
        try:
            done = then()
            if done is not None:
                await done
        except InvalidTransition:
            await self._store.restore(kind, entry_id, previous)
            raise

    def _set(self, config: Config) -> None:
        self.config = config
        self._derive()

    def _derive(self) -> None:
        """Bring every view of the configuration up to date (in place)."""
        config = self.config
        _replace(self.agent_names, {a: agent.name for a, agent in config.agents.items()})
        _replace(self.queue_names, {q: queue.name or q for q, queue in config.queues.items()})
        _replace(self.queue_settings, {q: queue_settings(queue, config) for q, queue in config.queues.items()})
        _replace(self.phones, {agent.endpoint: a for a, agent in config.agents.items()})
        _replace(self.persistent, {a: agent.endpoint for a, agent in config.agents.items() if agent.persistent})
        self._stats.configure(
            sla_seconds={q: queue.sla_seconds for q, queue in config.queues.items()},
            short_abandon_seconds={q: queue.short_abandon_seconds for q, queue in config.queues.items()},
            members={q: [a for a, agent in config.agents.items() if q in agent.queues] for q in config.queues},
        )


def _replace(view: dict[str, Any], values: dict[str, Any]) -> None:
    view.clear()
    view.update(values)


def _merged(
    base: Config,
    *,
    agents: Mapping[str, AgentConfig | None] | None = None,
    queues: Mapping[str, QueueConfig | None] | None = None,
) -> Config:
    """``base`` with ``agents`` and ``queues`` laid over its own, id by id (None: removed)."""
    merged_agents = {**base.agents, **(agents or {})}
    merged_queues = {**base.queues, **(queues or {})}
    return msgspec.structs.replace(
        base,
        agents={a: c for a, c in merged_agents.items() if c is not None},
        queues={q: c for q, c in merged_queues.items() if c is not None},
    )


def _id_problems(entry_id: str) -> list[Problem]:
    return [] if valid_id(entry_id) else [("id", "not a valid id (letters, digits, '_', '.', '-', at most 64)")]


def _refuse_referred(what: str, without: Config) -> None:
    """``without`` is the configuration with the entry gone: what it finds unknown now refers to the entry."""
    referrers = [found.partition(":")[0] for found in problems(without)]
    if referrers:
        raise InUse(f"{what} is in use", tuple(referrers))


# ---- from the configuration to what the board and the calls are told ------------------------------------------


def agent_spec(agent_id: str, agent: AgentConfig) -> AgentSpec:
    return AgentSpec(
        agent_id,
        agent.endpoint,
        agent.queues,
        name=agent.name,
        teams=agent.teams,
        languages=agent.languages,
        skills=dict(agent.skills),
        persistent=agent.persistent,
        server=agent.server,
    )


def queue_spec(queue_id: str, queue: QueueConfig) -> QueueSpec:
    return QueueSpec(
        name=queue_id,
        strategy=queue.strategy,
        skills=parse_skills(queue.skills),
        steps=tuple(
            Step(
                after=step.after,
                action=step.action,
                by=step.by,
                skills=parse_skills(step.skills),
                queue=step.queue,
                message=step.message,
            )
            for step in queue.steps
        ),
        wrapup_seconds=queue.wrapup_seconds,
        wrapup_max_seconds=max(queue.wrapup_max_seconds, queue.wrapup_seconds),
        max_length=queue.max_length or None,
        join_empty=queue.join_empty,
        leave_empty=queue.leave_empty,
        empty_means=queue.empty_means,
        moh_class=queue.moh_class,
        announce_every=queue.announce_every_seconds or None,
        handle_window=queue.handle_window,
        sla_seconds=queue.sla_seconds,
        short_abandon_seconds=queue.short_abandon_seconds,
    )


def queue_settings(queue: QueueConfig, config: Config) -> QueueSettings:
    return QueueSettings(
        moh_class=queue.moh_class,
        ring_timeout=queue.ring_timeout_seconds,
        max_wait=queue.max_wait_seconds,
        survey_name=queue.survey,
        survey=survey_flow(queue.survey, config.ivr.surveys[queue.survey]) if queue.survey else None,
        hold_alert=queue.hold_alert_seconds,
        recording=queue.recording or config.recording.default,
        callback=queue.callback,
    )
