"""Who is calling: bearer tokens from the configuration, the roles' permissions, and what a token may see.

A token is compared with every configured token in constant time (hashes of equal length, no early exit), so the
time taken says nothing about how much of a guess was right. The token's tenant picks whose services a request
sees (one process may serve several tenants). A token of a tenant not served here is a valid token that sees
nothing: empty lists, 404 for every object and every change. An agent token sees only its own agent, its own calls
and its own tickets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Guard

from callcenter_ari.config import ApiToken, Role

Permission = Literal[
    "agents.read",
    "agents.change",
    "agents.manage",
    "agents.force",
    "queues.read",
    "queues.manage",
    "calls.read",
    "calls.hangup",
    "calls.monitor",
    "calls.hold",
    "calls.transfer",
    "tickets.read",
    "tickets.complete",
    "webhooks.manage",
    "surge.read",
    "surge.change",
    "events.read",
    "reports.read",
    "wallboard.read",
    "metrics.read",
    "api.describe",
    "recordings.read",
    "recordings.control",
    "recordings.delete",
    "qa.read",
    "qa.score",
    "qa.sample",
    "routing.read",
    "campaigns.read",
    "campaigns.manage",
    "campaigns.leads",
    "campaigns.disposition",
    "dnc.read",
    "dnc.manage",
]

# The roles matrix (docs/API.md shows the same table). "agent" is further limited to the token's own agent.
PERMISSIONS: Mapping[Permission, frozenset[Role]] = {
    "agents.read": frozenset({"admin", "supervisor", "qa", "agent", "crm"}),
    "agents.change": frozenset({"admin", "supervisor", "agent"}),
    # Agents' phones and seats are the PBX administrator's; supervisors tune queue rules as the floor needs.
    "agents.manage": frozenset({"admin"}),
    "agents.force": frozenset({"admin", "supervisor"}),
    "queues.read": frozenset({"admin", "supervisor", "qa", "agent", "crm"}),
    "queues.manage": frozenset({"admin", "supervisor"}),
    "calls.read": frozenset({"admin", "supervisor", "qa", "agent", "crm"}),
    "calls.hangup": frozenset({"admin", "supervisor", "agent"}),
    "calls.monitor": frozenset({"admin", "supervisor"}),
    "calls.hold": frozenset({"admin", "supervisor", "agent"}),
    "calls.transfer": frozenset({"admin", "supervisor", "agent"}),
    "tickets.read": frozenset({"admin", "supervisor", "qa", "agent", "crm"}),
    "tickets.complete": frozenset({"admin", "supervisor", "agent"}),
    "webhooks.manage": frozenset({"admin", "crm"}),
    "surge.read": frozenset({"admin", "supervisor", "qa", "agent"}),
    "surge.change": frozenset({"admin", "supervisor"}),
    "events.read": frozenset({"admin", "supervisor", "crm"}),
    "reports.read": frozenset({"admin", "supervisor", "qa", "crm"}),
    "wallboard.read": frozenset({"admin", "supervisor", "qa"}),
    "metrics.read": frozenset({"admin", "supervisor"}),
    "api.describe": frozenset({"admin", "supervisor", "qa", "agent", "crm"}),
    # Which recordings a role sees is decided per recording (recording/access.py): agents only their own.
    "recordings.read": frozenset({"admin", "supervisor", "qa", "agent", "crm"}),
    "recordings.control": frozenset({"admin", "supervisor", "agent"}),
    "recordings.delete": frozenset({"admin"}),
    "qa.read": frozenset({"admin", "supervisor", "qa", "agent"}),
    "qa.score": frozenset({"admin", "supervisor", "qa"}),
    "qa.sample": frozenset({"admin", "supervisor", "qa"}),
    "routing.read": frozenset({"admin", "supervisor", "qa"}),
    # Campaign managers are the floor's supervisors; an agent sees and disposes of the leads they talked to.
    "campaigns.read": frozenset({"admin", "supervisor"}),
    "campaigns.manage": frozenset({"admin", "supervisor"}),
    "campaigns.leads": frozenset({"admin", "supervisor", "agent"}),
    "campaigns.disposition": frozenset({"admin", "supervisor", "agent"}),
    "dnc.read": frozenset({"admin", "supervisor"}),
    "dnc.manage": frozenset({"admin", "supervisor"}),
}


@dataclass(frozen=True)
class Principal:
    """The caller, as far as the API cares: the token's name (never the token), role, tenant and agent."""

    name: str
    role: Role
    tenant: str
    agent_id: str
    home: bool  # the token's tenant is served by this process
    issuer: str  # the tenant whose configuration declared the token (whose services a token not at home sees)

    def sees_agent(self, agent_id: str) -> bool:
        return self.home and (self.role != "agent" or agent_id == self.agent_id)

    def sees_call(self, agent_id: str) -> bool:
        """A live call, given the agent it is with ("" for none yet)."""
        return self.home and (self.role != "agent" or (bool(agent_id) and agent_id == self.agent_id))

    def sees_ticket(self, tenant: str, agent_id: str) -> bool:
        return self.home and tenant in ("", self.tenant) and (self.role != "agent" or agent_id == self.agent_id)

    def may(self, permission: Permission) -> bool:
        return self.role in PERMISSIONS[permission]


class TokenTable:
    """Every served tenant's tokens, by the tenant whose configuration declared them."""

    def __init__(self, tokens: Mapping[str, Mapping[str, ApiToken]]) -> None:
        self._entries = [
            (_digest(token.token), Principal(name, token.role, token.tenant or issuer, token.agent_id, False, issuer))
            for issuer, declared in tokens.items()
            for name, token in declared.items()
        ]
        self._served = frozenset(tokens)

    def lookup(self, presented: str) -> Principal | None:
        digest = _digest(presented)
        found: Principal | None = None
        for expected, principal in self._entries:  # every entry, whatever matched: no early exit
            if hmac.compare_digest(digest, expected):
                found = principal
        if found is None:
            return None
        return dataclasses.replace(found, home=found.tenant in self._served)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class BearerAuth(AbstractAuthenticationMiddleware):
    """401 unless the request carries ``Authorization: Bearer <a configured token>``."""

    def __init__(self, app: ASGIApp, tokens: TokenTable) -> None:
        # OPTIONS too: no method of an API route answers without a token.
        super().__init__(app, exclude_from_auth_key="exclude_from_auth", exclude_http_methods=[])
        self._tokens = tokens

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise NotAuthorizedException("a bearer token is required")
        principal = self._tokens.lookup(credentials.strip())
        if principal is None:
            raise NotAuthorizedException("unknown token")
        return AuthenticationResult(user=principal, auth=None)


def requires(permission: Permission) -> Guard:
    """A guard: 403 unless the caller's role has ``permission``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if not principal.may(permission):
            raise PermissionDeniedException(f"the {principal.role} role lacks the permission {permission}")

    return guard
