"""Who the token is: its name, role, tenant and agent, so that a page shows what the role may see and do."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from callcenter_ari.http.auth import PERMISSIONS, requires
from callcenter_ari.http.errors import documented
from callcenter_ari.http.params import Caller, Deps


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # the token's name in the configuration (never the token)
    role: str
    tenant: str
    agent_id: str  # "" unless an agent's token
    served: bool  # the token's tenant is served by this process (otherwise it sees nothing)
    permissions: list[str]  # what the role may do (docs/API.md, Roles)
    now: float  # the server's time (unix seconds): pages measure times in state by it


class SessionController(Controller):
    path = "/session"
    tags = ["session"]

    @get("/", guards=[requires("api.describe")], responses=documented(), sync_to_thread=False)
    def session(self, deps: Deps, principal: Caller) -> SessionView:
        """The token's own identity and permissions (every role)."""
        return SessionView(
            name=principal.name,
            role=principal.role,
            tenant=principal.tenant,
            agent_id=principal.agent_id,
            served=principal.home,
            permissions=sorted(p for p in PERMISSIONS if principal.may(p)),
            now=deps.clock.now(),
        )
