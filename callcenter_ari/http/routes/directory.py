"""Agents and queues configured through the API: create, replace, remove, and the configuration in force.

Bodies are the configuration file's own tables (``AgentConfig``, ``QueueConfig``), checked exactly as the file is;
a change is kept in Redis and survives a restart (runtime/directory.py). Another tenant's token sees nothing here.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from callcenter_ari.config import AgentConfig, QueueConfig
from callcenter_ari.http.auth import Principal, requires
from callcenter_ari.http.errors import NotFound, documented
from callcenter_ari.http.params import Caller, Deps, Id


class NewAgent(AgentConfig, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An agent's configuration, as in ``[agents.<id>]``, with its id."""

    id: str


class NewQueue(QueueConfig, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A queue's configuration, as in ``[queues.<id>]``, with its id."""

    id: str


def _home(principal: Principal) -> None:
    """Another tenant's token changes nothing here and learns nothing: every request is 404."""
    if not principal.home:
        raise NotFound("no such object")


def _fields(entry: msgspec.Struct) -> dict[str, Any]:
    return {f: getattr(entry, f) for f in entry.__struct_fields__ if f != "id"}


_MANAGE: dict[str, Any] = {"responses": documented(409)}


class AgentConfigController(Controller):
    path = "/agents"
    tags = ["agents"]

    @post("/", guards=[requires("agents.manage")], status_code=HTTP_201_CREATED, **_MANAGE)
    async def create_agent(self, deps: Deps, principal: Caller, data: JSONBody[NewAgent]) -> AgentConfig:
        """Create an agent (logged out); 409 if the id is taken. The answer is the configuration in force."""
        _home(principal)
        agent = AgentConfig(**_fields(data))
        await deps.directory.put_agent(data.id, agent, create=True, by=principal.name)
        return deps.directory.config.agents[data.id]

    @put("/{agent_id:str}", guards=[requires("agents.manage")], status_code=HTTP_200_OK, **_MANAGE)
    async def replace_agent(
        self, deps: Deps, principal: Caller, agent_id: Id, data: JSONBody[AgentConfig]
    ) -> AgentConfig:
        """Replace an agent's configuration; their state and any call they are on are kept."""
        _home(principal)
        await deps.directory.put_agent(agent_id, data, create=False, by=principal.name)
        return deps.directory.config.agents[agent_id]

    @delete("/{agent_id:str}", guards=[requires("agents.manage")], status_code=HTTP_204_NO_CONTENT, **_MANAGE)
    async def remove_agent(self, deps: Deps, principal: Caller, agent_id: Id) -> None:
        """Remove a logged-out agent (409 otherwise, or while an agent token names them)."""
        _home(principal)
        await deps.directory.remove_agent(agent_id, by=principal.name)

    @get("/{agent_id:str}/config", guards=[requires("agents.read")], responses=documented(), sync_to_thread=False)
    def agent_config(self, deps: Deps, principal: Caller, agent_id: Id) -> AgentConfig:
        """The agent's configuration in force (the file's, or as last set through the API)."""
        agent = deps.directory.config.agents.get(agent_id)
        if agent is None or not principal.sees_agent(agent_id):
            raise NotFound(f"no agent {agent_id[:64]!r}")
        return agent


class QueueConfigController(Controller):
    path = "/queues"
    tags = ["queues"]

    @post("/", guards=[requires("queues.manage")], status_code=HTTP_201_CREATED, **_MANAGE)
    async def create_queue(self, deps: Deps, principal: Caller, data: JSONBody[NewQueue]) -> QueueConfig:
        """Create a queue; 409 if the id is taken. Agents join it through their own configuration."""
        _home(principal)
        queue = QueueConfig(**_fields(data))
        await deps.directory.put_queue(data.id, queue, create=True, by=principal.name)
        return deps.directory.config.queues[data.id]

    @put("/{queue_id:str}", guards=[requires("queues.manage")], status_code=HTTP_200_OK, **_MANAGE)
    async def replace_queue(
        self, deps: Deps, principal: Caller, queue_id: Id, data: JSONBody[QueueConfig]
    ) -> QueueConfig:
        """Replace a queue's rules; callers waiting keep their place and are routed by the new rules."""
        _home(principal)
        await deps.directory.put_queue(queue_id, data, create=False, by=principal.name)
        return deps.directory.config.queues[queue_id]

    @delete("/{queue_id:str}", guards=[requires("queues.manage")], status_code=HTTP_204_NO_CONTENT, **_MANAGE)
    async def remove_queue(self, deps: Deps, principal: Caller, queue_id: Id) -> None:
        """Remove a queue nobody is in and nothing refers to (409 naming what does)."""
        _home(principal)
        await deps.directory.remove_queue(queue_id, by=principal.name)

    @get("/{queue_id:str}/config", guards=[requires("queues.read")], responses=documented(), sync_to_thread=False)
    def queue_config(self, deps: Deps, principal: Caller, queue_id: Id) -> QueueConfig:
        """The queue's configuration in force (the file's, or as last set through the API)."""
        queue = deps.directory.config.queues.get(queue_id)
        if queue is None or not principal.home:
            raise NotFound(f"no queue {queue_id[:64]!r}")
        return queue
